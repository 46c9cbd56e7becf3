"""Leaving the process group frees the finished run first (its DDP holds the group). After a
shared stop every rank leaves the group together, and rank 0's stop is the one said: torchrun
stops the whole job (SIGTERM) as soon as one rank exits, and a loaded CI run had rank 0 end with
``taco train: stopped by SIGTERM`` (no step) instead of the SIGHUP its job stopped on, at the step
it saved (tests/train/test_faults.py runs the job itself)."""

import signal
import weakref

import pytest
import torch.distributed as dist

from taco import distributed
from taco.distributed import SilentInterrupted, StoppedTogether, leaving_process_group
from taco.errors import Interrupted


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


@pytest.fixture
def group(monkeypatch):
    """A joined process group that records the barriers and the destroy: -> the record."""
    seen: list[str] = []
    joined = [True]
    monkeypatch.setattr(dist, "is_initialized", lambda: joined[0])
    monkeypatch.setattr(dist, "barrier", lambda: seen.append("barrier"))

    def destroy() -> None:
        seen.append("destroy")
        joined[0] = False

    monkeypatch.setattr(dist, "destroy_process_group", destroy)
    return seen


@pytest.mark.parametrize("kind", [StoppedTogether, SilentInterrupted])
def test_a_shared_stop_leaves_after_a_barrier(group, kind):
    """Rank 0 (StoppedTogether) and the others (SilentInterrupted) wait for each other, as after
    a run that ended normally: no rank exits, and has torchrun stop the job, before rank 0 is out."""
    with pytest.raises(kind), leaving_process_group():
        raise kind(signal.SIGHUP, " at step 2")
    assert group == ["barrier", "destroy"]


def test_another_interrupt_or_error_leaves_at_once(group):
    """A signal on this rank alone, or an error: the other ranks may never reach a barrier."""
    with pytest.raises(Interrupted), leaving_process_group():
        raise Interrupted(signal.SIGTERM)
    assert group == ["destroy"]


def test_torchruns_sigterm_while_rank_0_leaves_keeps_its_stop(group, monkeypatch):
    """SIGTERM from torchrun while rank 0 leaves (taco.cli.main's handler raises Interrupted):
    the stop that rank 0 says is still the job's, SIGHUP at its step."""
    def destroy() -> None:
        group.append("destroy")
        raise Interrupted(signal.SIGTERM)  # the handler's, as the signal came in there

    monkeypatch.setattr(dist, "destroy_process_group", destroy)
    with pytest.raises(StoppedTogether) as caught, leaving_process_group():
        raise StoppedTogether(signal.SIGHUP, " at step 2")
    assert (caught.value.signum, caught.value.progress) == (signal.SIGHUP, " at step 2")


def test_a_rank_gone_before_the_barrier_still_leaves_the_group(group, monkeypatch):
    """A barrier that fails (gloo: a peer's connection closed) neither hides the stop nor keeps
    the group joined."""
    def closed() -> None:
        raise RuntimeError("Connection closed by peer")

    monkeypatch.setattr(dist, "barrier", closed)
    with pytest.raises(StoppedTogether), leaving_process_group():
        raise StoppedTogether(signal.SIGHUP, " at step 2")
    assert group == ["destroy"]
