"""``taco info``: every header field, the padding and the checksum included, in text and JSON;
it checks the header and the CRC, not the stream."""

from __future__ import annotations

import json
import zlib

from taco.bitstream import TacoHeader, pack, unpack
from taco.cli import main

HEADER = TacoHeader("elic-small-q4", bytes(range(8)), 300, 451, "L", quality=0)


def test_info_shows_padding_and_checksum(tmp_path, capsys):
    path = tmp_path / "x.taco"
    data = pack(HEADER, b"\x01" * 40)
    path.write_bytes(data)
    crc = f"{unpack(data).crc32:08x}"
    assert crc == data[20:24].hex()  # after 4 + 1 + 1 + 1 + 8 + 2 + 2 + 1 bytes, big endian
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["padding"], info["crc32"], info["original_mode"]) == (1, crc, "L")
    assert main(["info", str(path)]) == 0
    lines = {k.strip(): v.strip() for k, v in
             (line.split(":", 1) for line in capsys.readouterr().out.splitlines())}
    assert lines["padding"] == "1 (edges replicated to a multiple of 64)"
    assert lines["crc32"] == crc


def test_info_does_not_read_the_stream(tmp_path, capsys):
    """A stream that cannot decode, behind a valid CRC: info shows the header all the same."""
    head = pack(HEADER, b"")[:-4]
    junk = b"not a rANS stream"
    path = tmp_path / "junk.taco"
    path.write_bytes(head + zlib.crc32(junk, zlib.crc32(head)).to_bytes(4, "big") + junk)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["payload_bytes"] == len(junk)
