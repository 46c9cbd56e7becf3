"""Mutation round 9 (session 35), scripts/gpu_slice.py: a test for what today's new code let survive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_slice.py"


def test_repack_jpegs_counts_files_not_a_folder_named_like_one(tmp_path):
    """A folder whose name ends .jpg (photos.jpg/) is searched, not counted or read as a JPEG."""
    from PIL import Image

    (tmp_path / "photos.jpg").mkdir()
    Image.new("RGB", (32, 32), (200, 30, 60)).save(tmp_path / "photos.jpg" / "a.jpg", quality=90)
    r = subprocess.run([sys.executable, str(SCRIPT), "repack-jpegs", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "repack-jpegs: 1 JPEGs (subfolders included) " in r.stdout + r.stderr, (r.stdout, r.stderr)
