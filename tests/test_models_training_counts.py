"""``taco models CHECKPOINT`` counts a checkpoint's steps and images in the right number."""

from __future__ import annotations

from taco.cli import main
from taco.models import create_model, save_checkpoint


def test_a_checkpoint_trained_one_step_on_one_image(tmp_path, capsys):
    record = {"trained_steps_total": 1, "epochs": 1.0, "train_data": {"root": "photos", "images": 1}}
    ckpt = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "one.safetensors",
                           model_id="one", metadata=record)
    assert main(["models", str(ckpt)]) == 0
    assert "training: 1 step, 1.0 epochs, data photos (1 image)\n" in capsys.readouterr().out
