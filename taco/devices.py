"""Which torch device a command runs on: the one rule behind every ``--device`` (``taco
evaluate``, ``caption``, ``train``, ``bench``) and the library calls they make.

``auto`` (every command's default): this process's CUDA GPU when torch sees one (under
``torchrun``, the one of its local rank), else the CPU. ``cuda`` without an index is the local
rank's GPU too; ``cuda:1`` is that GPU whatever the rank; ``cpu``, ``mps`` as given. A device
this machine does not have, or any other name, is
:class:`taco.distributed.DeviceUnavailable`: one line (exit status 2 on the command line), raised
before any work. Imports torch when called, not when imported.

:func:`usable_cpus`: the CPUs this process may run on, for sizing pools of workers and threads.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .distributed import DeviceUnavailable, DistEnv, check_device

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICE_NAMES", "resolve_device", "usable_cpus"]

#: What ``--device`` takes, for help texts and errors.
DEVICE_NAMES = "auto, cpu, cuda, cuda:N, mps"


def resolve_device(preference: str | torch.device = "auto", env: DistEnv | None = None) -> torch.device:
    """``preference`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``, a ``torch.device``) ->
    the device to run on, checked (:func:`taco.distributed.check_device`). ``env``: this
    process's place in a ``torchrun`` job (default: a single process), whose local rank picks
    the GPU for ``auto`` and ``cuda``."""
    import torch

    local_rank = (env or DistEnv()).local_rank
    if str(preference) == "auto":
        if torch.cuda.is_available() and torch.cuda.device_count() > 0:
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        device = torch.device(str(preference))
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise DeviceUnavailable(f"device {str(preference)!r}: not a device taco runs on; give "
                                f"one of {DEVICE_NAMES}")
    check_device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
    return device


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (``taskset``,
    a container's or a batch system's CPU set), which ``os.cpu_count()`` ignores."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1
