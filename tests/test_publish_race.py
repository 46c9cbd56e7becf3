"""Two runs writing into one folder: an output another process wrote after the up-front check
is not replaced without --force (it was: os.replace), and the temporaries a killed run left
beside the outputs are removed by the next run, those of a run still writing are not."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import taco.codec
from taco.atomic import temporary_path
from taco.cli import main

CODE = ["--caption", "", "-m", "elic-tiny", "--quiet"]
OTHERS = b"another process's file"


def _written_meanwhile(monkeypatch, module, name: str, target: Path) -> None:
    """``module.name`` (a coding function) writes ``target`` as another process would, while
    the second image is being coded."""
    real, calls = getattr(module, name), [0]

    def coding(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:
            target.write_bytes(OTHERS)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, coding)


def test_an_output_written_meanwhile_fails_its_input_and_is_kept(photos, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    _written_meanwhile(monkeypatch, taco.codec, "compress_image", out / "b.taco")
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 3
    captured = capsys.readouterr()
    assert (out / "b.taco").read_bytes() == OTHERS
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]  # no temporary
    assert (f"taco compress: error: {photos / 'b.png'}: {out / 'b.taco'} exists (written meanwhile, "
            "by another process?): --force replaces it, --skip-existing leaves it") in captured.err.splitlines()
    assert captured.out.splitlines()[-1].startswith("compressed 2 images")
    assert captured.out.splitlines()[-1].endswith("(1 failed)")


def test_skip_existing_leaves_an_output_written_meanwhile(photos, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    _written_meanwhile(monkeypatch, taco.codec, "compress_image", out / "b.taco")
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert (out / "b.taco").read_bytes() == OTHERS
    assert (f"taco compress: note: {out / 'b.taco'} exists (written meanwhile, by another "
            "process?): left as it is (--skip-existing)") in captured.err.splitlines()
    summary = captured.out.splitlines()[-1]
    assert summary.startswith("compressed 2 images") and summary.endswith("(1 skipped: their outputs exist)")


def test_force_replaces_an_output_written_meanwhile(photos, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    _written_meanwhile(monkeypatch, taco.codec, "compress_image", out / "b.taco")
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--force"]) == 0
    assert (out / "b.taco").read_bytes()[:4] == (out / "a.taco").read_bytes()[:4] != OTHERS[:4]


def test_decompress_keeps_an_image_written_meanwhile(photos, tmp_path, monkeypatch, capsys):
    tacos, out = tmp_path / "tacos", tmp_path / "out"
    assert main(["compress", str(photos), *CODE, "-o", str(tacos)]) == 0
    _written_meanwhile(monkeypatch, taco.codec, "decompress", out / "b.png")
    assert main(["decompress", str(tacos), "-o", str(out), "--quiet"]) == 3
    captured = capsys.readouterr()
    assert (out / "b.png").read_bytes() == OTHERS
    assert (f"taco decompress: error: {tacos / 'b.taco'}: {out / 'b.png'} exists (written "
            "meanwhile, by another process?): --force replaces it, --skip-existing leaves it"
            ) in captured.err.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "c.png"]


def test_a_run_removes_the_temporaries_a_killed_run_left(photos, tmp_path, capsys):
    """A SIGKILLed compress left .NAME.taco.tmp-XXXXXXXX; a --skip-existing rerun kept it for
    good. Now the run removes those of its outputs, skipped ones too, but not one whose writer
    (here: the lock this test holds, as a running taco does) is still at work."""
    out = tmp_path / "out"
    assert main(["compress", str(photos / "a.png"), *CODE, "-o", str(out) + "/"]) == 0
    left = [temporary_path(out / "a.taco"), temporary_path(out / "b.taco")]
    for p in left:
        p.write_bytes(b"half")
    live = temporary_path(out / "c.taco")
    fd = os.open(live, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert main(["compress", str(photos / "a.png"), str(photos / "b.png"), *CODE, "-o",
                     str(out), "--skip-existing"]) == 0
        assert not any(p.exists() for p in left) and live.exists()
    finally:
        os.close(fd)
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--skip-existing"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]
