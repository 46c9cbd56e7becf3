"""Gain units: one model at several rates (Cui et al., CVPR 2021, "Asymmetric Gained Deep Image
Compression With Continuous Rate Adaptation", §3).

A variable-rate model has Q *qualities*; quality q (1..Q, low to high rate) is trained with the
rate-distortion weight λ_q (``ModelConfig.qualities``, ascending). Four learned (Q, C) matrices
rescale the latents channel by channel, row q for quality q::

    y = g_a(x)        -> y * gain[q]                    (M channels, before quantisation)
    z = h_a(gained y) -> z * hyper_gain[q]              (N channels, before quantisation)
    ẑ                 -> ẑ * inverse_hyper_gain[q]      (before h_s)
    ŷ                 -> ŷ * inverse_gain[q]            (before g_s)

Everything between the gain and its inverse is shared and unchanged: the entropy model codes
the *gained* y and z (a larger gain is a finer quantisation step: more bits, less distortion), and
its contexts see the gained ŷ. The gain and its inverse are separate parameters ("asymmetric"),
not reciprocals. They live in the latent codec (:class:`~taco.models.entropy.ReferenceLatentCodec`),
so the float64 coding copy (``taco.models.coding.coding_codec``) holds them like every other
entropy-model part.

Why decoding stays exact. The decoder computes two of the four products: ẑ · inverse_hyper_gain
(feeding h_s, hence every scale and mean) and ŷ · inverse_gain (feeding only g_s). Both are one
elementwise IEEE multiply in the coding copy's float64 on the CPU, of values the decoder already
holds bit for bit (ẑ = symbols + medians, the gain as stored), so encoder and decoder get the same
bits on any machine; ŷ · inverse_gain is exact in float64 (a float32 times a float32) and rounded
once to float32. The two other products (y · gain, z · hyper_gain) are the encoder's alone: they
only choose which symbols to write.

Initialisation: quantisation with step Δ costs ≈ −log₂ Δ bits per latent and ≈ Δ²/12 distortion,
so the step that minimises R + λ·D goes as λ^(-1/2): gain[q] starts at √(λ_q / λ̄) with λ̄ the
geometric mean of the λs (the middle quality starts near 1), inverse_gain[q] at its reciprocal,
the hyper gains at 1. Nothing here draws random numbers, so a variable-rate model built from a
seed has the same other weights as the single-rate one.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
import torch.nn as nn
from torch import Tensor

from ..checks import as_int
from ..errors import TacoValueError
from .config import check_lambdas, default_quality

__all__ = ["GainVectors", "QualityGains", "check_quality", "default_quality"]


def check_quality(quality: Any, num_qualities: int | None) -> None:
    """TacoValueError unless ``quality`` is what a codec with ``num_qualities`` qualities codes at:
    an integer 1..Q (an ``int`` or a NumPy integer) for a variable-rate codec, None for a
    single-rate one (``num_qualities`` None); a TypeError for a variable-rate codec's quality that
    is no integer (a ``bool``, ``2.0``, ``"2"``). The rule of every model and latent codec in
    :mod:`taco.models`; ``taco.codec`` (``coding_quality``) also defaults a missing quality and
    names the model."""
    if num_qualities is None:
        if quality is not None:
            raise TacoValueError(f"this is a single-rate model: it takes no quality (got {_shown(quality)})")
        return
    if quality is None:
        raise TacoValueError(f"this is a variable-rate model: give quality=1..{num_qualities}")
    number = as_int(quality)
    if number is None:
        raise TypeError(f"quality must be an integer 1..{num_qualities}, not {type(quality).__name__}")
    if not 1 <= number <= num_qualities:
        raise TacoValueError(f"quality must be an integer 1..{num_qualities}, got {number}")  # NumPy 2's repr: np.int64(9)


def _shown(quality: Any) -> str:
    """A number's or a string's repr, anything else's type (text tokens' repr is a tensor's)."""
    return repr(quality) if isinstance(quality, (numbers.Number, str)) else type(quality).__name__


class GainVectors(NamedTuple):
    """The gains of one quality, each (1, C, 1, 1): y's (C = M) and z's (C = N), and their inverses."""

    y: Tensor
    y_inverse: Tensor
    z: Tensor
    z_inverse: Tensor


class QualityGains(nn.Module):
    """The four gain matrices of a variable-rate latent codec (see the module docstring).

    ``lambdas``: λ of each quality, ascending; ``M``, ``N``: channels of y and z.
    """

    def __init__(self, lambdas: Sequence[float], M: int, N: int) -> None:
        super().__init__()
        self.lambdas = check_lambdas(lambdas)
        lam = torch.tensor(self.lambdas, dtype=torch.float64)
        start = (lam / lam.log().mean().exp()).sqrt().float()  # (Q,): √(λ_q / λ̄)
        q = len(self.lambdas)
        self.gain = nn.Parameter(start[:, None].repeat(1, M))  # (Q, M)
        self.inverse_gain = nn.Parameter((1 / start)[:, None].repeat(1, M))  # (Q, M)
        self.hyper_gain = nn.Parameter(torch.ones(q, N))  # (Q, N)
        self.inverse_hyper_gain = nn.Parameter(torch.ones(q, N))  # (Q, N)

    @property
    def num_qualities(self) -> int:
        return len(self.lambdas)

    def index(self, quality: Any) -> int:
        """Row of quality ``quality`` (1..Q, NumPy integers taken); a TypeError for a quality that is
        no integer, a TacoValueError for None or an integer out of range (:func:`check_quality`)."""
        check_quality(quality, self.num_qualities)
        return int(quality) - 1

    def vectors(self, quality: Any) -> GainVectors:
        """The four gains of ``quality`` (1..Q), each (1, C, 1, 1) to multiply a (B, C, h, w) latent."""
        i = self.index(quality)
        rows = (self.gain, self.inverse_gain, self.hyper_gain, self.inverse_hyper_gain)
        return GainVectors(*(g[i].view(1, -1, 1, 1) for g in rows))

    def extra_repr(self) -> str:
        return f"lambdas={self.lambdas}"
