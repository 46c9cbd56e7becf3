"""Inputs a folder holds that are left out, and folders named that hold none, are said (Review CL
#2, #3): every ``*.decoded.png`` was dropped from every folder (compress, evaluate, caption,
train), a photo named ``holiday.decoded.png`` included, without a word; a folder named among
other inputs that held no input was passed over silently, and ``taco decompress`` said nothing
of the subfolders and hidden ``.taco`` files it left out."""

from __future__ import annotations

import errno
import io
import shutil
from pathlib import Path

import pytest

from taco.cli import main
from taco.cli.common import CLIError
from taco.cli.inputs import expand_inputs
from taco.suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES, decoded_outputs, folder_images

CODE = ["--caption", "", "-m", "elic-tiny"]


def _compress_inputs(*paths: Path) -> list[str]:
    files, _ = expand_inputs([str(p) for p in paths], IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX,
                             note_left_out="compress")
    return sorted(Path(f).name for f in files)


def test_a_decoded_png_is_taco_s_output_only_beside_its_source(photos):
    """NAME.decoded.png is left out where NAME.<image suffix>, NAME.taco or NAME itself (the
    whole-name output of NAME.taco) is beside it, in any case; any other is a photo."""
    a = (photos / "a.png").read_bytes()
    for name in ("a.decoded.png", "b.decoded.PNG", "c.png.decoded.png", "holiday.decoded.png",
                 "z.decoded.png"):
        (photos / name).write_bytes(a)
    (photos / "z.taco").write_bytes(b"not read here")
    assert decoded_outputs(p.name for p in photos.iterdir()) == {
        "a.decoded.png", "b.decoded.PNG", "c.png.decoded.png", "z.decoded.png"}
    assert folder_images(photos) == ["a.png", "b.png", "c.png", "holiday.decoded.png"]
    assert decoded_outputs(["x.decoded.png"]) == set()
    assert decoded_outputs(["X.JPG", "x.Decoded.Png"]) == {"x.Decoded.Png"}


def test_the_demo_s_side_by_side_png_beside_its_source_is_left_out(photos, capsys):
    """``taco demo --image R/a.png -o R`` wrote R/a.side-by-side.png, which ``taco compress R
    --skip-existing`` then coded, evaluate and train skipped as uncaptioned, and ``taco caption R``
    wanted a captioner for: it is left out as a.decoded.png is, beside its source (NAME.<image
    suffix>, or NAME.taco in the demo's own folder); any other is a photo."""
    from taco.demo import demo_files
    from taco.suffixes import SIDE_BY_SIDE_SUFFIX

    assert [f.name for f in demo_files(photos, str(photos / "a.png"))][1:] == [
        f"a{DECODED_SUFFIX}", f"a{SIDE_BY_SIDE_SUFFIX}"]
    a = (photos / "a.png").read_bytes()
    for name in ("a.side-by-side.png", "B.Side-By-Side.PNG", "beach.side-by-side.png", "z.side-by-side.png"):
        (photos / name).write_bytes(a)
    (photos / "z.taco").write_bytes(b"not read here")
    assert decoded_outputs(p.name for p in photos.iterdir()) == {
        "a.side-by-side.png", "B.Side-By-Side.PNG", "z.side-by-side.png"}
    assert folder_images(photos) == ["a.png", "b.png", "beach.side-by-side.png", "c.png"]
    assert _compress_inputs(photos) == ["a.png", "b.png", "beach.side-by-side.png", "c.png"]
    assert decoded_outputs(["x.side-by-side.png"]) == set()


def test_a_folder_of_decoded_pngs_alone_is_read(photos, capsys):
    """The repro: a folder holding only holiday.decoded.png was 'no input files', and a
    b.decoded.png without its b.png was skipped with no note."""
    dec = photos.parent / "dec2"
    dec.mkdir()
    shutil.copy(photos / "a.png", dec / "holiday.decoded.png")
    assert _compress_inputs(dec) == ["holiday.decoded.png"]
    assert folder_images(dec) == ["holiday.decoded.png"]  # evaluate, caption and train
    (photos / "b.png").rename(photos / "b.decoded.png")
    shutil.copy(photos / "a.png", photos / "a.decoded.png")
    assert _compress_inputs(photos) == ["a.png", "b.decoded.png", "c.png"]
    err = capsys.readouterr().err.splitlines()
    assert err == [f"taco compress: note: left out 1 output of taco decompress beside its source "
                   f"({photos / 'a.decoded.png'})"]


