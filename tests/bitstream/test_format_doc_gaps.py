"""What docs/format.md says beyond its tables holds for this taco: the CRC's parameters, the
Unicode version behind a printable model id."""

from __future__ import annotations

import re
import sys
import unicodedata
import zlib
from pathlib import Path

import pytest

FORMAT_MD = Path(__file__).resolve().parents[2] / "docs" / "format.md"


def doc() -> str:
    return " ".join(FORMAT_MD.read_text(encoding="utf-8").split())


def test_the_doc_gives_the_crcs_parameters():
    """A reader without zlib computes the same CRC from what the doc says."""
    text = doc()
    assert "CRC-32/ISO-HDLC" in text and "not of its own 4 bytes" in text
    poly, init = (int(re.search(rf"{w} `(0x[0-9A-F]+)`", text)[1], 16)
                  for w in ("reflected polynomial", "initial value and final XOR"))
    check = int(re.search(r"check value `(0x[0-9A-F]+)`", text)[1], 16)

    def crc(data: bytes) -> int:
        c = init
        for byte in data:
            c ^= byte
            for _ in range(8):
                c = (c >> 1) ^ (poly if c & 1 else 0)
        return c ^ init

    assert crc(b"123456789") == check == zlib.crc32(b"123456789")
    assert crc(b"TACO\x03\x0f") == zlib.crc32(b"TACO\x03\x0f")


def test_the_doc_names_this_pythons_unicode_version():
    """A printable id follows the reader's Unicode database, which the doc lists per Python."""
    version = ".".join(unicodedata.unidata_version.split(".")[:2])
    assert f"{version} in {sys.version_info.major}.{sys.version_info.minor}" in doc() or (
        f"{version} in Python {sys.version_info.major}.{sys.version_info.minor}" in doc())



def test_the_length_bound_is_the_header_plus_8_bytes_a_padded_pixel():
    """A 1x1 image (64x64 padded) allows its 22-byte header plus 32,768 bytes: the message said
    "(32,790 at 64 bits a pixel)" and the doc "64 bits a pixel of the padded image", as if the
    header were in the 64 bits."""
    from taco.bitstream import TacoFormatError, TacoHeader, pack, unpack

    data = pack(TacoHeader("taco-tiny", bytes(8), 1, 1, "RGB"), b"x" * 16)
    assert len(data) - 16 == 22
    padded = data + bytes(22 + 64 * 64 * 8 - len(data) + 1)
    with pytest.raises(TacoFormatError, match=re.escape("(32,790: the header and 64 bits a pixel)")):
        unpack(padded)
    assert "a payload longer than 8 bytes (64 bits) per pixel of the padded image, the header not counted" in doc()


@pytest.mark.parametrize(("packed", "message"), [
    (20 | 1 << 5, "unknown image mode code 20: a file from a newer or forked taco"),
    (2 << 5, "unknown padding scheme 2: a file from a newer or forked taco"),
])
def test_an_unknown_mode_or_padding_is_said_once_the_checksum_holds(packed, message):
    """Like a model code past the table, and as the doc promises: an intact file with a mode or
    padding code past this taco's was called corrupt, and a flipped bit there was called an
    unknown padding scheme instead of a checksum mismatch."""
    import taco
    from taco.bitstream import TacoFormatError, TacoHeader, pack, unpack

    data = pack(TacoHeader("taco-tiny", bytes(8), 1, 1, "RGB"), b"x" * 16)
    f = unpack(data)
    head = bytearray(data[: f.header_bytes - 4])
    head[-1] = packed  # the mode/padding byte, just before the checksum
    flipped = bytes(head) + data[f.header_bytes - 4:]
    resealed = bytes(head) + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload
    with pytest.raises(TacoFormatError, match="^corrupt or truncated .taco file: checksum mismatch"):
        unpack(flipped)
    for read in (unpack, taco.info):
        with pytest.raises(TacoFormatError) as caught:
            read(resealed)
        assert str(caught.value) == message
    assert f"`{message.replace(' 20:', ' N:').replace(' 2:', ' N:')}`" in doc()
