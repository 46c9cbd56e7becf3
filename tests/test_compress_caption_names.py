"""``taco compress`` reads the image names of a captions file as evaluate and train do.

A folder's captions.jsonl naming ``./a.png`` or ``C:b.png`` was refused by ``taco evaluate`` and
``taco train`` with its file and line, while ``taco compress`` ignored those lines and said the
images had no caption ("add them there", where they were). Now compress refuses such a folder's
captions.jsonl the same way (a captions file shared by images that cannot be read stops the
command, as a malformed one does); ``--captions FILE``, which compress looks up by image name or
by the path as given, matches names in their plain form (``./a.png`` is ``a.png``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from taco.captions_file import CaptionLookup, CaptionsFileError
from taco.cli import main
from taco.cli.common import CLIError
from taco.cli.inputs import CaptionSource
from taco.evaluation.datasets import open_dataset


def _folder(tmp_path: Path, *names: str) -> Path:
    """tmp_path/cap with a.png and b.png, and a captions.jsonl listing ``names``."""
    root = tmp_path / "cap"
    root.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (32, 32), (90, 120, 30)).save(root / name)
    lines = [json.dumps({"image": n, "captions": [f"caption of {n}"]}) for n in names]
    (root / "captions.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return root


@pytest.mark.parametrize(("name", "problem"), [
    ("./a.png", "is not written in its plain form ('a.png')"),
    ("sub/../b.png", "has a '..' part"),
])  # fmt: skip
def test_a_folder_captions_file_with_a_name_evaluate_refuses_is_refused_by_compress(
        tmp_path, capsys, name, problem):
    root = _folder(tmp_path, name, "b.png")
    with pytest.raises(CaptionsFileError) as evaluated:
        open_dataset(str(root))
    assert f"captions.jsonl:1: the image {name!r} {problem}" in str(evaluated.value)
    with pytest.raises(CLIError) as looked_up:
        CaptionSource(None, None)(root / "b.png")
    assert str(looked_up.value) == str(evaluated.value)
    assert main(["compress", str(root), "-o", str(tmp_path / "out"), "-m", "taco-tiny"]) == 2
    err = capsys.readouterr().err
    assert f"captions.jsonl:1: the image {name!r} {problem}" in err
    assert "no caption" not in err
    assert not (tmp_path / "out").exists()  # stopped before any work


def test_a_named_captions_file_matches_names_in_their_plain_form(tmp_path, capsys):
    root = _folder(tmp_path)
    named = tmp_path / "named.jsonl"
    lines = [{"image": "./a.png", "captions": ["a by ./"]},
             {"image": f"{root}//b.png", "captions": ["b by its path"]}]
    named.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    lookup = CaptionLookup(named)
    assert lookup.find(root, "a.png") == (("a by ./",), "named")
    assert lookup.find(root, "b.png", str(root / "b.png")) == (("b by its path",), "named")
    source = CaptionSource(None, str(named))
    assert [source(root / n) for n in ("a.png", "b.png")] == ["a by ./", "b by its path"]
    assert main(["compress", str(root), "--captions", str(named), "-o", str(tmp_path / "out"),
                 "-m", "taco-tiny"]) == 0
    assert "no caption" not in capsys.readouterr().err


def _mixed_up_notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "--caption takes the caption's text" in line]


def test_a_caption_naming_a_captions_file_is_coded_with_a_note(tmp_path, capsys, monkeypatch):
    """``--caption ../imgs/captions.jsonl`` (``--captions`` meant: one letter) coded the path as
    the caption, exit 0, unsaid. It is still coded as given (a caption may be a file's name),
    with a note naming the option that reads the file."""
    root = _folder(tmp_path, "a.png")
    monkeypatch.chdir(tmp_path)
    assert main(["compress", "cap/a.png", "--caption", "cap/captions.jsonl", "-o", "a.taco",
                 "-m", "taco-tiny", "--quiet"]) == 0
    assert _mixed_up_notes(capsys.readouterr().err) == [
        "taco compress: note: --caption takes the caption's text; cap/captions.jsonl is a file: "
        "did you mean --captions cap/captions.jsonl?"]
    assert (tmp_path / "a.taco").is_file()
    # a folder holding a captions.jsonl: its file is named
    assert main(["compress", "cap/a.png", "--caption", "cap", "-o", "a.taco", "--force",
                 "-m", "taco-tiny", "--quiet"]) == 0
    assert _mixed_up_notes(capsys.readouterr().err) == [
        "taco compress: note: --caption takes the caption's text; cap is a folder: "
        "did you mean --captions cap/captions.jsonl?"]
    # a sidecar's .txt: --captions does not read it, its text is what was meant
    (root / "my caption.txt").write_text("a green field\n", encoding="utf-8")
    assert main(["compress", "cap/a.png", "--caption", "cap/my caption.txt", "-o", "a.taco", "--force",
                 "-m", "taco-tiny", "--quiet"]) == 0
    assert _mixed_up_notes(capsys.readouterr().err) == [
        "taco compress: note: --caption takes the caption's text; cap/my caption.txt is a file: "
        "for its text as the caption, give --caption \"$(cat 'cap/my caption.txt')\""]


@pytest.mark.parametrize("caption", [
    "a green field", "", "cap/a.png", "missing.jsonl", "tmp",  # tmp: a folder without captions.jsonl
])  # fmt: skip
def test_a_caption_that_names_no_captions_file_gets_no_note(tmp_path, capsys, monkeypatch, caption):
    _folder(tmp_path)
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["compress", "cap/a.png", "--caption", caption, "-o", "a.taco", "-m", "nope"]) == 2
    assert _mixed_up_notes(capsys.readouterr().err) == []


def test_demo_notes_a_caption_naming_a_captions_file_before_its_refusals(tmp_path, capsys, monkeypatch):
    """taco demo has no --captions: its note says where the demo finds captions itself. Said
    before anything else is checked (here the model, refused before torch loads)."""
    _folder(tmp_path, "a.png")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--caption", "cap/captions.jsonl", "-m", "nope"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "taco demo: note: --caption takes the caption's text; cap/captions.jsonl is a file (taco demo "
        "takes no captions file: without --caption it uses the sample's own caption, or --image's "
        "from its sidecar IMAGE.txt or a captions.jsonl beside it)")
    assert err[1].startswith("taco demo: error: model 'nope' is neither")


def test_captions_naming_a_folder_is_refused_naming_its_captions_file(tmp_path, capsys, monkeypatch):
    """``--captions ../imgs`` said ``cannot read captions (Is a directory)``."""
    _folder(tmp_path, "a.png")
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["compress", "cap/a.png", "--captions", "cap", "-o", "a.taco", "-m", "taco-tiny"]) == 2
    assert capsys.readouterr().err == ("taco compress: error: cap is a folder, not a captions file "
                                       "(cap/captions.jsonl exists: give that path)\n")
    assert main(["compress", "cap/a.png", "--captions", "empty", "-o", "a.taco", "-m", "taco-tiny"]) == 2
    assert capsys.readouterr().err == ("taco compress: error: empty is a folder, not a captions file "
                                       "(--captions takes a FILE.jsonl)\n")
    assert not (tmp_path / "a.taco").exists()


def test_a_captions_file_missing_here_is_found_beside_an_image_named(tmp_path, capsys, monkeypatch):
    """The ``(DIR/captions.jsonl exists: give that path)`` hint came only for a folder named as
    an input: ``taco compress cap/a.png --captions captions.jsonl`` got none."""
    _folder(tmp_path, "a.png")
    monkeypatch.chdir(tmp_path)
    for image in ("cap/a.png", "cap"):
        assert main(["compress", image, "--captions", "captions.jsonl", "-o", "out/", "-m", "taco-tiny"]) == 2
        assert capsys.readouterr().err == ("taco compress: error: captions.jsonl: no such captions file "
                                           "(cap/captions.jsonl exists: give that path)\n")
    assert main(["compress", "cap/a.png", "--captions", "other.jsonl", "-o", "out/", "-m", "taco-tiny"]) == 2
    assert capsys.readouterr().err == "taco compress: error: other.jsonl: no such captions file\n"
