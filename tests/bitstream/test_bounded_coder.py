"""BoundedRansCoder: CompressAI's own entropy-model methods on taco's coding codec (what
``taco bench`` times as the CompressAI path) decode valid strings as before and refuse the
strings that crashed CompressAI's C++ decoder, instead of reading past their end."""

from __future__ import annotations

import pytest
import torch
from compressai.entropy_models import EntropyModel

from taco.bitstream import TacoFormatError
from taco.bitstream.rans import BoundedRansCoder, guard_entropy_coders
from taco.codec import coding_codec
from taco.models import create_model


@pytest.fixture(scope="module")
def coded():
    """The coding codec of a CompressAI-layout ELIC and CompressAI's 11 strings for a latent."""
    model = create_model("elic-tiny", seed=0, layout="compressai")
    codec = coding_codec(model)
    y = torch.randn(1, model.M, 8, 12, generator=torch.Generator().manual_seed(0)) * 4
    with torch.no_grad():
        return codec, codec.compress(y)


def test_the_coding_codec_is_guarded_once(coded):
    codec, _ = coded
    ems = [m for m in codec.modules() if isinstance(m, EntropyModel)]
    assert ems and all(isinstance(m.entropy_coder, BoundedRansCoder) for m in ems)
    coders = [m.entropy_coder for m in ems]
    guard_entropy_coders(codec)  # again: no coder wrapped twice
    assert all(m.entropy_coder is c for m, c in zip(ems, coders, strict=True))


def test_valid_strings_decode_as_compressai_decodes_them(coded):
    codec, ref = coded
    with torch.no_grad():
        assert torch.equal(codec.decompress(ref["strings"], ref["shape"])["y_hat"], ref["y_hat"])


@pytest.mark.parametrize("string", [b"", b"\x00" * 3, b"\x00" * 8, b"\xff" * 9])
def test_strings_that_crashed_the_decoder_are_refused(coded, string):
    """Empty, short, not a multiple of 4, an initial state below 2^31: TacoFormatError (the
    guard is asserted first: unguarded, these read past the buffer)."""
    codec, ref = coded
    assert all(isinstance(m.entropy_coder, BoundedRansCoder)
               for m in codec.modules() if isinstance(m, EntropyModel))
    strings = [list(s) for s in ref["strings"]]
    strings[0][0] = string  # z's string
    with pytest.raises(TacoFormatError, match="corrupt .taco file"), torch.no_grad():
        codec.decompress(strings, ref["shape"])