def test_no_input_because_of_outputs_left_out_says_so(tmp_path):
    folder = tmp_path / "decoded"
    folder.mkdir()
    (folder / "a.taco").write_bytes(b"x")
    (folder / "a.decoded.png").write_bytes(b"x")
    with pytest.raises(CLIError, match=r"no input files \(.*\) found in .*decoded; left out 1 "
                       r"output of taco decompress beside its source \(.*a\.decoded\.png\) and 1 \.taco "
                       r"file \(.*a\.taco\): taco decompress decodes \.taco files$"):
        _compress_inputs(folder)


def test_a_folder_named_among_other_inputs_that_holds_none_is_noted(photos, tmp_path, capsys):
    """``taco compress emptyd a.png`` coded a.png and said nothing of emptyd; alone, emptyd is
    refused as before."""
    empty = tmp_path / "emptyd"
    empty.mkdir()
    out = tmp_path / "out"
    assert main(["compress", str(empty), str(photos / "a.png"), *CODE, "-o", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("taco compress: note: no input files (.apng, ") and
               line.endswith(f") found in {empty}") for line in err), err
    assert sorted(p.name for p in out.iterdir()) == ["a.taco"]
    assert main(["compress", str(empty), *CODE]) == 2
    assert f") found in {empty}" in capsys.readouterr().err


def test_decompress_notes_folders_without_tacos_and_what_it_left_out(tmp_path, capsys):
    """``taco decompress bad a.taco`` (bad/ holding photos) exited 0 with no note, and
    subfolders and hidden .taco files were left out silently; photos beside .taco files (its
    own outputs, the originals) are not noted."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"x")
    (bad / "y.jpg").write_bytes(b"y")
    tacos = tmp_path / "tacos"
    (tacos / "sub").mkdir(parents=True)
    (tacos / "sub" / "s.taco").write_bytes(b"s")
    (tacos / ".h.taco").write_bytes(b"h")
    (tacos / "a.taco").write_bytes(b"not a taco file")
    (tacos / "a.png").write_bytes(b"x")
    main(["decompress", str(bad), str(tacos), "-o", str(tmp_path / "decs")])  # a.taco fails: not read
    err = capsys.readouterr().err.splitlines()
    assert f"taco decompress: note: no input files (.taco) found in {bad}" in err
    assert (f"taco decompress: note: left out 1 subfolder, not searched ({tacos / 'sub'}) "
            f"and 1 hidden file ({tacos / '.h.taco'})") in err
    assert not any("does not read" in line for line in err)


def test_a_folder_named_twice_is_listed_once(photos, tmp_path, capsys):
    """Review R5a #3: ``taco compress A A/`` counted A's left-out files twice ("left out 2
    outputs" for one) and ``E E b.png`` noted the empty E twice: a folder is listed once."""
    shutil.copy(photos / "a.png", photos / "a.decoded.png")
    assert _compress_inputs(photos, Path(f"{photos}/")) == ["a.png", "b.png", "c.png"]
    assert capsys.readouterr().err.splitlines() == [
        f"taco compress: note: left out 1 output of taco decompress beside its source "
        f"({photos / 'a.decoded.png'})"]
    empty = tmp_path / "E"
    empty.mkdir()
    assert _compress_inputs(empty, empty, photos / "b.png") == ["b.png"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("taco compress: note: no input files (.apng, ")
    assert err[0].endswith(f") found in {empty}"), err


def test_help_and_readme_name_the_sources_that_count(capsys):
    """Review R5a #5: compress --help and README said NAME.decoded.png is left out beside its
    source NAME.*; only NAME.<image suffix> or NAME.taco counts (decoded_outputs)."""
    assert decoded_outputs(["a.txt", "a.decoded.png"]) == set()  # a.txt is no source
    with pytest.raises(SystemExit):
        main(["compress", "--help"])
    usage = " ".join(capsys.readouterr().out.split())
    readme = " ".join(line.lstrip("# ") for line in
                      (Path(__file__).parents[1] / "README.md").read_text().splitlines())
    for text in (usage, readme):
        assert "beside their source NAME.*" not in text
        assert "NAME.<image suffix> or NAME.taco" in text


def test_a_file_and_a_folder_named_relative_and_absolute_are_each_once(tmp_path, monkeypatch, capsys):
    from taco.cli.inputs import expand_inputs
    from taco.suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES

    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.png").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    files, folder = expand_inputs(["a.png", str(tmp_path / "a.png"), "d", str(tmp_path / "d")],
                                  IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX, note_left_out="compress")
    assert folder
    assert len(files) == 2, files
    assert sorted(p.name for p in files) == ["a.png", "b.png"]
    assert capsys.readouterr().err == ""


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_empty_folder_after_a_file_is_noted(tmp_path, capsys):
    from taco.cli.inputs import expand_inputs

    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    files, _ = expand_inputs([str(tmp_path / "a.png"), str(tmp_path / "empty")], {".png"},
                             note_left_out="compress")
    assert files == [tmp_path / "a.png"]
    err = capsys.readouterr().err
    assert "no input files (.png) found in " in err and "empty" in err


def test_a_hidden_name_that_cannot_be_opened_is_no_input(tmp_path, monkeypatch):
    """A hidden ``.x.png`` (a link into a folder without search permission: looking at it raises
    PermissionError; the folder itself is searchable) is left out, never an input."""
    from taco.cli.inputs import expand_inputs

    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / ".h.png").write_bytes(b"x")
    real = Path.is_dir

    def is_dir(self):
        if self.name == ".h.png":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    files, _ = expand_inputs([str(tmp_path)], {".png"})
    assert files == [tmp_path / "a.png"]


