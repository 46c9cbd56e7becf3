"""``taco decompress`` lets torch's OpenMP threads sleep between operations (issue: a one-shot
decode on a shared 2-core machine spent most of its time in spinning threads).

libgomp (torch's OpenMP runtime on Linux) reads ``OMP_WAIT_POLICY`` once, when torch loads it,
and with ``OMP_DISPLAY_ENV=VERBOSE`` prints the spin count it chose on standard error: 0 for a
passive policy, 300,000 rounds by default. Each case runs ``taco decompress`` in a fresh
interpreter, the only place where that first load happens.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = ROOT / "taco" / "assets" / "samples" / "skimage-chelsea.png"


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory, elic_checkpoint: Path) -> Path:
    """A small .taco file of the seed-0 elic-small checkpoint (decoded with ``-m`` that file)."""
    import taco
    from taco.images import load_image

    path = tmp_path_factory.mktemp("openmp") / "cat.taco"
    image = load_image(CHELSEA).crop((0, 0, 64, 64))
    path.write_bytes(taco.compress(image, None, taco.load(elic_checkpoint)))
    return path


def spin_count(tmp_path: Path, coded: Path, checkpoint: Path, **env: str) -> int:
    """GOMP_SPINCOUNT as libgomp set it in a ``taco decompress`` process (skips where torch's
    OpenMP is not libgomp: it alone prints that line)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    r = subprocess.run(
        [sys.executable, "-m", "taco.cli", "decompress", str(coded), "-m", str(checkpoint),
         "-o", str(tmp_path / "out.png"), "--quiet"],
        env={**base, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OMP_DISPLAY_ENV": "VERBOSE",
             **env},
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.png").is_file()
    found = re.search(r"GOMP_SPINCOUNT = '(\d+)'", r.stderr)
    if found is None:
        pytest.skip("torch's OpenMP runtime here is not libgomp")
    return int(found.group(1))


def test_decompress_threads_sleep_between_operations(tmp_path: Path, coded: Path,
                                                     elic_checkpoint: Path) -> None:
    assert spin_count(tmp_path, coded, elic_checkpoint) == 0


def test_decompress_keeps_the_users_wait_policy(tmp_path: Path, coded: Path,
                                                elic_checkpoint: Path) -> None:
    assert spin_count(tmp_path, coded, elic_checkpoint, OMP_WAIT_POLICY="ACTIVE") > 0


def test_decompress_leaves_the_environment_as_it_was(tmp_path: Path, coded: Path,
                                                     elic_checkpoint: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (torch already loaded): nothing to set, and nothing left set afterwards."""
    from taco.cli import main

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(["decompress", str(coded), "-m", str(elic_checkpoint), "-o",
                 str(tmp_path / "out.png"), "--quiet"]) == 0
    assert "OMP_WAIT_POLICY" not in os.environ
