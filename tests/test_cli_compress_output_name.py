"""taco compress -o: one image named writes NAME.taco (a name without the suffix is refused, as
``-o x.png`` is, before any model loads), and folder or file is decided by the arguments given,
not by the images left once names of one file are merged (``a.jpg ./a.jpg -o out`` wrote a file
``out`` though --help says -o is a folder for several images)."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from PIL import Image

from taco.cli import main


@pytest.fixture
def photo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (32, 32), (120, 60, 30)).save(tmp_path / "a.jpg")
    return tmp_path / "a.jpg"


@pytest.mark.parametrize(("output", "hint"), [
    ("noext", "name it noext.taco, or noext/ for a folder"),
    ("small.png", "not a .png image: name it small.taco"),
    ("small.bin", "not a .bin file: name it small.taco"),
])
def test_an_output_file_without_taco_suffix_is_refused(photo, tmp_path, capsys, output, hint):
    assert main(["compress", "a.jpg", "--caption", "x", "-m", "elic-tiny", "-o", output]) == 2
    err = capsys.readouterr().err
    assert hint in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / output).exists()


def test_an_existing_file_without_suffix_is_refused_even_with_force(photo, tmp_path, capsys):
    (tmp_path / "noext").write_bytes(b"keep")
    assert main(["compress", "a.jpg", "-m", "elic-tiny", "-o", "noext", "--force"]) == 2
    assert "name it noext.taco" in capsys.readouterr().err
    assert (tmp_path / "noext").read_bytes() == b"keep"


def test_one_image_named_three_times_goes_into_the_folder(photo, tmp_path, capsys):
    assert main(["compress", "a.jpg", "a.jpg", "./a.jpg", "-m", "elic-tiny", "-o", "twice"]) == 0
    assert (tmp_path / "twice").is_dir()
    assert [p.name for p in (tmp_path / "twice").iterdir()] == ["a.taco"]


def test_taco_names_and_folders_still_work(photo, tmp_path):
    assert main(["compress", "a.jpg", "-m", "elic-tiny", "-o", "one.TACO"]) == 0
    assert (tmp_path / "one.TACO").is_file()
    assert main(["compress", "a.jpg", "-m", "elic-tiny", "-o", "new/"]) == 0
    assert (tmp_path / "new" / "a.taco").is_file()



def test_a_named_pipe_is_written_into(photo, tmp_path, capsys):
    """``-o /dev/null --force`` (timing the encoder) or a named pipe: no file to name NAME.taco,
    and written into, not replaced by a regular file (taco.atomic; as root the rename replaced
    /dev/null itself)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["compress", "a.jpg", "-m", "elic-tiny", "-o", str(fifo), "--force"]) == 0
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"TACO")  # the .taco file, whole
