"""F-R12 (s39): ``contextlib.ExitStack().enter_context(ForkSafeLock())`` raised "TypeError:
'property' object is not callable": ForkSafeLock's ``__enter__``/``__exit__`` were properties, and
``enter_context`` calls ``type(cm).__enter__(cm)``. They are now descriptors giving the C lock's
own bound method for a lock (``with lock:``, nothing of Python's between acquire and block) and
a plain function of the lock for the class."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import pytest

from taco.locks import ForkSafeLock


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
