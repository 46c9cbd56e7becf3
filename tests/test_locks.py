"""taco.locks: a lock held by another thread at a fork is free in the child."""

from __future__ import annotations

import os
import threading
import time

import pytest

from taco.locks import ForkSafeLock


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_lock_held_by_another_thread_at_the_fork_is_free_in_the_child():
    lock, plain = ForkSafeLock(), threading.Lock()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock, plain:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        pid = os.fork()
        if pid == 0:  # the child: the holder thread is gone
            with lock:
                pass
            os._exit(0 if not plain.acquire(timeout=0.2) else 1)  # a plain one stays held
        deadline = time.monotonic() + 30
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if done[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the child hung on the lock")
        assert os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        release.set()
        holder.join()
