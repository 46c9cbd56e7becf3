"""``taco info`` and ``taco decompress`` on a .taco file declaring a huge image: the checksum is
computed piece by piece (``taco info`` keeps none of the file) and the decoder's cap refuses the
file from its header, before the rest is read (both read the whole file, and copied it, first)."""

from __future__ import annotations

import io
import os
import sys
import tracemalloc
import zlib

from taco.bitstream.container import varint
from taco.cli import main
from taco.memory import MAX_DECODE_PIXELS

MiB = 1 << 20
HEAD = b"TACO\x03\x0f\x00" + bytes(8) + varint(32768) + varint(32768) + b"\x20"


def huge(tmp_path, size: int):  # noqa: ANN001, ANN201
    """A sparse file of ``size`` bytes whose header declares 32768x32768 (its CRC: the header's)."""
    path = tmp_path / "huge.taco"
    path.write_bytes(HEAD + zlib.crc32(HEAD).to_bytes(4, "big"))
    os.truncate(path, size)
    return path


def peak(argv: list[str]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        status = main(argv)
        return status, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_taco_info_keeps_none_of_the_file(tmp_path, capsys):
    path = huge(tmp_path, 128 * MiB)
    status, most = peak(["info", str(path)])
    assert status == 2 and "checksum mismatch" in capsys.readouterr().err
    assert most < 8 * MiB


def test_taco_decompress_refuses_from_the_header(tmp_path, capsys, monkeypatch):
    path = huge(tmp_path, 128 * MiB)
    status, most = peak(["decompress", str(path), "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert status == 2 and f"over the decoder's cap of {MAX_DECODE_PIXELS:,}" in err
    assert err.rstrip().endswith("pass --max-pixels 0 to decode it anyway"), err
    assert most < 8 * MiB
    with path.open("rb") as f:  # standard input: its header only
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(f))
        status, most = peak(["decompress", "-", "-o", str(tmp_path / "x.png")])
        assert f.tell() < 64 * 1024
    assert status == 2 and "over the decoder's cap" in capsys.readouterr().err
    assert most < 8 * MiB
