"""How a training run and its loader's workers take Ctrl-C, SIGTERM and SIGHUP
(taco.train.schedule.StopSignals, worker_signals); the whole runs: tests/train/test_faults.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from taco.train import schedule
from taco.train.schedule import StopSignals

REPO = Path(__file__).resolve().parents[2]


def test_a_worker_leaves_the_first_stop_signal_to_the_run_whatever_its_start_method():
    """A spawned worker inherits no handler: SIGHUP killed it (and the run, with a traceback).
    After worker_signals it ignores Ctrl-C, survives a first SIGTERM and SIGHUP, and a second
    one (the loader's terminate()) ends it."""
    code = textwrap.dedent("""
        import os, signal
        from taco.train.schedule import worker_signals
        worker_signals(0)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), signum)
        print("alive", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        print("not reached", flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout == "alive\n", proc.stderr
    assert proc.returncode == -signal.SIGTERM


def test_a_signal_repeated_at_once_is_the_same_request(monkeypatch):
    """A scheduler signalling every process reaches a torchrun worker twice (directly and through
    torchrun): that is one request to stop, not the second that stops at once."""
    clock = [100.0]
    monkeypatch.setattr(schedule.time, "monotonic", lambda: clock[0])
    calls: list[int] = []
    with StopSignals(announce=False) as stop:
        stop.previous[signal.SIGTERM] = lambda signum, frame: calls.append(signum)
        stop.request(signal.SIGTERM, None)
        clock[0] += 0.5
        stop.request(signal.SIGTERM, None)  # the same request, forwarded
        assert stop.signum == signal.SIGTERM and calls == []
        clock[0] += schedule.REPEAT_S
        stop.request(signal.SIGTERM, None)  # a second one: the handler from before runs
        assert calls == [signal.SIGTERM]


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP")
def test_handlers_come_back_and_an_ignored_signal_stays_ignored():
    before = {s: signal.getsignal(s) for s in schedule.STOP_SIGNALS}
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with StopSignals(announce=False) as stop:
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) == stop.request
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous_hup)
    assert {s: signal.getsignal(s) for s in schedule.STOP_SIGNALS} == before
