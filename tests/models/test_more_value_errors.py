"""More of a caller's bad argument values are TacoValueError (still ValueError), as
docs/reliability.md "What to catch" says: a quality on a direct model call, unknown text-encoder
names and options, a text encoder's max_tokens, a save_checkpoint model id, channel groups."""

from __future__ import annotations

import pytest
import torch

from taco.errors import TacoValueError
from taco.models import create_model, save_checkpoint
from taco.models.gains import check_quality
from taco.text import build_text_encoder


@pytest.mark.parametrize(("quality", "count", "said"), [
    (3, None, "this is a single-rate model: it takes no quality"),
    (None, 6, "this is a variable-rate model: give quality=1..6"),
    (9, 6, "quality must be an integer 1..6, got 9"),
])
def test_a_model_call_quality(quality, count, said):
    with pytest.raises(TacoValueError, match=said) as info:
        check_quality(quality, count)
    assert isinstance(info.value, ValueError)


def test_text_encoder_names_and_options():
    with pytest.raises(TacoValueError, match="unknown text encoder 'nope'"):
        build_text_encoder("nope")
    with pytest.raises(TacoValueError, match="text encoder 'clip-tiny' takes options"):
        build_text_encoder("clip-tiny", colour=1)
    with pytest.raises(TacoValueError, match=r"max_tokens must be in \[2, "):
        build_text_encoder("clip-tiny", max_tokens=1)


def test_a_model_id_save_checkpoint_refuses(tmp_path):
    model = create_model("elic-tiny", seed=0)
    with pytest.raises(TacoValueError, match="model id"):
        save_checkpoint(model, tmp_path / "m.safetensors", model_id="bad id\n")


def test_a_model_given_text_for_its_quality():
    model = create_model("elic-tiny", seed=0).eval()
    with pytest.raises(TacoValueError, match="quality must be an int or None, not str"):
        model.compress(torch.zeros(1, 3, 64, 64), "a caption")
