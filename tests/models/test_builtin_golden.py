"""The shipped built-in models (CompressAI layout) still decode the files made before the
reference layout, to the same latents, and still encode the same bytes.

tests/data/builtin holds a .taco file per built-in model, made by taco at d0fdc69 (the last
commit before the reference layout) from a 96x64 crop of a bundled sample, with the SHA-256 of
the entropy-decoded latents and the decoded image (g_s runs in float32, so pixels may differ by
one grey level on another machine; the latents may not differ at all).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import taco
from taco.bitstream import unpack
from taco.codec import coding_codec
from taco.models import fast_codec

DATA = Path(__file__).resolve().parents[1] / "data" / "builtin"
GOLDEN = json.loads((DATA / "golden.json").read_text())
SAMPLE = Path(taco.__file__).resolve().parent / "assets" / "samples" / "skimage-coffee.png"


@pytest.mark.parametrize("name", sorted(GOLDEN["files"]))
def test_builtin_decodes_its_golden_file(name):
    entry = GOLDEN["files"][name]
    model = taco.load(name)
    assert model.config.layout == "compressai"
    data = (DATA / entry["file"]).read_bytes()
    y_hat = fast_codec.decompress_latent(coding_codec(model), [[unpack(data).payload]],
                                         model.latent_shapes(64, 128))["y_hat"]
    assert hashlib.sha256(y_hat.numpy().tobytes()).hexdigest() == entry["y_hat_sha256"]
    decoded = np.asarray(taco.decompress(data), dtype=int)  # the file names its model
    stored = np.asarray(Image.open(DATA / entry["decoded"]), dtype=int)
    assert decoded.shape == stored.shape == (64, 96, 3)
    assert np.abs(decoded - stored).max() <= 1


def _crop() -> Image.Image:
    return Image.open(SAMPLE).convert("RGB").crop((100, 80, 196, 144))


@pytest.mark.parametrize("name", ["elic-small-q3", "elic-small-q4"])
def test_builtin_elic_encodes_the_same_bytes(name):
    assert taco.compress(_crop(), None, taco.load(name)) == (DATA / f"{name}.taco").read_bytes()


@pytest.mark.parametrize("name", ["taco-minilm-small-q3", "taco-minilm-small-q4"])
def test_builtin_taco_encodes_the_same_bytes(name):
    caption = GOLDEN["files"][name]["caption"]
    assert taco.compress(_crop(), caption, taco.load(name)) == (DATA / f"{name}.taco").read_bytes()
