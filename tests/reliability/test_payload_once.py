"""The decoder holds a file's payload once: views of it, not copies, from the container to the
rANS chunks, and none of it during the synthesis when it read the file itself.

A file at the decoder's cap may carry ~92 MiB of chunks within their bound (226 of 426 KB for
the built-in models at 38 MP), and copies of it are held on top of the synthesis' peak: a 74.5 MiB
file that decodes peaked at 2,035 MiB with two (the file and ``load_taco``'s payload), 1,881 MiB
with one (docs/reliability.md).
"""

from __future__ import annotations

import sys

import pytest

import taco
from taco import codec
from taco.bitstream import TacoFormatError, TacoHeader, load_taco, pack, unpack
from taco.bitstream.container import load_payload
from taco.bitstream.rans import CHUNK_SYMBOLS, join_stream, split_stream
from taco.models import fast_codec

STATE = (1 << 40).to_bytes(8, sys.byteorder)  # a valid initial rANS state
HEADER = TacoHeader("elic-tiny", bytes(8), 300, 200, "RGB")


def test_load_payload_views_the_bytes_given_and_checks_as_load_taco_does(tmp_path):
    data = pack(HEADER, STATE + bytes(100))
    header, payload = load_payload(data)
    assert payload.obj is data and payload.readonly  # no copy
    assert header == unpack(data).header and bytes(payload) == unpack(data).payload
    path = tmp_path / "x.taco"
    path.write_bytes(data)
    header, payload = load_payload(path)
    assert header == unpack(data).header and bytes(payload) == unpack(data).payload
    for given in (data, path):  # the same refusals, with the same words
        with pytest.raises(TacoFormatError) as ours:
            load_payload(given, max_pixels=1000)
        with pytest.raises(TacoFormatError) as theirs:
            load_taco(given, max_pixels=1000)
        assert str(ours.value) == str(theirs.value)


def test_split_stream_cuts_views_of_the_stream_it_is_given():
    stream = join_stream([STATE + bytes(40), STATE + bytes(40)])
    view = memoryview(stream)[0:]
    chunks = split_stream(view, CHUNK_SYMBOLS + 8)
    assert [bytes(c) for c in chunks] == [STATE + bytes(40)] * 2
    assert all(c.obj is stream for c in chunks)  # was a copy of the whole stream


def test_the_decoder_holds_the_payload_once(monkeypatch, tmp_path, sample_image, tiny_elic):
    """Bytes given are decoded from where they are; a file read from its path is held by nothing
    of the decoder's once the synthesis starts."""
    data = taco.compress(sample_image.crop((0, 0, 128, 64)), None, tiny_elic)
    path = tmp_path / "x.taco"
    path.write_bytes(data)
    seen: list = []
    decompress_latent, synthesize = fast_codec.decompress_latent, codec.synthesize

    def watched_decoding(c, strings, shape):
        seen.append(strings[0][0])
        return decompress_latent(c, strings, shape)

    def watched_synthesis(*args, **kwargs):
        # the list and getrefcount's argument: no one else holds the payload's view
        seen.append(sys.getrefcount(seen[-1]))
        return synthesize(*args, **kwargs)

    monkeypatch.setattr(fast_codec, "decompress_latent", watched_decoding)
    monkeypatch.setattr(codec, "synthesize", watched_synthesis)
    expected = taco.decompress(data, tiny_elic)
    assert isinstance(seen[0], memoryview) and seen[0].obj is data
    seen.clear()
    assert taco.decompress(path, tiny_elic).tobytes() == expected.tobytes()
    assert isinstance(seen[0], memoryview) and bytes(seen[0]) == unpack(data).payload
    assert seen[1] == 2
