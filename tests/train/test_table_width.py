"""table_width returned None when the text encoder could say its width, so the model being built
asked the encoder again (a custom encoder's config.json read twice): it is the encoder's width
itself now, and the caption-embeddings file's only when the encoder cannot say."""

from __future__ import annotations

from taco.text import text_encoder_dim
from taco.train.config import config_from_dict
from taco.train.model_setup import table_width, text_encoder_spec


def test_the_width_is_the_encoders_when_it_can_say(tmp_path):
    cfg = config_from_dict({"model": "taco-tiny", "text_embeddings": str(tmp_path / "t.safetensors")})
    spec = text_encoder_spec(cfg)
    assert spec is not None
    assert table_width(cfg) == text_encoder_dim(**spec)


def test_no_table_or_no_text_encoder_is_none():
    assert table_width(config_from_dict({"model": "taco-tiny"})) is None
    assert table_width(config_from_dict({"model": "elic-tiny", "preset": "elic",
                                         "text_embeddings": "t.safetensors"})) is None
