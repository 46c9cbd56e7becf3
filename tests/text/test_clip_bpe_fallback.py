"""Where taco's cache cannot be written (a read-only home, $TACO_CACHE_DIR naming a file), CLIP's
tokenizer files go to a private temporary folder, removed when the process ends (each run left a
1.5 MB taco-clip-bpe-* folder behind); with no temporary folder either, one TextEncoderUnavailable
says what to set, instead of an error that each input reported as its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import sys, tempfile
from taco.text.clip_vocab import clip_bpe_folder
if sys.argv[1] == "no-temp":
    tempfile.tempdir = sys.argv[2]
try:
    folder = clip_bpe_folder()
except Exception as exc:
    print(type(exc).__name__, exc)
else:
    print(folder, (folder / "vocab.json").is_file())
"""


def _run(tmp_path: Path, *args: str) -> str:
    cache = tmp_path / "not-a-folder"
    cache.write_text("a file")
    env = {**os.environ, "TACO_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_the_temporary_folder_is_removed_at_exit(tmp_path):
    folder, written = _run(tmp_path, "temp").rsplit(" ", 1)
    assert written == "True" and Path(folder).name.startswith("taco-clip-bpe-")
    assert not Path(folder).exists()


def test_no_writable_folder_at_all_is_one_clear_error(tmp_path):
    out = _run(tmp_path, "no-temp", str(tmp_path / "missing"))
    assert out.startswith("TextEncoderUnavailable cannot write the CLIP tokenizer's files into "), out
    assert out.endswith("set TACO_CACHE_DIR to a writable folder"), out
