"""Words of three format messages (review FMT, session 38): a version-2 stream (no chunks) with
bytes appended or cut off behind a recomputed CRC was called "rANS chunk 1 of 1" and blamed on
appended data only; a file cut inside its magic bytes ("TAC") was "not a .taco file (wrong magic
bytes)"; ``taco info`` showed a model-code-0 file's id as a blank and an inline id's edge spaces
invisibly."""

from __future__ import annotations

import json
import re
import zlib

import pytest

import taco
from taco.bitstream import TacoFormatError, TacoHeader, info, pack, unpack
from taco.cli import main

V2 = r"the rANS stream \(\.taco format version 2, unchunked\) is not what the encoder writes"
CUT_OR_APPENDED = (r"holds bytes the decoder does not read \(data appended to the file\) or lacks "
                   r"bytes the decoder reads \(the file cut short\)")


def _resealed(head: bytes, payload: bytes) -> bytes:
    """A file of ``head`` (up to its CRC) and ``payload`` behind a recomputed CRC."""
    return head + zlib.crc32(payload, zlib.crc32(head)).to_bytes(4, "big") + payload


@pytest.fixture(scope="module")
def v3_and_v2(tiny_elic, sample_image) -> tuple[bytes, bytes]:
    """A small image's version-3 file and the version-2 file of the same stream: under 65,536
    symbols a version-3 stream is one rANS string with no length, as version 2 wrote it."""
    v3 = taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic)
    f = unpack(v3)
    head = v3[:4] + b"\x02" + v3[5:6] + v3[7 : f.header_bytes - 4]  # no quality byte
    v2 = _resealed(head, f.payload)
    assert unpack(v2).header.version == 2
    return v3, v2


def test_a_version_2_stream_with_bytes_appended_or_cut_is_not_called_a_chunk(tiny_elic, v3_and_v2):
    _, v2 = v3_and_v2
    assert taco.decompress(v2, tiny_elic).size == (64, 48)
    f = unpack(v2)
    head = v2[: f.header_bytes - 4]
    for payload in (f.payload + bytes(4), f.payload[:-4]):
        with pytest.raises(TacoFormatError, match=V2) as err:
            taco.decompress(_resealed(head, payload), tiny_elic)
        assert "rANS chunk" not in str(err.value)
        assert re.search(CUT_OR_APPENDED, str(err.value))


def test_a_version_3_chunk_cut_short_says_so(tiny_elic, v3_and_v2):
    v3, _ = v3_and_v2
    f = unpack(v3)
    head = v3[: f.header_bytes - 4]
    for payload in (f.payload + bytes(4), f.payload[:-4]):
        with pytest.raises(TacoFormatError, match=r"rANS chunk 1 of 1 is not what the encoder writes") as err:
            taco.decompress(_resealed(head, payload), tiny_elic)
        assert "(the file cut short)" in str(err.value)


@pytest.mark.parametrize("data", [b"T", b"TA", b"TAC"])
def test_a_file_cut_inside_its_magic_bytes_is_truncated(data, tmp_path, capsys):
    with pytest.raises(TacoFormatError) as err:
        info(data)
    assert str(err.value) == (f"truncated .taco file: it ends inside the magic bytes "
                              f"(needs 4 bytes, has {len(data)})")
    path = tmp_path / "cut.taco"
    path.write_bytes(data)
    assert main(["info", str(path)]) == 2
    assert capsys.readouterr().err == (f"taco info: error: {path}: truncated .taco file: it ends "
                                       f"inside the magic bytes (needs 4 bytes, has {len(data)})\n")


@pytest.mark.parametrize("data, words", [
    (b"", "not a .taco file (it is empty: 0 bytes)"),
    (b"TAX", "not a .taco file (wrong magic bytes)"),
    (b"X", "not a .taco file (wrong magic bytes)"),
    (b"TACX", "not a .taco file (wrong magic bytes)"),
    (b"TACO", "truncated .taco file: it ends inside the format version (needs 5 bytes, has 4)"),
])
def test_other_short_starts_keep_their_words(data, words):
    with pytest.raises(TacoFormatError) as err:
        info(data)
    assert str(err.value) == words


def _info(tmp_path, capsys, model_id: str) -> tuple[str, str]:
    """``taco info``'s model_id line (text) and the JSON's model_id, for a file naming ``model_id``."""
    path = tmp_path / "x.taco"
    path.write_bytes(pack(TacoHeader(model_id, bytes(range(8)), 48, 64, "RGB"), b"\x01" * 40))
    assert main(["info", str(path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("model_id:")]
    assert len(lines) == 1
    assert main(["info", str(path), "--json"]) == 0
    return lines[0].split(": ", 1)[1], json.loads(capsys.readouterr().out)["model_id"]


@pytest.mark.parametrize("model_id, shown", [
    ("", "(none: model code 0)"),
    (" a b ", "' a b '"),
    ("x ", "'x '"),
    (" ", "' '"),
    ("(none: model code 0)", "'(none: model code 0)'"),  # an inline id that reads like the words
    ("a b", "a b"),
    ("elic-small-q4", "elic-small-q4"),
    ("it's", "it's"),
])
def test_info_text_shows_an_empty_or_space_edged_model_id(tmp_path, capsys, model_id, shown):
    text, in_json = _info(tmp_path, capsys, model_id)
    assert text == shown
    assert in_json == model_id  # --json gives the header's id as it is
