"""Where this process stands in a ``torchrun`` job: the one type training and evaluation share.

``torchrun`` (or ``python -m torch.distributed.run``) starts the processes and sets ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE``; a plain process is rank 0 of a world of one. Joining a process
group is left to each user (training: NCCL or gloo, :mod:`taco.train.distributed`; evaluation:
gloo barriers only, :mod:`taco.evaluation.runner`). No torch import here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import Interrupted, TacoError
from .messages import count

__all__ = ["DeviceUnavailable", "DistEnv", "SilentInterrupted", "check_device",
           "dist_env_from_environ"]


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


class DeviceUnavailable(TacoError, RuntimeError):
    """A ``--device`` this machine does not have (``cuda`` without a CUDA GPU): one line, not
    torch's driver traceback."""


def check_device(device: object) -> None:
    """Raise :class:`DeviceUnavailable` when ``device`` (``cuda``, ``cuda:1``, ``mps``, a
    ``torch.device``) cannot be used here; the CPU always can. Imports torch."""
    import torch

    dev = torch.device(str(device))
    if dev.type == "cuda":
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if gpus == 0:
            raise DeviceUnavailable(f"device {str(device)!r}: torch sees no CUDA GPU here (no driver "
                                    "or no device): use the CPU")
        if dev.index is not None and dev.index >= gpus:
            raise DeviceUnavailable(f"device {str(device)!r}: this machine has "
                                    f"{count(gpus, 'CUDA GPU')}")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailable(f"device {str(device)!r}: torch sees no Apple GPU (MPS) here")
