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


def _ascii_locale_taco(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    return subprocess.run([sys.executable, "-m", "taco", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, check=False)


def test_a_utf8_label_title_or_captioner_under_an_ascii_locale_says_which_setting_reads_it(tmp_path: Path) -> None:
    """taco plot --title 'Résultats', taco evaluate --label, taco import-captions --captioner under
    LC_ALL=C were refused 'give it as UTF-8 text', though the user typed UTF-8: the refusal now
    says the setting that reads it so, as --caption's does."""
    (tmp_path / "k.json").write_text("{}", encoding="utf-8")
    for args in (["plot", "r.json", "--title", "Résultats"],
                 ["evaluate", "samples", "-m", "elic-tiny", "--label", "modèle-中"],
                 ["import-captions", "k.json", "--captioner", "modèle"]):
        done = _ascii_locale_taco(args, tmp_path)
        assert done.returncode == 2, done.stderr
        last = done.stderr.splitlines()[-1]
        assert "holds a lone surrogate" in last and last.endswith(
            "give it as UTF-8 text (the locale's encoding is ascii, which cannot read these UTF-8 bytes: "
            "set LC_ALL=C.UTF-8 or PYTHONUTF8=1)"), last


def test_a_library_captioner_name_of_utf8_bytes_says_the_setting(tmp_path: Path) -> None:
    """write_captions_jsonl's refusal of a captioner name read from such bytes says it too."""
    code = ("import os; from taco.evaluation.import_captions import write_captions_jsonl as w\n"
            "try:\n    w([], 'out.jsonl', os.fsdecode(b'mod\\xc3\\xa8le'))\n"
            "except ValueError as e:\n    print(e)")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", PYTHONIOENCODING="utf-8:backslashreplace")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("give it as UTF-8 text (the locale's encoding is ascii, which cannot "
                                        "read these UTF-8 bytes: set LC_ALL=C.UTF-8 or PYTHONUTF8=1)"), done.stdout


def test_locale_hint_of_names_the_first_name_the_locale_could_not_read() -> None:
    """locale_hint_of: the hint of the first name of UTF-8 bytes the ascii locale could not read;
    none for names it read or bytes that are UTF-8 under no locale; none under a UTF-8 locale."""
    code = ("import os; from taco.messages import locale_hint_of as h; "
            "print(h(['a.png', os.fsdecode(b'\\xffx'), os.fsdecode(b'caf\\xc3\\xa9')]), "
            "h(['a.png', os.fsdecode(b'\\xffx')]), h([]), sep='|')")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")}
    for utf8_mode in ("0", "1"):
        env.update(LC_ALL="C", PYTHONUTF8=utf8_mode, PYTHONCOERCECLOCALE="0")
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        found = done.stdout.rstrip("\n").split("|")
        hint = ("the locale's encoding is ascii, which cannot read these UTF-8 bytes: set LC_ALL=C.UTF-8 "
                "or PYTHONUTF8=1") if utf8_mode == "0" else ""
        assert found == [hint, "", ""], (utf8_mode, done.stdout)
