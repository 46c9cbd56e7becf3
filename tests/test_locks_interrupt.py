"""taco.locks.ForkSafeLock interrupted (Jupyter's Stop, Ctrl-C: a KeyboardInterrupt raised
between two bytecodes) is never left held: no Python code of taco's runs between the lock's
acquire and the with-block, nor between the block's end and the release. Before, a
KeyboardInterrupt landing just after ``acquire()`` in a Python ``__enter__`` skipped the with-block
and its ``__exit__``, and the lock stayed held for good (a MiniLM caption-cache lock: every later
``taco.compress`` with a new caption hung)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import taco.locks
from taco.locks import ForkSafeLock

LOCKS_PY = Path(taco.locks.__file__).resolve()


def _interrupt_at(event_no: int) -> tuple[Any, list[str]]:
    """A trace function raising KeyboardInterrupt at the ``event_no``-th trace event in a frame of
    taco/locks.py (a pending Ctrl-C is raised at such a point), and the events it saw."""
    seen: list[str] = []

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        if Path(frame.f_code.co_filename).resolve() != LOCKS_PY:
            return trace
        seen.append(f"{event} {frame.f_code.co_name}:{frame.f_lineno}")
        if len(seen) == event_no:
            raise KeyboardInterrupt
        return trace

    return trace, seen


def _run_with(lock: ForkSafeLock, event_no: int) -> tuple[bool, list[str]]:
    """``with lock: pass`` interrupted at the ``event_no``-th event in taco/locks.py; whether
    the KeyboardInterrupt came, and the events seen."""
    trace, seen = _interrupt_at(event_no)
    before = sys.gettrace()  # coverage's tracer, if any: put back after
    interrupted = False
    sys.settrace(trace)
    try:
        with lock:
            pass
    except KeyboardInterrupt:
        interrupted = True
    finally:
        sys.settrace(before)
    return interrupted, seen


def test_an_interrupt_at_any_point_of_taco_code_in_a_with_leaves_the_lock_free():
    lock = ForkSafeLock()
    every: list[str] = []
    for n in range(1, 50):
        interrupted, seen = _run_with(lock, n)
        assert not lock.locked(), f"held after a KeyboardInterrupt at {seen[-1]} (events: {seen})"
        if not interrupted:  # fewer than n events: every point was tried
            every = seen
            break
    else:
        pytest.fail("more than 49 trace events in taco/locks.py for one with-block")
    with lock:  # and still a lock
        assert lock.locked()
    assert not lock.locked()
    assert len(every) < 10, every


def test_an_interrupt_in_the_block_releases_the_lock():
    lock = ForkSafeLock()
    with pytest.raises(KeyboardInterrupt):
        with lock:
            raise KeyboardInterrupt
    assert not lock.locked()


def test_the_lock_still_excludes_other_threads():
    lock = ForkSafeLock()
    order: list[str] = []

    def take() -> None:
        with lock:
            order.append("thread")

    with lock:
        t = threading.Thread(target=take)
        t.start()
        t.join(0.1)  # waits on the lock
        order.append("main")
    t.join()
    assert order == ["main", "thread"] and not lock.locked()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_fork_inside_the_block_leaves_the_childs_lock_free():
    """The with-block forked in: the child leaves the block (releasing the parent's copy, not
    its own new lock, which was never taken) and can take the lock again."""
    lock = ForkSafeLock()
    pid = -1
    try:
        with lock:
            pid = os.fork()
    except BaseException:  # before: the child released its new lock, never taken (RuntimeError)
        if pid == 0:
            os._exit(2)
        raise
    if pid == 0:
        code = 1
        try:
            with lock:
                code = 0 if lock.locked() else 3
            code = code or (4 if lock.locked() else 0)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not lock.locked()


#: Ctrl-C sent for real, over and over, to a process taking a lock in a loop. Its handler raises
#: KeyboardInterrupt (as Python's own does) only in the loop and taco's lock code, never in the
#: harness's own counting, which would end the script.
STRESS = textwrap.dedent("""
    import os, signal, sys, threading, time
    import taco.locks
    from taco.locks import ForkSafeLock

    lock = ForkSafeLock()
    stop, go = threading.Event(), threading.Event()

    def spin():
        while True:
            with lock:
                pass

    def handler(signum, frame):
        if frame is not None and (frame.f_code is spin.__code__
                                  or frame.f_code.co_filename == taco.locks.__file__):
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)

    def interrupt():
        go.wait()
        while not stop.is_set():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.00002)

    t = threading.Thread(target=interrupt, daemon=True)
    t.start()
    go.set()
    interrupts = 0
    end = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < end:
        try:
            spin()
        except KeyboardInterrupt:
            interrupts += 1
        if lock.locked():
            print(f"held after {interrupts} interrupts")
            sys.exit(1)
    stop.set()
    t.join()
    print(f"free after {interrupts} interrupts")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGALRM") or os.name == "nt", reason="POSIX signals")
def test_real_sigints_during_with_blocks_never_leave_the_lock_held(tmp_path):
    script = tmp_path / "stress.py"
    script.write_text(STRESS, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), "2"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("free after"), run.stdout + run.stderr
