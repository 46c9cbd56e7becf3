"""--resume with the GPU recipe's speed options (issue 14): a run halted and resumed computes
what an uninterrupted one does, whatever the memory format of the weights and of Adam's
moments (channels_last) and however Adam steps (fused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from taco.train import Trainer, load_config, train

#: A model without text: a text encoder may give a caption other last bits in another batch
#: (its cache), which a resumed run sees in other batches than an uninterrupted one.
ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def _losses(out: Path) -> list[tuple[int, float, float]]:
    lines = (out / "log.jsonl").read_text().splitlines()
    return [(r["step"], r["loss"], r["grad_norm"]) for r in map(json.loads, lines)
            if r["kind"] == "train"]  # fmt: skip


@pytest.mark.parametrize("options", [
    {"fused_adam": True, "channels_last": True},
    {"channels_last": True},
    {"fused_adam": True, "channels_last": True, "bf16": True},
], ids=lambda o: "+".join(o))  # fmt: skip
def test_a_resumed_run_with_speed_options_continues_exactly(tmp_path, tiny, options):
    straight, halted = tmp_path / "straight", tmp_path / "halted"
    train(load_config(None, tiny(straight, max_steps=6, ckpt_interval=3, **ELIC, **options)))
    train(load_config(None, tiny(halted, max_steps=3, ckpt_interval=3, **ELIC, **options)))
    train(load_config(None, tiny(halted, max_steps=6, ckpt_interval=3, **ELIC, **options)), resume=halted)
    a, b = _losses(straight), _losses(halted)
    assert [s for s, _, _ in b] == [1, 2, 3, 4, 5, 6]
    assert a == b
    wa, wb = (load_file(p / "checkpoint.safetensors") for p in (straight, halted))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resumed_adam_moments_are_laid_out_like_their_parameters(tmp_path, tiny):
    """A fresh run's Adam makes its moments like each parameter (channels_last for a conv
    weight); the resumed ones are the same tensors in the same layout (fused Adam walks the
    storage of all of them in step)."""
    out = tmp_path / "run"
    options = {"fused_adam": True, "channels_last": True}
    train(load_config(None, tiny(out, max_steps=2, **ELIC, **options)))
    trainer = Trainer(load_config(None, tiny(out, max_steps=4, **ELIC, **options)), resume=out)
    try:
        convs = [p for p in trainer.model.parameters() if p.dim() == 4 and p.requires_grad]
        assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
        for p in convs:
            state = trainer.optimizer.state[p]
            for key in ("exp_avg", "exp_avg_sq"):
                assert state[key].stride() == p.stride(), key
    finally:
        trainer.close()
