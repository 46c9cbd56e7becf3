"""A validation never costs the run its checkpoint (issue 14): at a step that is both, and at the
end, the checkpoint is written first; a failure of validation's real coding (float64 tables, the
entropy coder: a path the training step never takes) is said and recorded as NaN (null in log.jsonl), and the run
goes on. The time limit keeps room for both at the end."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import taco
from taco.errors import TacoWarning
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import load_config, train, trainer as trainer_module, validation
from taco.train.schedule import TimeBudget

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}
VAL = {"val.root": SAMPLES, "val.interval": 4, "val.images": 2, "val.crop": 64,
       "val.compress_images": 1}  # fmt: skip


def _strict(constant: str) -> None:
    raise AssertionError(f"log.jsonl holds {constant}, which is no JSON")


def _records(out: Path, kind: str) -> list[dict]:
    lines = (out / "log.jsonl").read_text().splitlines()
    return [r for r in (json.loads(line, parse_constant=_strict) for line in lines) if r["kind"] == kind]


def _broken_coding(*args, **kwargs):
    raise TypeError("no float64 table on this device")


def test_a_failing_real_coding_is_said_and_the_run_goes_on(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(validation, "_real_coding", _broken_coding)
    out = tmp_path / "run"
    with pytest.warns(TacoWarning) as caught:  # catchable by a library user, -W error included
        result = train(load_config(None, tiny(out, max_steps=8, ckpt_interval=4, **ELIC, **VAL)))
    said = [str(w.message) for w in caught if issubclass(w.category, TacoWarning)]
    said = [m for m in said if m.startswith("validation at")]  # not a photo's colour profile, nor val.root=data.root
    assert [m.split(" could")[0] for m in said] == ["validation at step 4", "validation at step 8"]
    assert all("TypeError: no float64 table" in m for m in said)
    assert result.step == 8
    assert taco.load(result.checkpoint).metadata["trained_steps"] == 8
    val = _records(out, "val")
    assert [r["step"] for r in val] == [4, 8]
    for r in val:
        assert r["real_bpp"] is None and r["real_psnr"] is None  # null: log.jsonl is strict JSON
        assert math.isfinite(r["loss"]) and math.isfinite(r["psnr"])  # measured all the same
        assert r["real_coding_error"].startswith("TypeError: no float64 table on this device (")
    assert [r["step"] for r in _records(out, "train")] == list(range(1, 9))
    script = Path(__file__).resolve().parents[2] / "scripts" / "gpu_slice.py"
    shown = subprocess.run([sys.executable, str(script), "report", str(out)], capture_output=True,
                           text=True, check=True).stdout  # the slice's report: what was not measured
    assert "real_bpp n/a real_psnr n/a" in shown


def test_a_variable_rate_model_codes_the_qualities_before_the_failure(tmp_path, monkeypatch):
    """The qualities coded before the failure keep their figures; the mean is NaN."""
    from taco.data import CaptionedFolder, center_crop_transform
    from taco.losses import TacoLoss
    from taco.models import create_model

    model = create_model("elic-tiny", seed=0, qualities=(0.001, 0.004, 0.01))
    real_coding = validation._real_coding

    def fails_at_q2(model, coded, text_encoder, quality=None):
        if quality == 2:
            raise RuntimeError("out of memory\nsecond line")
        return real_coding(model, coded, text_encoder, quality)

    monkeypatch.setattr(validation, "_real_coding", fails_at_q2)
    data = CaptionedFolder(SAMPLES, transform=center_crop_transform(64), caption_index=0)
    record = validation.validate(model, data, TacoLoss(k_j=0), lambda c: None, None,
                                 torch.device("cpu"), 2, compress_images=1)
    assert record["q1/real_bpp"] > 0 and math.isfinite(record["q1/real_psnr"])
    assert all(math.isnan(record[f"q{q}/real_bpp"]) for q in (2, 3))
    assert math.isnan(record["real_bpp"]) and math.isfinite(record["q3/loss"])
    assert record["real_coding_error"].startswith("RuntimeError: out of memory (")
    assert model.training


@pytest.mark.parametrize("at", [4, 8], ids=["interval", "end"])
def test_a_failing_validation_leaves_the_checkpoint_of_its_step(tmp_path, tiny, monkeypatch, at):
    """An error in validation that is not the real coding ends the run, after the checkpoint
    of its step is written (at an interval step and at the end)."""
    validate, steps = validation.validate, [4, 8]

    def fails_at(*args, **kwargs):
        if steps.pop(0) == at:
            raise RuntimeError("CUDA out of memory")
        return validate(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "validate", fails_at)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        train(load_config(None, tiny(out, max_steps=8, ckpt_interval=4, **ELIC, **VAL)))
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == at
    assert (out / "train_state.safetensors").exists()


def test_the_checkpoint_comes_before_the_validation_of_its_step(tmp_path, tiny, monkeypatch):
    calls: list[tuple[str, int]] = []
    save, validate = trainer_module.Trainer._save, trainer_module.Trainer._validate

    def saving(self, final=False):
        calls.append(("save", self.progress.step))
        return save(self, final=final)

    def validating(self):
        calls.append(("val", self.progress.step))
        return validate(self)

    monkeypatch.setattr(trainer_module.Trainer, "_save", saving)
    monkeypatch.setattr(trainer_module.Trainer, "_validate", validating)
    train(load_config(None, tiny(tmp_path / "a", max_steps=8, ckpt_interval=4, **ELIC, **VAL)))
    assert calls == [("save", 4), ("val", 4), ("save", 8), ("val", 8)]
    calls.clear()  # ends between validations: the final one still follows the final checkpoint
    train(load_config(None, tiny(tmp_path / "b", max_steps=6, ckpt_interval=2, **ELIC, **VAL)))
    assert calls == [("save", 2), ("save", 4), ("val", 4), ("save", 6), ("val", 6)]


def test_the_time_limit_keeps_room_for_the_final_checkpoint_and_validation():
    budget = TimeBudget(10.0)
    budget.start -= 4.0  # 4 s spent
    budget.note_step(1.0)
    budget.note_save(3.0)
    budget.note_save(1.0)  # the longest write counts
    assert budget.reserve == 3.0 and not budget.spent()  # 4 + 3 + 1 < 10
    budget.note_validation(2.5)
    budget.note_validation(0.5)
    assert budget.reserve == 5.5 and budget.spent()  # 4 + 3 + 2.5 + 1 >= 10: both at the end
    assert not TimeBudget(None).spent()
