"""The presets with a text-guided backbone (docs/models.md, "Adding a backbone", textless=False):
preset elic is refused when the config is read, saying it reads text and naming preset taco
(it said only "cannot train the ... model", once the model was built), and --freeze-base
(preset taco-frozen-base, which trains TACO's g_a.adapter.* alone) is refused for every
architecture but taco; a text-free model refused --freeze-base is pointed at TACO's own models
of its width, not at a text-guided backbone (every one carries ELIC's default groups, so it
matched, and training it froze every parameter)."""

from __future__ import annotations

import re

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, load_config


@pytest.fixture()
def texty(register_texty):
    """``texty-tiny``: examples/mean_scale_backbone.py's model taking a caption it ignores,
    registered text-guided (clip-tiny) at ELIC's widths (N=192, M=320; groups are ELIC's
    default in every config), so that it matches model elic's width."""
    register_texty(192, 320)


def test_preset_elic_with_a_text_guided_model_says_why_and_what_trains_it(texty, capsys):
    with pytest.raises(ConfigError, match=re.escape(
            "preset 'elic' cannot train the texty model 'texty-tiny': it reads text (text encoder "
            "'clip-tiny'): train it with --set preset=taco")):
        load_config(None, ["preset=elic", "model=texty-tiny"])
    with pytest.raises(ConfigError, match=re.escape(
            "preset 'elic' cannot train the taco model 'taco-tiny': it reads text")):
        load_config(None, ["preset=elic", "model=taco-tiny"])
    assert load_config(None, ["preset=taco", "model=texty-tiny"]).preset == "taco"


def test_freeze_base_is_refused_for_a_text_guided_backbone(texty, capsys):
    message = ("preset 'taco-frozen-base' (--freeze-base) trains TACO's text adapter "
               "(g_a.adapter.*), which model 'texty-tiny' (architecture 'texty') lacks: use "
               "preset taco")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, ["preset=taco-frozen-base", "model=texty-tiny"])
    assert taco_main(["train", "--freeze-base", "--set", "model=texty-tiny", "--print-config"]) == 2
    assert message in capsys.readouterr().err
    assert load_config(None, ["preset=taco-frozen-base", "model=taco-tiny"]).preset == "taco-frozen-base"


def test_freeze_base_on_a_text_free_model_names_only_taco_models(texty):
    with pytest.raises(ConfigError) as caught:
        load_config(None, ["preset=taco-frozen-base", "model=elic"])
    message = str(caught.value)
    assert "--set model=taco" in message and "texty" not in message
