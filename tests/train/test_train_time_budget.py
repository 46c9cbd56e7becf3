"""The wall-clock budget (time_limit): under torchrun the ranks decide together at some steps
only, and a run checked at log steps only overran its limit by up to log_interval - 1 steps
(time_limit=20s, log_interval=100: 100 steps in 39 s); a resumed run's first check was skipped
at a step that was not a log step. One suspended step (SIGSTOP) stood for every step after it;
and ``time_limit: 1:30`` in a YAML config was read as 90 seconds (YAML 1.1's base-60 ints)."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import taco
from taco.train import train
from taco.train.config import ConfigError, TrainConfig, load_config, load_yaml
from taco.train.schedule import (
    TimeBudget,
    is_shared_check,
    next_shared_check,
    spent_at_shared_check,
)

REPO = Path(__file__).resolve().parents[2]


def _budget(limit: float, elapsed: float) -> TimeBudget:
    budget = TimeBudget(limit)
    budget.start -= elapsed
    return budget


def test_the_shared_checks_double_from_the_start_then_follow_the_log_steps():
    checks = [s for s in range(0, 301) if is_shared_check(s, 0, 100)]
    assert checks == [0, 1, 2, 4, 8, 16, 32, 64, 100, 128, 200, 256, 300]
    resumed = [s for s in range(37, 160) if is_shared_check(s, 37, 50)]
    assert resumed == [38, 39, 41, 45, 50, 53, 69, 100, 101, 150]
    for start, interval in ((0, 100), (37, 50), (5, 1), (0, 7)):
        for step in range(start, start + 300):
            nxt = next_shared_check(step, start, interval)
            assert nxt > step and is_shared_check(nxt, start, interval)
            assert not any(is_shared_check(s, start, interval) for s in range(step + 1, nxt))


def test_spent_looks_ahead_over_steps_saves_and_validations():
    budget = _budget(60.0, 10.0)
    budget.note_step(0.5)
    budget.note_save(2.0)
    budget.note_validation(3.0)
    assert not budget.spent()  # 10 + 5 + 0.5 < 60
    assert not budget.spent(steps=80)  # 10 + 5 + 40 < 60
    assert budget.spent(steps=90)  # 10 + 5 + 45 >= 60
    assert budget.spent(steps=80, saves=2, validations=1)  # 10 + 5 + 40 + 4 + 3 >= 60
    assert not TimeBudget(None).spent(steps=10**9)


def test_one_suspended_step_does_not_stand_for_the_next():
    """Reviewer's run: a step suspended 25 s (SIGSTOP, SIGCONT) at elapsed 40 s of 60 stopped
    the run ~20 s early."""
    budget = _budget(60.0, 40.1)
    for _ in range(30):
        budget.note_step(0.2)
    budget.note_step(26.6)
    assert budget.step_time == pytest.approx(0.2)
    assert not budget.spent()
    # slow steps from now on are believed once they are most of the latest
    for _ in range(11):
        budget.note_step(5.0)
    assert budget.step_time == 5.0


def test_a_save_slow_every_time_is_reserved_in_full_a_single_slow_one_is_not():
    budget = TimeBudget(60.0)
    budget.note_save(9.0)
    assert budget.save_time == 9.0  # one write: it is all there is to go by
    budget.note_save(1.0)
    assert budget.save_time == 9.0  # of two, the larger
    for _ in range(3):
        budget.note_save(1.0)
    assert budget.save_time == 1.0  # one slow write among five
    for _ in range(5):
        budget.note_save(8.0)
    assert budget.save_time == 8.0  # slow every time
    budget.note_validation(30.0)
    budget.note_validation(2.0)
    budget.note_validation(2.0)
    assert budget.validation_time == 2.0 and budget.reserve == 10.0


def _spent(step: int, start: int, budget: TimeBudget, *, log_interval: int = 100,
           ckpt_interval: int = 1000, val_interval: int = 1000, validates: bool = False,
           total: int = 10**6) -> bool | None:
    cfg = types.SimpleNamespace(log_interval=log_interval, ckpt_interval=ckpt_interval,
                                val=types.SimpleNamespace(interval=val_interval))
    return spent_at_shared_check(budget, cfg, step, start, total, validates)  # type: ignore[arg-type]


def test_ddp_stops_at_the_last_shared_check_that_leaves_time_for_the_next():
    """The reviewer's run: 0.2 s a step, time_limit 20 s, log_interval 100: at step 64 the next
    check (step 100) is 36 steps (7.2 s) away."""
    budget = _budget(20.0, 8.0)
    budget.note_step(0.2)
    assert _spent(64, 0, budget) is False  # 8 + 7.2 < 20
    budget.start -= 5.0  # 13 s
    assert _spent(64, 0, budget) is True  # 13 + 7.2 >= 20
    assert _spent(65, 0, budget) is None  # between checks: no collective, whatever the budget
    assert _spent(64, 0, budget, total=70) is False  # the run's end: 13 + 1.2 < 20
    # a run resumed at 37 checks at 38, 39, 41, 45, 50 (log step), 53, 69, 100
    budget.start -= 1.0  # 14 s
    assert _spent(69, 37, budget, log_interval=50) is True  # 31 steps to 100: 14 + 6.2 >= 20
    assert _spent(50, 37, budget, log_interval=50) is False  # 3 steps to 53: 14 + 0.6 < 20


def test_ddp_counts_the_checkpoints_and_validations_before_the_next_check():
    budget = _budget(100.0, 50.0)
    budget.note_step(0.1)
    budget.note_save(10.0)
    budget.note_validation(15.0)
    # at 200: steps 201..300 to run (10 s), a checkpoint at 250 (10 s), then the end (25 s)
    assert _spent(200, 0, budget, ckpt_interval=50) is False  # 95 < 100
    assert _spent(200, 0, budget, ckpt_interval=50, validates=True,
                  val_interval=50) is True  # and a validation at 250: 110
    assert _spent(200, 0, budget, ckpt_interval=50, val_interval=50) is False  # none run
    # the checkpoint due at the check itself is not counted twice (the end's covers it)
    assert _spent(200, 0, budget, ckpt_interval=100) is False


def test_a_resumed_ddp_run_with_no_time_for_a_step_stops_every_rank(tmp_path, tiny):
    """Resumed under torchrun at a step that is not a log step, with time_limit=1s: the first
    check was skipped there, the job trained on to the next log step (exit 0) where one rank
    said 'no step fitted in the time limit' (exit 3). Now every rank refuses before a step."""
    out = tmp_path / "run"
    train(load_config(None, tiny(out, k_j=0, max_steps=3, log_interval=100)))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "taco.train", "--resume", str(out), "--set", "max_steps=1000", "time_limit=1s"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0, proc.stderr[-4000:]
    assert proc.stderr.count("no step fitted in the time limit 1s") == 1, proc.stderr[-4000:]  # rank 0's
    assert "exitcode  : 3" in proc.stderr and "exitcode  : 0" not in proc.stderr
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == 3


@pytest.mark.parametrize("value", ["1:30", "1:30:00", "1:30.5"])
def test_base_60_numbers_are_not_durations(value, tmp_path):
    assert load_yaml(f"time_limit: {value}") == {"time_limit": value}
    with pytest.raises(ConfigError, match="time_limit must be a duration like 8m"):
        load_config(None, [f"time_limit={value}"])
    config = tmp_path / "c.yaml"
    config.write_text(f"time_limit: {value}\n")
    with pytest.raises(ConfigError, match="time_limit must be a duration like 8m"):
        load_config(str(config), [])


def test_other_numbers_read_as_before():
    text = ("a: 10\nb: -3\nc: 0x1f\nd: 017\ne: 1_000\nf: 0.5\ng: 1.0e-4\nh: .inf\ni: -.inf\n"
            "j: 1e-4\nk: 0b101\nl: +2.5\nm: '1:30'\n")
    data = load_yaml(text)
    assert data == {"a": 10, "b": -3, "c": 31, "d": 15, "e": 1000, "f": 0.5, "g": 1e-4,
                    "h": float("inf"), "i": float("-inf"), "j": "1e-4", "k": 5, "l": 2.5,
                    "m": "1:30"}
    assert load_yaml("x: .nan")["x"] != load_yaml("x: .nan")["x"]
    assert load_config(None, ["time_limit=90", "lr=1e-4"]).time_limit == "90"
    assert isinstance(TrainConfig().lr, float)
