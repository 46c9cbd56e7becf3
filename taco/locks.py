"""A lock a forked child can take.

A ``threading.Lock`` held by another thread of the parent when the process forks stays held
for ever in the child (gunicorn ``--preload``, multiprocessing's ``fork``): the thread that
would release it is not there. :class:`ForkSafeLock` is a plain lock that every forked child
gets anew, through one ``os.register_at_fork`` hook for all of them.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

__all__ = ["ForkSafeLock"]


class ForkSafeLock:
    """A ``threading.Lock`` (a context manager) renewed in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _LOCKS.add(self)

    def __enter__(self) -> ForkSafeLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()


_LOCKS: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


def _renew_in_child() -> None:
    for lock in list(_LOCKS):
        lock._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_renew_in_child)
