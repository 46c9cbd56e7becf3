"""A new backbone for taco: a small mean-scale hyperprior (Minnen et al. 2018, without the
context model), registered with :func:`taco.models.register_architecture`.

Use it from the command line by naming this module in ``TACO_PLUGINS`` (it must be importable:
on ``PYTHONPATH``)::

    PYTHONPATH=examples TACO_PLUGINS=mean_scale_backbone \\
        taco train --set model=mean-scale-tiny --set preset=elic ...
    PYTHONPATH=examples TACO_PLUGINS=mean_scale_backbone taco compress photo.png -m runs/x

or from Python by importing it before building or loading one. docs/models.md, "Adding a
backbone", says what each part is for; tests/models/test_backbone_plugin.py runs this file
through the CLI.
"""

from __future__ import annotations

# taco before compressai: importing taco installs its CompressAI import hook
# (taco/compressai_loader.py), which defers the CompressAI packages taco never uses. Imported
# first, compressai's package root loads them all (torch_geometric, torchvision: 8-12 s on a
# 2-core CPU, and a torch.jit FutureWarning) before the hook exists; with taco first, 3 s.
import taco  # noqa: F401

# isort: split
from typing import Any

import torch
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.layers import GDN
from compressai.models.base import CompressionModel
from compressai.models.utils import conv, deconv
from compressai.ops import quantize_ste
from torch import Tensor, nn

from taco.bitstream.rans import StreamDecoder, StreamEncoder
from taco.models import ELIC, register_architecture
from taco.models.entropy import (
    compress_hyper_latent,
    decompress_hyper_latent,
    dequantize_symbols,
    quantize_symbols,
    scale_indexes,
)
from taco.models.gains import check_quality


