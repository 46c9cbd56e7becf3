"""ELIC's entropy model in the layout of the TACO authors' code (SPEC "Reference layout").

The hyperprior::

    y (B, M, h, w) --h_a--> z (B, N, h/4, w/4) --EntropyBottleneck(N)--> z_hat --h_s--> hyper (B, 2M, h, w)

with h_a = conv3x3 M->N, ReLU, conv5x5/2 N->N, ReLU, conv5x5/2 N->N and h_s = deconv5x5/2 N->M, ReLU,
deconv5x5/2 M->3M/2, ReLU, deconv3x3 3M/2->2M. y is coded in uneven channel groups c_0 .. c_{G-1}
(paper: 16, 16, 32, 64, 192), each in two checkerboard passes: the anchors (positions (i, j) with
i + j odd) first, then the non-anchors. For group k:

- channel context (k > 0): 5x5 convs sum(c_<k) -> 224 -> 128 -> 2c_k on the decoded groups before k;
- anchors: (scales, means) = ``anchor_parameters[k]([channel ctx, hyper])`` (group 0: hyper alone);
- spatial context: a plain ``Conv2d(c_k, 2c_k, 5, padding=2)`` on the decoded anchors with zeros
  at the non-anchor positions (so only its taps that land on anchors matter);
- non-anchors: (scales, means) = ``nonanchor_parameters[k]([spatial ctx, channel ctx, hyper])``;

the parameter networks are 1x1 convs in -> out*5/3 -> out*4/3 -> out (out = 2c_k, ReLUs). One
``GaussianConditional`` (scale table exp(linspace(ln 0.11, ln 256, 64))) codes every group.

:class:`ReferenceLatentCodec` has CompressAI's latent-codec contract (``forward``, ``compress``,
``decompress``) and all three run one driver, :meth:`ReferenceLatentCodec.code_groups`, which
computes the entropy parameters pass by pass and hands them to a *pass coder*: straight-through
rounding plus likelihoods (training / the forward), rANS encoding, or rANS decoding. Coding puts
z and then every pass, in decoding order, into one rANS stream per image
(:mod:`taco.bitstream.rans`), the same stream layout as :mod:`taco.models.fast_codec` uses for the
CompressAI layout. The parameter networks run on the half-width tensors of one parity (they are
1x1 convs: the same values as at full width, half the work).

A variable-rate codec (``qualities=``, :mod:`taco.models.gains`) also holds the gain units of
Cui et al. 2021: y and z are coded times the gains of the quality asked for, z_hat reaches h_s
and y_hat leaves the codec times the inverse gains; ``shape["quality"]`` carries the quality
from :meth:`ReferenceLatentCodec.compress` to :meth:`ReferenceLatentCodec.decompress`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.models.base import SCALES_LEVELS, SCALES_MAX, SCALES_MIN
from compressai.models.utils import conv, deconv
from compressai.ops import quantize_ste
from torch import Tensor

from ..bitstream.rans import StreamDecoder, StreamEncoder, UnchunkedStream
from ..errors import TacoValueError
from ..memory import spans
from .config import PARAM_WIDTHS, check_choice, parameter_widths
from .gains import GainVectors, QualityGains, check_quality

__all__ = [
    "BAND_BYTES",
    "PassCoder",
    "ReferenceLatentCodec",
    "codes_itself",
    "compress_hyper_latent",
    "decompress_hyper_latent",
    "dequantize_symbols",
    "CHANNEL_CONTEXT_HALO",
    "SPATIAL_CONTEXT_HALO",
    "band_rows",
    "check_latent_shapes",
    "check_streams",
    "merge_checkerboard",
    "pass_parameters",
    "portable_scale_table",
    "quantize_symbols",
    "scale_indexes",
    "split_checkerboard",
    "stream_symbols",
]

#: The dtype of y_hat on both sides of the coder, whatever dtype the entropy parameters are
#: computed in (``taco.models.coding.coding_codec`` computes them in float64): the contexts of later
#: passes and g_s see these values, so encoder and decoder must hold exactly the same ones.
Y_HAT_DTYPE = torch.float32

#: Most bytes of float64 activations one band of :meth:`ReferenceLatentCodec.code_groups` may take
#: when coding (its convolutions' unfolded inputs are bounded separately, by
#: :mod:`taco.models.conv_bands`); a latent that fits is computed in one band, exactly as without bands.
BAND_BYTES = 256 * 2**20

#: A pass coder, the driver's hook for what happens to a pass's latents (round them, rANS-encode
#: them, read them from a stream): (group k, pass 0 = anchors / 1 = non-anchors, scales or the
#: Gaussian conditional's table indexes (coding: ``code_groups(..., indexes=True)``, and
#: :mod:`taco.models.fast_codec`'s driver), means), each (B, c_k, h, w/2), a checkerboard half of
#: the layout -> the quantised latents of that pass (its y_hat half), (B, c_k, h, w/2).
PassCoder = Callable[[int, int, Tensor, Tensor], Tensor]


# --------------------------------------------------------------------------- checkerboard


def split_checkerboard(x: Tensor) -> tuple[Tensor, Tensor]:
    """(B, C, H, W) -> (anchors, non-anchors), each (B, C, H, W/2); H and W even.

    Anchors sit where i + j is odd: row i keeps columns 1, 3, ... if i is even, 0, 2, ... if odd.
    """
    b, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"the checkerboard needs an even latent height and width, got {h}x{w}")
    x = x.reshape(b, c, h // 2, 2, w // 2, 2)  # row 2a + r, column 2d + s
    anchors = torch.stack((x[:, :, :, 0, :, 1], x[:, :, :, 1, :, 0]), dim=3)  # (B, C, H/2, 2, W/2)
    nonanchors = torch.stack((x[:, :, :, 0, :, 0], x[:, :, :, 1, :, 1]), dim=3)
    return anchors.reshape(b, c, h, w // 2), nonanchors.reshape(b, c, h, w // 2)


def merge_checkerboard(anchors: Tensor, nonanchors: Tensor) -> Tensor:
    """Inverse of :func:`split_checkerboard`: two (B, C, H, W/2) halves -> (B, C, H, W)."""
    b, c, h, w2 = anchors.shape
    a = anchors.reshape(b, c, h // 2, 2, w2)
    n = nonanchors.reshape(b, c, h // 2, 2, w2)
    even_rows = torch.stack((n[:, :, :, 0], a[:, :, :, 0]), dim=-1)  # (B, C, H/2, W/2, 2)
    odd_rows = torch.stack((a[:, :, :, 1], n[:, :, :, 1]), dim=-1)
    return torch.stack((even_rows, odd_rows), dim=3).reshape(b, c, h, 2 * w2)


# --------------------------------------------------------------------------- symbols


def quantize_symbols(inputs: Tensor, means: Tensor) -> Tensor:
    """``EntropyModel.quantize(inputs, "symbols", means)``, operation for operation.

    The difference is stored in ``inputs``' dtype before rounding (an in-place ``-=``): with a
    float64 codec fed float32 latents (``taco.models.coding.coding_codec``), ``round(y - means)`` in
    float64 would differ where the float32 difference lands on x.5.
    """
    outputs = inputs.clone()
    outputs -= means
    return torch.round(outputs).int()


def dequantize_symbols(symbols: Tensor, means: Tensor) -> Tensor:
    """``EntropyModel.dequantize``: ``symbols.type_as(means) + means`` (same float op, same result)."""
    return symbols.type_as(means) + means


def scale_indexes(gc: GaussianConditional, scales: Tensor) -> Tensor:
    """``GaussianConditional.build_indexes`` in one pass: #{scale_table[:-1] entries < scale}."""
    scales = gc.lower_bound_scale(scales)
    table = gc.scale_table[:-1].to(scales.dtype).contiguous()
    return torch.searchsorted(table, scales.contiguous()).int()


