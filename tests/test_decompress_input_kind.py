"""``taco decompress n3/z.png`` (a PNG, beside its n3/z.decoded.png) said "z.decoded.png exists;
pass --force", with -f then "not a .taco file", and with --skip-existing counted it done (status
0): its output was planned and skipped before the file was read. A file named that is not called
.taco is now read first, as taco compress checks its inputs' kind first: one line saying what it
is, whatever the options, and the rest of a batch is decoded."""

from __future__ import annotations

import pytest

import taco
from taco.cli import main


@pytest.fixture()
def photo(tmp_path, sample_image):
    folder = tmp_path / "n3"
    folder.mkdir()
    sample_image.crop((0, 0, 32, 32)).save(folder / "z.png")
    (folder / "z.decoded.png").write_bytes(b"an earlier output, left alone")
    return folder / "z.png"


@pytest.mark.parametrize("options", [[], ["-f"], ["--skip-existing"]])
def test_a_png_named_is_refused_as_what_it_is_before_its_output(photo, capsys, options):
    assert main(["decompress", str(photo), *options]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco decompress: error: {photo}: not a .taco file: it is a PNG image (compress it to make one)"]
    assert (photo.parent / "z.decoded.png").read_bytes() == b"an earlier output, left alone"


def test_the_rest_of_a_batch_is_decoded(photo, sample_image, tiny_elic, capsys):
    good = photo.parent / "a.taco"
    good.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic))
    assert main(["decompress", str(good), str(photo), "--skip-existing", "--quiet"]) == 3
    captured = capsys.readouterr()
    assert f"{photo}: not a .taco file: it is a PNG image" in captured.err
    assert "1 of 2 files failed" in captured.err
    assert (photo.parent / "a.decoded.png").is_file()
    assert (photo.parent / "z.decoded.png").read_bytes() == b"an earlier output, left alone"


def test_the_decoded_file_is_numbered_in_the_whole_batch(photo, sample_image, tiny_elic, capsys):
    good = photo.parent / "a.taco"
    good.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic))
    assert main(["decompress", str(good), str(photo), "-o", str(photo.parent / "out") + "/"]) == 3
    captured = capsys.readouterr()
    assert f"[1/2] {good} -> " in captured.out + captured.err
    assert "1 of 2 files failed" in captured.err


def test_a_batch_whose_taco_files_are_all_done_still_fails_the_png(photo, sample_image, tiny_elic, capsys):
    """--skip-existing with every .taco file decoded before: the PNG named beside them still
    fails the batch, said, not 'decompressed 0 files' and status 0."""
    good = photo.parent / "a.taco"
    good.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 64)), None, tiny_elic))
    (photo.parent / "a.decoded.png").write_bytes(b"decoded before")
    assert main(["decompress", str(good), str(photo), "--skip-existing", "--quiet"]) != 0
    assert f"{photo}: not a .taco file: it is a PNG image" in capsys.readouterr().err
    assert (photo.parent / "a.decoded.png").read_bytes() == b"decoded before"
