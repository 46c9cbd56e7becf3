"""Review F: a run's checkpoint held the Gaussian conditionals' coder tables, which a load
rebuilds from the scale table (10.0 MB where the same weights ship as a 6.8 MB built-in)."""

from __future__ import annotations

from safetensors import safe_open

from taco.models import create_model, load_checkpoint, model_fingerprint, save_checkpoint
from taco.train.checkpoints import write_checkpoint


def test_a_runs_checkpoint_leaves_out_the_tables_a_load_rebuilds(tmp_path):
    model = create_model("elic-tiny", seed=3)
    path = write_checkpoint(model, tmp_path, {"lambda": 0.002})
    with safe_open(str(path), framework="pt") as f:
        assert not [k for k in f.keys() if k.endswith("gaussian_conditional._quantized_cdf")]  # noqa: SIM118
    full = save_checkpoint(model, tmp_path / "full.safetensors", half=True)  # tables kept
    assert model_fingerprint(load_checkpoint(path)) == model_fingerprint(load_checkpoint(full))
