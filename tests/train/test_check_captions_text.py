"""Captions that reach a training run without taco's captions-file reader (COCO / Karpathy JSON)
are checked at the run's start like the rest: a lone surrogate (a JSON ``\\ud800`` escape) is a
ConfigError naming the data, as a caption over the cap is."""

from __future__ import annotations

import pytest

from taco.train.caption_embeddings import check_captions
from taco.train.config import ConfigError


def test_a_lone_surrogate_is_refused_naming_the_data():
    with pytest.raises(ConfigError, match=r"^training/validation data: caption 'cat \\udcff' holds a lone surrogate"):
        check_captions(["a photo", "cat \udcff"])


def test_ordinary_captions_pass():
    check_captions(["a photo", "", "ünïcödé 猫"])
