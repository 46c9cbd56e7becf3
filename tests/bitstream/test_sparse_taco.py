"""A ``.taco`` file declaring a huge image is read within what its header allows and what the
caller caps: the decoder's cap is checked on the header before the payload is read, the payload
is read into one buffer (no copy of the whole file, none of the payload), and
:func:`taco.bitstream.summarize` (``taco info``) keeps none of it. The files are sparse
(``os.truncate``): hundreds of MB that take no disk."""

from __future__ import annotations

import io
import os
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest

import taco
from taco.bitstream import TacoFormatError, TacoSummary, info, load_taco, summarize
from taco.bitstream.container import (
    CHECKSUM_FIRST_BYTES,
    MAX_HEADER_BYTES,
    read_taco_stream,
    varint,
)
from taco.memory import MAX_DECODE_PIXELS

MiB = 1 << 20
#: A 32768x32768 RGB header of elic-tiny (code 15): over the decoder's default cap, under the
#: format's 8 GiB bound for its size.
HEAD = b"TACO\x03\x0f\x00" + bytes(8) + varint(32768) + varint(32768) + b"\x20"
HEADER_BYTES = len(HEAD) + 4  # and the CRC: 26


def huge_file(size: int, crc_of_zeros: bool = False) -> bytes:
    """The header of a 32768x32768 file of ``size`` bytes (the rest zeros), its CRC right when
    ``crc_of_zeros`` (computed piece by piece), else that of the header alone."""
    crc = zlib.crc32(HEAD)
    if crc_of_zeros:
        zeros, left = bytes(MiB), size - HEADER_BYTES
        while left:
            crc = zlib.crc32(zeros[:min(left, MiB)], crc)
            left -= min(left, MiB)
    return HEAD + crc.to_bytes(4, "big")


def sparse(tmp_path: Any, size: int, crc_of_zeros: bool = False) -> Any:
    path = tmp_path / "huge.taco"
    path.write_bytes(huge_file(size, crc_of_zeros))
    os.truncate(path, size)
    return path


class Zeros(io.RawIOBase):
    """A pipe's stream (no ``fileno``: its size unknown) of ``head`` then zeros, ``size`` bytes in
    all, that counts the bytes it gives."""

    def __init__(self, head: bytes, size: int) -> None:
        self.head, self.size, self.given = head, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.given)
        view = memoryview(buffer).cast("B")
        for i in range(n):  # the header's bytes, then zeros
            if self.given + i >= len(self.head):
                view[i:n] = bytes(n - i)
                break
            view[i] = self.head[self.given + i]
        self.given += n
        return n


def peak_bytes(call: Callable[[], Any]) -> int:
    """The most Python memory ``call()`` held at once (tracemalloc), whatever it raised."""
    tracemalloc.start()
    try:
        try:
            call()
        except TacoFormatError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_cap_refuses_a_huge_sparse_file_before_reading_it(tmp_path):
    """256 MiB declaring 32768x32768: refused by the default cap from its first bytes (it was read
    whole, and its payload copied, before the cap was looked at: 2x the file)."""
    path = sparse(tmp_path, 256 * MiB)
    with pytest.raises(TacoFormatError, match="declares a 32768x32768 image .* over the decoder's cap"):
        taco.decompress(path)
    assert peak_bytes(lambda: taco.decompress(path)) < MiB
    assert peak_bytes(lambda: load_taco(path, max_pixels=64_000_000)) < MiB


def test_the_cap_refuses_a_stream_after_its_header():
    """Over a pipe (no size to stat) the decoder reads the header only: no more than
    MAX_HEADER_BYTES of 256 MiB of zeros (it read them all)."""
    stream = Zeros(huge_file(0), 256 * MiB)
    with pytest.raises(TacoFormatError, match=f"over the decoder's cap of {MAX_DECODE_PIXELS:,}"):
        taco.decompress(stream)
    assert stream.given <= MAX_HEADER_BYTES
    stream = Zeros(huge_file(0), 256 * MiB)
    with pytest.raises(TacoFormatError, match="over the decoder's cap of 100;"):
        read_taco_stream(stream, max_pixels=100, no_cap="--max-pixels 0")
    assert stream.given <= MAX_HEADER_BYTES


def test_summarize_reads_the_checksum_piece_by_piece(tmp_path):
    """A valid 64 MiB file declaring 32768x32768 (no cap: ``taco info``): its checksum is checked
    with a few MiB held, and so is a wrong one."""
    size = 64 * MiB
    path = sparse(tmp_path, size, crc_of_zeros=True)
    got = summarize(path)
    assert isinstance(got, TacoSummary)
    assert (got.header.width, got.header.height, got.header.model_id) == (32768, 32768, "elic-tiny")
    assert (got.total_bytes, got.header_bytes, got.payload_bytes) == (size, HEADER_BYTES, size - HEADER_BYTES)
    assert got.crc32 == int.from_bytes(huge_file(size, crc_of_zeros=True)[-4:], "big")
    assert got.bpp == 8 * size / 32768**2
    assert peak_bytes(lambda: summarize(path)) < 8 * MiB
    with path.open("rb") as f:
        assert summarize(f) == got
    stream = Zeros(huge_file(size, crc_of_zeros=True), size)
    assert summarize(stream) == got and stream.given == size
    wrong = sparse(tmp_path, size)
    with pytest.raises(TacoFormatError, match="checksum mismatch"):
        summarize(wrong)
    assert peak_bytes(lambda: summarize(wrong)) < 8 * MiB
    assert size <= CHECKSUM_FIRST_BYTES  # so its checksum is checked before the cap
    with pytest.raises(TacoFormatError, match="checksum mismatch"):
        summarize(wrong, max_pixels=64_000_000)
    (tmp_path / "valid").mkdir()
    with pytest.raises(TacoFormatError, match="over the decoder's cap"):
        summarize(sparse(tmp_path / "valid", size, crc_of_zeros=True), max_pixels=64_000_000)


def test_the_payload_is_read_into_one_buffer(tmp_path):
    """``info`` of a 64 MiB file holds its payload once (it held the file and a copy of the
    payload: twice its size), and ``read_taco_stream`` the file once (the header's bytes and
    the rest were joined: a copy)."""
    size = 64 * MiB
    path = sparse(tmp_path, size, crc_of_zeros=True)
    f = info(path)
    assert f.payload_bytes == size - HEADER_BYTES and not any(f.payload[::4096])
    assert summarize(path) == TacoSummary(f.header, f.header_bytes, f.payload_bytes, f.crc32)
    del f
    assert peak_bytes(lambda: info(path)) < 1.3 * size
    assert peak_bytes(lambda: info(Zeros(huge_file(size, crc_of_zeros=True), size))) < 1.3 * size
    with path.open("rb") as stream:
        assert peak_bytes(lambda: read_taco_stream(stream)) < 1.3 * size


def test_a_file_over_the_checksum_first_length_is_refused_by_the_cap_unread(tmp_path):
    """A corrupt file longer than CHECKSUM_FIRST_BYTES declaring an image over the cap: refused
    from its header (a hostile 8 GiB file is not read through for a better message); one byte
    shorter, its checksum is read first and it is called corrupt."""
    over = sparse(tmp_path, CHECKSUM_FIRST_BYTES + 1)
    with pytest.raises(TacoFormatError, match="over the decoder's cap"):
        taco.decompress(over)
    at = tmp_path / "at"
    at.mkdir()
    with pytest.raises(TacoFormatError, match="checksum mismatch"):
        taco.decompress(sparse(at, CHECKSUM_FIRST_BYTES))
