"""TrainConfig.validate refuses each out-of-range value with a ConfigError naming its key."""

from __future__ import annotations

import pytest

from taco.train import load_config
from taco.train.config import ConfigError


@pytest.mark.parametrize(("overrides", "words"), [
    (["warmup_steps=-1"], "warmup_steps must be >= 0, got -1"),
    (["val.crop=96"], "val.crop must be a multiple of 64, got 96"),
    (["workers=-1"], "workers must be >= 0, got -1"),
    (["preset=elic", "text_encoder=minilm"], "preset elic trains ELIC, which takes no text encoder"),
])
def test_a_value_out_of_range_is_refused_naming_its_key(overrides, words):
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        load_config(None, overrides)


@pytest.mark.parametrize("overrides", [["warmup_steps=0"], ["val.crop=128"], ["workers=0"],
                                       ["preset=elic"]])
def test_the_value_at_the_bound_is_taken(overrides):
    load_config(None, overrides)
