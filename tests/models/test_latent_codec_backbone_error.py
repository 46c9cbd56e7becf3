"""A plugin's latent codec taco cannot code (fast_codec.check_latent_codec, run by build_model)
raised a plain TypeError, so ``taco compress -m PLUGIN`` printed a traceback: it is a
taco.BackboneError (a TacoError and a TypeError), said in one line, as the other contract
checks of review F2 are."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torch import nn

from taco.cli import main
from taco.errors import BackboneError
from taco.models import register_architecture
from taco.models.fast_codec import check_latent_codec


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def test_each_latent_codec_refusal_is_a_backbone_error(example):
    model = example.MeanScaleHyperprior(N=8, M=8)
    check_latent_codec(model)

    class NoForward(nn.Module):
        one_stream = True
        compress, decompress = example.MeanScaleCodec.compress, example.MeanScaleCodec.decompress
        num_symbols, gain_vectors = example.MeanScaleCodec.num_symbols, example.MeanScaleCodec.gain_vectors

    for codec, said in ((nn.Identity(), "which taco cannot code"), (NoForward(), "has no forward")):
        model.latent_codec = codec
        with pytest.raises(BackboneError, match=said):
            check_latent_codec(model)
    del model.latent_codec
    with pytest.raises(BackboneError, match="has no latent_codec module"):
        check_latent_codec(model)


def test_a_codec_taco_cannot_code_is_one_cli_line(example, tmp_path, capsys):
    class OwnCodec(example.MeanScaleHyperprior):
        def __init__(self, N: int = 8, M: int = 8) -> None:
            super().__init__(N, M)
            self.latent_codec = nn.Identity()

    register_architecture("own-codec", OwnCodec, configs={"own-codec-t": {"N": 8, "M": 8}})
    image = tmp_path / "x.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(image)
    out = tmp_path / "x.taco"
    assert main(["compress", str(image), "-m", "own-codec-t", "-o", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("taco compress: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert "OwnCodec.latent_codec is a Identity, which taco cannot code" in errors[0]
    assert not out.exists()
