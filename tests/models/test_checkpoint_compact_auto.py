"""Review F: a trained checkpoint was 10.0 MB where the same weights shipped as a built-in are
6.8 MB: it also held the Gaussian conditionals' coder tables, which a load rebuilds from the scale
table. ``save_checkpoint(compact_tables="auto")`` (training's checkpoints) leaves them out where a
load rebuilds them bit-exactly, checked as it saves, and keeps them where it would not."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import pytest
import torch
from safetensors import safe_open

import taco
import taco.models.checkpoint as checkpoint
from taco.errors import TacoValueError
from taco.models import create_model, load_checkpoint, model_fingerprint, save_checkpoint

GAUSSIAN_CDF = "latent_codec.gaussian_conditional._quantized_cdf"


def _contents(path):  # noqa: ANN001, ANN202
    with safe_open(str(path), framework="pt") as f:
        return set(f.keys()), json.loads(f.metadata()["taco"])  # noqa: SIM118


def _same_model(a, b):  # noqa: ANN001, ANN202
    """The models of files ``a`` and ``b``: the same weights and tables (the fingerprint a file
    is coded with covers them all)."""
    ma, mb = load_checkpoint(a), load_checkpoint(b)
    assert model_fingerprint(ma) == model_fingerprint(mb)
    return ma, mb


def test_auto_leaves_out_tables_a_load_rebuilds(tmp_path, sample_image):
    model = create_model("elic-tiny", seed=3)
    full = save_checkpoint(model, tmp_path / "full.safetensors", half=True)
    small = save_checkpoint(model, tmp_path / "small.safetensors", half=True, compact_tables="auto")
    assert GAUSSIAN_CDF in _contents(full)[0]  # the default keeps them; such files still load
    names, header = _contents(small)
    assert GAUSSIAN_CDF not in names and "gaussian_tables_sha256" in header
    assert full.stat().st_size - small.stat().st_size > 800_000  # 64 x 3133 int32 at least
    a, b = _same_model(full, small)
    crop = sample_image.crop((0, 0, 64, 64))
    assert taco.compress(crop, None, a) == taco.compress(crop, None, b)


def test_auto_keeps_tables_a_load_does_not_rebuild(tmp_path):
    model = create_model("elic-tiny", seed=3)
    scales = torch.exp(torch.linspace(math.log(0.11), math.log(600.0), 8))  # past the 512 a load takes
    model.update(scale_table=scales, force=True)
    kept = save_checkpoint(model, tmp_path / "kept.safetensors", compact_tables="auto")
    names, header = _contents(kept)
    assert GAUSSIAN_CDF in names and "gaussian_tables_sha256" not in header
    _same_model(save_checkpoint(model, tmp_path / "full.safetensors"), kept)
    with pytest.raises(ValueError, match="save this model without compact_tables"):
        save_checkpoint(model, tmp_path / "compact.safetensors", compact_tables=True)


def test_auto_keeps_tables_a_load_would_rebuild_otherwise(tmp_path, monkeypatch):
    """Saved compact, tables a load rebuilds differently made a file no load takes."""
    model = create_model("elic-tiny", seed=3)
    monkeypatch.setattr(checkpoint, "standard_normal_quantile", lambda q: NormalDist().inv_cdf(q * 4))
    kept = save_checkpoint(model, tmp_path / "kept.safetensors", compact_tables="auto")
    assert GAUSSIAN_CDF in _contents(kept)[0]
    with pytest.raises(TacoValueError, match="differ from its own: save it without compact_tables"):
        save_checkpoint(model, tmp_path / "compact.safetensors", compact_tables=True)
    assert not (tmp_path / "compact.safetensors").exists()
    monkeypatch.undo()
    load_checkpoint(kept)


def test_compact_tables_takes_true_false_or_auto(tmp_path):
    with pytest.raises(TypeError, match="compact_tables must be True, False or 'auto', not 'yes'"):
        save_checkpoint(create_model("elic-tiny"), tmp_path / "x.safetensors", compact_tables="yes")
