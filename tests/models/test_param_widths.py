"""ModelConfig.param_widths: the hidden widths of the reference layout's entropy-parameter
networks, "elic-2023" (every model before the option: digests and fingerprints unchanged) or
"elic-2024" (JiangWeibeta/ELIC since b240a4c, 2024-09-25; docs/official.md)."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

import taco
from taco.errors import TacoValueError
from taco.models import ModelConfig, model_fingerprint, save_checkpoint
from taco.models.config import parameter_widths


def test_rules_at_paper_size():
    """Group 0's anchor network at M=320, c=16: 640 -> 53 -> 42 -> 32 as released, 640 -> 436
    -> 234 -> 32 since 2024-09-25."""
    assert parameter_widths("elic-2023", 640, 32) == (53, 42)
    assert parameter_widths("elic-2024", 640, 32) == (436, 234)
    with pytest.raises(TacoValueError, match="param_widths must be 'elic-2023' or 'elic-2024'"):
        parameter_widths("elic-2025", 640, 32)


def test_default_leaves_the_digest_as_it_was():
    cfg = ModelConfig(architecture="elic", N=16, M=32, groups=[8, 8, 16], ctx_hidden=[16, 16])
    assert cfg.param_widths == "elic-2023"
    old = {k: v for k, v in dataclasses.asdict(cfg).items()
           if k not in ("param_widths", "text_injection", "injector_at", "qualities", "options")
           and not (k == "layout" and v == "compressai")}
    blob = json.dumps(old, sort_keys=True, separators=(",", ":")).encode()
    assert cfg.digest() == hashlib.sha256(blob).hexdigest()
    assert ModelConfig.from_dict(old) == cfg  # a config written before the field
    assert "param_widths" not in cfg.to_dict()  # checkpoints record the config they always did
    assert dataclasses.replace(cfg, param_widths="elic-2024").to_dict()["param_widths"] == "elic-2024"
    assert dataclasses.replace(cfg, param_widths="elic-2024").digest() != cfg.digest()


def test_refused_outside_the_reference_layout_and_by_other_names():
    with pytest.raises(TacoValueError, match="param_widths='elic-2024' needs layout='reference'"):
        ModelConfig(architecture="elic", layout="compressai", param_widths="elic-2024")
    with pytest.raises(TacoValueError, match="param_widths must be"):
        ModelConfig(architecture="elic", param_widths="2024")


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_models_of_2024_widths_save_load_and_code(name, tmp_path, sample_image):
    model = taco.create_model(name, param_widths="elic-2024")
    first = model.latent_codec.anchor_parameters[0]
    assert (first[0].out_channels, first[2].out_channels) == parameter_widths("elic-2024", 64, 16)
    assert model_fingerprint(model) != model_fingerprint(taco.create_model(name))
    loaded = taco.load(save_checkpoint(model, tmp_path / "m.safetensors"))
    assert loaded.config.param_widths == "elic-2024"
    assert model_fingerprint(loaded) == model_fingerprint(model)
    crop = sample_image.crop((0, 0, 64, 64))
    data = taco.compress(crop, "a cat", loaded)
    assert taco.decompress(data, loaded).size == (64, 64)
