"""Which torch device a command runs on: the one rule behind every ``--device`` (``taco
evaluate``, ``caption``, ``train``, ``bench``) and the library calls they make.

``auto`` (every command's default): this process's CUDA GPU when torch sees one (under
``torchrun``, the one of its local rank), else the CPU. ``cuda`` without an index is the local
rank's GPU too; ``cuda:1`` is that GPU whatever the rank; ``cpu``, ``mps`` as given. A device
this machine does not have, or any other name, is :class:`DeviceUnavailable`: one line (exit
status 2 on the command line), raised before any work. Imports torch when called, not when
imported; :func:`device_problem`, the check of a name's spelling (``--device``'s, before torch
loads), imports none.

:func:`device_description`: the device in words (GPU name, or CPU model and threads), as the
result files of ``taco evaluate`` and ``taco bench`` record it. :func:`usable_cpus`: the CPUs
this process may run on, for sizing pools of workers and threads.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .distributed import DistEnv
from .errors import TacoError
from .messages import count, did_you_mean

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICE_NAMES", "MAX_THREADS", "DeviceUnavailable", "check_device", "device_description",
           "device_kind", "device_problem", "resolve_device", "usable_cpus"]

#: The most threads taco takes (``--threads``, :func:`taco.bench.latency.run_bench`'s): far more
#: than any machine's cores, and torch's ``set_num_threads`` raised OverflowError on 10**20.
MAX_THREADS = 4096

#: What ``--device`` takes, for help texts and errors.
DEVICE_NAMES = "auto, cpu, cuda, cuda:N, mps"
#: A device taco runs on, as torch spells it (``cpu``, ``cuda``, ``mps``, each with an index or
#: not: ``cuda:1``); ``auto`` is taco's own. torch takes no sign, leading zero or space.
_DEVICE = re.compile(r"(cpu|cuda|mps)(?::(0|[1-9][0-9]*))?")
#: The highest device index torch holds (an 8-bit DeviceIndex): ``torch.device("cuda:128")`` is
#: ``cuda:-128``, which passed every check, and ``cuda:32767`` was ``cuda``.
_MAX_INDEX = 127


class DeviceUnavailable(TacoError, RuntimeError):
    """A ``--device`` this machine does not have (``cuda`` without a CUDA GPU): one line, not
    torch's driver traceback."""


def device_problem(text: str) -> str | None:
    """What keeps ``text`` from naming a device taco runs on, or None: ``auto``, or ``cpu``,
    ``cuda`` or ``mps`` with a device index (``cuda:1``, at most 127) or without, as torch spells
    them. Only the spelling: whether this machine has that device is :func:`check_device`'s.
    Imports no torch: ``--device``'s argparse type (:func:`taco.cli.common.add_device_option`)
    and the first step of :func:`resolve_device`."""
    found = _DEVICE.fullmatch(text)
    if text == "auto" or (found and len(found[2] or "") <= 3 and int(found[2] or 0) <= _MAX_INDEX):
        return None
    if found:
        return f"torch numbers a machine's devices 0 to {_MAX_INDEX}; give one of {DEVICE_NAMES}"
    hint = did_you_mean(text.partition(":")[0], ("auto", "cpu", "cuda", "mps"))
    return f"not a device taco runs on; give one of {DEVICE_NAMES}{hint}"


def resolve_device(preference: str | torch.device = "auto", env: DistEnv | None = None) -> torch.device:
    """``preference`` (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``, a ``torch.device``) ->
    the device to run on, checked (:func:`device_problem`, then :func:`check_device`). ``env``:
    this process's place in a ``torchrun`` job (default: a single process), whose local rank
    picks the GPU for ``auto`` and ``cuda``."""
    if problem := device_problem(str(preference)):  # before torch loads
        raise DeviceUnavailable(f"device {str(preference)!r}: {problem}")
    import torch

    local_rank = (env or DistEnv()).local_rank
    if str(preference) == "auto":
        if torch.cuda.is_available() and torch.cuda.device_count() > 0:
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    device = torch.device(str(preference))
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
