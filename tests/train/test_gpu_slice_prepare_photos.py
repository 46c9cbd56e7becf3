"""scripts/gpu_slice_prepare.sh checks its PHOTOS folder before it writes anything, and says in
one line what to set (in a fresh clone, without ../shared/data/photos, it died in a Python
traceback: FileNotFoundError for PHOTOS/train)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_slice_prepare.sh"


GIT = shutil.which("git")


def _run(photos: Path) -> subprocess.CompletedProcess[str]:
    # the system's tools (not the test's virtual environment), and git wherever it lives
    path = ":".join(dict.fromkeys([str(Path(GIT).parent) if GIT else "/usr/bin", "/usr/bin", "/bin"]))
    return subprocess.run(["bash", str(SCRIPT)], env={"PATH": path, "PHOTOS": str(photos),
                                                       "HOME": str(photos.parent)},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(GIT is None, reason="the script runs in its git checkout")
@pytest.mark.parametrize(("make", "says"), [
    ([], "no folder {p}/train"),
    (["train", "val"], "{p}/train has no captions.jsonl"),
    (["train", "train/captions.jsonl"], "no folder {p}/val"),
    (["train", "train/captions.jsonl", "val"], "{p}/val has no captions.jsonl"),
])
def test_photos_without_train_and_val_captions_is_one_line(tmp_path, make, says):
    photos = tmp_path / "photos"
    photos.mkdir()
    for part in make:
        (photos / part).touch() if part.endswith(".jsonl") else (photos / part).mkdir()
    r = _run(photos)
    assert r.returncode == 1
    assert r.stdout == ""  # nothing done: not even "== photos"
    assert r.stderr.strip() == (f"gpu_slice_prepare.sh: {says.format(p=photos)}: set PHOTOS=DIR, a "
                                "folder with train/ and val/ of captioned photos (a captions.jsonl "
                                "in each)")
