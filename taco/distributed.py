"""Where this process stands in a ``torchrun`` job: the one type training and evaluation share.

``torchrun`` (or ``python -m torch.distributed.run``) starts the processes and sets ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` (and ``MASTER_ADDR``, ``MASTER_PORT``); a plain process is rank 0
of a world of one. Values torchrun would not set are refused (:class:`DistEnvError`). Joining a process
group is left to each user (training: NCCL or gloo, :mod:`taco.train.distributed`; evaluation:
gloo barriers only, :mod:`taco.evaluation.runner`); leaving it is shared
(:func:`leaving_process_group`). No torch import at module level: the functions that need
``torch.distributed`` import it.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import Interrupted, TacoError

__all__ = ["DistEnv", "DistEnvError", "SilentInterrupted", "StoppedTogether",
           "dist_env_from_environ", "leaving_process_group", "shutdown_distributed"]


class DistEnvError(TacoError, ValueError):
    """torchrun's variables in the environment hold what torchrun would not set: a value that is
    not a whole number, a rank outside the world, ``RANK`` other than 0 in a world of one (left
    over from a torchrun job: it would make this process code only its share of the images), or
    a world of several processes without ``MASTER_ADDR``/``MASTER_PORT`` to meet at."""


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


#: What a variable left over from a torchrun job would do to a single process.
_LEFTOVER_EFFECT = {"RANK": " and would make this process do only its share of the work",
                   "LOCAL_RANK": " and would pick the GPU by it"}


def dist_env_from_environ() -> DistEnv:
    """Read torchrun's variables (absent: a single process), checked: a :class:`DistEnvError`
    names the variable and its value when one is not a whole number (or has more digits than
    ``int()`` reads, 4,300), when ``WORLD_SIZE`` is below 1 or ``RANK``/``LOCAL_RANK`` is not
    below it (``RANK`` or ``LOCAL_RANK`` other than 0
    with ``WORLD_SIZE`` unset or 1: left over from a torchrun job), and when ``WORLD_SIZE`` > 1
    lacks ``RANK``, ``MASTER_ADDR`` or ``MASTER_PORT`` (unless a process group is joined
    already)."""
    world_size = _whole_number("WORLD_SIZE", 1)
    if world_size < 1:
        raise DistEnvError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} in the environment: the "
                           "number of processes is 1 or more (torchrun sets it); fix or unset it")
    env = DistEnv(rank=_whole_number("RANK", 0), local_rank=_whole_number("LOCAL_RANK", 0),
                  world_size=world_size)
    for name, value in (("RANK", env.rank), ("LOCAL_RANK", env.local_rank)):
        if value < world_size:
            continue
        if world_size == 1:
            world = "WORLD_SIZE=1" if "WORLD_SIZE" in os.environ else "WORLD_SIZE unset"
            raise DistEnvError(
                f"{name}={os.environ[name]!r} in the environment with {world} (a single "
                f"process, rank 0): {name} looks left over from a torchrun job"
                f"{_LEFTOVER_EFFECT[name]}; unset it (unset {name}), or start the job with torchrun")
        raise DistEnvError(
            f"{name}={os.environ[name]!r} in the environment is not below "
            f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} (ranks are 0 to {world_size - 1}): torchrun "
            "sets both; fix or unset them")
    missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
    if env.distributed and missing and not _joined_process_group():
        raise DistEnvError(
            f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} in the environment but "
            f"{' and '.join(missing)} unset: a job of several processes is started by torchrun, "
            "which sets them; start it with torchrun, or unset WORLD_SIZE, RANK and LOCAL_RANK "
            "for a single process")
    return env


def _whole_number(name: str, default: int) -> int:
    """Environment variable ``name`` as a whole number of 0 or more (``default`` when unset)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()):
        raise DistEnvError(f"{name}={value!r} in the environment is not a whole number of 0 or "
                           "more (torchrun sets RANK, LOCAL_RANK and WORLD_SIZE); fix or unset it")
    try:
        return int(value)
    except ValueError:  # more digits than int() reads from a text (4,300: sys.get_int_max_str_digits)
        raise DistEnvError(f"{name} in the environment is a number of {len(value):,} digits "
                           f"({value[:10]!r}...), far above any rank or number of processes "
                           "(torchrun sets RANK, LOCAL_RANK and WORLD_SIZE); fix or unset it") from None


def _joined_process_group() -> bool:
    """Whether this process is in a process group already (its caller's: no torchrun rendezvous
    to go through, so no MASTER_ADDR needed). Imports nothing: torch not loaded, no group."""
    td = sys.modules.get("torch.distributed")
    return td is not None and td.is_available() and td.is_initialized()


class StoppedTogether(Interrupted):
    """:class:`~taco.errors.Interrupted` when every rank of the job stops at the same point (a
    training run's shared stop: the signal one rank received, decided by all together); on
    rank 0, which says where the job stopped (the other ranks raise :class:`SilentInterrupted`).
    Every rank raises it, so :func:`leaving_process_group` lets them leave together."""


class SilentInterrupted(StoppedTogether):
    """:class:`StoppedTogether` on a torchrun rank other than 0: rank 0 says where the job
    stopped, so :func:`taco.cli.main` prints nothing for this one; the process still exits with
    128 + the signal."""


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
    normally, at once when it raised (:func:`shutdown_distributed`), but after a barrier too
    when it raised :class:`StoppedTogether`, which every rank raises.

    So after a shared stop no rank leaves before rank 0 has come this far: torchrun stops the
    whole job (SIGTERM) as soon as one process exits with a failure status, and a rank that
    left first had rank 0 end with ``stopped by SIGTERM``, not its ``stopped by SIGHUP at step
    N ...``. Such a SIGTERM while rank 0 leaves the group (:class:`~taco.errors.Interrupted`
    from :func:`taco.cli.main`'s handler) does not replace the stop it is leaving with."""
    try:
        yield
    except StoppedTogether:
        try:
            _leave_together()
        except Interrupted:
            pass  # torchrun's stop of the job once another rank has left: the first stop is said
        raise
    except BaseException:
        shutdown_distributed()
        raise
    shutdown_distributed(wait=True)


def _leave_together() -> None:
    """:func:`shutdown_distributed` after a barrier, which every rank reaches after a shared
    stop; where it fails (a rank gone meanwhile), the group is left all the same."""
    import torch.distributed as dist

    try:
        shutdown_distributed(wait=True)
    except Exception:  # a rank gone: gloo's "Connection closed by peer"
        if dist.is_initialized():
            dist.destroy_process_group()
