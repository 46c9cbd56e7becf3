"""Distributed plumbing for ``torchrun``: process group from the environment, a resumable sampler.

The job's shape is :class:`taco.distributed.DistEnv` (shared with evaluation).
No process spawning here: ``torchrun`` (or ``python -m torch.distributed.run``) starts the
processes and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; a plain ``python -m taco.train``
is a world of one. Backend: NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import Tensor
from torch.utils.data import Dataset, DistributedSampler, Sampler

from ..distributed import DistEnv
from ..errors import TacoError

T = TypeVar("T")


class RankZeroFailed(TacoError, RuntimeError):
    """On a torchrun rank other than 0, when rank 0 failed at its part of a step every rank
    finishes together (:func:`together`): writing a checkpoint (a routine one, the last one, or a
    stopped run's) or validating. Rank 0 raises the error that says why, this rank says so in
    one line."""


def init_distributed(env: DistEnv, device: torch.device) -> None:
    """Join the process group torchrun set up (no-op for a world of one)."""
    if not env.distributed or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def all_reduce_mean(values: Tensor, env: DistEnv) -> Tensor:
    """Mean of a tensor over all ranks (the tensor itself on a single process)."""
    if not env.distributed:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / env.world_size


def reduced(values: Sequence[float], op: dist.ReduceOp.RedOpType,
            device: torch.device) -> list[float]:
    """``values`` combined element by element over every rank by ``op`` (MIN, MAX, SUM): one
    all-reduce of a small tensor on ``device``. Only within a process group (torchrun)."""
    t = torch.tensor([float(v) for v in values], device=device)
    dist.all_reduce(t, op=op)
    return t.tolist()


def all_true(flag: bool, env: DistEnv, device: torch.device) -> bool:
    """Whether ``flag`` holds on every rank (so every rank takes the same branch)."""
    if not env.distributed:
        return flag
    return reduced([flag], dist.ReduceOp.MIN, device)[0] == 1.0


def shared_stop(signum: int | None, spent: bool, device: torch.device) -> tuple[int | None, bool]:
    """Why every rank of a torchrun job stops, from this rank's ``signum`` (the signal it
    received, None: none) and ``spent`` (its time budget): one all-reduce, the largest over the
    ranks. So a rank the signal did not reach names the one another rank received (SIGTERM
    over SIGINT over SIGHUP when several came), and any rank's spent budget stops them all."""
    received, any_spent = reduced([signum or 0, spent], dist.ReduceOp.MAX, device)
    return int(received) or None, bool(any_spent)


def together(work: Callable[[], T], env: DistEnv, device: torch.device, what: str) -> T:
    """Run ``work`` (this rank's part of a step only rank 0 does in earnest: writing a checkpoint,
    validating) and return what it returns; under torchrun, first wait until every rank has:
    one all-reduce of a "done" flag, the smallest over the ranks. A rank whose ``work`` raised
    takes part in the reduction, then raises its error; the others, which would otherwise wait
    at a collective that rank never reaches (gloo: a "Connection closed by peer" traceback,
    NCCL: until torchrun kills them), raise :class:`RankZeroFailed`: ``rank 0 could not
    {what}; see its error``. A single process just runs ``work``."""
    if not env.distributed:
        return work()
    error: Exception | None = None
    try:
        result = work()
    except Exception as e:  # re-raised below, once the other ranks know
        error = e
    (done,) = reduced([error is None], dist.ReduceOp.MIN, device)
    if error is not None:
        raise error
    if not done:
        raise RankZeroFailed(f"rank 0 could not {what}; see its error")
    return result


def gather_rows(row: Tensor, env: DistEnv, device: torch.device) -> Tensor:
    """(n,) uint8 from every rank -> (world, n) on the CPU (RNG states, same length everywhere)."""
    if not env.distributed:
        return row.unsqueeze(0)
    moved = row.to(device)
    rows = [torch.empty_like(moved) for _ in range(env.world_size)]
    dist.all_gather(rows, moved)
    return torch.stack([r.cpu() for r in rows])


def replicas_in_sync(params: list[Tensor], env: DistEnv) -> bool:
    """Whether every rank holds the same parameters (all-reduced min/max of per-tensor sums).

    Cheap end-of-run check that DDP kept the replicas together; a single process is in sync.
    """
    if not env.distributed or not params:
        return True
    sums = torch.stack([p.detach().double().sum() for p in params])  # (P,)
    lo, hi = sums.clone(), sums.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    return bool(torch.equal(lo, hi))


class ResumableSampler(DistributedSampler):
    """:class:`DistributedSampler` (shuffled per epoch from ``seed``) that can start mid-epoch.

    ``start`` is the number of this rank's samples of the current epoch already consumed; it
    applies to the next iteration only. Used on one process too (``num_replicas=1``), so the
    order of samples is the same function of (seed, epoch) whatever the world size.
    """

    def __init__(self, dataset: Dataset, env: DistEnv, seed: int) -> None:
        super().__init__(
            dataset, num_replicas=env.world_size, rank=env.rank, shuffle=True, seed=seed,
            drop_last=True,
        )  # fmt: skip
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        start, self.start = self.start, 0
        return iter(indices[start:])


class EpochIndices(Sampler[tuple[int, int]]):
    """``(epoch, index)`` for each index of ``sampler``, ``epoch`` being ``dataset.epoch``
    (:meth:`taco.data.CaptionedImages.set_epoch`) when the iteration starts, read in the main
    process. :class:`taco.data.CaptionedImages` draws item ``(epoch, index)`` for that epoch, so
    persistent DataLoader workers, which keep the epoch their copy of the dataset had when they
    were started, draw each epoch's samples as re-created workers (or none) would."""

    def __init__(self, sampler: Sampler[int], dataset: Dataset) -> None:
        self.sampler = sampler
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch: int = self.dataset.epoch  # type: ignore[attr-defined]
        return ((epoch, i) for i in self.sampler)
