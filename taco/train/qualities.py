"""Which quality each training step of a variable-rate model trains (λ drawn per batch).

A variable-rate model (``ModelConfig.qualities``, :mod:`taco.models.gains`) is trained with one
quality per step: the batch goes through the gains of quality q and the loss weighs its MSE with
λ_q (Cui et al. 2021 draw λ per batch the same way). The draw is *stratified*: every Q
consecutive steps visit each quality once, in an order shuffled per cycle, so over any window
of Q steps every quality gets the same share (i.i.d. draws leave some quality idle for a while,
and its gains drift behind).

The order is a pure function of ``(seed, step)``: every DDP rank trains the same quality in a
step (the averaged gradient is one λ's), and a resumed run continues the same sequence without
saving anything. (A warm-started run gets another seed: :func:`taco.train.trainer.stream_seed`.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["QualitySchedule"]


class QualitySchedule:
    """``quality(step)`` -> 1..Q and ``lmbda(step)`` -> its λ, for λ ``lambdas`` (ascending)."""

    def __init__(self, lambdas: Sequence[float], seed: int = 0) -> None:
        if not lambdas:
            raise ValueError("a variable-rate model needs at least one quality")
        self.lambdas = tuple(float(v) for v in lambdas)
        self.seed = int(seed)
        self._cycle: tuple[int, np.ndarray] | None = None

    @property
    def num_qualities(self) -> int:
        return len(self.lambdas)

    def quality(self, step: int) -> int:
        """The quality (1..Q) trained at ``step`` (0-based)."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        cycle, position = divmod(step, self.num_qualities)
        if self._cycle is None or self._cycle[0] != cycle:
            # SeedSequence-seeded PCG64: the same permutation on every machine and numpy 1.17+
            order = np.random.default_rng([self.seed % 2**32, cycle]).permutation(self.num_qualities)
            self._cycle = (cycle, order)
        return int(self._cycle[1][position]) + 1

    def lmbda(self, step: int) -> float:
        """λ of the quality trained at ``step``."""
        return self.lambdas[self.quality(step) - 1]
