"""The TACO text adapter (paper §3.1, Fig. 4; SPEC "Model").

Three cross-attentions (CA) and the linear layers that match text and image widths:

- CA1, CA3 — :class:`TextInjector` (text -> image), at H/4 and H/8:
  ``e' = LN(Lin_{d->N}(e))``;  ``v_out = R(v) + gamma ⊙ MHA(q=LN(v), k=v=e')`` (paper Eq. 5).
- CA2 — :class:`TextExtractor` (image -> text), at H/8:
  ``v' = LN(Lin_{N->d}(v))``;  ``e_out = LN(e) + MHA(q=LN(e), k=v=v')``.

``R(v)`` is ``LN(v)`` in the paper and its reference code (``residual="paper"``), so even with
gamma = 0 the adapter normalises the image features: a fresh TACO is *not* numerically plain ELIC.
``residual="identity"`` (``R(v) = v``, ViT-Adapter style) makes gamma = 0 an exact identity, which
is what fine-tuning from a pretrained ELIC (frozen base) wants. No positional encodings. An optional
key-padding mask keeps attention off padded text tokens (off by default, as in the paper).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
from torch import Tensor

Residual = Literal["paper", "identity"]


def to_tokens(x: Tensor) -> Tensor:
    """(B, C, H, W) -> (B, HW, C): every spatial position is one image token (paper Eq. 4)."""
    return x.flatten(2).transpose(1, 2)


def to_map(v: Tensor, h: int, w: int) -> Tensor:
    """(B, HW, C) -> (B, C, H, W): :func:`to_tokens` undone."""
    return v.transpose(1, 2).reshape(v.shape[0], v.shape[2], h, w)


class TextInjector(nn.Module):
    """Text -> image cross-attention (CA1 / CA3).

    image: (B, N, H, W), text: (B, m, d), mask: (B, m) bool (True = real token) -> (B, N, H, W).
    """

    def __init__(
        self,
        image_dim: int,
        text_dim: int,
        heads: int = 8,
        residual: Residual = "paper",
        use_mask: bool = False,
        learn_gamma: bool = True,
        gamma_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.text_proj = nn.Linear(text_dim, image_dim)
        nn.init.kaiming_normal_(self.text_proj.weight)  # as in the reference code
        self.text_norm = nn.LayerNorm(image_dim)
        self.image_norm = nn.LayerNorm(image_dim)
        self.attn = nn.MultiheadAttention(image_dim, heads, batch_first=True)
        self.gamma = nn.Parameter(torch.full((image_dim,), gamma_init), requires_grad=learn_gamma)
        self.residual = residual
        self.use_mask = use_mask

    def forward(self, image: Tensor, text: Tensor, mask: Tensor | None = None) -> Tensor:
        b, c, h, w = image.shape
        v = to_tokens(image)  # (B, HW, N)
        e = self.text_norm(self.text_proj(text))  # (B, m, N)
        q = self.image_norm(v)
        pad = key_padding(mask) if self.use_mask else None
        attended, _ = self.attn(q, e, e, key_padding_mask=pad, need_weights=False)
        base = q if self.residual == "paper" else v
        return to_map(base + self.gamma * attended, h, w)


class TextExtractor(nn.Module):
    """Image -> text cross-attention (CA2): updates the text tokens from image features.

    image: (B, N, H, W), text: (B, m, d) -> (B, m, d).
    """

    def __init__(self, image_dim: int, text_dim: int, heads: int = 8) -> None:
        super().__init__()
        self.image_proj = nn.Linear(image_dim, text_dim)
        nn.init.kaiming_normal_(self.image_proj.weight)
        self.image_norm = nn.LayerNorm(text_dim)
        self.text_norm = nn.LayerNorm(text_dim)
        self.attn = nn.MultiheadAttention(text_dim, heads, batch_first=True)

    def forward(self, image: Tensor, text: Tensor) -> Tensor:
        v = self.image_norm(self.image_proj(to_tokens(image)))  # (B, HW, d)
        q = self.text_norm(text)  # (B, m, d)
        attended, _ = self.attn(q, v, v, need_weights=False)
        return q + attended


def key_padding(mask: Tensor | None) -> Tensor | None:
    """MHA wants True where a key is *ignored*. A caption with no real token keeps all keys."""
    if mask is None:
        return None
    pad = ~mask.bool()
    all_pad = pad.all(dim=1, keepdim=True)
    return pad & ~all_pad


class TextAdapter(nn.Module):
    """CA1 (H/4), CA2 and CA3 (H/8) with their projections: about 1.65 M parameters at the
    paper's sizes (N=192, d=512)."""

    def __init__(
        self,
        image_dim: int,
        text_dim: int,
        heads: int = 8,
        residual: Residual = "paper",
        use_mask: bool = False,
        learn_gamma: bool = True,
        gamma_init: float = 0.0,
    ) -> None:
        super().__init__()
        kw = dict(heads=heads, residual=residual, use_mask=use_mask,
                  learn_gamma=learn_gamma, gamma_init=gamma_init)
        self.ca1 = TextInjector(image_dim, text_dim, **kw)  # type: ignore[arg-type]
        self.ca2 = TextExtractor(image_dim, text_dim, heads=heads)
        self.ca3 = TextInjector(image_dim, text_dim, **kw)  # type: ignore[arg-type]
