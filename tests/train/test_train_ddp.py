"""Two processes under torchrun (gloo, CPU) train like one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import taco
from taco.train import load_config, train
from taco.train.state import prefixed

REPO = Path(__file__).resolve().parents[2]


def test_two_process_ddp_equals_one_process(tmp_path, tiny):
    """In CI (not slow): one step, two gloo processes -- ~20 s, nearly all of it imports."""
    ddp, one = tmp_path / "ddp", tmp_path / "one"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "taco.train", "--set", *tiny(ddp, batch_size=2, k_j=0, max_steps=1),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    train(load_config(None, tiny(one, batch_size=4, k_j=0, max_steps=1)))

    # rank 0 alone writes and talks
    assert sorted(p.name for p in ddp.iterdir()) == [
        "checkpoint.safetensors", "config.yaml", "log.jsonl", "train_state.safetensors"]
    assert proc.stderr.count("done: 1 step (") == 1
    assert proc.stderr.count(" x 2 processes x batch 2") == 1
    (record,) = [json.loads(line) for line in (ddp / "log.jsonl").read_text().splitlines()]
    meta = taco.load(ddp / "checkpoint.safetensors").metadata
    assert (meta["world_size"], meta["global_batch"], meta["replicas_in_sync"]) == (2, 4, True)
    assert load_file(ddp / "train_state.safetensors")["rng/torch"].shape[0] == 2  # every rank's

    # The same 4 images make the global batch: the distortion (deterministic) matches exactly
    # up to float rounding, and so does the first update of g_s, whose gradient has no
    # training noise in it (the rates' uniform noise differs with the batch layout).
    (single,) = [json.loads(line) for line in (one / "log.jsonl").read_text().splitlines()]
    assert record["mse"] == pytest.approx(single["mse"], rel=1e-5)
    assert record["lpips"] == pytest.approx(single["lpips"], rel=1e-5)
    # (the float32 weights of the training states: the checkpoints hold them in float16)
    a, b = (prefixed(load_file(p / "train_state.safetensors"), "model") for p in (ddp, one))
    init = taco.create_model("taco-tiny", seed=0).state_dict()
    g_s = [k for k in a if k.startswith("g_s.")]
    assert any(not torch.equal(a[k], init[k]) for k in g_s)  # it did train
    for k in g_s:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6, msg=k)


@pytest.mark.slow
def test_two_process_resume_continues_exactly(tmp_path, tiny):
    """Every rank restores its own RNG state: a resumed DDP run repeats the straight one."""

    def torchrun(out: Path, *extra: str) -> None:
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "taco.train", *extra, "--set", *tiny(out, batch_size=1, max_steps=4),
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-4000:]

    straight, halted = tmp_path / "straight", tmp_path / "halted"
    torchrun(straight)
    torchrun(halted, "--max-steps", "2")
    torchrun(halted, "--resume")

    def losses(out: Path) -> list[float]:
        return [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]

    assert len(losses(straight)) == 4 and losses(straight) == losses(halted)
