"""to_rgb's warnings are said once: the image it returns carries none of the info a warning was
about, so image_to_tensor (and a dataset's ToTensor) converting it again says nothing more."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from taco.data import CaptionedImages, CaptionRecord
from taco.images import ImageConversionWarning, image_to_tensor, load_image, to_rgb


def _broken_profile_jpeg(path: Path) -> Path:
    rgb = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
    Image.fromarray(rgb).save(path, icc_profile=b"garbage" * 20)  # an APP2 that is no profile
    return path


def _rgb16_png(path: Path) -> Path:
    h, w = 4, 5
    arr = (np.arange(h * w * 3).reshape(h, w, 3) * 1000).astype(">u2")
    raw = b"".join(b"\0" + arr[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def _said(run) -> list[str]:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]


def test_broken_profile_is_said_once_with_the_file_name(tmp_path: Path) -> None:
    image = load_image(_broken_profile_jpeg(tmp_path / "bad.jpg"))
    said = _said(lambda: image_to_tensor(to_rgb(image, source="bad.jpg")[0]))
    assert len(said) == 1 and said[0].startswith("bad.jpg: its colour profile cannot be read"), said
    assert "icc_profile" in image.info  # the caller's image is left as it was


def test_16_bit_png_is_said_once_with_the_file_name(tmp_path: Path) -> None:
    image = load_image(_rgb16_png(tmp_path / "deep.png"))
    said = _said(lambda: image_to_tensor(to_rgb(image, source="deep.png")[0]))
    assert len(said) == 1 and said[0].startswith("deep.png: its 16-bit colour samples"), said
    assert image.info["source_bits"] == 16


def test_dataset_says_a_broken_profile_once(tmp_path: Path) -> None:
    _broken_profile_jpeg(tmp_path / "bad.jpg")
    ds = CaptionedImages(tmp_path, [CaptionRecord("bad.jpg", ("a photo",))])
    said = _said(lambda: ds[0])
    assert len(said) == 1 and "bad.jpg" in said[0], said