def _float32(x: Fraction) -> float:
    """``x`` rounded once to the nearest float32 (ties to even); x is 0 or a normal float32's size."""
    if not x:
        return 0.0
    e = math.frexp(float(x))[1]  # 2**(e-1) <= |x| < 2**e, up to float's rounding:
    e += (abs(x) >= Fraction(2) ** e) - (abs(x) < Fraction(2) ** (e - 1))
    ulp = Fraction(2) ** (e - 24)
    return float(round(x / ulp) * ulp)


def portable_scale_table(levels: int = SCALES_LEVELS) -> Tensor:
    """CompressAI's ``get_scale_table(levels=levels)``, exp(linspace(ln 0.11, ln 256, levels)) in
    float32, computed the same on every CPU. CompressAI's takes ``torch.exp``, whose float32 values
    differ in the last bit with the CPU's vector unit (MKL's AVX2 path gives entry 28 of the 64 as
    3.4496045, its AVX-512 one 3.4496043), and ``torch.linspace``, whose values differ between
    torch's vectorised and plain CPU builds; a table that differs makes other coder tables, so
    other files. Here the linspace is torch's on x86-64 AVX2/AVX-512 (float32 start, end and
    step, each value one fused multiply-add from the nearer end: ``start + step * i`` below
    ``levels // 2``, ``end - step * (levels - 1 - i)`` from there) and exp is computed in 40
    decimal digits, both in exact arithmetic, then rounded to float32 once. That is CompressAI's
    64-level table to the bit on those CPUs (the built-ins' and every created model's);
    other level counts may differ from ``torch.exp``'s in the last bit of a few entries."""
    start = Fraction(_float32(Fraction(math.log(SCALES_MIN))))
    end = Fraction(_float32(Fraction(math.log(SCALES_MAX))))
    step = Fraction(_float32((end - start) / (levels - 1)))
    values = []
    with localcontext() as ctx:
        ctx.prec = 40
        for i in range(levels):
            if i < levels // 2:
                x = _float32(start + step * i)
            else:
                x = _float32(end - step * (levels - 1 - i))
            values.append(_float32(Fraction(Decimal(x).exp())))
    return torch.tensor(values, dtype=torch.float32)


