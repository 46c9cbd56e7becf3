"""Convolutions that run in bands of output rows when their scratch memory would be large.

taco computes the entropy parameters in float64 on the CPU (``taco.models.coding.coding_codec``),
and torch has no oneDNN kernels for float64 convolutions: it unfolds the input into a columns buffer
of ``C_in * k * k`` (transposed: ``C_out * k * k``) float64 values per position and multiplies. At
latent resolution that buffer dominates coding's memory: 12.8 KB per latent position for a 5x5
context convolution over 64 channels, 1.8 GB for a 36-megapixel image with the -small built-ins,
10 GB at 100 MP with the paper-size model (docs/reliability.md).

:func:`band_convolutions` makes every 2-D convolution of a module compute its output
:data:`CONV_BAND_BYTES` of columns at a time: the rows each band needs, padded with zeros where the
whole input would be, go through the same convolution. Results equal the whole convolution's up
to float rounding (float64: ~1e-13, far below what could move a scale across a table boundary);
inputs whose buffer fits in :data:`CONV_BAND_BYTES` are computed whole, exactly as before. Encoder
and decoder band the same shapes identically, so they compute the same numbers.
"""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F
from compressai.layers import MaskedConv2d
from torch import Tensor

__all__ = ["CONV_BAND_BYTES", "band_convolutions", "conv_band_rows"]

#: Most bytes of unfolded input (columns) one convolution call may use; above it, it runs in bands.
CONV_BAND_BYTES = 64 * 2**20

_BANDED_CLASSES: dict[type, type] = {}


def conv_band_rows(m: nn.Module, x: Tensor) -> int | None:
    """Output rows per band for ``m`` on input ``x`` (N, C, H, W), or None to compute it whole
    (its columns fit :data:`CONV_BAND_BYTES`, or the layer is not a plain 2-D convolution)."""
    if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) or x.dim() != 4:
        return None
    if m.groups != 1 or m.dilation != (1, 1) or m.padding_mode != "zeros" or isinstance(m.padding, str):
        return None
    kh, kw = m.kernel_size
    sh, _ = m.stride
    if kh * kw == 1 and m.stride == (1, 1):
        return None  # a 1x1 convolution unfolds nothing
    n, _, h, w = x.shape
    item = x.element_size()
    if isinstance(m, nn.Conv2d):
        w_out = (w + 2 * m.padding[1] - kw) // m.stride[1] + 1
        h_out = (h + 2 * m.padding[0] - kh) // sh + 1
        per_row = n * m.in_channels * kh * kw * w_out * item
    else:
        if kh < sh or m.output_padding[0] >= sh:
            return None
        h_out = (h - 1) * sh - 2 * m.padding[0] + kh + m.output_padding[0]
        per_row = n * m.out_channels * kh * kw * w * item // sh  # columns per input row, per output row
    if per_row * h_out <= CONV_BAND_BYTES:
        return None
    return max(sh, CONV_BAND_BYTES // max(1, per_row) // sh * sh)


def _conv2d_bands(m: nn.Conv2d, x: Tensor, rows: int) -> Tensor:
    assert not isinstance(m.padding, str)  # conv_band_rows refuses "same" / "valid"
    kh, kw = m.kernel_size
    sh, sw = m.stride
    ph, pw = m.padding
    h = x.shape[-2]
    h_out = (h + 2 * ph - kh) // sh + 1
    w_out = (x.shape[-1] + 2 * pw - kw) // sw + 1
    out = x.new_empty((x.shape[0], m.out_channels, h_out, w_out))
    for a in range(0, h_out, rows):
        b = min(h_out, a + rows)
        lo, hi = a * sh - ph, (b - 1) * sh - ph + kh  # input rows of this band, padding included
        xs = x[..., max(0, lo) : min(h, hi), :]
        if lo < 0 or hi > h:
            xs = F.pad(xs, (0, 0, max(0, -lo), max(0, hi - h)))
        out[..., a:b, :] = F.conv2d(xs, m.weight, m.bias, (sh, sw), (0, pw))
    return out


def _conv_transpose2d_bands(m: nn.ConvTranspose2d, x: Tensor, rows: int) -> Tensor:
    assert not isinstance(m.padding, str)  # conv_band_rows refuses "same" / "valid"
    kh, kw = m.kernel_size
    sh, sw = m.stride
    ph, pw = m.padding
    h = x.shape[-2]
    h_out = (h - 1) * sh - 2 * ph + kh + m.output_padding[0]
    w_out = (x.shape[-1] - 1) * sw - 2 * pw + kw + m.output_padding[1]
    out = x.new_empty((x.shape[0], m.out_channels, h_out, w_out))
    for a in range(0, h_out, rows):
        b = min(h_out, a + rows)
        # output row o is u = o + ph before cropping; input row i reaches u in [i sh, i sh + kh)
        i0 = max(0, -(-(a + ph - kh + 1) // sh))
        i1 = min(h - 1, (b - 1 + ph) // sh)
        y = F.conv_transpose2d(x[..., i0 : i1 + 1, :], m.weight, m.bias, (sh, sw), (0, pw),
                               (0, m.output_padding[1]))
        top = a + ph - i0 * sh
        band = y[..., top : top + (b - a), :]
        if band.shape[-2] == b - a:
            out[..., a:b, :] = band
        else:  # rows past every input's reach (output padding): the bias alone
            out[..., a:b, :] = 0 if m.bias is None else m.bias.view(1, -1, 1, 1)
            out[..., a : a + band.shape[-2], :] = band
    return out


class _Banded:
    """Mixin: a 2-D convolution that computes big outputs band by band (:func:`conv_band_rows`)."""

    def forward(self, x: Tensor) -> Tensor:
        rows = conv_band_rows(self, x)  # type: ignore[arg-type]
        if rows is None:
            return super().forward(x)  # type: ignore[misc]
        if isinstance(self, MaskedConv2d):  # as MaskedConv2d.forward does before convolving
            self.weight.data = self.weight.data * self.mask
        if isinstance(self, nn.ConvTranspose2d):
            return _conv_transpose2d_bands(self, x, rows)
        return _conv2d_bands(self, x, rows)  # type: ignore[arg-type]


#: The forwards :class:`_Banded` reproduces; a subclass with another forward is left alone.
_PLAIN_FORWARDS = (nn.Conv2d.forward, nn.ConvTranspose2d.forward, MaskedConv2d.forward)


def band_convolutions(module: nn.Module) -> nn.Module:
    """Make every ``nn.Conv2d`` / ``nn.ConvTranspose2d`` in ``module`` (and CompressAI's masked
    convolutions) run in bands when its columns buffer would exceed :data:`CONV_BAND_BYTES` (in
    place: each layer's class becomes a subclass of its own with the banded ``forward``; weights, hooks
    and state are unchanged). Subclasses with a forward of their own are left as they are."""
    for m in module.modules():
        cls = type(m)
        if cls.forward in _PLAIN_FORWARDS and not isinstance(m, _Banded):
            if cls not in _BANDED_CLASSES:
                _BANDED_CLASSES[cls] = type(f"Banded{cls.__name__}", (_Banded, cls), {})
            m.__class__ = _BANDED_CLASSES[cls]
    return module
