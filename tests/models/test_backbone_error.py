"""A backbone plugin that breaks taco's contract raises taco.BackboneError (review F2): a
TacoError, so ``taco compress -m PLUGIN`` says it in one line rather than a traceback, and a
TypeError, so library code that caught the TypeError still does. taco's own argument-type checks
(a caption that is no str) stay plain TypeErrors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torch import nn

import taco
from taco.cli import main
from taco.errors import BackboneError, TacoError
from taco.models import register_architecture


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def test_backbone_error_is_a_taco_error_and_a_type_error():
    assert taco.BackboneError is BackboneError
    assert issubclass(BackboneError, TacoError) and issubclass(BackboneError, TypeError)


def test_a_g_a_of_other_channels_than_m_is_one_cli_line(example, tmp_path, capsys):
    class WideGa(example.MeanScaleHyperprior):
        def __init__(self, N: int = 16, M: int = 24) -> None:
            super().__init__(N, M)
            self.g_a = nn.Sequential(self.g_a, nn.Conv2d(M, M + 8, 1))  # M + 8 channels

    register_architecture("wide-ga", WideGa, configs={"wide-ga-t": {"N": 16, "M": 24}})
    image = tmp_path / "x.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(image)
    out = tmp_path / "x.taco"
    assert main(["compress", str(image), "-m", "wide-ga-t", "-o", str(out)]) == 2
    lines = capsys.readouterr().err.splitlines()  # a note on the untrained weights, then it
    errors = [line for line in lines if line.startswith("taco compress: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert errors[0].startswith("taco compress: error: WideGa's g_a gives y 32 channels, but its M")
    assert not any("Traceback" in line for line in lines)
    assert not out.exists()


def test_contract_checks_raise_backbone_error(example):
    def forgot_return(config):
        pass

    register_architecture("no-return-b", forgot_return, configs={"no-return-b-t": {"N": 8, "M": 8}})
    with pytest.raises(BackboneError, match=r"forgot_return\) returned None"):
        taco.create_model("no-return-b-t")
    with pytest.raises(BackboneError, match=r"build must be a model class or a function"):
        register_architecture("five-b", 5)  # type: ignore[arg-type]
    with pytest.raises(BackboneError, match=r"is not a subclass of taco.models.ELIC"):
        register_architecture("not-elic-b", nn.Module)  # type: ignore[arg-type]


def test_argument_type_checks_stay_plain_type_errors(example):
    model = example.MeanScaleHyperprior(16, 24)
    with pytest.raises(TypeError) as refused:
        taco.compress(np.zeros((64, 64, 3), np.uint8), 5, model)  # type: ignore[arg-type]
    assert not isinstance(refused.value, TacoError)