class MeanScaleCodec(nn.Module):
    """z = h_a(y) coded with an entropy bottleneck, then y with a Gaussian whose (scales, means)
    h_s(z_hat) gives: one rANS stream per image (``one_stream``), z first."""

    one_stream = True

    def __init__(self, N: int, M: int) -> None:
        super().__init__()
        self.M = M
        self.h_a = nn.Sequential(  # y (B, M, h, w) -> z (B, N, h/4, w/4)
            conv(M, N, kernel_size=3, stride=1), nn.LeakyReLU(inplace=True),
            conv(N, N, kernel_size=5, stride=2), nn.LeakyReLU(inplace=True),
            conv(N, N, kernel_size=5, stride=2),
        )
        self.h_s = nn.Sequential(  # z_hat -> (scales, means) (B, 2M, h, w)
            deconv(N, M, kernel_size=5, stride=2), nn.LeakyReLU(inplace=True),
            deconv(M, M, kernel_size=5, stride=2), nn.LeakyReLU(inplace=True),
            conv(M, 2 * M, kernel_size=3, stride=1),
        )
        # the names taco expects: the aux optimiser trains "...entropy_bottleneck.quantiles"
        self.entropy_bottleneck = EntropyBottleneck(N)
        self.gaussian_conditional = GaussianConditional(None)

    def gain_vectors(self, quality: int | None) -> None:
        """None: one rate. ``check_quality`` refuses any quality given to a single-rate codec."""
        check_quality(quality, None)

    def forward(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        """Training: y_hat (straight-through rounding around the means) and the likelihoods the
        rate term reads, one tensor per coded latent."""
        self.gain_vectors(quality)
        z = self.h_a(y)
        _, z_likelihoods = self.entropy_bottleneck(z)
        # z is rounded around the bottleneck's medians, as compress_hyper_latent codes it.
        # CompressAI has no public accessor for them: _get_medians() is what its own
        # HyperLatentCodec and taco's ReferenceLatentCodec call (not the entropy bottleneck's
        # forward, which adds noise in training where ELIC's rounding is straight-through).
        medians = self.entropy_bottleneck._get_medians()
        z_hat = quantize_ste(z - medians) + medians
        scales, means = self.h_s(z_hat).chunk(2, 1)
        _, y_likelihoods = self.gaussian_conditional(y, scales, means)
        y_hat = quantize_ste(y - means) + means
        return {"y_hat": y_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def num_symbols(self, shape: dict[str, Any]) -> int:
        """Symbols in one image's stream: z's, then y's."""
        hz, wz = shape["hyper"]
        # the rows of the coder's table, not N: decompress_hyper_latent decodes that many z
        # channels (a checkpoint's tables set it), and the two counts must agree. CompressAI
        # exposes the table only as this buffer.
        z_channels = self.entropy_bottleneck._quantized_cdf.shape[0]
        return int(z_channels * hz * wz + sum(c * h * w for c, h, w in shape["y"]))

    @torch.no_grad()
    def compress(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        """y (B, M, h, w) -> ``{"strings": [[stream per image]], "shape", "y_hat"}``."""
        self.gain_vectors(quality)
        stream = StreamEncoder()
        z_size, params = compress_hyper_latent(self, y, stream)
        scales, means = params.chunk(2, 1)
        symbols = quantize_symbols(y, means)
        stream.encode(self.gaussian_conditional, symbols, scale_indexes(self.gaussian_conditional, scales))
        y_hat = dequantize_symbols(symbols, means).to(torch.float32)
        return {"strings": [stream.flush()], "shape": {"y": [y_hat.shape[1:]], "hyper": z_size},
                "y_hat": y_hat}

    @torch.no_grad()
    def decompress(self, strings: list[list[bytes]], shape: dict[str, Any]) -> dict[str, Tensor]:
        """Inverse of :meth:`compress`: y_hat, float32 (what the encoder's g_s saw)."""
        hz, wz = shape["hyper"]
        if [tuple(s) for s in shape["y"]] != [(self.M, 4 * hz, 4 * wz)]:
            raise ValueError(f"latent shapes {shape['y']} do not fit this codec")
        stream = StreamDecoder(strings[0], self.num_symbols(shape))
        params = decompress_hyper_latent(self, stream, len(strings[0]), (hz, wz))
        scales, means = params.chunk(2, 1)
        symbols = stream.decode(self.gaussian_conditional, scale_indexes(self.gaussian_conditional, scales))
        if stream.symbols_left:
            raise RuntimeError(f"{stream.symbols_left} declared symbols were not decoded")
        return {"y_hat": dequantize_symbols(symbols, means).to(torch.float32)}


class MeanScaleHyperprior(ELIC):
    """g_a and g_s of four stride-2 convolutions with GDN (Ballé et al.), y at H/16, and
    :class:`MeanScaleCodec`. ELIC's forward, compress, decompress and latent_shapes are
    inherited: they read ``groups`` (one group of M channels) and a z at y's size / 4."""

    uses_text = False
    # g_a has no stripes (analysis ignores stripe_rows): the whole image is one
    analysis_stripe_scale = 16
    analysis_halo = 0
    # four 5x5 stride-2 transposed convolutions (GDN reaches no neighbours), each reading its
    # input 1 position (2 of its output pixels) out: 2 + 4 + 8 + 16 = 30 px at full size in
    # all, under 2 latent positions of 16 px; 4 leaves a margin
    synthesis_halo = 4

    def __init__(self, N: int = 128, M: int = 192) -> None:
        CompressionModel.__init__(self)  # not ELIC's: it would build ELIC's transforms
        self.N, self.M, self.groups, self.layout = N, M, [M], "reference"
        self.g_a = nn.Sequential(
            conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, M),
        )
        self.g_s = nn.Sequential(
            deconv(M, N), GDN(N, inverse=True), deconv(N, N), GDN(N, inverse=True),
            deconv(N, N), GDN(N, inverse=True), deconv(N, 3),
        )
        self.latent_codec = MeanScaleCodec(N, M)

    def analysis(self, x: Tensor, text: Any = None, *, stripe_rows: int | None = None) -> Tensor:
        """g_a: (B, 3, H, W) -> y (B, M, H/16, W/16), whole (``stripe_rows`` is ignored)."""
        return self.g_a(x)


register_architecture("mean-scale", MeanScaleHyperprior, textless=True, configs={
    "mean-scale-tiny": {"N": 32, "M": 48},
})
