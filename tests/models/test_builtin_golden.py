"""The shipped built-in models (CompressAI layout) still decode the files made before the
reference layout, to the same latents, and still encode the same bytes.

tests/data/builtin holds a .taco file per built-in model, made by taco at d0fdc69 (the last
commit before the reference layout) from a 96x64 crop of a bundled sample, with the SHA-256 of
the entropy-decoded latents and the decoded image (g_s runs in float32, so pixels may differ by
one grey level on another machine; the latents may not differ at all). The files are format
version 2; taco now writes version 3, whose file of this crop is the same stream (one chunk) with
a quality byte more.
"""

from __future__ import annotations

import hashlib
import json
import zlib
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


def as_version_2(data: bytes) -> bytes:
    """A one-chunk format-3 file as format 2 wrote it (the golden files are version 2): the
    same stream, no quality byte, the CRC recomputed (docs/format.md)."""
    f = unpack(data)
    head = data[:4] + b"\x02" + data[5:6] + data[7 : f.header_bytes - 4]
    return head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload


@pytest.mark.parametrize("name", ["elic-small-q3", "elic-small-q4"])
def test_builtin_elic_encodes_the_same_bytes(name):
    data = taco.compress(_crop(), None, taco.load(name))
    assert as_version_2(data) == (DATA / f"{name}.taco").read_bytes()


@pytest.mark.parametrize("name", ["taco-minilm-small-q3", "taco-minilm-small-q4"])
def test_builtin_taco_encodes_the_same_bytes(name):
    caption = GOLDEN["files"][name]["caption"]
    data = taco.compress(_crop(), caption, taco.load(name))
    assert as_version_2(data) == (DATA / f"{name}.taco").read_bytes()
