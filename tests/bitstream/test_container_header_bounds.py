"""Header fields at the edge of what the container takes: a side of 0 px (either one) and the
first mode code past the table are refused; the last mode code in the table is read. Review A:
mutants that let a width of 0 through, or read mode code len(MODES), passed the container tests."""

from __future__ import annotations

import zlib

import pytest

import taco
from taco.bitstream import FORMAT_VERSION, MAGIC, TacoFormatError, unpack
from taco.bitstream.container import MODES, varint


def _raw(height: int, width: int, mode_code: int = 0) -> bytes:
    """A header of the built-in-code-0 model with a valid CRC and an empty payload."""
    head = (MAGIC + bytes([FORMAT_VERSION, 0, 0]) + bytes(8) + varint(height) + varint(width)
            + bytes([mode_code | 1 << 5]))
    return head + zlib.crc32(head).to_bytes(4, "big")


@pytest.mark.parametrize(("height", "width"), [(10, 0), (0, 10), (0, 0)])
def test_a_side_of_zero_pixels_is_refused(height, width):
    for read in (unpack, taco.info):
        with pytest.raises(TacoFormatError, match=f"^corrupt .taco file: image size {height}x{width}$"):
            read(_raw(height, width))


def test_the_first_mode_code_past_the_table_is_refused():
    code = len(MODES)
    for read in (unpack, taco.info):
        with pytest.raises(TacoFormatError, match=f"^unknown image mode code {code}: "):
            read(_raw(10, 10, mode_code=code))
    last = unpack(_raw(10, 10, mode_code=code - 1)).header
    assert (last.mode, last.height, last.width) == (MODES[-1], 10, 10)
