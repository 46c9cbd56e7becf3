"""File names in taco's messages and report lines: a name may hold a line break, a carriage
return, a terminal escape code (``\\x1b[2J`` clears the screen), a Unicode line separator or the
bytes of a name that is not UTF-8. taco shows such a name escaped (``\\n``, ``\\x1b``, as repr
writes them, without quotes: :func:`taco.messages.shown_path`), so every line it prints is one
line that cannot drive the terminal; an ordinary name (spaces, letters of any script) is shown
as it is."""

from __future__ import annotations

import json
import os
import pickle
import re
import sys

import pytest
from PIL import Image

from taco.bitstream.container import TacoFileUnreadable
from taco.cli import main
from taco.images import ImageReadError
from taco.messages import shown_path, some
from taco.samples import SAMPLES_DIR

#: What no line taco prints may hold: a control character but the line's own end, DEL, a C1
#: control, a line or paragraph separator, a lone surrogate.
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

ORDINARY = "Ünïcode 写真 café, été.png"  # spaces, a comma, letters of three scripts
NEWLINE = "a\nb.png"
CARRIAGE = "c\rd.png"
SEPARATOR = "e\u2028f.png"
ALPHA = "g\x1b[2Jh.png"  # RGBA: a warning names it
NOT_AN_IMAGE = "evil\n\x1b[2J\x1b[Hcompressed 9 images OK.png"
NOT_UTF8 = os.fsdecode(b"i\xffj.png")  # 'i\udcffj.png'


def _single_lines(text: str) -> list[str]:
    assert not RAW.search(text), repr(text)
    return text.splitlines()


@pytest.mark.parametrize(("name", "shown"), [
    ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("x\x1b[2J", "x\\x1b[2J"), ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
    ("l\u2028m\u2029n", "l\\u2028m\\u2029n"), ("o\udcffp", "o\\udcffp"), ("tab\there", "tab\\there"),
])
def test_shown_path_escapes_what_would_break_a_line_or_drive_a_terminal(name, shown):
    assert shown_path(name) == shown
    assert shown_path(shown_path(name)) == shown  # nothing left to escape: showing it again changes nothing
    assert len(shown_path(name).splitlines()) == 1


@pytest.mark.parametrize("name", [ORDINARY, "my photos/IMG 0001.JPG", "C:\\Users\\me\\new.png",
                                  "👩‍👩‍👧 family.png", "nb\u00a0space.png", "שלום.png", ""])
def test_shown_path_leaves_ordinary_names_as_they_are(name):
    assert shown_path(name) == name
    assert shown_path(os.path.join("folder", name)) == os.path.join("folder", name)


def test_some_shows_paths_so():
    from pathlib import Path

    assert some([Path("a\nb.png"), Path(ORDINARY)]) == f"a\\nb.png, {ORDINARY}"


def test_the_errors_name_a_file_on_one_line():
    e = ImageReadError(f"bad/{NOT_AN_IMAGE}", "not an image")
    assert str(e) == "cannot read image 'bad/evil\\n\\x1b[2J\\x1b[Hcompressed 9 images OK.png': not an image"
    assert str(e.path) == f"bad/{NOT_AN_IMAGE}"  # the path itself is kept as it is
    again = pickle.loads(pickle.dumps(e))
    assert str(again) == str(e) and again.path == e.path
    t = TacoFileUnreadable(f"x/{NEWLINE}", "file not found")
    assert str(t) == "cannot read .taco file 'x/a\\nb.png': file not found" and t.filename == f"x/{NEWLINE}"
    assert str(ImageReadError(ORDINARY, "x")) == f"cannot read image '{ORDINARY}': x"


@pytest.fixture
def hostile_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    with Image.open(SAMPLES_DIR / "skimage-chelsea.png") as im:
        small = im.convert("RGB").resize((64, 64))
    for name in (ORDINARY, NEWLINE, CARRIAGE, SEPARATOR, NOT_UTF8):
        small.save(folder / name)
    seen_through = small.convert("RGBA")
    seen_through.putalpha(128)  # not opaque: dropping it is a warning
    seen_through.save(folder / ALPHA)
    (folder / NOT_AN_IMAGE).write_bytes(b"not an image")
    return folder


