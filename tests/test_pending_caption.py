"""Only TACO's own analysis is handed a caption still being encoded (a CaptionFuture): a TACO
subclass that overrides ``analysis`` (and reads ``text.tokens``, as docs/models.md says a model
gets them) was handed the Future on a CPU, and failed with an AttributeError."""

from __future__ import annotations

import types

import torch

from taco.codec import analysis_with_text_overlap, takes_pending_caption
from taco.models import TACO, create_model
from taco.text.base import TextTokens


class OwnAnalysis(TACO):
    seen: list[type] = []

    def analysis(self, x, text=None, *, stripe_rows=None):
        OwnAnalysis.seen.append(type(text))
        assert text.tokens.shape[0] == x.shape[0]
        return TACO.analysis(self, x, text, stripe_rows=stripe_rows)


class SameAnalysis(TACO):
    pass


def _as(cls: type, model: TACO) -> TACO:
    model.__class__ = cls
    return model


def test_a_subclass_overriding_analysis_gets_the_tokens_even_with_overlap():
    model = _as(OwnAnalysis, create_model("taco-tiny", seed=0))
    x = torch.rand(1, 3, 64, 64)
    OwnAnalysis.seen.clear()
    for overlap in (None, True, False):
        y = analysis_with_text_overlap(model, x, ["a cat"], overlap=overlap)
        assert y.shape[:2] == (1, model.M)
    assert OwnAnalysis.seen == [TextTokens] * 3


def test_which_models_take_a_pending_caption():
    assert takes_pending_caption(create_model("taco-tiny", seed=0))
    assert takes_pending_caption(_as(SameAnalysis, create_model("taco-tiny", seed=0)))
    assert not takes_pending_caption(_as(OwnAnalysis, create_model("taco-tiny", seed=0)))
    assert not takes_pending_caption(create_model("elic-tiny", seed=0))
    patched = create_model("taco-tiny", seed=0)  # analysis looked up on the instance first
    patched.analysis = types.MethodType(OwnAnalysis.analysis, patched)
    assert not takes_pending_caption(patched)
