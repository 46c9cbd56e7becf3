"""The shipped built-in models still decode their golden files, to the same latents, and still
encode the same bytes.

tests/data/builtin/golden.json (written by scripts/make_goldens.py) holds, per built-in and per
quality of a variable-rate one, a .taco file of a 96x64 crop of a bundled sample, the SHA-256 of
its entropy-decoded latents and its decoded image (g_s runs in float32, so pixels may differ by
one grey level on another machine; the latents may not differ at all), and the commit that made
it. The goldens of the CompressAI-layout built-ins were made by taco at d0fdc69 (the last commit
before the reference layout), as format version 2; taco now writes version 3, whose file of this
crop is the same stream (one chunk) with a quality byte more. When a built-in leaves the
package, its goldens leave with it (the script removes them; git history keeps them).
"""

from __future__ import annotations

import functools
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
from taco.models import PRETRAINED, fast_codec
from taco.models.registry import checkpoint_config

DATA = Path(__file__).resolve().parents[1] / "data" / "builtin"
GOLDEN = json.loads((DATA / "golden.json").read_text())
ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def model(name: str) -> taco.models.ELIC:
    """A built-in, loaded once (read-only here: shared by the cases)."""
    return taco.load(name)


def crop(image: dict) -> Image.Image:
    return Image.open(ROOT / image["sample"]).convert("RGB").crop(tuple(image["box"]))


def as_version_2(data: bytes) -> bytes:
    """A one-chunk format-3 file as format 2 wrote it: the same stream, no quality byte, the CRC
    recomputed (docs/format.md)."""
    f = unpack(data)
    head = data[:4] + b"\x02" + data[5:6] + data[7 : f.header_bytes - 4]
    return head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload


def check_decodes(entry: dict) -> None:
    m = model(entry["model"])
    data = (DATA / entry["file"]).read_bytes()
    f = unpack(data)
    assert f.header.model_id == entry["model"] and f.header.quality == (entry["quality"] or 0)
    y_hat = fast_codec.decompress_latent(coding_codec(m), [[f.payload]],
                                         m.latent_shapes(64, 128, entry["quality"]))["y_hat"]
    assert hashlib.sha256(y_hat.numpy().tobytes()).hexdigest() == entry["y_hat_sha256"]
    decoded = np.asarray(taco.decompress(data), dtype=int)  # no model: the file names its built-in
    stored = np.asarray(Image.open(DATA / entry["decoded"]), dtype=int)
    assert decoded.shape == stored.shape == (64, 96, 3)
    assert np.abs(decoded - stored).max() <= 1


def check_encodes(entry: dict) -> None:
    data = taco.compress(crop(GOLDEN["image"]), entry["caption"], model(entry["model"]), quality=entry["quality"])
    stored = (DATA / entry["file"]).read_bytes()
    assert (as_version_2(data) if unpack(stored).header.version == 2 else data) == stored


def test_every_builtin_has_its_goldens():
    """scripts/make_goldens.py has been run for the built-ins the package ships."""
    made = {entry["model"]: entry["weights_sha256"] for entry in GOLDEN["files"].values()}
    assert made == {name: entry.sha256 for name, entry in PRETRAINED.items()}, (
        "the goldens are not those of the shipped built-ins: run scripts/make_goldens.py")
    for name in PRETRAINED:
        qualities = [e["quality"] for e in GOLDEN["files"].values() if e["model"] == name]
        n = len(checkpoint_config(name).qualities or [])
        assert sorted(qualities, key=lambda q: q or 0) == (list(range(1, n + 1)) or [None]), name


@pytest.mark.parametrize("key", sorted(GOLDEN["files"]))
def test_builtin_decodes_its_golden_file(key):
    entry = GOLDEN["files"][key]
    if unpack((DATA / entry["file"]).read_bytes()).header.version == 2:
        assert model(entry["model"]).config.layout == "compressai"  # made before the reference layout
    check_decodes(entry)


@pytest.mark.parametrize("key", sorted(GOLDEN["files"]))
def test_builtin_encodes_the_same_bytes(key):
    entry = GOLDEN["files"][key]
    check_encodes(entry)
