"""Review M3: a decoder refuses ``[[]]`` (one kind of stream but no image) as it refuses ``[]``,
in check_streams and in both layouts' decompress."""

from __future__ import annotations

import pytest
import torch

from taco.models import create_model, fast_codec
from taco.models.entropy import check_streams


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
