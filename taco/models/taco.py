"""TACO: ELIC whose analysis transform is guided by text (paper §3, Fig. 4).

Only g_a changes. g_s, h_a, h_s and the entropy model are ELIC's, so :meth:`TACO.decompress`
is :meth:`ELIC.decompress` and takes no text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn as nn
from torch import Tensor

from ..text.base import TextTokens
from .adapter import Residual, TextAdapter
from .elic import ELIC, AnalysisTransform


class TextGuidedAnalysis(nn.Module):
    """g_a with the text adapter: stage1, stage2, CA1, stage3, stage4, CA2, CA3, stage5.

    x (B, 3, H, W) + text tokens (B, m, d) -> y (B, M, H/16, W/16).
    """

    def __init__(self, N: int, M: int, text_dim: int, **adapter: Any) -> None:
        super().__init__()
        self.base = AnalysisTransform(N, M)
        self.adapter = TextAdapter(N, text_dim, **adapter)

    def forward(self, x: Tensor, text: Tensor, mask: Tensor | None = None) -> Tensor:
        g, a = self.base, self.adapter
        v = g.stage2(g.stage1(x))  # (B, N, H/4, W/4)
        v = a.ca1(v, text, mask)
        v = g.stage4(g.stage3(v))  # (B, N, H/8, W/8)
        text = a.ca2(v, text)  # (B, m, d): text updated by the image
        v = a.ca3(v, text, mask)
        return g.stage5(v)  # (B, M, H/16, W/16)


class TACO(ELIC):
    """Text-guided ELIC. The caption enters through :class:`TextTokens` on the encoder side only."""

    uses_text = True

    def __init__(
        self,
        N: int = 192,
        M: int = 320,
        groups: Sequence[int] = (16, 16, 32, 64, 192),
        ctx_hidden: Sequence[int] = (224, 128),
        text_dim: int = 512,
        heads: int = 8,
        residual: Residual = "paper",
        use_mask: bool = False,
        learn_gamma: bool = True,
        gamma_init: float = 0.0,
    ) -> None:
        super().__init__(N, M, groups, ctx_hidden)
        self.text_dim = text_dim
        self.g_a = TextGuidedAnalysis(
            N, M, text_dim, heads=heads, residual=residual, use_mask=use_mask,
            learn_gamma=learn_gamma, gamma_init=gamma_init,
        )

    def analysis(self, x: Tensor, text: TextTokens | None = None) -> Tensor:
        if text is None:
            raise TypeError("TACO's encoder needs text tokens (a caption); use '' for none")
        if text.tokens.shape[-1] != self.text_dim:
            raise ValueError(
                f"text tokens have width {text.tokens.shape[-1]}, this model's adapter expects "
                f"{self.text_dim}: the text encoder does not match the checkpoint"
            )
        tokens = text.tokens.to(device=x.device, dtype=x.dtype)
        return self.g_a(x, tokens, text.mask.to(x.device))

    def forward(self, x: Tensor, text: TextTokens) -> dict[str, Any]:  # type: ignore[override]
        return self._forward_y(self.analysis(x, text))

    def compress(self, x: Tensor, text: TextTokens) -> dict[str, Any]:  # type: ignore[override]
        return self._compress_y(self.analysis(x, text))
