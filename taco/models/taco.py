"""TACO: ELIC whose analysis transform is guided by text (paper §3, Fig. 4).

Only g_a changes. g_s, h_a, h_s and the entropy model are ELIC's (in either layout, see
:mod:`taco.models.elic`), so :meth:`TACO.decompress` is :meth:`ELIC.decompress` and takes no text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import torch
import torch.nn as nn
from torch import Tensor

from ..errors import TacoValueError
from ..text.base import TextTokens
from .adapter import TextAdapter, TextExtractor, TextInjector
from .config import INJECTOR_POSITIONS, TEXT_INJECTIONS, check_choice
from .elic import ANALYSIS_HALO, ELIC, AnalysisTransform, check_input, in_stripes
from .tgic import TGICInjection

#: The injector positions of one resolution only (:class:`PartialTextAdapter`).
PARTIAL_POSITIONS = tuple(p for p in INJECTOR_POSITIONS if p != "both")
#: Text still being encoded: called by g_a when CA1 first needs it -> (tokens, mask).
PendingText = Callable[[], tuple[Tensor, Tensor | None]]


class PartialTextAdapter(nn.Module):
    """The text adapter at one resolution only (ablation, issue 8).

    ``at="h4"``: CA1 only (no extractor, no CA3). ``at="h8"``: CA2 and CA3 only (no CA1).
    """

    def __init__(self, image_dim: int, text_dim: int, at: str, heads: int = 8,
                 **injector: Any) -> None:
        super().__init__()
        check_choice("at", at, PARTIAL_POSITIONS)
        h4 = at == "h4"
        self.ca1 = TextInjector(image_dim, text_dim, heads, **injector) if h4 else None
        self.ca2 = None if h4 else TextExtractor(image_dim, text_dim, heads=heads)
        self.ca3 = None if h4 else TextInjector(image_dim, text_dim, heads, **injector)


# The adapter's options that TGIC has no use for, with their defaults (anything else is refused).
_ADAPTER_ONLY = {"residual": "paper", "learn_gamma": True, "gamma_init": 0.0}


class TextGuidedAnalysis(nn.Module):
    """g_a with the text adapter: stage1, stage2, CA1, stage3, stage4, CA2, CA3, stage5.

    x (B, 3, H, W) + text tokens (B, m, d) -> y (B, M, H/16, W/16).

    ``self.adapter`` holds the text modules in three slots: ``ca1`` (text -> image at H/4),
    ``ca2`` (image -> text at H/8) and ``ca3`` (text -> image at H/8); an empty slot is ``None``
    and skipped. ``text_injection="adapter"`` with ``injector_at="both"`` is the paper's
    :class:`TextAdapter`; "h4" / "h8" keep only CA1 / only CA2+CA3 (:class:`PartialTextAdapter`);
    ``text_injection="tgic"`` puts TGIC's image-text attention in the CA1 and CA3 slots
    (:class:`~taco.models.tgic.TGICInjection`), which takes ``use_mask`` but not the adapter's
    residual / gamma options.
    """

    def __init__(
        self,
        N: int,
        M: int,
        text_dim: int,
        text_injection: str = "adapter",
        injector_at: str = "both",
        **adapter: Any,
    ) -> None:
        super().__init__()
        check_choice("text_injection", text_injection, TEXT_INJECTIONS)
        check_choice("injector_at", injector_at, INJECTOR_POSITIONS)
        self.base = AnalysisTransform(N, M)
        self.adapter: TextAdapter | PartialTextAdapter | TGICInjection
        if text_injection == "tgic":
            unused = sorted(k for k, v in _ADAPTER_ONLY.items() if adapter.get(k, v) != v)
            if unused:
                raise TacoValueError(f"TGIC text injection has no option {', '.join(unused)}")
            self.adapter = TGICInjection(N, text_dim, injector_at, adapter.get("use_mask", False))
        elif injector_at == "both":
            self.adapter = TextAdapter(N, text_dim, **adapter)
        else:
            self.adapter = PartialTextAdapter(N, text_dim, injector_at, **adapter)

    def forward(
        self, x: Tensor, text: Tensor | PendingText, mask: Tensor | None = None,
        stripe_rows: int | None = None, *, halo: int = ANALYSIS_HALO,
    ) -> Tensor:
        """``text``: tokens (B, m, d), or a callable giving (tokens, mask) that is called only
        here, once stages 1-2 have run: the caption can be encoded meanwhile (:meth:`TACO.analysis`).

        ``stripe_rows``: stages 1-4 with CA1 in horizontal stripes of that many rows at H/8, each
        reading ``halo`` rows beyond its own (the model's ``analysis_halo``, which
        :meth:`TACO.analysis` passes; :func:`~taco.models.elic.in_stripes`: each position's CA1
        queries the text on its own, so CA1 stripes like a convolution); CA2, which lets the
        text attend to every image token, then reads the assembled H/8 map in chunks of as many
        rows, CA3 runs on stripes of it (one row of halo: TGIC's module has a 3x3 convolution)
        and stage 5 on the whole map. The result equals the whole image's up to float rounding.
        None: all at once.
        """
        g, a = self.base, self.adapter

        def to_h8(x: Tensor) -> Tensor:  # (B, 3, H, W) -> (B, N, H/8, W/8)
            nonlocal text, mask
            v = g.stage2(g.stage1(x))  # (B, N, H/4, W/4)
            if callable(text):
                text, mask = text()
            if a.ca1 is not None:
                v = a.ca1(v, text, mask)
            return g.stage4(g.stage3(v))

        v = to_h8(x) if stripe_rows is None else in_stripes(to_h8, x, stripe_rows, halo)
        assert not callable(text)
        if a.ca2 is not None:
            text = a.ca2(v, text, stripe_rows)  # (B, m, d): text updated by the image
        if a.ca3 is not None:
            ca3, t = a.ca3, text
            if stripe_rows is None:
                v = ca3(v, t, mask)
            else:  # whole, it took +137 MiB at 12 MP, growing with the image
                v = in_stripes(lambda s: ca3(s, t, mask), v, stripe_rows, halo=1, scale=1, reported=False)
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
        residual: str = "paper",
        use_mask: bool = False,
        learn_gamma: bool = True,
        gamma_init: float = 0.0,
        text_injection: str = "adapter",
        injector_at: str = "both",
        layout: str = "reference",
        qualities: Sequence[float] | None = None,
        param_widths: str = "elic-2023",
    ) -> None:
        super().__init__(N, M, groups, ctx_hidden, layout, qualities, param_widths)
        self.text_dim = text_dim
        self.g_a = TextGuidedAnalysis(
            N, M, text_dim, text_injection, injector_at, heads=heads, residual=residual,
            use_mask=use_mask, learn_gamma=learn_gamma, gamma_init=gamma_init,
        )

    def analysis(
        self, x: Tensor, text: TextTokens | Future[TextTokens] | None = None, *,
        stripe_rows: int | None = None,
    ) -> Tensor:
        """g_a: x (B, 3, H, W) + text -> y (B, M, H/16, W/16).

        ``text`` may still be on its way (a :class:`~concurrent.futures.Future`, e.g. the caption
        encoded on another thread): g_a runs its first two stages, then waits for it at CA1.
        ``stripe_rows``: the early stages in stripes of that many rows at H/8
        (:class:`TextGuidedAnalysis`); None: the whole image at once.
        """
        if text is None:
            raise TypeError("TACO's encoder needs text tokens (a caption); use '' for none")
        if isinstance(text, Future):
            pending = text
            return self.g_a(x, lambda: self._text_inputs(pending.result(), x), None, stripe_rows,
                            halo=self.analysis_halo)
        return self.g_a(x, *self._text_inputs(text, x), stripe_rows, halo=self.analysis_halo)

    def _text_inputs(self, text: TextTokens, like: Tensor) -> tuple[Tensor, Tensor]:
        """Check the tokens (one caption per image, the adapter's width); move them to ``like``'s
        device and dtype."""
        if not isinstance(text, TextTokens):
            raise TypeError(f"text must be TextTokens, not {type(text).__name__}: make them with "
                            "taco.codec.encode_text(model, captions), one caption per image")
        if text.tokens.shape[0] != like.shape[0]:
            raise TacoValueError(f"{like.shape[0]} image(s) but {text.tokens.shape[0]} caption(s)")
        if text.tokens.shape[-1] != self.text_dim:
            raise TacoValueError(
                f"text tokens have width {text.tokens.shape[-1]}, this model's adapter expects "
                f"{self.text_dim}: the text encoder does not match the checkpoint"
            )
        return text.tokens.to(device=like.device, dtype=like.dtype), text.mask.to(like.device)

    def forward(  # type: ignore[override]
        self, x: Tensor, text: TextTokens, quality: int | None = None
    ) -> dict[str, Any]:
        return self._forward_y(self.analysis(check_input(x), text), quality)

    @torch.no_grad()
    def compress(  # type: ignore[override]
        self, x: Tensor, text: TextTokens, quality: int | None = None
    ) -> dict[str, Any]:
        return self._compress_y(self.analysis(check_input(x), text), quality)
