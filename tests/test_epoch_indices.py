"""taco.train.distributed.EpochIndices: each index drawn carries the epoch its iteration started in."""

from __future__ import annotations


def test_epoch_indices_carry_the_epoch_the_iteration_started_in():
    from taco.train.distributed import EpochIndices

    class Epoch:
        epoch = 1

    dataset = Epoch()
    sampler = EpochIndices([2, 0, 1], dataset)  # type: ignore[arg-type]
    assert len(sampler) == 3
    pairs = iter(sampler)
    first = next(pairs)
    dataset.epoch = 2  # set_epoch while the loader still draws the epoch before
    assert [first, *pairs] == [(1, 2), (1, 0), (1, 1)]
    assert list(sampler) == [(2, 2), (2, 0), (2, 1)]
