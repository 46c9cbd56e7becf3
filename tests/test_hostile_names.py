"""Names taco reads from files made by someone else: shown without their escape codes or line
breaks in warnings and error lines, refused where they would lead out of a dataset's folder on
some system (a drive, a Windows root) or name one image several ways, and a captions file that
is a symbolic link is not appended to through it."""

from __future__ import annotations

import json
import os
import warnings

import pytest
from PIL import Image

import taco.cli
from taco.captions_file import CaptionsFileError, folder_captions, image_name_problem
from taco.errors import TacoValueError, TacoWarning
from taco.evaluation.caption import caption_folder
from taco.jsonfiles import is_file_name
from taco.messages import shown_path, warning_printer

HOSTILE = "zz\x1b[2J\x1b]0;pwned\x07\nx.png"


def test_a_warning_shows_a_name_without_escape_codes_or_line_breaks(capsys):
    show = warning_printer("evaluate")
    show(TacoWarning(f"skipping 1 listed without an image file ({HOSTILE})"), TacoWarning, "f.py", 1)
    show(UserWarning(f"a library's ({HOSTILE})"), UserWarning, "f.py", 1)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and err.count("\n") == 2
    assert "zz\\x1b[2J\\x1b]0;pwned\\x07\\nx.png" in err
    assert err.startswith("taco evaluate: warning: skipping") and "warning: UserWarning: a library's" in err


def test_a_warning_shown_twice_is_not_escaped_twice(capsys):
    text = shown_path(HOSTILE)
    assert shown_path(text) == text  # what is shown already is shown as it is
    warning_printer("train")(TacoWarning(text), TacoWarning, "f.py", 1)
    assert capsys.readouterr().err == f"taco train: warning: {text}\n"


def test_an_error_line_shows_a_name_without_escape_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert taco.cli.main(["caption", "nod\x1b[2J\nx"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and err.count("\n") == 1 and "nod\\x1b[2J\\nx" in err


@pytest.mark.parametrize(("name", "why"), [
    ("C:secret.png", "names a drive"),  # Windows: in drive C's current folder, not the dataset's
    ("C:..\\..\\Users\\me\\secret.png", "names a drive"),
    ("c:\\x.png", "names a drive"),
    ("\\\\server\\share\\x.png", "names a drive"),
    ("\\x.png", "is an absolute path"),  # Windows: the root of the dataset's drive
    ("//x.png", "is an absolute path"),
    ("sub\\..\\..\\x.png", "has a '..' part"),
])
def test_a_name_that_leaves_the_folder_on_windows_is_refused_there(name, why):
    assert image_name_problem(name, windows=True) == why


@pytest.mark.parametrize("name", ["a:coffee.png", "C:secret.png", "c\\d.png"])
def test_a_colon_or_backslash_is_a_file_names_like_any_elsewhere(name):
    """On Linux ``a:coffee.png`` is a photo's name (taco caption lists it): refusing it made the
    folder's captions.jsonl, written by taco caption, refused as a whole."""
    assert image_name_problem(name, windows=False) is None


def test_a_root_or_dot_dot_leaves_the_folder_on_every_system():
    for windows in (False, True):
        assert image_name_problem("//x.png", windows=windows) == "is an absolute path"
        assert image_name_problem("sub/../../x.png", windows=windows) == "has a '..' part"


@pytest.mark.parametrize("name", ["./a.png", "a.png/", ".//a.png", "sub//a.png", "sub/./a.png"])
def test_a_name_not_in_its_plain_form_is_refused(name):
    assert image_name_problem(name).startswith("is not written in its plain form")


@pytest.mark.parametrize(("name", "plain"), [(".\\a.png", "a.png"), ("sub\\\\b.png", "sub/b.png"),
                                           ("a.png\\", "a.png"), ("sub\\b.png", "sub/b.png"),
                                           ("sub/.\\b.png", "sub/b.png")])
def test_a_name_not_in_its_plain_form_with_backslashes_is_refused_on_windows(name, plain):
    """``./a.png`` was refused there, ``.\\a.png`` (one image named twice on Windows) passed."""
    assert image_name_problem(name, windows=True) == f"is not written in its plain form ({plain!r})"
    assert image_name_problem(name, windows=False) is None  # elsewhere a backslash is a letter
    assert image_name_problem(".\\", windows=True) == "names the folder itself"


@pytest.mark.parametrize("name", ["a.png", "sub/a.png", "run:3.png", "..a.png", "a b.png"])
def test_plain_names_are_kept(name):
    assert image_name_problem(name) is None


def test_one_image_spelt_two_ways_in_a_captions_file_is_refused_with_its_line(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    lines = [{"image": "a.png", "captions": ["one"]}, {"image": "./a.png", "captions": ["two"]}]
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    with pytest.raises(CaptionsFileError, match=r"captions\.jsonl:2: the image '\./a\.png' is not written"):
        folder_captions(tmp_path, ["a.png"])


def test_a_json_file_names_no_drive_on_windows():
    assert not is_file_name("C:secret.safetensors", windows=True) and not is_file_name("c:", windows=True)
    assert is_file_name("run:3-0a1b2c3d-00001-of-00002.safetensors")  # a shard of run:3.safetensors
    assert is_file_name("b:32-fe761e0a-00001-of-00003.safetensors", windows=False)  # of b:32.safetensors


class _Stub:
    name = "stub"

    def __call__(self, images: list) -> list[str]:
        return ["a caption"] * len(images)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
@pytest.mark.parametrize("dangling", [True, False])
def test_a_captions_file_that_is_a_link_is_not_appended_through(tmp_path, dangling):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    target = tmp_path / "elsewhere.txt"
    mine = '{"image": "b.png", "captions": ["mine"]}\n'
    if not dangling:
        target.write_text(mine, encoding="utf-8")
    (folder / "captions.jsonl").symlink_to(target)
    with warnings.catch_warnings(), pytest.raises(TacoValueError, match="is a symbolic link"):
        warnings.simplefilter("ignore")
        caption_folder(folder, _Stub(), progress=False)
    assert (target.read_text(encoding="utf-8") == mine) if not dangling else not target.exists()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_linked_captions_file_is_refused_before_the_captioner_loads(tmp_path):
    """The plan (taco caption's first step, before torch and the captioner) refuses the link."""
    from taco.evaluation.caption_plan import plan_captions

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    (folder / "captions.jsonl").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(TacoValueError, match="is a symbolic link"):
        plan_captions(folder)