# --------------------------------------------------------------------------- z (hyperprior)


def _hyper_indexes_and_medians(eb: EntropyBottleneck, n: int, size: Any, device: Any) -> tuple[Tensor, Tensor]:
    c = eb._quantized_cdf.shape[0]
    indexes = torch.arange(c, dtype=torch.int32, device=device).view(1, c, 1, 1)
    indexes = indexes.expand(n, c, *size)
    medians = eb._get_medians().detach().reshape(1, -1, 1, 1).expand(n, -1, 1, 1)
    return indexes, medians


def compress_hyper_latent(
    hyper: Any, y: Tensor, stream: StreamEncoder, gains: GainVectors | None = None
) -> tuple[Any, Tensor]:
    """z = h_a(y) coded into ``stream`` -> (z's (h, w), h_s(z_hat)).

    ``hyper`` is anything with ``h_a``, ``entropy_bottleneck`` and ``h_s``: a
    :class:`ReferenceLatentCodec` or CompressAI's ``HyperLatentCodec``. ``gains``: a variable-rate
    model's gains of one quality (:mod:`taco.models.gains`): z is coded times ``gains.z``, z_hat
    reaches h_s times ``gains.z_inverse``; y is taken as it is (already gained).
    """
    z = hyper.h_a(y)
    if gains is not None:
        z = z * gains.z
    eb = hyper.entropy_bottleneck
    indexes, medians = _hyper_indexes_and_medians(eb, z.shape[0], z.shape[2:], z.device)
    symbols = quantize_symbols(z, medians)
    stream.encode(eb, symbols, indexes)
    return z.size()[-2:], hyper.h_s(_ungain(dequantize_symbols(symbols, medians), gains))


def decompress_hyper_latent(
    hyper: Any, stream: StreamDecoder, n: int, shape: Any, gains: GainVectors | None = None
) -> Tensor:
    """Inverse of :func:`compress_hyper_latent`: h_s(z_hat) for ``n`` images, z of size ``shape``."""
    eb = hyper.entropy_bottleneck
    indexes, medians = _hyper_indexes_and_medians(eb, n, tuple(shape), eb.quantiles.device)
    return hyper.h_s(_ungain(dequantize_symbols(stream.decode(eb, indexes), medians), gains))


