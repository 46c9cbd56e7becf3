"""scripts/ship_model.py's ``trained_on`` counts every step of a warm-started chain of slices
(``trained_steps_total``), not the last slice's alone (``trained_steps``); a missing checkpoint is
a usage error."""

from __future__ import annotations

import pytest

from taco.models import create_model, model_fingerprint, save_checkpoint


@pytest.mark.parametrize(("steps", "says"), [
    ({"trained_steps": 1500, "trained_steps_total": 4500}, "4500 steps on cuda"),  # the third slice
    ({"trained_steps": 1500}, "1500 steps on cuda"),  # a checkpoint of before the total
])
def test_trained_on_counts_the_steps_of_every_slice(ship, tmp_path, capsys, steps, says):
    meta = {"lambda": None, "device": "cuda", "train_data": {"root": "data/photos/train", "images": 120}, **steps}
    trained = save_checkpoint(create_model("elic-tiny"), tmp_path / "run.safetensors", metadata=meta)
    ship.main([str(trained), "new-built-in"])
    assert f'trained_on="train (120 images), {says}",' in capsys.readouterr().out


def test_the_entry_records_the_fingerprint_files_made_with_the_shipped_weights_carry(ship, tmp_path, capsys):
    """The fp16 weights shipped (not the fp32 checkpoint's): what a .taco file of the built-in carries,
    which taco info compares (taco.resolve.decoding_needs)."""
    import numpy as np

    import taco
    from taco.models import load_checkpoint

    trained = save_checkpoint(create_model("elic-tiny"), tmp_path / "run.safetensors", metadata={"lambda": 0.004})
    ship.main([str(trained), "new-built-in"])
    printed = capsys.readouterr().out
    model = load_checkpoint(tmp_path / "new-built-in.safetensors")
    made = taco.compress(np.zeros((32, 32, 3), np.uint8), "", model=model)
    assert f'fingerprint="{taco.info(made).header.fingerprint.hex()}",' in printed
    assert f'fingerprint="{model_fingerprint(load_checkpoint(trained)).hex()}",' not in printed  # not the fp32 one


def test_a_missing_checkpoint_is_a_usage_error(ship, tmp_path, capsys):
    """python scripts/ship_model.py /tmp/nonexist.safetensors x ended in a CheckpointError
    traceback: one line now, exit 2, nothing shipped."""
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(SystemExit) as exc:
        ship.main([str(missing), "new-built-in"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert ": error: " in err and f"{missing}: no such checkpoint file" in err and "Traceback" not in err
    assert not (tmp_path / "new-built-in.safetensors").exists()