def test_captions_and_notes_beside_images_are_not_noted(tmp_path, capsys):
    from taco.cli.inputs import expand_inputs

    for name in ("a.png", "a.txt", "notes.md", "b.raw"):
        (tmp_path / name).write_bytes(b"x")
    files, _ = expand_inputs([str(tmp_path)], {".png"}, note_left_out="compress")
    assert files == [tmp_path / "a.png"]
    err = capsys.readouterr().err
    assert "1 file it does not read as images (" in err and "b.raw" in err
    assert "a.txt" not in err and "notes.md" not in err


def test_standard_input_on_a_terminal_is_refused(monkeypatch):
    from taco.cli.inputs import expand_inputs

    monkeypatch.setattr("sys.stdin", _Tty())
    with pytest.raises(CLIError, match="- reads standard input, which is a terminal here"):
        expand_inputs(["-"], {".png"})


@pytest.mark.parametrize(("argv", "reads"), [
    (["info", "-"], "info"), (["decompress", "-"], "decompress"),
    (["compress", "-", "--caption", ""], "compress"), (["bench", "--images", "-"], "bench --images"),
])
def test_the_refusal_of_a_closed_standard_input_names_the_command(argv, reads, monkeypatch, capsys):
    """``taco info - <&-`` said "(... | taco CMD -, or taco CMD - < FILE)", CMD left as it was."""
    monkeypatch.setattr("sys.stdin", None)  # closed: <&-
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco {argv[0]}: error: - reads standard input, which is closed here: pipe the data in "
        f"(... | taco {reads} -, or taco {reads} - < FILE), or name the file"]


def test_a_folder_of_other_files_says_how_many_and_that_one_may_be_named(tmp_path: Path) -> None:
    """``taco decompress onlybin`` (a .taco saved as pic.bin) said only 'no input files (.taco) found':
    it now counts the files of other suffixes left out and says a renamed one is read when named;
    so does taco compress of a folder without images (captions and notes are not counted)."""
    (tmp_path / "onlybin").mkdir()
    (tmp_path / "onlybin" / "pic.bin").write_bytes(b"x")
    (tmp_path / "onlybin" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CLIError) as refused:
        expand_inputs([str(tmp_path / "onlybin")], {".taco"}, note_left_out="decompress")
    assert str(refused.value) == (f"no input files (.taco) found in {tmp_path / 'onlybin'}; left out 1 file of "
                                  f"another suffix ({tmp_path / 'onlybin' / 'pic.bin'}; a .taco file renamed so "
                                  "is read when named itself)")
    (tmp_path / "onlybin" / "b.dat").write_bytes(b"x")
    with pytest.raises(CLIError, match=r"found in .*onlybin; left out 2 files of another suffix \(.*b\.dat, "
                                       r".*pic\.bin; an image renamed so is read when named itself\)$"):
        _compress_inputs(tmp_path / "onlybin")


