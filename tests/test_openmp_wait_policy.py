"""``taco compress``, ``decompress``, ``demo`` and ``evaluate`` let torch's OpenMP threads sleep between
operations (a one-shot decode on a shared 2-core machine spent most of its time in spinning
threads; docs/performance.md).

libgomp (torch's OpenMP runtime on Linux) reads ``OMP_WAIT_POLICY`` once, when torch loads it,
and with ``OMP_DISPLAY_ENV=VERBOSE`` prints the spin count it chose on standard error: 0 for a
passive policy, 300,000 rounds by default. Each case runs the command in a fresh interpreter,
the only place where that first load happens.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taco.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory, elic_checkpoint: Path) -> Path:
    """A small .taco file of the seed-0 elic-small checkpoint (decoded with ``-m`` that file)."""
    import taco
    from taco.images import load_image

    path = tmp_path_factory.mktemp("openmp") / "cat.taco"
    image = load_image(CHELSEA).crop((0, 0, 64, 64))
    path.write_bytes(taco.compress(image, None, taco.load(elic_checkpoint)))
    return path


def spin_count(tmp_path: Path, argv: list[str], made: Path, **env: str) -> int:
    """GOMP_SPINCOUNT as libgomp set it in a ``taco ARGV`` process that makes ``made`` (skips
    where torch's OpenMP is not libgomp: it alone prints that line)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    r = subprocess.run(
        [sys.executable, "-m", "taco.cli", *argv],
        env={**base, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OMP_DISPLAY_ENV": "VERBOSE",
             **env},
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert made.is_file()
    found = re.search(r"GOMP_SPINCOUNT = '(\d+)'", r.stderr)
    if found is None:
        pytest.skip("torch's OpenMP runtime here is not libgomp")
    return int(found.group(1))


def decompressing(tmp_path: Path, coded: Path, checkpoint: Path) -> tuple[list[str], Path]:
    out = tmp_path / "out.png"
    return ["decompress", str(coded), "-m", str(checkpoint), "-o", str(out), "--quiet"], out


def test_decompress_threads_sleep_between_operations(tmp_path: Path, coded: Path,
                                                     elic_checkpoint: Path) -> None:
    assert spin_count(tmp_path, *decompressing(tmp_path, coded, elic_checkpoint)) == 0


def test_compress_threads_sleep_between_operations(tmp_path: Path, elic_checkpoint: Path) -> None:
    from taco.images import load_image

    photo, out = tmp_path / "cat.png", tmp_path / "cat.taco"
    load_image(CHELSEA).crop((0, 0, 64, 64)).save(photo)
    argv = ["compress", str(photo), "-m", str(elic_checkpoint), "-o", str(out), "--quiet"]
    assert spin_count(tmp_path, argv, out) == 0


def test_evaluate_threads_sleep_between_operations(tmp_path: Path) -> None:
    from taco.images import load_image

    photos = tmp_path / "photos"
    photos.mkdir()
    load_image(CHELSEA).crop((0, 0, 64, 64)).save(photos / "cat.png")
    out = tmp_path / "ev"
    argv = ["evaluate", str(photos), "--classic", "jpeg", "--qualities", "jpeg=50", "--caption-mode",
            "empty", "--no-plot", "--fid", "off", "--cmmd-clip", "off", "-o", str(out), "--quiet"]
    assert spin_count(tmp_path, argv, out / "photos" / "jpeg.csv") == 0


def test_decompress_keeps_the_users_wait_policy(tmp_path: Path, coded: Path,
                                                elic_checkpoint: Path) -> None:
    argv, out = decompressing(tmp_path, coded, elic_checkpoint)
    assert spin_count(tmp_path, argv, out, OMP_WAIT_POLICY="ACTIVE") > 0


def test_decompress_leaves_the_environment_as_it_was(tmp_path: Path, coded: Path,
                                                     elic_checkpoint: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (torch already loaded): nothing to set, and nothing left set afterwards."""
    from taco.cli import main

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(["decompress", str(coded), "-m", str(elic_checkpoint), "-o",
                 str(tmp_path / "out.png"), "--quiet"]) == 0
    assert "OMP_WAIT_POLICY" not in os.environ
