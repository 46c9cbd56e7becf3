"""scripts/gpu_slice.py report of a run the trainer wrote no records for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_report_of_a_run_without_training_records(tmp_path):
    """`gpu_slice.py report` crashed with FileNotFoundError where the trainer wrote no log.jsonl
    (it failed in its set-up, or no step fitted in the time)."""
    (tmp_path / "run").mkdir()
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_slice.py"), "report", str(tmp_path / "run")],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0 and "no training records" in r.stdout, r.stderr
    assert "Traceback" not in r.stderr
