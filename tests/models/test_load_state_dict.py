"""Review IO #1, #3: the CompressAI idiom ``net = Arch(); net.load_state_dict(sd)`` on a model
taco built (its tables already built), and a bare ``ELIC(...)`` given to save_checkpoint or
model_fingerprint.

#1: ``load_state_dict`` refused a state whose entropy-coder tables had other sizes (a fine-tune
saved after ``update(force=True)``, more scale levels): 'size mismatch for
...entropy_bottleneck._quantized_cdf'. It now resizes them as taco's own loading does, and the
model then codes the bytes of the same model saved and loaded the taco way.
#3: both raised AttributeError: 'ELIC' object has no attribute 'config'."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from compressai.entropy_models import EntropyBottleneck

import taco
from taco.models import ELIC, create_model, model_fingerprint, save_checkpoint


def _image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def _fine_tuned() -> ELIC:
    """elic-tiny with other bottleneck densities and tables rebuilt: a CompressAI-style fine-tune."""
    net = create_model("elic-tiny", seed=0).eval()
    (eb,) = [m for m in net.modules() if isinstance(m, EntropyBottleneck)]
    with torch.no_grad():
        eb.quantiles.mul_(1.5)
    net.update(force=True)
    return net


def test_fine_tuned_state_dict_loads_into_a_built_model_and_codes_as_a_taco_load(tmp_path):
    tuned = _fine_tuned()
    sd = tuned.state_dict()
    fresh = create_model("elic-tiny", seed=0).eval()
    (key,) = [k for k in sd if k.endswith("entropy_bottleneck._quantized_cdf")]
    assert fresh.state_dict()[key].shape != sd[key].shape  # what made the load fail
    result = fresh.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    for k, v in sd.items():
        assert torch.equal(fresh.state_dict()[k], v), k
    taco_way = taco.load(save_checkpoint(tuned, tmp_path / "tuned.safetensors"))
    img = _image()
    assert taco.compress(img, None, fresh) == taco.compress(img, None, taco_way)


def test_state_dict_with_more_scale_levels_loads():
    finer = create_model("elic-tiny", seed=0).eval()
    finer.set_scale_levels(128)
    model = create_model("elic-tiny", seed=0).eval()
    assert model.scale_levels == 64
    model.load_state_dict(finer.state_dict())
    assert model.scale_levels == 128
    img = _image()
    assert taco.compress(img, None, model) == taco.compress(img, None, finer)


def test_load_state_dict_still_refuses_other_weights_and_keys():
    model = create_model("elic-tiny", seed=0)
    sd = model.state_dict()
    weight = next(k for k, v in sd.items() if v.dim() == 4)
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict({**sd, weight: torch.zeros(1, 1, 1, 1)})
    with pytest.raises(RuntimeError, match="Unexpected key"):
        model.load_state_dict({**sd, "extra": torch.zeros(1)})
    assert model.load_state_dict({**sd, "extra": torch.zeros(1)}, strict=False).unexpected_keys == [
        "extra"]


def test_bare_elic_is_refused_by_save_checkpoint_and_model_fingerprint(tmp_path):
    bare = ELIC(N=16, M=32, groups=[8, 8, 16], ctx_hidden=(16, 16)).eval()
    bare.update()
    for call, name in ((lambda: save_checkpoint(bare, tmp_path / "bare.safetensors"),
                        "save_checkpoint"),
                       (lambda: model_fingerprint(bare), "model_fingerprint")):
        with pytest.raises(TypeError, match=f"^{name}: this ELIC was built without a ModelConfig"
                                            ".*taco.create_model"):
            call()
    assert not (tmp_path / "bare.safetensors").exists()


def test_load_state_dict_still_reads_old_compressai_bottleneck_names():
    """CompressAI's ``load_state_dict`` read ``_matrix0`` as ``matrices.0``; taco's keeps that."""
    sd = create_model("elic-tiny", seed=0).state_dict()
    old = {re.sub(r"entropy_bottleneck\.matrices\.(\d+)$", r"entropy_bottleneck._matrix\1", k): v
           for k, v in sd.items()}
    assert old.keys() != sd.keys()
    model = create_model("elic-tiny", seed=1)
    model.load_state_dict(old)
    for k, v in sd.items():
        assert torch.equal(model.state_dict()[k], v), k
