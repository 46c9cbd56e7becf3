"""The sdist is the source tree a checkout has, less .ci/ (MANIFEST.in's own words): every
top-level folder and file that git tracks is grafted or included by MANIFEST.in, or is one that
setuptools puts in every sdist. examples/ was left out, so tests/models/test_backbone_checks.py
and test_backbone_plugin.py errored from the sdist and docs/models.md named a missing file.
Checked by reading MANIFEST.in, without building an sdist."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: In every sdist without a MANIFEST.in line: the build's own files and the package (taco's
#: modules and package data, pyproject.toml's [tool.setuptools]).
SETUPTOOLS_ADDS = {"pyproject.toml", "MANIFEST.in", "taco"}
#: Tracked, and not in the sdist on purpose.
LEFT_OUT = {".ci", ".gitignore"}


def _manifest_top_level() -> set[str]:
    """The top-level names that MANIFEST.in's graft, include and recursive-include lines name."""
    named = set()
    for line in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and words[0] == "graft":
            named.add(words[1].strip("/").split("/")[0])
        elif words and words[0] in ("include", "recursive-include"):
            args = words[1:] if words[0] == "include" else words[1:2]
            named.update(a.split("/")[0] for a in args)
    return named


def _tracked_top_level() -> set[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an sdist has no .git)")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True,
                         timeout=60).stdout.decode()
    return {name.split("/")[0] for name in out.split("\0") if name}


def test_manifest_carries_every_tracked_top_level_entry_but_ci() -> None:
    tracked = _tracked_top_level()
    missing = sorted(tracked - LEFT_OUT - SETUPTOOLS_ADDS - _manifest_top_level())
    assert not missing, f"tracked but not in the sdist (graft or include them in MANIFEST.in): {missing}"


def test_manifest_leaves_out_ci() -> None:
    assert not _manifest_top_level() & LEFT_OUT
