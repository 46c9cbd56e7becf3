"""A captions file's names (UTF-8 text) and a folder's file names (as the locale decodes them) are
matched by their bytes (taco.captions_file.file_system_name): under LC_ALL=C without Python's
UTF-8 mode, ``taco compress ds`` coded café.png and 中文.png without the captions captions.jsonl
gives them ("2 of 3 images have no caption ... which has no caption for them"), and training
skipped them twice over ("2 listed without an image file (caf\\xe9.png, ...) and 2 without
captions (caf\\udcc3\\udca9.png, ...)"), training on 1 of 3 images. Where an image is still
uncaptioned there, the note and the warning say how to have the names read as UTF-8."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.captions_file import file_system_name, file_system_names

CAPTIONS = {"café.png": "a café", "中文.png": "a cat", "ar.png": "a greeting"}
HINT = "the locale's encoding is ascii, which cannot read these UTF-8 bytes"


def _ascii_locale_run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``args`` run under LC_ALL=C without Python's UTF-8 mode (ascii file names)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", PYTHONIOENCODING="utf-8:backslashreplace")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=300, check=False)


def _folder(root: Path, listed: dict[str, str]) -> Path:
    """``root/ds`` with the images of :data:`CAPTIONS` and a captions.jsonl giving ``listed``."""
    folder = root / "ds"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in CAPTIONS:
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / name)
    (folder / "captions.jsonl").write_text(
        "".join(json.dumps({"image": n, "captions": [c]}, ensure_ascii=False) + "\n" for n, c in listed.items()),
        encoding="utf-8")
    return folder


def test_a_utf8_locale_leaves_a_name_as_it_is() -> None:
    """Under a UTF-8 locale (the test run's), and for a name with lone surrogates, the name itself."""
    if sys.getfilesystemencoding().lower().replace("-", "") == "utf8":
        assert file_system_name("café.png") == "café.png"
    assert file_system_name("caf\udcc3\udca9.png") == "caf\udcc3\udca9.png"


def test_the_file_system_spelling_under_an_ascii_locale(tmp_path: Path) -> None:
    code = ("import os; from taco.captions_file import file_system_name as f; "
            "print(f('caf\\u00e9.png') == os.fsdecode(b'caf\\xc3\\xa9.png'), f('a.png'), "
            "f('caf\\udcc3\\udca9.png') == 'caf\\udcc3\\udca9.png')")
    done = _ascii_locale_run(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "a.png", "True"]


def test_compress_finds_the_captions_of_utf8_names_under_an_ascii_locale(tmp_path: Path) -> None:
    _folder(tmp_path, CAPTIONS)
    done = _ascii_locale_run(["-m", "taco", "compress", "ds", "-o", "out", "-m", "taco-minilm-tiny"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no caption" not in done.stderr, done.stderr
    assert len(list((tmp_path / "out").iterdir())) == 3


def test_compress_says_the_locale_where_an_image_is_still_uncaptioned(tmp_path: Path) -> None:
    _folder(tmp_path, {"ar.png": "a greeting", "中文.png": "a cat"})
    done = _ascii_locale_run(["-m", "taco", "compress", "ds", "-o", "out", "-m", "taco-minilm-tiny"], tmp_path)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "no caption" in line]
    assert len(notes) == 1 and "caf\\udcc3\\udca9.png has no caption" in notes[0], done.stderr
    assert notes[0].endswith(f"; {HINT}: set LC_ALL=C.UTF-8 or PYTHONUTF8=1"), notes[0]


def test_training_data_finds_them_under_an_ascii_locale(tmp_path: Path) -> None:
    """CaptionedFolder (taco train's data.root) keeps all three, each opening, with its caption."""
    _folder(tmp_path, CAPTIONS)
    code = ("import warnings; warnings.simplefilter('error'); from taco.data import CaptionedFolder, no_crop; "
            "d = CaptionedFolder('ds', transform=no_crop()); "
            "print(len(d), sorted(d[i].caption for i in range(len(d))))")
    done = _ascii_locale_run(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3 ['a café', 'a cat', 'a greeting']", done.stdout


def test_training_warning_names_each_file_one_way_and_says_the_locale(tmp_path: Path) -> None:
    _folder(tmp_path, {"ar.png": "a greeting", "中文.png": "a cat", "gone-é.png": "none"})
    code = ("import warnings; from taco.data import CaptionedFolder, no_crop\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always'); d = CaptionedFolder('ds', transform=no_crop())\n"
            "print(len(d)); print(*(str(x.message) for x in w), sep='\\n')")
    done = _ascii_locale_run(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    count, warning = done.stdout.splitlines()
    assert count == "2"
    assert warning == ("CaptionedFolder('ds'): skipping 1 listed without an image file (gone-\\udcc3\\udca9.png) "
                       f"and 1 without captions (caf\\udcc3\\udca9.png; {HINT}: set LC_ALL=C.UTF-8 or "
                       "PYTHONUTF8=1)"), warning


# ---- under a legacy 8-bit locale (Latin-1) both spellings of a name are the file's: one named in
# the locale's encoding (café.png in Latin-1 bytes, listed café.png) and one named in UTF-8 bytes
# (a folder unpacked from elsewhere, listed cafÃ©.png); 497307e looked for the second alone


def _latin1_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's file-name functions as under a Latin-1 locale (ISO-8859-1, without UTF-8 mode)."""
    def fsencode(name: str | bytes | os.PathLike[str]) -> bytes:
        name = os.fspath(name)
        return name if isinstance(name, bytes) else name.encode("latin-1", "surrogateescape")

    def fsdecode(name: str | bytes | os.PathLike[str]) -> str:
        name = os.fspath(name)
        return name if isinstance(name, str) else name.decode("latin-1", "surrogateescape")

    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "iso8859-1")
    monkeypatch.setattr(os, "fsencode", fsencode)
    monkeypatch.setattr(os, "fsdecode", fsdecode)


def test_a_latin1_locale_spells_a_name_as_given_then_in_utf8_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    _latin1_file_system(monkeypatch)
    assert file_system_names("café.png") == ("café.png", "cafÃ©.png")
    assert file_system_name("café.png") == "café.png"  # as messages name the listed files
    assert file_system_names("a.png") == ("a.png",)
    assert file_system_names("中文.png") == ("ä¸\xadæ\x96\x87.png",)  # Latin-1 cannot write 中
    assert file_system_names("caf\udce9.png") == ("caf\udce9.png",)  # the file system's spelling already


def test_training_data_opens_either_spelling_under_a_latin1_locale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the stand-in Latin-1 locale the test file system's names are listed as they are:
    ``café.png`` is a file named in Latin-1, ``naÃ¯ve.png`` one named in UTF-8 (naïve.png's bytes),
    ``Ã©sub/Ã©t.png`` one in a folder named in UTF-8; the captions file names each as UTF-8 text."""
    from taco.data import CaptionedFolder, no_crop

    folder = tmp_path / "ds"
    (folder / "Ã©sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("café.png", "naÃ¯ve.png", "Ã©sub/Ã©t.png", "plain.png"):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / name)
    listed = {"café.png": "a café", "naïve.png": "a naive cat", "ésub/ét.png": "deep", "plain.png": "plain"}
    (folder / "captions.jsonl").write_text(
        "".join(json.dumps({"image": n, "caption": c}, ensure_ascii=False) + "\n" for n, c in listed.items()),
        encoding="utf-8")
    _latin1_file_system(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing skipped, nothing said
        data = CaptionedFolder(folder, transform=no_crop())
    assert sorted((r.file, r.captions) for r in data.records) == [
        ("café.png", ("a café",)), ("naÃ¯ve.png", ("a naive cat",)), ("plain.png", ("plain",)),
        ("Ã©sub/Ã©t.png", ("deep",))]
    assert all((folder / r.file).is_file() for r in data.records)  # each opens


def test_a_sidecar_named_in_the_locales_encoding_under_a_latin1_locale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taco.data import CaptionedFolder, no_crop

    Image.new("RGB", (64, 64)).save(tmp_path / "café.png")
    (tmp_path / "café.txt").write_text("a cat", encoding="utf-8")
    _latin1_file_system(monkeypatch)
    data = CaptionedFolder(tmp_path, transform=no_crop())
    assert [(r.file, r.captions) for r in data.records] == [("café.png", ("a cat",))]


def test_no_locale_hint_where_the_locale_read_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Latin-1 locale reads every byte: LC_ALL=C.UTF-8 would read a name named in Latin-1 no
    better (caf\\udce9.png), so a file missing or uncaptioned there gets no hint."""
    from taco.data import CaptionedFolder, no_crop

    for name in ("café.png", "naÃ¯ve.png", "ok.png"):
        Image.new("RGB", (64, 64)).save(tmp_path / name)
    (tmp_path / "captions.jsonl").write_text(
        '{"image": "ok.png", "caption": "ok"}\n{"image": "gone-é.png", "caption": "none"}\n', encoding="utf-8")
    _latin1_file_system(monkeypatch)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        data = CaptionedFolder(tmp_path, transform=no_crop())
    assert [r.file for r in data.records] == ["ok.png"]
    messages = [str(w.message) for w in said if "skipping" in str(w.message)]
    assert len(messages) == 1 and "1 listed without an image file (gone-é.png)" in messages[0], messages
    assert "2 without captions" in messages[0] and "locale's encoding" not in messages[0], messages



def test_compress_gives_no_locale_hint_for_an_uncaptioned_name_the_locale_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """taco compress's note of uncaptioned images, under the stand-in Latin-1 locale: naÃ¯ve.png
    (UTF-8 bytes, read by Latin-1) would find no caption under LC_ALL=C.UTF-8 either: no hint."""
    from taco.cli.inputs import uncaptioned_note

    for name in ("naÃ¯ve.png", "ok.png"):
        Image.new("RGB", (64, 64)).save(tmp_path / name)
    _latin1_file_system(monkeypatch)
    note = uncaptioned_note([tmp_path / "naÃ¯ve.png", tmp_path / "ok.png"], [None, "ok"])
    assert note is not None and "naÃ¯ve.png" in note and "locale's encoding" not in note, note


def _latin1_locale(root: Path) -> dict[str, str] | None:
    """The environment of a real ISO-8859-1 locale built in ``root`` (localedef), None without one."""
    localedef = shutil.which("localedef")
    if localedef is None or sys.platform != "linux":
        return None
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([localedef, "-i", "en_US", "-f", "ISO-8859-1", str(root / "en_US.ISO-8859-1")],
                   capture_output=True, timeout=60, check=False)
    if not (root / "en_US.ISO-8859-1" / "LC_CTYPE").is_file():  # built (a warning's exit status or not)
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LOCPATH=str(root), LC_ALL="en_US.ISO-8859-1", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0",
               PYTHONIOENCODING="utf-8:backslashreplace")
    return env


def test_training_data_under_a_real_latin1_locale(tmp_path: Path) -> None:
    """The repro: café.png named in Latin-1 bytes, captions.jsonl naming it in UTF-8, under
    LC_ALL=en_US.ISO-8859-1; 497307e said 'no images to use ... 1 listed without an image file'."""
    env = _latin1_locale(tmp_path / "locale")
    if env is None:
        pytest.skip("no localedef to build an ISO-8859-1 locale")
    folder = tmp_path / "ds"
    folder.mkdir()
    for name in (b"caf\xe9.png", b"na\xc3\xafve.png"):  # in Latin-1, in UTF-8
        Image.new("RGB", (64, 64)).save(os.fsencode(folder) + b"/" + name)
    (folder / "captions.jsonl").write_text(
        '{"image": "café.png", "caption": "a café"}\n{"image": "naïve.png", "caption": "naive"}\n',
        encoding="utf-8")
    code = ("import sys, warnings; warnings.simplefilter('error'); from taco.data import CaptionedFolder, no_crop; "
            "d = CaptionedFolder('ds', transform=no_crop()); "
            "print(sys.getfilesystemencoding(), len(d), sorted(d[i].caption for i in range(len(d))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "iso8859-1 2 ['a café', 'naive']", done.stdout


def test_a_captions_file_naming_a_photo_in_a_non_ascii_subfolder_under_an_ascii_locale(tmp_path: Path) -> None:
    """Under LC_ALL=C without Python's UTF-8 mode, the sidecar lookup of süb/x.png listed its
    folder by the UTF-8 text and raised UnicodeEncodeError; the photo is found by its bytes."""
    folder = tmp_path / "r"
    (folder / "süb").mkdir(parents=True)
    for name in ("süb/x.png", "top.png"):
        Image.new("RGB", (64, 64)).save(folder / name)
    (folder / "captions.jsonl").write_text(
        '{"image": "süb/x.png", "caption": "deep"}\n{"image": "top.png", "caption": "top"}\n', encoding="utf-8")
    code = ("from taco.data import CaptionedFolder, no_crop; "
            "d = CaptionedFolder('r', transform=no_crop()); "
            "print(sorted((ascii(r.file), r.captions) for r in d.records)); d[0]; d[1]")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[(\"'s\\\\udcc3\\\\udcbcb/x.png'\", ('deep',)), (\"'top.png'\", ('top',))]"
