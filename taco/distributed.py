"""Where this process stands in a ``torchrun`` job: the one type training and evaluation share.

``torchrun`` (or ``python -m torch.distributed.run``) starts the processes and sets ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE``; a plain process is rank 0 of a world of one. Joining a process
group is left to each user (training: NCCL or gloo, :mod:`taco.train.distributed`; evaluation:
gloo barriers only, :mod:`taco.evaluation.runner`). No torch import here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import Interrupted

__all__ = ["DistEnv", "SilentInterrupted", "dist_env_from_environ"]


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
