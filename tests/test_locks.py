"""taco.locks: a lock held by another thread at a fork is free in the child, and
ForkSafeLock works as a context manager of ``contextlib.ExitStack`` / ``AsyncExitStack``
(``enter_context`` calls ``type(cm).__enter__(cm)``: they were properties, a TypeError)."""

from __future__ import annotations

import asyncio
import contextlib
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


def test_exit_stack_takes_and_releases_the_lock():
    lock = ForkSafeLock()
    with contextlib.ExitStack() as stack:
        assert stack.enter_context(lock) is True  # as threading.Lock's __enter__ returns
        assert lock.locked()
    assert not lock.locked()


def test_exit_stack_releases_the_lock_on_an_error():
    lock = ForkSafeLock()
    with pytest.raises(ZeroDivisionError), contextlib.ExitStack() as stack:
        stack.enter_context(lock)
        1 / 0  # noqa: B018
    assert not lock.locked()


def test_exit_stack_pop_all_and_close():
    lock = ForkSafeLock()
    with contextlib.ExitStack() as stack:
        stack.enter_context(lock)
        kept = stack.pop_all()
    assert lock.locked()
    kept.close()
    assert not lock.locked()


def test_async_exit_stack_takes_the_lock():
    lock = ForkSafeLock()

    async def main() -> bool:
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(lock)
            return lock.locked()

    assert asyncio.run(main()) is True
    assert not lock.locked()


def test_the_class_methods_are_plain_functions_of_the_lock():
    lock = ForkSafeLock()
    assert ForkSafeLock.__enter__(lock) is True and lock.locked()
    assert ForkSafeLock.__exit__(lock, None, None, None) is None and not lock.locked()
    assert callable(type(lock).__exit__) and ForkSafeLock.__enter__.__name__ == "__enter__"


def test_with_still_binds_true_and_runs_the_c_locks_methods():
    lock = ForkSafeLock()
    seen: list[bool] = []
    with lock as held:
        assert held is True
        t = threading.Thread(target=lambda: seen.append(lock.locked()))
        t.start()
        t.join()
    assert seen == [True] and not lock.locked()
    # an instance's methods are the C lock's own (no Python frame between acquire and block)
    assert type(lock.__enter__).__name__ == type(lock.__exit__).__name__ == "builtin_function_or_method"
