"""taco.messages.locale_hint: a name whose bytes are UTF-8, read under an ASCII locale (LC_ALL=C),
gets the setting that reads it as UTF-8 (PYTHONUTF8=1); bytes that are UTF-8 under no locale get
no hint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_locale_hint_only_for_bytes_that_are_utf8() -> None:
    """Under LC_ALL=C (ascii, no UTF-8 mode) a name holding UTF-8 bytes gets the hint; one
    holding bytes that are not UTF-8 under any locale gets none (setting UTF-8 would not help)."""
    code = ("import os; from taco.messages import locale_hint; "
            "print(repr(locale_hint(os.fsdecode(b'caf\\xc3\\xa9'))), repr(locale_hint(os.fsdecode(b'\\xffx'))))")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    utf8, other = done.stdout.strip().rsplit(" ", 1)
    assert "the locale's encoding is ascii" in utf8 and "PYTHONUTF8=1" in utf8, utf8
    assert other == "''", done.stdout


def test_a_utf8_dataset_folder_under_an_ascii_locale_says_which_setting_reads_it(tmp_path: Path) -> None:
    """taco evaluate of a folder named été under LC_ALL=C: refused up front (the results files
    are UTF-8), with the setting that reads the name as UTF-8."""
    (tmp_path / "été").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    done = subprocess.run([sys.executable, "-m", "taco", "evaluate", "été", "-m", "elic-tiny", "--fid", "off",
                           "--cmmd-clip", "off", "-o", "out"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "the folder's path holds a lone surrogate" in done.stderr, done.stderr
    assert "the locale's encoding is ascii" in done.stderr and "PYTHONUTF8=1" in done.stderr