def test_the_other_command_s_inputs_are_said_by_their_kind(tmp_path: Path) -> None:
    """``taco decompress c`` on a folder holding only small.png said 'left out 1 file of another
    suffix (c/small.png; a .taco file renamed so is read when named itself)': an image is said to
    be one, and which command codes it; and a .taco file in a folder taco compress lists (not
    counted before: a file expected beside photos) is said to be for taco decompress."""
    c = tmp_path / "c"
    c.mkdir()
    (c / "small.png").write_bytes(b"x")
    with pytest.raises(CLIError) as refused:
        expand_inputs([str(c)], {".taco"}, note_left_out="decompress")
    assert str(refused.value) == (f"no input files (.taco) found in {c}; left out 1 image "
                                  f"({c / 'small.png'}): taco compress codes images")
    (c / "b.JPG").write_bytes(b"x")
    (c / "pic.bin").write_bytes(b"x")
    with pytest.raises(CLIError) as refused:
        expand_inputs([str(c)], {".taco"}, note_left_out="decompress")
    assert str(refused.value) == (
        f"no input files (.taco) found in {c}; left out 2 images ({c / 'b.JPG'}, {c / 'small.png'}): "
        f"taco compress codes images and 1 file of another suffix ({c / 'pic.bin'}; a .taco file "
        "renamed so is read when named itself)")
    t = tmp_path / "t"
    t.mkdir()
    (t / "x.taco").write_bytes(b"x")
    with pytest.raises(CLIError, match=r"found in .*t; left out 1 \.taco file \(.*x\.taco\): taco "
                                       r"decompress decodes \.taco files$"):
        _compress_inputs(t)


@pytest.mark.parametrize("clutter", ["Thumbs.db", "thumbs.db", "ehthumbs.db", "desktop.ini", ".DS_Store",
                                     "._small.png", "._x.taco", "._notes"])
def test_files_systems_leave_in_folders_are_not_counted(tmp_path: Path, capsys, clutter: str) -> None:
    """``taco compress`` of a folder with Thumbs.db (or macOS's ._NAME beside a photo) said
    'left out 1 file of another suffix (d/Thumbs.db; ...)' when it held no photo, and noted '1 file
    it does not read as images (d/Thumbs.db)' beside photos: a system's files are not the user's,
    and are now left out without a word, as are they by taco decompress."""
    d = tmp_path / "d"
    d.mkdir()
    (d / clutter).write_bytes(b"x")
    for suffixes in (IMAGE_SUFFIXES, {".taco"}):
        with pytest.raises(CLIError) as refused:
            expand_inputs([str(d)], suffixes, note_left_out="compress")
        assert str(refused.value).endswith(f"found in {d}")  # nothing left out is said
    (d / "a.png").write_bytes(b"x")  # listed, not read
    capsys.readouterr()
    assert _compress_inputs(d) == ["a.png"]
    assert capsys.readouterr().err == ""


def test_the_demo_s_outputs_left_out_are_said_to_be_the_demo_s(tmp_path, capsys):
    """compress's note called a demo's NAME.side-by-side.png, left out beside its source, an
    output of taco decompress."""
    folder = tmp_path / "R"
    folder.mkdir()
    for name in ("x.png", "x.side-by-side.png"):
        (folder / name).write_bytes(b"not read to be listed")
    files, _ = expand_inputs([str(folder)], IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX, note_left_out="compress")
    assert [f.name for f in files] == ["x.png"]
    assert "1 output of taco demo beside its source" in capsys.readouterr().err
