"""``taco decompress`` writes PNG for speed (taco.images.PNG_SAVE_OPTIONS: zlib level 1, run-length
strategy) instead of at Pillow's default level 6, which took 2.24 of a 12 MP decode's ~37 s of CPU
(docs/performance.md); the pixels are the same."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import taco
from taco.cli import main
from taco.images import PNG_SAVE_OPTIONS, image_file_bytes
from taco.samples import SAMPLES_DIR


def _png_bytes(image: Image.Image, **options: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **options)
    return buf.getvalue()


def test_taco_decompress_writes_its_png_with_the_fast_options(tmp_path):
    """The file written is image_file_bytes of the decoded image (it was Pillow's level 6), and
    holds taco.decompress's pixels."""
    src = SAMPLES_DIR / "skimage-chelsea.png"
    coded, out = tmp_path / "cat.taco", tmp_path / "cat.png"
    assert main(["compress", str(src), "--caption", "a cat", "-m", "elic-tiny", "-o", str(coded),
                 "--quiet"]) == 0
    assert main(["decompress", str(coded), "-o", str(out), "--quiet"]) == 0
    decoded = taco.decompress(coded.read_bytes())
    written = out.read_bytes()
    assert written == image_file_bytes(decoded, "PNG")
    assert written != _png_bytes(decoded)  # not Pillow's default
    with Image.open(out) as back:
        assert np.array_equal(np.asarray(back), np.asarray(decoded))


@pytest.mark.parametrize("mode", ["RGB", "L", "I;16"])
def test_png_keeps_the_pixels_of_every_decoded_mode(mode):
    rng = np.random.default_rng(0)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (40, 56), dtype=np.uint16).astype("<u2"))
    else:
        image = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).convert(mode)
    with Image.open(io.BytesIO(image_file_bytes(image, "PNG"))) as back:
        assert back.mode == image.mode
        assert np.array_equal(np.asarray(back), np.asarray(image))


def test_the_run_length_strategy_takes_effect():
    """Pillow passes compress_type to zlib as its strategy (an option its PNG docs do not list):
    on a photo RLE writes a smaller file than level 1's default strategy, and the runs of a flat
    image stay short; were the option ever ignored, this would say so."""
    photo = Image.open(SAMPLES_DIR / "skimage-astronaut.png").convert("RGB")
    level1 = _png_bytes(photo, compress_level=1)
    assert len(image_file_bytes(photo, "PNG")) < 0.97 * len(level1)
    assert PNG_SAVE_OPTIONS["compress_level"] == 1
    assert len(image_file_bytes(Image.new("RGB", (512, 512), (255, 255, 255)), "PNG")) < 2000


def test_other_formats_keep_pillows_defaults():
    image = Image.open(SAMPLES_DIR / "skimage-chelsea.png").convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="TIFF")
    assert image_file_bytes(image, "TIFF") == buf.getvalue()