def stream_symbols(eb: EntropyBottleneck, shape: dict[str, Any]) -> int:
    """Symbols one image's stream holds for latent shapes ``shape``: z (``eb``'s channels over
    ``shape["hyper"]``), then every y group (``shape["y"]``, (C, h, w) each)."""
    hz, wz = shape["hyper"]
    return int(eb._quantized_cdf.shape[0] * hz * wz + sum(c * h * w for c, h, w in shape["y"]))


def check_streams(strings: Any) -> None:
    """ValueError unless ``strings`` is ``[[stream per image]]`` (one kind, at least one image)."""
    if (not isinstance(strings, (list, tuple)) or len(strings) != 1
            or not isinstance(strings[0], (list, tuple)) or not strings[0]):
        raise ValueError("expected [[stream per image]]: one rANS stream per image "
                         f"(got {len(strings) if isinstance(strings, (list, tuple)) else type(strings)})")


def check_latent_shapes(shape: dict[str, Any], groups: Sequence[int]) -> None:
    """ValueError unless ``shape["y"]`` is what channel groups ``groups`` give for z of size
    ``shape["hyper"]`` (each group 4x z's height and width)."""
    hz, wz = shape["hyper"]
    want = [(c, 4 * hz, 4 * wz) for c in groups]
    if [tuple(s) for s in shape["y"]] != want:
        raise ValueError(f"latent shapes {shape['y']} do not fit this codec (expected {want})")


def _ungain(z_hat: Tensor, gains: GainVectors | None) -> Tensor:
    """z_hat times the inverse hyper gain (one IEEE multiply: the same bits on every machine)."""
    return z_hat if gains is None else z_hat * gains.z_inverse


# --------------------------------------------------------------------------- entropy parameters in bands

#: Latent rows a band's entropy parameters read beyond the band, above and below: the channel
#: context (three 5x5 convolutions) and the spatial context (one 5x5), in both entropy layouts.
CHANNEL_CONTEXT_HALO = 6
SPATIAL_CONTEXT_HALO = 2


