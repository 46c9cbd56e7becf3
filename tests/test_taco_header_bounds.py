""".taco headers and sizes at their bounds (taco.bitstream.container): a model id of at most 255
bytes, a padding code that fits 3 bits, a file at most max_file_bytes long."""

from __future__ import annotations

import zlib

import pytest

import taco
from taco.bitstream import TacoFormatError
from taco.bitstream.container import TacoHeader, max_file_bytes, model_id_problem, pack
from taco.errors import TacoValueError


def test_a_model_id_of_256_bytes_is_refused():
    assert model_id_problem("a" * 255) is None
    assert model_id_problem("a" * 256) == "it is longer than 255 bytes"
    assert model_id_problem("é" * 128) == "it is longer than 255 bytes"  # 256 UTF-8 bytes
    pack(TacoHeader("a" * 255, b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)
    with pytest.raises(TacoValueError, match="longer than 255 bytes"):
        pack(TacoHeader("a" * 256, b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)


def test_a_padding_code_of_8_is_refused():
    pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB", padding=7), b"\0" * 8)
    with pytest.raises(TacoValueError, match="padding code 8 does not fit in 3 bits"):
        pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB", padding=8), b"\0" * 8)


def test_a_file_one_byte_over_the_bound_is_refused_by_its_size(tmp_path):
    good = pack(TacoHeader("taco-minilm", b"\0" * 8, 64, 64, "RGB"), b"\0" * 8)
    most = max_file_bytes(len(good) - 8, 64, 64)
    head = good[: len(good) - 8 - 4]  # the header without its CRC
    payload = b"\0" * (most + 1 - len(head) - 4)
    path = tmp_path / "long.taco"
    path.write_bytes(head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload)
    assert path.stat().st_size == most + 1
    with pytest.raises(TacoFormatError, match=rf"{most + 1:,} bytes, more than a file of a 64x64 "
                                              rf"image can have \({most:,}:"):
        taco.info(path)
