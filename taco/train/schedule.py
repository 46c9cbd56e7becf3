"""When the learning rate changes and when a run stops: the step schedule, the warm-up after a
warm start, and the wall-clock budget (``time_limit``).

    lr = lr_at(cfg, epoch, step)              # paper: lr x lr_gamma per milestone epoch reached
    budget = TimeBudget(parse_duration("8m")) # stop early enough to write the last checkpoint
"""

from __future__ import annotations

import time

from .config import TrainConfig, parse_duration

#: The warm-up ``--init-from`` sets unless ``warmup_steps`` is given: Adam starts with empty
#: moments, and its first updates are lr-sized whatever the gradients say.
INIT_WARMUP_STEPS = 100


def lr_at(cfg: TrainConfig, epoch: int, step: int | None = None) -> float:
    """The paper's step schedule, ``lr`` times ``lr_gamma`` for each milestone epoch reached,
    times ``(step + 1) / warmup_steps`` during the run's first ``warmup_steps`` steps (step
    counted from 0; None: after the warm-up)."""
    lr = cfg.lr * cfg.lr_gamma ** sum(epoch >= m for m in cfg.lr_milestones)
    if step is not None and step < cfg.warmup_steps:
        lr *= (step + 1) / cfg.warmup_steps
    return lr


class TimeBudget:
    """A wall-clock budget for one run, measured from construction.

    :meth:`spent` says whether to stop before the next step: when what is left no longer covers
    the longest end-of-run work measured so far (a checkpoint write, a validation) plus the last
    step.
    So the final checkpoint normally lands inside the budget.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()
        self.reserve = 0.0  # the longest checkpoint/validation seen
        self.step_time = 0.0  # the last step's

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> TimeBudget:
        return cls(parse_duration(cfg.time_limit, "time_limit") if cfg.time_limit else None)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def note_step(self, seconds: float) -> None:
        self.step_time = seconds

    def note_reserve(self, seconds: float) -> None:
        self.reserve = max(self.reserve, seconds)

    def spent(self) -> bool:
        if self.seconds is None:
            return False
        return self.elapsed() + self.reserve + self.step_time >= self.seconds
