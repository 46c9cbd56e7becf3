"""benchmarks/startup.py refuses a --root it cannot measure with one line and status 2 (a folder
that does not exist ended in a CalledProcessError traceback from its first ``taco compress``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "startup.py"


@pytest.mark.parametrize(("make", "says"), [
    (lambda tmp: tmp / "no-such-checkout", "no such folder"),
    (lambda tmp: tmp, "not a taco checkout"),
])
def test_a_root_that_is_no_checkout_is_one_line(tmp_path, make, says):
    root = make(tmp_path)
    r = subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), "--root", ".",
                        "--runs", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip() == f"startup.py: --root {root}: {says}" + (
        "" if says == "no such folder"
        else " (no taco/__init__.py or taco/assets/samples/skimage-chelsea.png in it)")
    assert "Traceback" not in r.stderr and r.stdout == ""
