"""The shapes a backbone's g_s and latent codec give, checked.

Nothing checked g_s: one up-sampling by 32 under ``latent_scale`` 16 decoded (exit status 0)
into the top-left crop of a 2x image, one by 8 failed with a RuntimeError about expanded sizes,
a 1-channel one decoded to grey. ``synthesize`` now refuses any g_s output other than
(B, 3, s x rows, s x cols) with a BackboneError naming the class and its latent_scale.

A latent codec whose compress returned CompressAI's usual ``shape`` (``z.size()[-2:]``) failed
with "TypeError: tuple indices must be integers or slices, not str", and one whose
``shape["y"]`` was one shape, not a list of them, with "'int' object is not iterable":
``check_coded_shape`` now says what it got and the form taco reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from compressai.models.utils import deconv
from PIL import Image
from torch import nn

import taco
from taco import codec
from taco.cli import main
from taco.errors import BackboneError, TacoError
from taco.models import register_architecture


def image() -> torch.Tensor:
    return torch.randint(0, 256, (3, 70, 90), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def with_g_s(base: type, kind: str) -> type:
    """``base`` (the example's MeanScaleHyperprior) with a g_s that up-samples by 32 ("big"), by 8
    ("small") or gives one channel ("grey"), under the inherited latent_scale of 16."""

    class OddSynthesis(base):  # type: ignore[misc, valid-type]
        def __init__(self, N: int = 8, M: int = 8) -> None:
            super().__init__(N, M)
            if kind == "big":
                self.g_s = nn.Sequential(*self.g_s[:-1], deconv(N, N), nn.ReLU(), deconv(N, 3))
            elif kind == "small":
                self.g_s = nn.Sequential(*self.g_s[:-3], deconv(N, 3))
            else:
                self.g_s[-1] = deconv(N, 1)

    return OddSynthesis


@pytest.mark.parametrize(("kind", "said"), [
    ("big", "(it up-samples by 32), but taco reads (1, 3, 128, 128)"),
    ("small", "(it up-samples by 8), but taco reads (1, 3, 128, 128)"),
    ("grey", "OddSynthesis's g_s gives 1 channel, but taco reads 3 (RGB)"),
])
def test_a_g_s_of_another_scale_or_channels_is_refused_when_decoding(example, kind, said):
    register_architecture("odd-gs", with_g_s(example.MeanScaleHyperprior, kind),
                          configs={"odd-gs-t": {"N": 8, "M": 8}})
    model = taco.create_model("odd-gs-t")
    data = taco.compress(image(), None, model)  # g_a is right: the file is
    for decode in (taco.decompress, codec.decompress_tensor):
        with pytest.raises(BackboneError) as caught:
            decode(data, model)
        message = str(caught.value)
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, TacoError)
        assert "\n" not in message and said in message, message
        assert message.startswith("OddSynthesis's g_s ") and "Adding a backbone" in message
        if kind != "grey":
            assert "OddSynthesis's g_s synthesises 8x8 latent positions into shape" in message
            assert "OddSynthesis.latent_scale (16)" in message


def test_each_tile_is_checked(example, monkeypatch):
    register_architecture("odd-gs", with_g_s(example.MeanScaleHyperprior, "big"),
                          configs={"odd-gs-t": {"N": 8, "M": 8}})
    model = taco.create_model("odd-gs-t")
    data = taco.compress(torch.zeros(3, 600, 600), None, model)
    monkeypatch.setattr(codec, "SYNTHESIS_TILE_BUDGET", 8 * 256 * 256)  # tiles of 8 latents
    y_hat = torch.zeros(1, 8, 38, 38)
    assert len(codec.synthesis_tiles(model, 38, 38)) > 1
    with pytest.raises(BackboneError, match=r"\(it up-samples by 32\)"):
        codec.synthesize(model, y_hat, 600, 600, torch.empty(600, 600, 3, dtype=torch.uint8))
    with pytest.raises(BackboneError, match=r"\(it up-samples by 32\)"):
        taco.decompress(data, model)


def test_a_right_g_s_decodes_whole_and_in_tiles_alike(example, monkeypatch):
    model = example.MeanScaleHyperprior(N=8, M=8).eval()
    y_hat = torch.randn(1, 8, 12, 10, generator=torch.Generator().manual_seed(1))
    whole = torch.empty(180, 150, 3, dtype=torch.uint8)
    codec.synthesize(model, y_hat, 180, 150, whole)
    monkeypatch.setattr(codec, "SYNTHESIS_TILE_BUDGET", 8 * 128 * 128)
    assert len(codec.synthesis_tiles(model, 12, 10)) > 1
    tiled = torch.empty(180, 150, 3, dtype=torch.uint8)
    codec.synthesize(model, y_hat, 180, 150, tiled)
    assert (whole.int() - tiled.int()).abs().max() <= 1


def test_a_g_s_giving_no_tensor_is_refused(example):
    model = example.MeanScaleHyperprior(N=8, M=8)
    with pytest.raises(BackboneError, match=r"g_s synthesises 2x2 latent positions into a dict, no tensor"):
        codec.check_synthesis_shape(model, {"x_hat": None}, 1, slice(0, 2), slice(0, 2))
    codec.check_synthesis_shape(model, torch.empty(1, 3, 32, 32), 1, slice(0, 2), slice(0, 2))


def test_the_cli_says_it_in_one_line(example, tmp_path, capsys):
    register_architecture("odd-gs", with_g_s(example.MeanScaleHyperprior, "big"),
                          configs={"odd-gs-t": {"N": 8, "M": 8}})
    png = tmp_path / "x.png"
    Image.fromarray(np.full((70, 90, 3), 128, np.uint8)).save(png)
    coded, decoded = tmp_path / "x.taco", tmp_path / "y.png"
    assert main(["compress", str(png), "-m", "odd-gs-t", "-o", str(coded)]) == 0
    capsys.readouterr()
    assert main(["decompress", str(coded), "-m", "odd-gs-t", "-o", str(decoded)]) == 2
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("taco decompress: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines
    assert "OddSynthesis's g_s synthesises" in errors[0] and "latent_scale (16)" in errors[0]
    assert not decoded.exists()


def with_shape(base_codec: type, base: type, reshape: Any) -> type:
    class OddShape(base_codec):  # type: ignore[misc, valid-type]
        def compress(self, y: torch.Tensor, quality: int | None = None) -> dict[str, Any]:
            out = super().compress(y, quality)
            out["shape"] = reshape(out["shape"])
            return out

    class OddCoded(base):  # type: ignore[misc, valid-type]
        def __init__(self, N: int = 8, M: int = 8) -> None:
            super().__init__(N, M)
            self.latent_codec = OddShape(N, M)

    return OddCoded


@pytest.mark.parametrize(("reshape", "got"), [
    (lambda shape: torch.Size(shape["hyper"]), "returns shape torch.Size([2, 2]), but taco reads"),
    (lambda shape: {**shape, "y": shape["y"][0]}, "returns shape {'y': torch.Size([8, 8, 8]), 'hyper'"),
    (lambda shape: {"y": shape["y"]}, "returns shape {'y': [torch.Size([8, 8, 8])]}, but"),
    (lambda shape: {**shape, "y": []}, "returns shape {'y': [], 'hyper'"),
    (lambda shape: {**shape, "hyper": 2}, "'hyper': 2}, but taco reads"),
])
def test_a_coded_shape_of_another_form_is_refused(example, reshape, got):
    register_architecture("odd-shape", with_shape(example.MeanScaleCodec, example.MeanScaleHyperprior, reshape),
                          configs={"odd-shape-t": {"N": 8, "M": 8}})
    model = taco.create_model("odd-shape-t")
    for encode in (lambda: taco.compress(torch.zeros(3, 100, 120), None, model),
                   lambda: taco.compress_batch([torch.zeros(3, 100, 120)], None, model)):
        with pytest.raises(BackboneError) as caught:
            encode()
        message = str(caught.value)
        assert message.startswith("OddCoded: its latent codec's compress returns shape ")
        assert got in message and "\n" not in message, message
        assert "taco reads {'y': [(c, h, w) per y group], 'hyper': (h, w)}" in message


def test_the_shapes_taco_models_code_have_the_form(example):
    for model in (taco.create_model("elic-tiny"), example.MeanScaleHyperprior(N=8, M=8)):
        assert codec.coded_shape_form(model.latent_shapes(128, 192, None))
    assert codec.coded_shape_form({"y": [(1, 2, 3)], "hyper": (np.int64(1), torch.tensor(2))})
    for bad in ({"y": [(1, 2, 3.0)], "hyper": (1, 2)}, {"y": [(1, 2, 3)], "hyper": (True, 2)},
                {"y": ((1, 2),), "hyper": (1, 2)}, [(1, 2, 3)], None):
        assert not codec.coded_shape_form(bad)
