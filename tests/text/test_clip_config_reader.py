"""One reader of a CLIP folder's config.json (:func:`taco.text.clip.clip_text_config`): the width
:func:`taco.text.text_encoder_dim` sizes the text adapter for is the width the encoder loads,
whichever layout the config has, and a bad config is the same TextEncoderUnavailable for both."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import save_file

from taco.text import TextEncoderUnavailable, text_encoder_dim
from taco.text.clip import (
    TINY_CONFIG,
    TINY_DIM,
    clip_text_config,
    load_clip_text,
    seeded_clip_text,
)
from taco.text.weights import CONFIG_MAX_BYTES

#: What transformers ignores in an older CLIPModel config that also holds text_config_dict.
STALE = {**TINY_CONFIG, "hidden_size": 512, "intermediate_size": 2048}


@pytest.fixture()
def tiny_folder(tmp_path):
    """A folder with the tiny CLIP's text weights (width 32); each test writes its config.json."""
    save_file(seeded_clip_text(TINY_CONFIG, 0).state_dict(), tmp_path / "model.safetensors")
    return tmp_path


def write_config(folder, config) -> None:
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))


@pytest.mark.parametrize("config", [
    TINY_CONFIG,  # a CLIPTextModel's
    {"text_config": TINY_CONFIG},  # a CLIPModel's
    {"text_config_dict": TINY_CONFIG},  # an older CLIPModel's, without text_config
    {"text_config": STALE, "text_config_dict": TINY_CONFIG},  # the dict's values win
    {"text_config": {**TINY_CONFIG, "hidden_size": 512}, "text_config_dict": {"hidden_size": 32}},
], ids=["text-model", "text_config", "text_config_dict", "both", "dict-overrides-width"])
def test_the_adapter_width_is_the_width_the_encoder_loads(tiny_folder, config):
    write_config(tiny_folder, config)
    assert clip_text_config(tiny_folder)["hidden_size"] == TINY_DIM
    assert text_encoder_dim("clip", path=tiny_folder) == TINY_DIM
    assert load_clip_text(tiny_folder).hidden_size == TINY_DIM


def test_a_config_without_a_width_is_clip_b_s_for_both(tmp_path):
    """ClipText takes a missing size from CLIP ViT-B/32 (512); the width reader once refused it."""
    write_config(tmp_path, {"text_config_dict": {"num_hidden_layers": 2}})
    assert text_encoder_dim("clip", path=tmp_path) == clip_text_config(tmp_path)["hidden_size"] == 512


@pytest.mark.parametrize(("config", "says"), [
    ("{not json", "Expecting property name"),
    ("[" * 100_000, "nested too deeply"),
    ([1, 2], "not a JSON object"),
    ({"text_config": [1, 2]}, "text_config or text_config_dict is not a JSON object"),
    ({"text_config": TINY_CONFIG, "text_config_dict": "32"}, "is not a JSON object"),
    ({"text_config_dict": {"hidden_size": 10**30}}, "hidden_size must be an integer in"),
    ({"text_config": {"hidden_size": "512"}}, "hidden_size must be an integer in"),
    ({**TINY_CONFIG, "num_attention_heads": 3}, "not a multiple of num_attention_heads 3"),
])
def test_a_bad_config_is_the_same_error_for_both_readers(tiny_folder, config, says):
    write_config(tiny_folder, config)
    for read in (lambda: text_encoder_dim("clip", path=tiny_folder),
                 lambda: load_clip_text(tiny_folder)):
        with pytest.raises(TextEncoderUnavailable, match=says) as err:
            read()
        assert str(tiny_folder / "config.json") in str(err.value)


def test_a_config_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "config.json").write_bytes(b'{"hidden_size": "\xff"}')
    with pytest.raises(TextEncoderUnavailable, match=r"not a usable CLIP config \(not UTF-8 text\)$"):
        text_encoder_dim("clip", path=tmp_path)


def test_a_config_over_the_bound_is_refused_unparsed(tmp_path):
    """Valid JSON (spaces, then an object), but more bytes than a config has: refused by size."""
    (tmp_path / "config.json").write_text(" " * CONFIG_MAX_BYTES + json.dumps(TINY_CONFIG))
    with pytest.raises(TextEncoderUnavailable, match=f"over the {CONFIG_MAX_BYTES:,} taco reads"):
        clip_text_config(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(TINY_CONFIG))
    assert clip_text_config(tmp_path)["hidden_size"] == TINY_DIM


def test_a_folder_without_a_config_is_refused_not_given_the_default_width(tmp_path):
    """A folder that cannot say its width is refused naming it (a guess of 512 built a model
    whose checkpoint then would not load); a checkpoint's own width needs no folder."""
    with pytest.raises(TextEncoderUnavailable, match="config.json"):
        text_encoder_dim("clip", path=tmp_path)
    with pytest.raises(TextEncoderUnavailable, match="config.json"):
        load_clip_text(tmp_path)
