"""A report line that cannot be written to standard output (``>/dev/full``) after the output was
written was reported as the output's ("no space left on device"), the image not counted:
"stopped after 0 of 3 images" though a.taco was written (review SC 2). The image now counts once
its output is written, and the error names standard output, as ``taco info X >/dev/full`` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import taco

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


def _taco_stdout_full(*args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return subprocess.run([sys.executable, "-m", "taco", *args], stdin=subprocess.DEVNULL,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)


def test_compress_and_decompress_count_what_they_wrote_and_name_stdout(photos, tmp_path):
    out = tmp_path / "out"
    done = _taco_stdout_full("compress", str(photos), "-m", "elic-tiny", "--caption", "", "-o", str(out))
    assert done.returncode == 3  # a.taco written and kept: done in part
    last = done.stderr.splitlines()[-1]
    assert last.startswith("taco compress: error: stopped after 1 of 3 images: "
                           "<stdout>: no space left on device"), last
    assert sorted(p.name for p in out.iterdir()) == ["a.taco"]  # the first, written, then stopped
    png = tmp_path / "a.png"
    done = _taco_stdout_full("decompress", str(out / "a.taco"), "-o", str(png))
    assert done.stderr.splitlines()[-1] == "taco decompress: error: <stdout>: no space left on device"
    assert png.is_file()


def test_import_captions_names_stdout(tmp_path):
    src = tmp_path / "ofa.json"
    src.write_text(json.dumps({"kodim01.png": "a brick building with red doors"}))
    out = tmp_path / "captions.jsonl"
    done = _taco_stdout_full("import-captions", str(src), "-o", str(out))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "taco import-captions: error: <stdout>: no space left on device"
    assert out.is_file()


def test_decompress_counts_each_file_written_when_stdout_is_full(tmp_path, tiny_elic) -> None:
    """A batch whose report line cannot be printed stops after the file it wrote, and counts it."""
    import subprocess
    import sys

    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for name in ("a", "b"):
        (tmp_path / f"{name}.taco").write_bytes(taco.compress(image, None, tiny_elic))
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "taco", "decompress", str(tmp_path / "a.taco"),
                               str(tmp_path / "b.taco"), "-o", str(out)], stdin=subprocess.DEVNULL,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 3  # a.png written and kept: done in part
    last = done.stderr.splitlines()[-1]
    assert last.startswith("taco decompress: error: stopped after 1 of 2 files: "
                           "<stdout>: no space left on device"), last
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
