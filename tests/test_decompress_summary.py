"""``taco decompress`` summaries: one file decoded says so; a batch with --skip-existing does not
count an output another process wrote meanwhile; a batch stopped by a full disk at its 2nd write
says it stopped after the 1st."""

from __future__ import annotations

import errno

import pytest

import taco
import taco.cli.decompress
from taco.cli import main


@pytest.fixture()
def three_files(tmp_path, sample_image, tiny_elic):
    data = taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic)
    files = [tmp_path / f"f{i}.taco" for i in range(3)]
    for f in files:
        f.write_bytes(data)
    return files


def nth_write(monkeypatch, n, action):
    """Run ``action(dst)`` before the ``n``-th call of taco decompress's ``write_output``."""
    real, calls = taco.cli.decompress.write_output, []

    def write(dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == n:
            action(dst)
        return real(dst, *args, **kwargs)

    monkeypatch.setattr(taco.cli.decompress, "write_output", write)


def test_one_file_decoded_prints_its_summary(three_files, tmp_path, capsys):
    out = tmp_path / "one.png"
    assert main(["decompress", str(three_files[0]), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "decompressed 1 file in " in captured.out + captured.err
    assert out.is_file()


def test_skip_existing_does_not_count_an_output_written_meanwhile(three_files, tmp_path, capsys,
                                                                   monkeypatch):
    nth_write(monkeypatch, 2, lambda dst: dst.write_bytes(b"theirs"))
    out = tmp_path / "out"
    assert main(["decompress", *map(str, three_files), "-o", f"{out}/", "--quiet",
                 "--skip-existing"]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "decompressed 2 files in " in text, text
    assert "decompressed 3 files" not in text
    assert (out / "f1.png").read_bytes() == b"theirs"  # left as the other process wrote it


def test_a_full_disk_at_the_second_write_stops_after_1_of_3(three_files, tmp_path, capsys,
                                                          monkeypatch):
    def full(dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    nth_write(monkeypatch, 2, full)
    out = tmp_path / "out"
    # f0.png written and kept: done in part (3), as README's exit status says
    assert main(["decompress", *map(str, three_files), "-o", f"{out}/", "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "stopped after 1 of 3 files" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["f0.png"]


def test_a_full_disk_at_the_first_write_exits_2(three_files, tmp_path, capsys, monkeypatch):
    def full(dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    nth_write(monkeypatch, 1, full)
    out = tmp_path / "out"
    assert main(["decompress", *map(str, three_files), "-o", f"{out}/", "--quiet"]) == 2
    assert "stopped after 0 of 3 files" in capsys.readouterr().err
