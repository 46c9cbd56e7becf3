"""taco demo's output folder is checked before the work (a read-only -o did 3.3 s of work, then
failed), and a demo that stopped part way (a file size limit: only the .taco written) is said
so when the next run is refused, not as a file of the user's."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest
from PIL import Image

import taco.codec
import taco.demo
from taco.atomic import temporary_path
from taco.cli import main
from taco.samples import SAMPLES_DIR

NAMES = ["cat.decoded.png", "cat.side-by-side.png", "cat.taco"]


@pytest.fixture()
def photo(tmp_path):
    path = tmp_path / "cat.png"
    with Image.open(SAMPLES_DIR / "skimage-chelsea.png") as im:
        im.resize((64, 48)).save(path)
    return path


def _demo(photo, out, *more: str) -> int:
    return main(["demo", "--image", str(photo), "--caption", "a cat", "-m", "elic-tiny", "-o", str(out), *more])


def _no_work(monkeypatch) -> None:
    """The demo's work fails the test if it starts."""

    def work(*args, **kwargs):
        raise AssertionError("the demo started its work")

    monkeypatch.setattr(taco.demo, "run_demo", work)


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_work(photo, tmp_path, monkeypatch,
                                                                            capsys):
    _no_work(monkeypatch)
    folder = tmp_path / "ro"
    folder.mkdir()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # as on a read-only mount,
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)  # where root cannot write either
    assert _demo(photo, folder) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: cannot write into {folder}: read-only file system")
    monkeypatch.undo()
    _no_work(monkeypatch)
    (tmp_path / "file").write_bytes(b"x")
    assert _demo(photo, tmp_path / "file") == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"taco demo: error: {tmp_path / 'file'} is not a folder"
    assert _demo(photo, tmp_path / "file" / "sub") == 2
    assert "cannot create the output folder" in capsys.readouterr().err


def test_a_folder_in_the_way_of_a_file_is_refused_before_the_work(photo, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    (tmp_path / "out" / "cat.decoded.png").mkdir(parents=True)
    assert _demo(photo, tmp_path / "out", "--force") == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: {tmp_path / 'out' / 'cat.decoded.png'} is a folder, where the demo writes "
        "a file: give another -o FOLDER")


def test_a_demo_that_stopped_part_way_is_said_so(photo, tmp_path, monkeypatch, fail_writes, capsys):
    """Under ulimit -f only the .taco was written; the next run said 'cat.taco exists' as of a
    user's file. It is still kept (it may be one), and the message says what is there."""
    out = tmp_path / "dm1"
    fail_writes(errno.EFBIG, nth=2, written=0)  # every file after the first is too large
    assert _demo(photo, out) == 2
    assert sorted(p.name for p in out.iterdir()) == ["cat.taco"]  # and no temporary
    monkeypatch.undo()
    assert _demo(photo, out) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: {out / 'cat.taco'} exists, not cat.decoded.png or cat.side-by-side.png: "
        "1 of the demo's 3 files (from a demo that stopped part way, or a file of yours?); pass "
        "--force to replace it, or give another -o FOLDER")
    (out / "cat.side-by-side.png").write_bytes(b"x")
    assert _demo(photo, out) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: {out / 'cat.taco'} and cat.side-by-side.png exist, not cat.decoded.png: "
        "2 of the demo's 3 files (from a demo that stopped part way, or a file of yours?); pass "
        "--force to replace them, or give another -o FOLDER")
    assert _demo(photo, out, "--force") == 0
    assert sorted(p.name for p in out.iterdir()) == NAMES


def test_a_file_written_meanwhile_is_kept_and_a_killed_runs_temporary_removed(photo, tmp_path, monkeypatch,
                                                                              capsys):
    out = tmp_path / "out"
    out.mkdir()
    stale = temporary_path(out / "cat.taco")
    stale.write_bytes(b"half")  # a SIGKILLed demo's
    real = taco.codec.compress_image

    def meanwhile(*args, **kwargs):
        (out / "cat.side-by-side.png").write_bytes(b"another process's")
        return real(*args, **kwargs)

    monkeypatch.setattr(taco.codec, "compress_image", meanwhile)
    assert _demo(photo, out) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: {out / 'cat.side-by-side.png'} exists (written meanwhile, by another "
        "process?): --force replaces it")
    assert (out / "cat.side-by-side.png").read_bytes() == b"another process's"
    assert not stale.exists() and sorted(p.name for p in out.iterdir()) == NAMES
