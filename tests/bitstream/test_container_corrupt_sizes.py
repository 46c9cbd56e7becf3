"""Review FS: a corrupt header is refused as corrupt before the decoder's cap looks at the size
it declares; a version-2 file of model code 0 names the model that matched; versions this taco
does not read say which kind of file they are. Files crafted as bytes here."""

from __future__ import annotations

import io
import zlib

import pytest

import taco
from taco.bitstream import TacoFormatError, TacoHeader, pack, summarize, unpack
from taco.bitstream.container import read_taco_stream
from taco.cli import main
from taco.models import model_fingerprint

#: elic-tiny (code 15), 4000x3000 RGB: the height 3000 is the varint b"\xb8\x17" at offset 16.
GOOD = pack(TacoHeader("elic-tiny", bytes(8), 3000, 4000, "RGB"), b"payload bytes")
HEIGHT_AT = 4 + 1 + 1 + 1 + 8


def flipped() -> bytes:
    """GOOD with one bit of its height flipped: 3000 -> 11192 (4000x11192 is over the cap)."""
    data = bytearray(GOOD)
    assert data[HEIGHT_AT:HEIGHT_AT + 2] == b"\xb8\x17"
    data[HEIGHT_AT + 1] ^= 0x40
    return bytes(data)


@pytest.mark.parametrize("given", ["bytes", "path", "file"])
def test_a_bit_flipped_in_the_height_is_corrupt_not_too_large(tmp_path, given):
    """Refused as corrupt before the default cap (38 M pixels) looks at 4000x11192."""
    path = tmp_path / "x.taco"
    path.write_bytes(flipped())
    with path.open("rb") as f:
        with pytest.raises(TacoFormatError, match="checksum mismatch"):
            taco.decompress({"bytes": flipped(), "path": path, "file": f}[given])
    with path.open("rb") as f:
        with pytest.raises(TacoFormatError, match="checksum mismatch"):
            summarize({"bytes": flipped(), "path": path, "file": f}[given], max_pixels=38_000_000)


def test_read_taco_stream_checks_a_regular_files_checksum_before_the_cap(tmp_path):
    """What ``taco decompress`` reads a path with."""
    path = tmp_path / "x.taco"
    path.write_bytes(flipped())
    with path.open("rb") as f, pytest.raises(TacoFormatError, match="checksum mismatch"):
        read_taco_stream(f, max_pixels=38_000_000, no_cap="--max-pixels 0")


def test_taco_decompress_says_checksum_mismatch(tmp_path, capsys):
    path = tmp_path / "x.taco"
    path.write_bytes(flipped())
    assert main(["decompress", str(path), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and "cap" not in err, err


def test_a_pipe_is_refused_by_the_cap_from_its_header():
    """A stream without a size is not drained to check its checksum: the cap speaks first."""
    assert unpack(GOOD).header.height == 3000
    with pytest.raises(TacoFormatError, match="declares a 4000x11192 image .* over the decoder's cap"):
        read_taco_stream(io.BytesIO(flipped()), max_pixels=38_000_000, no_cap="--max-pixels 0")


def test_a_version_2_file_of_model_code_0_names_the_model(tiny_elic):
    side = 64 * 46  # elic-tiny: over MAX_UNCHUNKED_SYMBOLS in one string
    v3 = pack(TacoHeader("", model_fingerprint(tiny_elic), side, side, "RGB"), (1 << 40).to_bytes(8, "little"))
    f = unpack(v3)
    assert v3[5] == 0  # model code 0: no model id
    head = v3[:4] + b"\x02" + v3[5:6] + v3[7 : f.header_bytes - 4]  # no quality byte
    v2 = head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload
    with pytest.raises(TacoFormatError, match="re-encode the original image with model 'elic-tiny' "):
        taco.decompress(v2, tiny_elic)


def test_versions_this_taco_does_not_read():
    with pytest.raises(TacoFormatError, match=r"^unsupported .taco format version 4: a file from a newer "
                                              r"or forked taco; this taco reads versions 2, 3$"):
        unpack(GOOD[:4] + b"\x04" + GOOD[5:])
    with pytest.raises(TacoFormatError, match=r"format version 1 \(an unreleased development version of "
                                              r"taco\), which this taco does not read") as e:
        unpack(GOOD[:4] + b"\x01" + GOOD[5:])
    assert "0.1.0" not in str(e.value)
