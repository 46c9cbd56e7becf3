"""scripts/gpu_slice.py travel (gpu_slice_prepare.sh's last step): what the device tool sends,
against its 64 MiB. Over it, the advice takes out of the working tree for the run what the GPU
machine never reads, the shipped weights and then tests/ and docs/, and puts it back after; a
continuing slice measured 63.6 MiB, and the only advice past the weights was EXTRA_PHOTOS=0,
which changes the recipe. Run in a scratch repository of sparse files: the commands it prints
are run, and they work. Under the limit it says how much is left under it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_slice.py"
MIB = 2**20

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="measures a git checkout")


@pytest.fixture
def repo(tmp_path: Path, sparse: Callable[[Path, float], None], git: Callable[..., None]) -> Path:
    """8 MiB of weights, 2 + 1 MiB of tests/ and docs/, 2 MiB of the rest; .gpu ignored."""
    sparse(tmp_path / "taco" / "assets" / "models" / "a.safetensors", 8)
    sparse(tmp_path / "tests" / "data" / "x.bin", 2)
    sparse(tmp_path / "docs" / "big.md", 1)
    sparse(tmp_path / "taco" / "code.py", 2)
    git(tmp_path, "init", "-q")
    (tmp_path / ".git" / "info" / "exclude").write_text("/.gpu/\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "x")
    return tmp_path


@pytest.fixture
def travel(sparse: Callable[[Path, float], None]) -> Callable[[Path, float], subprocess.CompletedProcess[str]]:
    """``travel(repo, gpu_mib)``: gpu_slice.py travel .gpu in REPO, with GPU_MIB MiB of photos in .gpu."""

    def run(repo: Path, gpu_mib: float) -> subprocess.CompletedProcess[str]:
        sparse(repo / ".gpu" / "photos.bin", gpu_mib)
        return subprocess.run([sys.executable, str(SCRIPT), "travel", ".gpu"], cwd=repo,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    return run


def _advised(stderr: str) -> tuple[str, str]:
    before = re.search(r"^  (git rm .*?)   # before run", stderr, re.M)
    after = re.search(r"^  (git checkout HEAD -- .*?)   # right after it", stderr, re.M)
    assert before and after, stderr
    return before.group(1), after.group(1)


def _follow(repo: Path, command: str) -> None:
    subprocess.run(command, shell=True, cwd=repo, check=True, capture_output=True)


def test_under_the_limit_it_passes(repo, travel):
    r = travel(repo, 40)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "tracked 13.0 MiB + untracked 0.0 MiB + .gpu 40.0 MiB = 53.0 MiB of 64 MiB"


def test_the_weights_alone_when_they_are_enough(repo, travel):
    r = travel(repo, 55)  # 68 MiB; 60 without the weights
    assert r.returncode == 1
    rm, restore = _advised(r.stderr)
    assert rm == "git rm -r -q taco/assets/models/*.safetensors"
    assert restore == "git checkout HEAD -- taco/assets/models"
    assert "and it is 60.0 MiB" in r.stderr
    _follow(repo, rm)
    assert travel(repo, 55).returncode == 0
    _follow(repo, restore)
    assert (repo / "taco" / "assets" / "models" / "a.safetensors").stat().st_size == 8 * MIB


def test_tests_and_docs_too_when_the_weights_are_not_enough(repo, travel):
    r = travel(repo, 61)  # 74 MiB; 66 without the weights, 63 without tests/ and docs/ too
    assert r.returncode == 1
    assert "EXTRA_PHOTOS" not in r.stderr  # the recipe's photos stay
    rm, restore = _advised(r.stderr)
    assert rm == "git rm -r -q taco/assets/models/*.safetensors tests docs"
    assert restore == "git checkout HEAD -- taco/assets/models tests docs"
    _follow(repo, rm)
    again = travel(repo, 61)
    assert again.returncode == 0, again.stderr
    assert "= 63.0 MiB of 64 MiB" in again.stdout
    _follow(repo, restore)
    assert (repo / "tests" / "data" / "x.bin").stat().st_size == 2 * MIB
    assert (repo / "docs" / "big.md").stat().st_size == MIB
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True)
    assert status.stdout == ""  # the checkout is as it was


def test_weights_already_out_leave_tests_and_docs(repo, travel, git):
    git(repo, "rm", "-q", "taco/assets/models/a.safetensors")
    r = travel(repo, 61)  # 66 MiB
    rm, restore = _advised(r.stderr)
    assert rm == "git rm -r -q tests docs" and restore == "git checkout HEAD -- tests docs"


def test_when_nothing_else_is_enough_carry_fewer_photos(repo, travel):
    r = travel(repo, 70)
    assert r.returncode == 1
    assert "72.0 MiB even without the shipped weights, tests/ and docs/" in r.stderr
    assert "carry less (EXTRA_PHOTOS=0, VAL_IMAGES)" in r.stderr and "git rm" not in r.stderr


@pytest.mark.parametrize(("gpu_mib", "rc", "says"), [
    (40, 0, "11.0 MiB left under the device tool's 64 MiB"),  # 53 MiB
    (55, 1, "and it is 60.0 MiB, 4.0 MiB left under the limit"),  # 68; 60 without the weights
])  # fmt: skip
def test_travel_says_the_headroom(sparse, git, tmp_path, gpu_mib, rc, says):
    sparse(tmp_path / "taco" / "assets" / "models" / "a.safetensors", 8)
    sparse(tmp_path / "taco" / "code.py", 5)
    git(tmp_path, "init", "-q")
    (tmp_path / ".git" / "info" / "exclude").write_text("/.gpu/\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "x")
    sparse(tmp_path / ".gpu" / "photos.bin", gpu_mib)
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_slice.py"), "travel", ".gpu"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == rc, r.stderr
    assert says in r.stderr
    assert r.stdout.endswith(" MiB of 64 MiB\n")  # the measure's line as it was