def band_rows(h: int, w: int, per_position: int) -> int:
    """Latent rows per band when the entropy parameters of a (h, w) latent are computed in bands
    (``per_position``: bytes of float64 activations per latent position): all ``h`` when a whole
    latent fits :data:`BAND_BYTES`, else an even number (a band must start on an even row, where
    the checkerboard's parity starts) of at least twice the channel context's halo."""
    rows = BAND_BYTES // max(1, per_position * w)
    return h if rows >= h else max(2 * CHANNEL_CONTEXT_HALO, rows // 2 * 2)


def pass_parameters(
    params: Callable[[int, int], tuple[Tensor, Tensor]], bands: Sequence[slice],
    gc: GaussianConditional | None,
) -> tuple[Tensor, Tensor]:
    """The (scales, means) of one checkerboard pass from ``params(a, e)``, the pass's parameters
    of latent rows [a, e), for each band of rows in ``bands`` (:func:`taco.memory.spans`); with
    ``gc``, (``gc``'s table indexes, means) assembled band by band, so that only one band's
    scales and activations exist at a time. Without ``gc`` (training: one band), ``params`` of
    the whole latent as they are."""
    if gc is None:
        assert len(bands) == 1, "parameters in bands are for coding only"
        return params(bands[0].start, bands[0].stop)
    if len(bands) == 1:
        scales, means = params(bands[0].start, bands[0].stop)
        return scale_indexes(gc, scales), means
    h = bands[-1].stop
    idx: Tensor | None = None
    means = torch.empty(0)
    for band in bands:
        band_scales, band_means = params(band.start, band.stop)
        if idx is None:
            n, c, _, w2 = band_scales.shape
            idx = torch.empty((n, c, h, w2), dtype=torch.int32, device=band_scales.device)
            means = band_means.new_empty((n, c, h, w2))
        idx[..., band, :] = scale_indexes(gc, band_scales)
        means[..., band, :] = band_means
    assert idx is not None
    return idx, means


# --------------------------------------------------------------------------- the latent codec


def _parameter_network(in_ch: int, out_ch: int, rule: str = "elic-2023") -> nn.Sequential:
    """1x1 convs in -> h1 -> h2 -> out with ReLUs, the hidden widths of ``rule``
    (:func:`taco.models.config.parameter_widths`: "elic-2023" out*5/3, out*4/3, the authors'
    released widths rounded down; "elic-2024" in*2/3 + out/3, in/3 + out*2/3)."""
    mid1, mid2 = parameter_widths(rule, in_ch, out_ch)
    return nn.Sequential(
        nn.Conv2d(in_ch, mid1, 1), nn.ReLU(inplace=True),
        nn.Conv2d(mid1, mid2, 1), nn.ReLU(inplace=True),
        nn.Conv2d(mid2, out_ch, 1),
    )


class ReferenceLatentCodec(nn.Module):
    """The entropy model of the module docstring: every part of it, in one module.

    ``forward(y) -> {"y_hat", "likelihoods": {"y", "z"}}`` (training and rate estimates);
    ``compress(y) -> {"strings": [[one stream per image]], "shape", "y_hat"}``;
    ``decompress(strings, shape) -> {"y_hat"}``. y is (B, M, h, w) with h, w multiples of 4.
    """

    def __init__(
        self, N: int, M: int, groups: Sequence[int], ctx_hidden: Sequence[int] = (224, 128),
        qualities: Sequence[float] | None = None, param_widths: str = "elic-2023",
    ) -> None:
        super().__init__()
        groups = list(groups)
        if sum(groups) != M:
            raise TacoValueError(f"channel groups {groups} must sum to M={M}")
        check_choice("param_widths", param_widths, PARAM_WIDTHS)
        h1, h2 = ctx_hidden
        self.groups = groups
        self.ctx_hidden = (h1, h2)
        self.param_widths = param_widths
        self.h_a = nn.Sequential(
            conv(M, N, kernel_size=3, stride=1), nn.ReLU(inplace=True),
            conv(N, N, kernel_size=5, stride=2), nn.ReLU(inplace=True),
            conv(N, N, kernel_size=5, stride=2),
        )
        self.h_s = nn.Sequential(
            deconv(N, M, kernel_size=5, stride=2), nn.ReLU(inplace=True),
            deconv(M, M * 3 // 2, kernel_size=5, stride=2), nn.ReLU(inplace=True),
            deconv(M * 3 // 2, M * 2, kernel_size=3, stride=1),
        )
        self.entropy_bottleneck = EntropyBottleneck(N)
        self.gaussian_conditional = GaussianConditional(None)  # table filled by update()
        # keyed "1", "2", ...: the first group has no channel context
        self.channel_context = nn.ModuleDict({
            str(k): nn.Sequential(
                conv(sum(groups[:k]), h1, kernel_size=5, stride=1), nn.ReLU(inplace=True),
                conv(h1, h2, kernel_size=5, stride=1), nn.ReLU(inplace=True),
                conv(h2, 2 * c, kernel_size=5, stride=1),
            )
            for k, c in enumerate(groups) if k > 0
        })
        self.spatial_context = nn.ModuleList(
            nn.Conv2d(c, 2 * c, kernel_size=5, padding=2) for c in groups
        )
        # inputs: [channel ctx (2c, k > 0), hyper (2M)] and [spatial ctx (2c), those]
        self.anchor_parameters = nn.ModuleList(
            _parameter_network(2 * M + 2 * c * (k > 0), 2 * c, param_widths) for k, c in enumerate(groups)
        )
        self.nonanchor_parameters = nn.ModuleList(
            _parameter_network(2 * M + 2 * c * (1 + (k > 0)), 2 * c, param_widths)
            for k, c in enumerate(groups)
        )
        # variable rate (taco.models.gains): absent for a single-rate codec, whose state dict
        # and fingerprint are as they were
        self.gains = QualityGains(qualities, M, N) if qualities is not None else None

    def gain_vectors(self, quality: int | None) -> GainVectors | None:
        """The gains of ``quality`` (1..Q) for a variable-rate codec, which needs one; None for a
        single-rate codec, which takes none (ValueError either way for a wrong ``quality``)."""
        if self.gains is None:
            check_quality(quality, None)
            return None
        return self.gains.vectors(quality)

    # ------------------------------------------------------------------ the driver

    def code_groups(self, hyper: Tensor, code: PassCoder, *, indexes: bool = False) -> Tensor:
        """Every channel group's two passes in decoding order -> y_hat (B, M, h, w).

        ``hyper`` (B, 2M, h, w) is h_s(z_hat). ``code(k, step, scales, means)`` returns the
        quantised latents of pass ``step`` of group ``k``: what it does with the true latents
        (round them, rANS-encode them, or read them from a stream) is the caller's. The contexts
        see exactly what ``code`` returns, as the decoder will.

        ``indexes=True`` (coding, no autograd): ``code`` gets the Gaussian conditional's table
        indexes instead of the scales, and the parameters are computed in bands of
        :meth:`band_rows` rows, so that only the indexes and means of a pass are held for the
        whole latent, not the networks' activations (docs/reliability.md, "Entropy parameters in
        bands"). A latent of one band is computed exactly as without bands; more bands compute
        the same values up to float rounding, identically on both sides of the coder.
        """
        h, w = hyper.shape[-2:]
        bands = spans(h, self.band_rows(h, w) if indexes else h)
        gc = self.gaussian_conditional if indexes else None
        first = [sum(self.groups[:k]) for k in range(len(self.groups) + 1)]  # group k's channels
        # coding: each group's y_hat is written into one tensor, which the channel contexts read
        # through views (no copy of y_hat at the end); training: a list, for autograd
        y_hat = hyper.new_empty((hyper.shape[0], first[-1], h, w), dtype=Y_HAT_DTYPE) if indexes else None
        decoded: list[Tensor] = []  # training: y_hat per group, (B, c_k, h, w)
        for k in range(len(self.groups)):
            ctx_n: dict[int, Tensor] = {}  # band start -> the channel context's non-anchor half

            def anchor_params(a: int, e: int, k: int = k, ctx_n: dict[int, Tensor] = ctx_n) -> tuple[Tensor, Tensor]:
                side = hyper[..., a:e, :]
                if k > 0:
                    lo, hi = max(0, a - CHANNEL_CONTEXT_HALO), min(h, e + CHANNEL_CONTEXT_HALO)
                    prev = (y_hat[:, : first[k], lo:hi] if y_hat is not None
                            else torch.cat([d[..., lo:hi, :] for d in decoded], dim=1))
                    ctx = self.channel_context[str(k)](prev)[..., a - lo : e - lo, :]  # (B, 2c_k, e-a, w)
                    ctx_n[a] = split_checkerboard(ctx)[1]
                    side = torch.cat([ctx, side], dim=1)
                return self.anchor_parameters[k](split_checkerboard(side)[0]).chunk(2, 1)

            anchors = code(k, 0, *pass_parameters(anchor_params, bands, gc))  # (B, c_k, h, w/2)

            def nonanchor_params(a: int, e: int, k: int = k, ctx_n: dict[int, Tensor] = ctx_n,
                                 anchors: Tensor = anchors) -> tuple[Tensor, Tensor]:
                lo, hi = max(0, a - SPATIAL_CONTEXT_HALO), min(h, e + SPATIAL_CONTEXT_HALO)
                part = anchors[..., lo:hi, :]
                anchors_only = merge_checkerboard(part, torch.zeros_like(part))
                local = split_checkerboard(self.spatial_context[k](anchors_only))[1][..., a - lo : e - lo, :]
                side_n = split_checkerboard(hyper[..., a:e, :])[1]
                inputs = [local, side_n] if k == 0 else [local, ctx_n.pop(a), side_n]
                return self.nonanchor_parameters[k](torch.cat(inputs, dim=1)).chunk(2, 1)

            merged = merge_checkerboard(anchors, code(k, 1, *pass_parameters(nonanchor_params, bands, gc)))
            if y_hat is None:
                decoded.append(merged)
            else:
                y_hat[:, first[k] : first[k + 1]] = merged
        return torch.cat(decoded, dim=1) if y_hat is None else y_hat

    def band_rows(self, h: int, w: int) -> int:
        """Latent rows per band of :meth:`code_groups` when coding a (h, w) latent
        (:func:`band_rows`): a function of the shapes only, so encoder and decoder band alike."""
        widest = max(self.groups)
        # per latent position, float64: the hyper and channel-context slices of a band, their
        # concatenation and checkerboard halves, the channel context's hidden layers and the
        # parameter network's (5/3 and 4/3 of 2c; "elic-2024": the widest pair of any group)
        hidden = 3 * widest
        if self.param_widths != "elic-2023":
            hidden = max(sum(parameter_widths(self.param_widths, net[0].in_channels, net[-1].out_channels))
                         for net in (*self.anchor_parameters, *self.nonanchor_parameters))
        per_position = 8 * (3 * (2 * sum(self.groups) + 2 * widest) + sum(self.ctx_hidden) + hidden)
        return band_rows(h, w, per_position)

    # ------------------------------------------------------------------ training / estimates

    def forward(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        """Straight-through rounding (y_hat = round(y - mu) + mu), likelihoods from the Gaussian
        conditional's own forward on y (noise in training mode, rounding in eval mode).

        ``quality``: 1..Q for a variable-rate codec (y and z are gained, y_hat is returned
        times the inverse gain, ready for g_s), None for a single-rate one.
        """
        gains = self.gain_vectors(quality)
        if gains is not None:
            y = y * gains.y
        z = self.h_a(y.contiguous())  # as compress_hyper: the same floats as the coder's
        if gains is not None:
            z = z * gains.z
        _, z_likelihoods = self.entropy_bottleneck(z)
        medians = self.entropy_bottleneck._get_medians()
        z_hat = _ungain(quantize_ste(z - medians) + medians, gains)
        y_ = [split_checkerboard(g) for g in y.split(self.groups, dim=1)]
        likelihoods: list[list[Tensor]] = [[], []]  # per pass, in group order

        def quantize(k: int, step: int, scales: Tensor, means: Tensor) -> Tensor:
            latent = y_[k][step]
            likelihoods[step].append(self.gaussian_conditional(latent, scales, means)[1])
            return quantize_ste(latent - means) + means

        y_hat = self.code_groups(self.h_s(z_hat), quantize)
        y_likelihoods = torch.cat(
            [merge_checkerboard(a, n) for a, n in zip(*likelihoods, strict=True)], dim=1
        )
        y_hat = y_hat if gains is None else y_hat * gains.y_inverse
        return {"y_hat": y_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    # ------------------------------------------------------------------ coding

    def num_symbols(self, shape: dict[str, Any]) -> int:
        """Symbols one image's stream holds for latent shapes ``shape`` (z, then every group)."""
        return stream_symbols(self.entropy_bottleneck, shape)

    @torch.no_grad()
    def compress_hyper(
        self, y: Tensor, stream: StreamEncoder, quality: int | None = None
    ) -> dict[str, Any]:
        """z coded into ``stream``; its size and the side parameters h_s(z_hat). ``y`` is g_a's
        output (gained here for a variable-rate codec, at ``quality``)."""
        gains = self.gain_vectors(quality)
        # g_a can hand over a channels-last y (the adapter's reshapes); convolutions pick other
        # kernels for it, so the encoder's h_s(z_hat) would differ in the last bits from the
        # decoder's, which starts from a contiguous z_hat
        y = y.contiguous()
        if gains is not None:
            y = y * gains.y  # contiguous too
        shape, params = compress_hyper_latent(self, y, stream, gains)
        return {"stream": stream, "shape": shape, "params": params}

    @torch.no_grad()
    def compress_groups(
        self, y: Tensor, hyper: Tensor, stream: StreamEncoder, quality: int | None = None
    ) -> dict[str, Any]:
        """Every group's two passes coded into ``stream``: their shapes and y_hat (float32,
        times the inverse gain for a variable-rate codec: what g_s takes)."""
        gc = self.gaussian_conditional
        gains = self.gain_vectors(quality)
        groups = y.split(self.groups, dim=1)  # views
        gained = gains.y.split(self.groups, dim=1) if gains is not None else None
        halves: list[Tensor] = []  # the group being coded, gained, split: one group at a time

        def encode(k: int, step: int, indexes: Tensor, means: Tensor) -> Tensor:
            if step == 0:
                group = groups[k] if gained is None else groups[k] * gained[k]
                halves[:] = split_checkerboard(group)
            symbols = quantize_symbols(halves[step], means)
            stream.encode(gc, symbols, indexes)
            return dequantize_symbols(symbols, means).to(Y_HAT_DTYPE)

        y_hat = self.code_groups(hyper, encode, indexes=True)
        shapes = [g.shape[1:] for g in y_hat.split(self.groups, dim=1)]
        return {"stream": stream, "shape": shapes, "y_hat": _inverse_gained(y_hat, gains)}

    @torch.no_grad()
    def compress(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        """y (B, M, h, w) -> ``{"strings": [[stream_0, ..., stream_{B-1}]], "shape", "y_hat"}``.

        One kind of string (a list over the batch), as :mod:`taco.models.fast_codec` writes it.
        A variable-rate codec codes at ``quality`` (1..Q) and puts it into ``shape["quality"]``:
        :meth:`decompress` needs nothing else.
        """
        hyper = self.compress_hyper(y, StreamEncoder(), quality)
        out = self.compress_groups(y, hyper["params"], hyper["stream"], quality)
        shape: dict[str, Any] = {"y": out["shape"], "hyper": hyper["shape"]}
        if self.gains is not None:
            shape["quality"] = quality
        return {"strings": [out["stream"].flush()], "shape": shape, "y_hat": out["y_hat"]}

    @torch.no_grad()
    def decompress(
        self, strings: Sequence[Sequence[bytes | memoryview | UnchunkedStream]], shape: dict[str, Any]
    ) -> dict[str, Tensor]:
        """Inverse of :meth:`compress`: the exact y_hat (B, M, h, w), float32. A variable-rate
        codec reads the quality from ``shape["quality"]``.

        ``strings`` are untrusted: a malformed stream raises ``TacoFormatError``
        (:class:`~taco.bitstream.rans.StreamDecoder`), never reads outside its buffer.
        """
        check_streams(strings)
        check_latent_shapes(shape, self.groups)
        hz, wz = shape["hyper"]
        gains = self.gain_vectors(shape.get("quality"))
        stream = StreamDecoder(strings[0], self.num_symbols(shape))
        hyper = decompress_hyper_latent(self, stream, len(strings[0]), (hz, wz), gains)
        gc = self.gaussian_conditional

        def decode(k: int, step: int, indexes: Tensor, means: Tensor) -> Tensor:
            symbols = stream.decode(gc, indexes)
            return dequantize_symbols(symbols, means).to(Y_HAT_DTYPE)

        y_hat = self.code_groups(hyper, decode, indexes=True)
        del hyper  # h_s(z_hat), 2M float64 channels: not held beside y_hat from here on
        if stream.symbols_left:
            raise RuntimeError(f"{stream.symbols_left} declared symbols were not decoded")
        return {"y_hat": _inverse_gained(y_hat, gains)}


def _inverse_gained(y_hat: Tensor, gains: GainVectors | None) -> Tensor:
    """The coded (gained) y_hat -> what g_s takes: times the inverse gain, as :data:`Y_HAT_DTYPE`,
    in place when ``y_hat`` is already of that dtype (the coders' own y_hat: no second copy).

    The inverse gain is a float32 parameter, held exactly by the float64 coding copy, so it is
    cast back to float32 exactly; a float32 multiply is correctly rounded (IEEE 754), so it
    equals the float64 product of the two float32 values (which is exact) rounded once to
    float32, and the float32 model's own product, bit for bit (tested)."""
    if gains is None:
        return y_hat
    return y_hat.to(Y_HAT_DTYPE).mul_(gains.y_inverse.to(Y_HAT_DTYPE))


def codes_itself(codec: nn.Module) -> bool:
    """Whether ``codec`` codes itself into one stream per image (``compress``, ``decompress``,
    ``num_symbols``, ``gain_vectors`` as :class:`ReferenceLatentCodec`): the reference layout, or
    any latent codec that says so with a true ``one_stream`` attribute (a new backbone's: see
    docs/models.md, "Adding a backbone")."""
    return isinstance(codec, ReferenceLatentCodec) or bool(getattr(codec, "one_stream", False))
