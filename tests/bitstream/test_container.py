"""The .taco container: round trip and every malformed-input case -> TacoFormatError."""

from __future__ import annotations

import zlib

import pytest

from taco.bitstream import (
    FORMAT_VERSION,
    MAGIC,
    MAX_SIDE,
    TacoFormatError,
    TacoHeader,
    pack,
    unpack,
)
from taco.bitstream.container import _varint

HEADER = TacoHeader(model_id="taco-tiny", fingerprint=bytes(range(8)), height=300, width=451, mode="RGB")
STRINGS = [b"abc", b"", b"\x00\xff" * 40, b"z" * 300]


def test_round_trip():
    data = pack(HEADER, STRINGS)
    f = unpack(data)
    assert f.header == HEADER
    assert f.strings == STRINGS
    assert data.startswith(MAGIC)
    assert f.header_bytes + f.payload_bytes == len(data)


def test_header_is_small():
    f = unpack(pack(HEADER, STRINGS))
    # magic 4 + version 1 + id 1+9 + fingerprint 8 + sizes 4 + mode/pad/n 3 + lengths 1+1+1+2 + crc 4
    assert f.header_bytes == 39


def test_typed_error_is_a_value_error():
    assert issubclass(TacoFormatError, ValueError)


@pytest.mark.parametrize("data,match", [
    (b"", "wrong magic"),
    (b"PNG\x89rest", "wrong magic"),
    (b"TACO", "truncated"),
    (MAGIC + bytes([FORMAT_VERSION + 1]), "unsupported .taco format version"),
])
def test_bad_starts(data, match):
    with pytest.raises(TacoFormatError, match=match):
        unpack(data)


def test_truncated_at_every_offset():
    data = pack(HEADER, STRINGS)
    for n in range(len(data)):
        with pytest.raises(TacoFormatError):
            unpack(data[:n])


def test_trailing_garbage():
    with pytest.raises(TacoFormatError, match="payload bytes"):
        unpack(pack(HEADER, STRINGS) + b"x")


def test_every_single_bit_flip_is_detected():
    data = bytearray(pack(HEADER, STRINGS))
    undetected = []
    for i in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            try:
                f = unpack(bytes(flipped))
            except TacoFormatError:
                continue
            # the only flips that can parse are in fields with free values: the model id text,
            # the fingerprint (checked against the model at decode time), sizes and mode
            undetected.append((i, f.header))
    payload_start = unpack(bytes(data)).header_bytes
    assert all(i < payload_start for i, _ in undetected)


def test_lengths_that_do_not_add_up():
    data = bytearray(pack(HEADER, [b"abcd", b"ef"]))
    f = unpack(bytes(data))
    # first length byte sits right before the second one and the 4-byte crc
    first_len_at = f.header_bytes - 4 - 2
    data[first_len_at] = 5
    with pytest.raises(TacoFormatError, match="declares 7 payload bytes"):
        unpack(bytes(data))


def test_corrupt_payload_checksum():
    data = bytearray(pack(HEADER, STRINGS))
    data[-1] ^= 0xFF
    with pytest.raises(TacoFormatError, match="checksum"):
        unpack(bytes(data))


def _raw(height: int, width: int, mode_code: int = 0, padding: int = 1, n: int = 0) -> bytes:
    return (MAGIC + bytes([FORMAT_VERSION, 0]) + bytes(8) + _varint(height) + _varint(width)
            + bytes([mode_code, padding, n]) + zlib.crc32(b"").to_bytes(4, "big"))


def test_huge_declared_size_is_refused_before_allocation():
    with pytest.raises(TacoFormatError, match="exceeds"):
        unpack(_raw(MAX_SIDE + 1, 10))
    with pytest.raises(TacoFormatError, match="not a valid varint"):
        unpack(MAGIC + bytes([FORMAT_VERSION, 0]) + bytes(8) + b"\xff" * 6)


def test_zero_size_unknown_mode_unknown_padding():
    with pytest.raises(TacoFormatError, match="image size"):
        unpack(_raw(0, 10))
    with pytest.raises(TacoFormatError, match="mode"):
        unpack(_raw(10, 10, mode_code=200))
    with pytest.raises(TacoFormatError, match="padding"):
        unpack(_raw(10, 10, padding=9))
    assert unpack(_raw(10, 10)).strings == []


def test_non_utf8_model_id():
    data = MAGIC + bytes([FORMAT_VERSION, 2]) + b"\xff\xfe" + bytes(8) + b"\x01\x01\x00\x01\x00"
    with pytest.raises(TacoFormatError, match="UTF-8"):
        unpack(data + zlib.crc32(b"").to_bytes(4, "big"))


def test_pack_validates_its_inputs():
    with pytest.raises(ValueError):
        pack(TacoHeader("m", bytes(8), 0, 1, "RGB"), [])
    with pytest.raises(ValueError):
        pack(TacoHeader("m", bytes(7), 1, 1, "RGB"), [])
    with pytest.raises(ValueError):
        pack(TacoHeader("m", bytes(8), 1, 1, "XYZ"), [])
    with pytest.raises(TypeError):
        unpack("TACO")  # type: ignore[arg-type]
