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
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from taco.captions_file import file_system_name

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
