"""The words of the refusals about a version-2 ``.taco`` file's symbols (one rANS string for the
whole image), each pinned whole: the cap on one string's symbols, as ``taco.decompress`` and
``taco decompress`` say it (re-encode the original image) and as the stream decoder says it, and
a string that decodes to a symbol beyond what the encoder writes."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import pytest
import torch
from compressai import ans
from compressai.entropy_models import GaussianConditional

import taco
from taco.bitstream import FORMAT_VERSION, TacoFormatError, TacoHeader, pack, rans, unpack
from taco.bitstream.rans import (
    MAX_UNCHUNKED_SYMBOLS,
    StreamDecoder,
    UnchunkedStream,
    rans_overread_bound,
)
from taco.cli import main
from taco.codec import coding_codec
from taco.models import model_fingerprint


def _as_version_2(v3: bytes) -> bytes:
    """The version-2 file of a version-3 file's header and payload (no quality byte, the CRC
    recomputed)."""
    f = unpack(v3)
    head = v3[:4] + b"\x02" + v3[5:6] + v3[7 : f.header_bytes - 4]
    v2 = head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload
    assert unpack(v2).header.version == 2
    return v2


@pytest.fixture(scope="module")
def too_long_v2(tiny_elic) -> bytes:  # noqa: ANN001
    """A version-2 file of a 2944x2944 image: 1,117,248 elic-tiny symbols, over the cap."""
    side = 64 * 46
    header = TacoHeader("elic-tiny", model_fingerprint(tiny_elic), side, side, "RGB")
    return _as_version_2(pack(header, (1 << 40).to_bytes(8, "little")))


CAP = ("this .taco file has format version 2 (one rANS string), which this taco decodes up to "
       "1,048,576 coded symbols; its 2944x2944 image has 1,117,248: re-encode the original image "
       "with model 'elic-tiny' (this taco writes version 3)")


def test_the_cap_on_one_string_says_to_re_encode(tiny_elic, too_long_v2) -> None:  # noqa: ANN001
    assert MAX_UNCHUNKED_SYMBOLS == 1 << 20 and FORMAT_VERSION == 3
    with pytest.raises(TacoFormatError) as e:
        taco.decompress(too_long_v2, tiny_elic)
    assert str(e.value) == CAP


def test_taco_decompress_says_the_same(too_long_v2, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    src = tmp_path / "old.taco"
    src.write_bytes(too_long_v2)
    out = tmp_path / "old.png"
    assert main(["decompress", str(src), "-o", str(out)]) == 2  # elic-tiny: its seed-0 weights made it
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"taco decompress: error: {src}: {CAP}", err  # after the seed-0 note
    assert not out.exists()


@pytest.fixture(scope="module")
def gc(tiny_elic) -> GaussianConditional:  # noqa: ANN001
    return next(m for m in coding_codec(tiny_elic).modules() if isinstance(m, GaussianConditional))


def test_the_stream_decoder_names_the_cap_and_the_padding_it_would_take() -> None:
    string = (1 << 40).to_bytes(8, sys.byteorder)
    n = MAX_UNCHUNKED_SYMBOLS + 1
    with pytest.raises(TacoFormatError) as e:
        StreamDecoder([UnchunkedStream(string)], n)
    mib = rans_overread_bound(n, len(string)) / 2**20
    assert 100 < mib < 1000  # some hundred MiB: worth naming
    assert str(e.value) == (f"an unchunked rANS stream (.taco format version 2) of 1,048,577 symbols "
                            f"needs {mib:,.0f} MiB of guard padding to decode safely; taco decodes at "
                            "most 1,048,576 symbols in one string")


@pytest.mark.parametrize("beyond", [rans.MAX_SYMBOL + 1, -(rans.MAX_SYMBOL + 1)])
def test_a_version_2_string_decoding_beyond_the_symbol_range_is_named_as_such(gc, beyond) -> None:  # noqa: ANN001
    """Named as the one string a version-2 payload is (not "rANS chunk 1 of 1"), with both
    causes: a corrupt file, or a model computing other tables here than where it was made."""
    t = rans.coder_tables(gc)
    enc = ans.BufferedRansEncoder()
    enc.encode_with_indexes([beyond] + [0] * 9, [0] * 10, t.cdfs, t.lengths, t.offsets)
    dec = StreamDecoder([UnchunkedStream(enc.flush())], 10)
    with pytest.raises(TacoFormatError) as e:
        dec.decode(gc, torch.zeros(1, 10, dtype=torch.int32))
    assert rans.MAX_SYMBOL == 1 << 24
    assert str(e.value) == ("corrupt .taco file: the rANS stream (.taco format version 2, unchunked) "
                            "decodes to a symbol beyond what the encoder writes (±16,777,216), or "
                            "the model computes other tables here than where the file was made")
