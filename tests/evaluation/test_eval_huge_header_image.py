"""An image over 32,768 px a side is left out of taco evaluate up front whatever its pixel count:
a 65535x65535 PNG (over the pixel cap too) was called unreadable and left the run incomplete
(exit 3), while a 1x1,000,000 one was skipped cleanly."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from taco.data import SkippedImageWarning
from taco.evaluation.evaluate import EvalConfig, run_evaluation
from taco.samples import SAMPLES_DIR


def huge_png(path: Path, side: int = 65535) -> None:
    """A PNG whose header says side x side (its pixel data is one empty row: never decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b""))


def test_a_65535_px_image_is_skipped_up_front(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    huge_png(data / "huge.png")
    shutil.copy(SAMPLES_DIR / "skimage-coffee.png", data / "coffee.png")
    cfg = EvalConfig(datasets=[str(data)], classic=["jpeg"], qualities={"jpeg": [50]},
                     output=tmp_path / "out", fid="off", plot=False, progress=False)
    with pytest.warns(SkippedImageWarning, match=r"over 32,768 px a side.*huge\.png: 65535x65535") as got:
        written = run_evaluation(cfg)
    # blamed on the caller's line, as taco.compress's warnings are, not on taco's
    assert [w.filename for w in got if w.category is SkippedImageWarning] == [__file__]
    (result,) = [json.loads(p.read_text()) for p in written if p.suffix == ".json"]
    assert result["complete"] and result["dataset"]["images"] == 1
    assert not result.get("skipped_images")
