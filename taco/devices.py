"""Which torch device a command runs on: the one rule behind every ``--device`` (``taco
evaluate``, ``caption``, ``train``, ``bench``) and the library calls they make.

``auto`` (every command's default): this process's CUDA GPU when torch sees one (under
``torchrun``, the one of its local rank), else the CPU. ``cuda`` without an index is the local
rank's GPU too; ``cuda:1`` is that GPU whatever the rank; ``cpu``, ``mps`` as given. A device
this machine does not have, or any other name, is :class:`DeviceUnavailable`: one line (exit
status 2 on the command line), raised before any work. Imports torch when called, not when
imported.

:func:`device_description`: the device in words (GPU name, or CPU model and threads), as the
result files of ``taco evaluate`` and ``taco bench`` record it. :func:`usable_cpus`: the CPUs
this process may run on, for sizing pools of workers and threads.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from .distributed import DistEnv
from .errors import TacoError
from .messages import count

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICE_NAMES", "MAX_THREADS", "DeviceUnavailable", "check_device", "device_description",
           "device_kind", "resolve_device", "usable_cpus"]

#: The most threads taco takes (``--threads``, :func:`taco.bench.latency.run_bench`'s): far more
#: than any machine's cores, and torch's ``set_num_threads`` raised OverflowError on 10**20.
MAX_THREADS = 4096

#: What ``--device`` takes, for help texts and errors.
DEVICE_NAMES = "auto, cpu, cuda, cuda:N, mps"


class DeviceUnavailable(TacoError, RuntimeError):
    """A ``--device`` this machine does not have (``cuda`` without a CUDA GPU): one line, not
    torch's driver traceback."""


def resolve_device(preference: str | torch.device = "auto", env: DistEnv | None = None) -> torch.device:
    """``preference`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``, a ``torch.device``) ->
    the device to run on, checked (:func:`check_device`). ``env``: this
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


def device_description(device: str | torch.device) -> str:
    """``device`` in words, for result files: ``cuda:0 (NVIDIA H100 80GB HBM3)``, or on the CPU
    its model and torch's thread count now, ``cpu (AMD EPYC 7B13, 2 threads)``. Imports torch."""
    import torch

    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type != "cpu":
        return str(device)
    return f"cpu ({_cpu_model()}, {count(torch.get_num_threads(), 'thread')})"


def device_kind(device: str | torch.device) -> str:
    """The kind of ``device``, what results made on it may depend on: ``cpu``, ``mps``, or the
    GPU's model, ``cuda (NVIDIA H100 80GB HBM3)``; not a GPU's index (torchrun's ranks each
    have their own) nor the CPU's model or thread count (:func:`device_description` has them)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda" and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def _cpu_model() -> str:
    """The CPU's model name (Linux: ``/proc/cpuinfo``), else what :mod:`platform` says of it
    (often only the architecture, ``x86_64`` or ``arm``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the OS has one (``taskset``,
    a container's or a batch system's CPU set), which ``os.cpu_count()`` ignores."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1
