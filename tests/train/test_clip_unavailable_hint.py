"""Review M: train's error for a CLIP model without CLIP's files read "...Hugging Face cache.;
or train a model whose MiniLM text encoder works offline": one sentence, no '.;'."""

import pytest

import taco.text
from taco.errors import TextEncoderUnavailable
from taco.train import load_config
from taco.train.trainer import check_text_encoder


def test_the_offline_hint_follows_the_encoders_words_without_a_stray_period(monkeypatch):
    def missing(spec, **kw):
        raise TextEncoderUnavailable("no CLIP files here. To fix: fill the Hugging Face cache.")

    monkeypatch.setattr(taco.text, "text_encoder_from_spec", missing)
    with pytest.raises(TextEncoderUnavailable) as e:
        check_text_encoder(load_config(None, ["model=taco", "k_j=0"]))
    said = str(e.value)
    assert "cache.;" not in said
    assert "fill the Hugging Face cache; or train a model whose MiniLM text encoder works offline" in said
