"""Both layouts check a decoder's input with one :func:`taco.models.entropy.check_streams` and
count a stream's symbols with one :func:`~taco.models.entropy.stream_symbols`: the reference
codec's refusal now says what it got, as the CompressAI layout's always did. A decoder refuses
``[[]]`` (one kind of stream but no image) as it refuses ``[]``, in check_streams and in both
layouts' decompress."""

from __future__ import annotations

import pytest
import torch

from taco.models import create_model, fast_codec
from taco.models.entropy import check_latent_shapes, check_streams, stream_symbols


@pytest.mark.parametrize("layout", ["reference", "compressai"])
def test_both_layouts_say_what_strings_they_got(layout):
    codec = create_model("elic-tiny", layout=layout).latent_codec
    enc = fast_codec.compress_latent(codec, torch.randn(1, 32, 4, 8))
    with pytest.raises(ValueError, match=r"one rANS stream per image \(got 2\)"):
        fast_codec.decompress_latent(codec, [enc["strings"][0], enc["strings"][0]], enc["shape"])
    if layout == "reference":  # the codec's own decompress, without fast_codec in front
        with pytest.raises(ValueError, match=r"one rANS stream per image \(got 0\)"):
            codec.decompress([], enc["shape"])
    bad = {**enc["shape"], "y": [torch.Size([8, 4, 8])] * 4}
    with pytest.raises(ValueError, match="do not fit this codec"):
        fast_codec.decompress_latent(codec, enc["strings"], bad)
    eb = (codec.entropy_bottleneck if layout == "reference"
          else codec.latent_codec["hyper"].entropy_bottleneck)
    assert fast_codec.num_symbols(codec, enc["shape"]) == stream_symbols(eb, enc["shape"])


def test_check_streams_alone():
    shape = {"hyper": (1, 2), "y": [(8, 4, 8), (24, 4, 8)]}
    check_streams([[b"x"]])
    check_latent_shapes(shape, [8, 24])
    with pytest.raises(ValueError, match=r"\(got <class 'bytes'>\)"):
        check_streams(b"x")
    with pytest.raises(ValueError, match=r"\(expected \[\(8, 4, 8\), \(24, 4, 8\)\]\)"):
        check_latent_shapes({**shape, "y": [(32, 4, 8)]}, [8, 24])


@pytest.mark.parametrize("strings", [[[]], ([],), [()]])
def test_check_streams_refuses_no_image(strings):
    with pytest.raises(ValueError, match=r"expected \[\[stream per image\]\]: one rANS stream per image"):
        check_streams(strings)


@pytest.mark.parametrize("layout", ["reference", "compressai"])
def test_decompress_refuses_no_image(layout):
    codec = create_model("elic-tiny", layout=layout).latent_codec
    enc = fast_codec.compress_latent(codec, torch.randn(1, 32, 4, 8))
    with pytest.raises(ValueError, match="one rANS stream per image"):
        fast_codec.decompress_latent(codec, [[]], enc["shape"])
