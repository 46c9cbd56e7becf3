"""README.md works as written from a fresh clone: its command lines and its Python snippet.

Every line of a ```bash block is run, in order, from the root of a copy of the repository's
files that a clone has (README, configs, the package with its sample photos), with ``taco`` on
PATH; the ```python blocks run there too. The only lines not run are those matching
:data:`NOT_RUN`, each with its reason: the install, the test suite itself, training and
multi-GPU runs, and templates whose paths stand for the user's own data (CONFIG, PHOTOS, ...).
A new README line is run unless it is added there.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: README command prefixes that are not run here, and why.
NOT_RUN = {
    "python3 -m venv": "the install (network; .ci/run does it)",
    "pytest ": "the test suite itself",
    "taco train ": "training: a minute or more each",
    "torchrun ": "several GPUs",
}


#: README lines of the Evaluation block (run by their own test: they take minutes).
EVALUATION = ("taco evaluate ", "taco plot ")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(encoding="utf-8"),
                      flags=re.M | re.S)


def command_lines() -> list[str]:
    lines = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def to_run() -> list[str]:
    return [c for c in command_lines() if not c.startswith(tuple(NOT_RUN))]


def test_readme_commands_found_and_classified() -> None:
    lines = command_lines()
    assert lines[0].startswith("python3 -m venv") and "taco demo" in lines[0]
    assert next(c for c in lines if c.startswith("pytest ")) == 'pytest -q -m "not slow" -n logical'
    runs = to_run()
    assert any(c.startswith("taco compress") for c in runs)
    assert any(c.startswith("taco evaluate") for c in runs)
    for prefix in NOT_RUN:  # no stale entries
        assert any(c.startswith(prefix) for c in lines), prefix


def test_readme_paths_exist_in_a_clone() -> None:
    """Every repo path a README command or snippet reads is in the repository."""
    text = "\n".join([*command_lines(), *blocks("python")])
    paths = set(re.findall(r"(?:taco/assets|configs)/[\w./-]+", text))
    assert paths
    for p in sorted(paths):
        assert (ROOT / p).exists(), f"README refers to {p}, which a clone does not have"
    assert "../" not in "\n".join(to_run()), "README commands must not point outside the repo"


@pytest.fixture()
def clone(tmp_path: Path) -> Path:
    """The files a clone has, without caches and run outputs; a ``taco`` launcher on PATH."""
    dst = tmp_path / "clone"
    dst.mkdir()
    shutil.copy(README, dst / "README.md")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "runs", ".pytest_cache")
    for folder in ("taco", "configs"):
        shutil.copytree(ROOT / folder, dst / folder, ignore=ignore)
    bin_dir = dst / ".bin"
    bin_dir.mkdir()
    launcher = bin_dir / "taco"
    launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m taco.cli "$@"\n')
    launcher.chmod(0o755)
    return dst


def _env(clone: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{clone / '.bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(clone), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1"}


def _run_lines(clone: Path, commands: list[str]) -> None:
    for command in commands:
        r = subprocess.run(["bash", "-c", f"set -eo pipefail; {command}"], cwd=clone,
                           env=_env(clone), capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, f"README line failed: {command}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        assert "Traceback" not in r.stderr, command


@pytest.mark.slow
def test_readme_commands_run_as_written(clone: Path) -> None:
    """The install line's ``taco demo``, then every README line outside the Evaluation block."""
    _run_lines(clone, ["taco demo", *[c for c in to_run() if not c.startswith(EVALUATION)]])
    assert (clone / "cat.png").is_file() and (clone / "taco-demo").is_dir()
    assert sorted(p.name for p in (clone / "decoded").iterdir()) == [
        "skimage-astronaut.png", "skimage-chelsea.png", "skimage-coffee.png", "skimage-rocket.png"]


@pytest.mark.slow
def test_readme_evaluation_commands_run_as_written(clone: Path) -> None:
    """The Evaluation block (evaluate, plot) on the shipped samples: several minutes on 2 cores."""
    lines = [c for c in to_run() if c.startswith(EVALUATION)]
    assert lines
    _run_lines(clone, lines)
    assert (clone / "runs" / "eval" / "samples" / "rd.png").is_file()


@pytest.mark.slow
def test_readme_python_snippet_runs(clone: Path) -> None:
    for code in blocks("python"):
        r = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", code],
                           cwd=clone, env=_env(clone), capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "bpp" in r.stdout
        assert "ResourceWarning" not in r.stderr  # no file left open
