"""An unreadable image is named once, however many settings met it: taco evaluate listed it once
per quality ('unreadable: bad.png, bad.png, bad.png, ...') and skipped_images held a copy per
job."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

from taco.samples import SAMPLES_DIR


def broken_png(path: Path) -> None:
    """An 8x8 PNG whose header reads but whose pixel data does not decode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", b"not zlib data") + chunk(b"IEND", b""))


def test_an_unreadable_image_is_named_once(taco_main, tmp_path, capsys):
    data = tmp_path / "photos"
    data.mkdir()
    broken_png(data / "bad.png")
    shutil.copy(SAMPLES_DIR / "skimage-coffee.png", data / "coffee.png")
    out = tmp_path / "out"
    code = taco_main(["evaluate", str(data), "--classic", "jpeg", "--qualities", "jpeg=40,50,60",
                      "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "lacks 3 per-image results (unreadable: bad.png):" in err
    result = json.loads((out / "photos" / "jpeg.json").read_text())
    assert result["skipped_images"] == ["bad.png"] and result["jobs_missing"] == 3
