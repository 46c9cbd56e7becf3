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

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .config import RESIDUALS, check_choice


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
        residual: str = "paper",
        use_mask: bool = False,
        learn_gamma: bool = True,
        gamma_init: float = 0.0,
    ) -> None:
        super().__init__()
        check_choice("residual", residual, RESIDUALS)
        self.text_proj = nn.Linear(text_dim, image_dim)
        nn.init.kaiming_normal_(self.text_proj.weight)  # as in the reference code
        self.text_norm = nn.LayerNorm(image_dim)
        self.image_norm = nn.LayerNorm(image_dim)
        self.attn = nn.MultiheadAttention(image_dim, heads, batch_first=True)
        self.gamma = nn.Parameter(torch.full((image_dim,), float(gamma_init)), requires_grad=bool(learn_gamma))
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

    image: (B, N, H, W), text: (B, m, d) -> (B, m, d). With ``chunk_rows`` the image is read
    that many rows at a time (:meth:`attend_in_chunks`), for big images.
    """

    def __init__(self, image_dim: int, text_dim: int, heads: int = 8) -> None:
        super().__init__()
        self.image_proj = nn.Linear(image_dim, text_dim)
        nn.init.kaiming_normal_(self.image_proj.weight)
        self.image_norm = nn.LayerNorm(text_dim)
        self.text_norm = nn.LayerNorm(text_dim)
        self.attn = nn.MultiheadAttention(text_dim, heads, batch_first=True)

    def forward(self, image: Tensor, text: Tensor, chunk_rows: int | None = None) -> Tensor:
        q = self.text_norm(text)  # (B, m, d)
        if chunk_rows is not None and chunk_rows < image.shape[-2]:
            return q + self.attend_in_chunks(q, image, chunk_rows)
        v = self.image_norm(self.image_proj(to_tokens(image)))  # (B, HW, d)
        attended, _ = self.attn(q, v, v, need_weights=False)
        return q + attended

    def attend_in_chunks(self, q: Tensor, image: Tensor, rows: int) -> Tensor:
        """``self.attn(q, v, v)`` for v the projected tokens of ``image`` (B, N, H, W), taking
        ``rows`` rows of the image at a time: each chunk's keys and values are made, scored and
        folded into a running softmax (max, sum and weighted values per query, rescaled as the
        max grows), so the (B, HW, d) projections never exist whole (at d = 384, CA2 on the H/8
        map of a 12 MP image took +1,378 MiB whole). Equal to the whole attention up to float
        rounding.
        q (B, m, d) -> (B, m, d)."""
        mha = self.attn
        assert mha.in_proj_bias is not None and mha.bias_k is None and not mha.add_zero_attn
        b, m, d = q.shape
        heads = mha.num_heads
        w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        b_q, b_k, b_v = mha.in_proj_bias.chunk(3)

        def split(t: Tensor) -> Tensor:  # (B, n, d) -> (B, heads, n, d / heads)
            return t.unflatten(-1, (heads, d // heads)).transpose(1, 2)

        qh = split(F.linear(q, w_q, b_q)) * (d // heads) ** -0.5
        best = qh.new_full((b, heads, m, 1), float("-inf"))  # running max score per query
        total = qh.new_zeros((b, heads, m, 1))  # running sum of exp(score - best)
        acc = qh.new_zeros((b, heads, m, d // heads))  # running sum of exp(score - best) * value
        for a in range(0, image.shape[-2], rows):
            v = self.image_norm(self.image_proj(to_tokens(image[..., a : a + rows, :])))  # (B, n, d)
            scores = qh @ split(F.linear(v, w_k, b_k)).transpose(-1, -2)  # (B, heads, m, n)
            new_best = torch.maximum(best, scores.amax(-1, keepdim=True))
            keep = (best - new_best).exp()
            p = (scores - new_best).exp()
            total = total * keep + p.sum(-1, keepdim=True)
            acc = acc * keep + p @ split(F.linear(v, w_v, b_v))
            best = new_best
        out = (acc / total).transpose(1, 2).flatten(2)  # (B, m, d)
        return mha.out_proj(out)


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
        residual: str = "paper",
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
