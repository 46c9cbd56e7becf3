"""A .taco file whose model code is past this taco's table: intact (its checksum holds), so it
is said to come from a newer or forked taco, not to be corrupt; a flipped model byte is corrupt."""

from __future__ import annotations

import zlib

import pytest
import torch

import taco
from taco.bitstream import TacoFormatError, unpack
from taco.bitstream.container import BUILTIN_MODEL_IDS, MAGIC

MODEL_BYTE = len(MAGIC) + 1  # after the magic and the version


def resealed(data: bytes, model_code: int) -> bytes:
    """``data`` with another model code and its checksum recomputed, as another taco writes it."""
    f = unpack(data)
    head = bytearray(data[: f.header_bytes - 4])
    head[MODEL_BYTE] = model_code
    return bytes(head) + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload


@pytest.fixture(scope="module")
def made() -> bytes:
    return taco.compress(torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0)), None,
                         taco.create_model("elic-tiny", seed=0))


def test_an_unknown_model_code_behind_a_valid_checksum_is_not_called_corrupt(made, tmp_path, cli):
    code = len(BUILTIN_MODEL_IDS) + 1
    newer = resealed(made, code)
    message = f"unknown built-in model code {code}: a file from a newer or forked taco"
    with pytest.raises(TacoFormatError) as caught:
        taco.info(newer)
    assert str(caught.value) == message
    path = tmp_path / "newer.taco"
    path.write_bytes(newer)
    assert cli("info", str(path)) == (2, f"taco info: error: {path}: {message}\n")


def test_an_unknown_model_code_without_its_checksum_is_corrupt(made):
    flipped = bytearray(made)
    flipped[MODEL_BYTE] = 0xFE  # a code past the table, the checksum left as it was
    with pytest.raises(TacoFormatError, match="^corrupt or truncated .taco file: checksum mismatch"):
        taco.info(bytes(flipped))