@pytest.mark.skipif(sys.platform != "linux", reason="names with control characters and bytes that are not UTF-8")
def test_compress_decompress_and_info_print_each_name_on_one_line(hostile_folder, tmp_path, capsys):
    out, dec = tmp_path / "out", tmp_path / "dec"
    # no caption: the note lists the images coded without one
    assert main(["compress", str(hostile_folder), "-o", str(out), "-m", "taco-tiny"]) == 3
    stdout, stderr = capsys.readouterr()
    report, errors = _single_lines(stdout), _single_lines(stderr)
    assert len(report) == 7, report  # 6 images coded and the summary
    assert report[-1].startswith("compressed 6 images with taco-tiny") and "(1 failed)" in report[-1]
    assert any(f"{hostile_folder / ORDINARY} -> {out / ORDINARY[:-4]}.taco: 64x64" in line for line in report)
    for shown in ("a\\nb", "c\\rd", "e\\u2028f", "i\\udcffj", "g\\x1b[2Jh"):
        assert any(f"{hostile_folder / shown}.png -> {out / shown}.taco: " in line for line in report), shown
    # after the images are read: the 6 coded (the one that is no image is not counted)
    assert errors[-2].startswith(f"taco compress: note: 6 of 6 images have no caption, so they are coded "
                                 f"without one: {hostile_folder}/a\\nb.png, {hostile_folder}/c\\rd.png, ")
    assert len([line for line in errors if line.startswith(
        f"taco compress: warning: {hostile_folder}/g\\x1b[2Jh.png: ")]) == 1, errors
    failed = "evil\\n\\x1b[2J\\x1b[Hcompressed 9 images OK.png"
    assert f"taco compress: error: cannot read image '{hostile_folder / failed}': not an image file " \
           "Pillow can identify" in errors
    assert errors[-1] == f"taco compress: error: 1 of 7 images failed: {hostile_folder / failed}"
    assert len(errors) == 5, errors  # two notes (untrained model, no captions), the warning, the failure, the count

    assert main(["decompress", str(out), "-o", str(dec)]) == 0
    stdout, stderr = capsys.readouterr()
    report = _single_lines(stdout)
    assert len(report) == 7 and len(_single_lines(stderr)) == 1, (report, stderr)  # the untrained model's note
    assert any(f"{out / 'a'}\\nb.taco -> {dec / 'a'}\\nb.png: 64x64 RGB" in line for line in report)
    assert any(f"{out / ORDINARY[:-4]}.taco -> {dec / ORDINARY[:-4]}.png" in line for line in report)

    (out / NOT_AN_IMAGE.replace(".png", ".taco")).write_bytes(b"junk")
    assert main(["info", str(out)]) == 3
    stdout, stderr = capsys.readouterr()
    files = [line.split(": ", 1)[1] for line in _single_lines(stdout) if line.strip().startswith("file:")]
    assert sorted(files) == sorted(str(out / (shown_path(n)[:-4] + ".taco"))
                                   for n in (ORDINARY, NEWLINE, CARRIAGE, SEPARATOR, NOT_UTF8, ALPHA))
    errors = _single_lines(stderr)
    bad = str(out / failed[:-4]) + ".taco"
    assert errors == [f"taco info: error: {bad}: not a .taco file (wrong magic bytes)",
                      f"taco info: error: 1 of 7 files failed: {bad}"]

    assert main(["info", "--json", str(out / (NEWLINE[:-4] + ".taco"))]) == 0
    stdout, _ = capsys.readouterr()
    assert len(_single_lines(stdout)) == 1
    assert json.loads(stdout)["file"] == str(out / "a\nb.taco")  # JSON escapes it and keeps the name


@pytest.mark.skipif(sys.platform != "linux", reason="names with control characters")
@pytest.mark.parametrize("argv", [
    ["compress", "{missing}"],
    ["compress", "{taco}"],
    ["info", "{missing}"],
    ["decompress", "{missing}"],
])
def test_the_command_line_errors_name_a_file_on_one_line(argv, tmp_path, capsys):
    """The one-line errors the commands raise themselves (a missing input, a .taco given where an
    image goes) show the name escaped, as the per-input lines do."""
    missing = tmp_path / "gone\n\x1b[2Jx.png"
    taco_file = tmp_path / "evil\r\u2028y.taco"
    taco_file.write_bytes(b"TACO")
    args = [a.format(missing=missing, taco=taco_file) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = _single_lines(err)
    assert len(lines) == 1 and lines[0].startswith(f"taco {argv[0]}: error: "), err
    assert ("gone\\n\\x1b[2Jx.png" in lines[0]) or ("evil\\r\\u2028y.taco" in lines[0]), lines
