"""Where this process stands in a ``torchrun`` job: the one type training and evaluation share.

``torchrun`` (or ``python -m torch.distributed.run``) starts the processes and sets ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE``; a plain process is rank 0 of a world of one. Joining a process
group is left to each user (training: NCCL or gloo, :mod:`taco.train.distributed`; evaluation:
gloo barriers only, :mod:`taco.evaluation.runner`); leaving it is shared
(:func:`leaving_process_group`). No torch import at module level: the functions that need
``torch.distributed`` import it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import Interrupted

__all__ = ["DistEnv", "SilentInterrupted", "dist_env_from_environ", "leaving_process_group",
           "shutdown_distributed"]


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job (rank 0 of 1 without torchrun)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def dist_env_from_environ() -> DistEnv:
    """Read torchrun's variables (absent: a single process)."""
    return DistEnv(
        rank=int(os.environ.get("RANK", 0)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
    )


class SilentInterrupted(Interrupted):
    """:class:`~taco.errors.Interrupted` on a torchrun rank other than 0 when every rank stops
    together (a training run's shared stop): rank 0 says where the job stopped, so
    :func:`taco.cli.main` prints nothing for this one; the process still exits with 128 + the
    signal."""


def shutdown_distributed(*, wait: bool = False) -> None:
    """Leave the process group. ``wait``: first a barrier, so that no rank tears its
    connections down while another still uses them (gloo then aborts the late rank's process:
    "terminate called without an active exception"); only on the way out of a run that ended
    normally on every rank, since a barrier after a failure on one rank would never return.

    The run's objects are collected first: a finished Trainer lives on in reference cycles, and
    its DistributedDataParallel holds the group; freed at interpreter exit, after the group is
    gone, gloo's threads may abort the process (SIGABRT) after a run that went right."""
    import torch.distributed as dist

    if dist.is_initialized():
        gc.collect()
        if wait:
            dist.barrier()
        dist.destroy_process_group()


@contextmanager
def leaving_process_group() -> Iterator[None]:
    """Run the block, then leave the process group: after a barrier when the block ended
    normally, at once when it raised (:func:`shutdown_distributed`)."""
    try:
        yield
    except BaseException:
        shutdown_distributed()
        raise
    shutdown_distributed(wait=True)
