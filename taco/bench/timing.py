"""Timing: wall and process-CPU time of one call, synchronised on a GPU; samples and summaries."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work (no-op on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clocks(device: torch.device) -> tuple[float, float]:
    """(wall s, process CPU s) now, after the device's queued work."""
    sync(device)
    return time.perf_counter(), time.process_time()


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, float, Any]:
    """(wall ms, process CPU ms, result) of ``fn()``, synchronised before and after on a GPU.

    Process CPU time (all threads) is the cost on a shared machine, where wall time also counts
    the time other jobs hold the cores; with one torch thread it is not inflated by spin-waits.
    """
    t0, c0 = clocks(device)
    result = fn()
    t1, c1 = clocks(device)
    return 1000 * (t1 - t0), 1000 * (c1 - c0), result


def summary(samples: Sequence[float]) -> dict[str, float]:
    a = np.asarray(samples, dtype=float)
    return {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "n": int(a.size)}


class Recorder:
    """Wall and CPU samples per (system, metric), kept only after warm-up."""

    def __init__(self) -> None:
        self.wall: dict[str, dict[str, list[float]]] = {}
        self.cpu: dict[str, dict[str, list[float]]] = {}
        self.recording = False

    def __call__(self, system: str, metric: str, fn: Callable[[], Any], device: torch.device) -> Any:
        wall, cpu, result = timed(fn, device)
        self.add(system, metric, wall, cpu)
        return result

    def add(self, system: str, metric: str, wall_ms: float, cpu_ms: float) -> None:
        """Record a sample timed elsewhere (ignored during warm-up)."""
        if self.recording:
            self.wall.setdefault(system, {}).setdefault(metric, []).append(wall_ms)
            self.cpu.setdefault(system, {}).setdefault(metric, []).append(cpu_ms)

    @staticmethod
    def summaries(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, float]]]:
        return {s: {m: summary(v) for m, v in ms.items()} for s, ms in samples.items()}
