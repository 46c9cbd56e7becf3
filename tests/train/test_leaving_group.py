"""Leaving the process group frees the finished run first (its DDP holds the group)."""

import weakref

import torch.distributed as dist

from taco import distributed


class Run:
    """Stands for a finished Trainer: alive only through a reference cycle."""

    def __init__(self) -> None:
        self.me = self


def test_the_runs_cycles_are_collected_before_the_group_is_destroyed(monkeypatch):
    run = Run()
    alive = weakref.ref(run)
    del run
    seen = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: seen.append(("barrier", alive() is None)))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: seen.append(("destroy", alive() is None)))
    distributed.shutdown_distributed(wait=True)
    assert seen == [("barrier", True), ("destroy", True)]
