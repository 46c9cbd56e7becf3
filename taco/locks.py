"""Locks: a thread lock a forked child can take, and a folder one process works in at a time.

A ``threading.Lock`` held by another thread of the parent when the process forks stays held
for ever in the child (gunicorn ``--preload``, multiprocessing's ``fork``): the thread that
would release it is not there. :class:`ForkSafeLock` is a plain lock that every forked child
gets anew, through one ``os.register_at_fork`` hook for all of them.

:class:`FolderLock` (:func:`hold_folder`) keeps a second ``taco train`` or ``taco evaluate`` out
of a folder a first one is writing: each would otherwise overwrite or duplicate the other's
files, and both would exit 0.
"""

from __future__ import annotations

import errno
import importlib
import os
import stat
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import make_folders, remove_folders
from .errors import TacoError, TacoWarning, warn_at_caller
from .messages import shown_path

try:
    import fcntl
except ImportError:  # Windows: no flock; msvcrt's byte-range locks instead
    fcntl = None  # type: ignore[assignment]
#: ``msvcrt`` where there is no ``fcntl`` (Windows), else None.
msvcrt: Any = importlib.import_module("msvcrt") if fcntl is None and os.name == "nt" else None

__all__ = ["FolderInUse", "FolderLock", "ForkSafeLock", "LOCK_FILE", "NotALockFile", "hold_folder"]


class _LockMethod:
    """``ForkSafeLock.__enter__`` / ``__exit__``: for a lock, its C lock's own method (bound), so
    ``with lock:`` runs no Python code between the acquire and the block; for the class, a plain
    function of the lock, as ``contextlib.ExitStack.enter_context`` (``type(cm).__enter__(cm)``)
    and ``AsyncExitStack`` call them (a property there was "'property' object is not callable")."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, lock: ForkSafeLock | None, owner: type | None = None) -> Callable[..., Any]:
        if lock is not None:
            return getattr(lock._lock, self.name)  # type: ignore[no-any-return]
        name = self.name

        def method(lock: ForkSafeLock, *exc: Any) -> Any:
            return getattr(lock._lock, name)(*exc)

        method.__name__ = method.__qualname__ = name
        return method


class ForkSafeLock:
    """A ``threading.Lock`` (a context manager) renewed in a forked child.

    ``with lock:`` runs the C lock's own ``__enter__`` and ``__exit__`` (found through the
    descriptors below, which CPython's lookup of a ``with``'s methods calls before it takes the
    lock): no Python code runs between the acquire and the with-block, nor between the block's
    end and the release, so a KeyboardInterrupt (Ctrl-C, Jupyter's Stop) never lands there and
    leaves the lock held for good, as it did with Python methods here. ``with lock as x`` binds
    x to True, as ``with threading.Lock() as x`` does. A block a fork happens in releases, in
    the child, the lock it took (the parent's copy); the child's own lock is a new one, free.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        _LOCKS.add(self)

    __enter__ = _LockMethod("__enter__")
    __exit__ = _LockMethod("__exit__")

    def locked(self) -> bool:
        """Whether some thread holds the lock now."""
        return self._lock.locked()


_LOCKS: weakref.WeakSet[ForkSafeLock] = weakref.WeakSet()


def _renew_in_child() -> None:
    for lock in list(_LOCKS):
        lock._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_renew_in_child)


# --------------------------------------------------------------------------- folders

#: The lock file in a locked folder (:class:`FolderLock`); it holds the holder's pid and command.
LOCK_FILE = ".taco-lock"


class FolderInUse(TacoError, RuntimeError):
    """Another process holds the folder's :class:`FolderLock` (a second ``taco train`` into
    one ``out_dir``, a second ``taco evaluate`` into one output folder)."""


class NotALockFile(FolderInUse):
    """``FOLDER/.taco-lock`` is no lock file taco may take: a symbolic link (dangling or not), a
    folder, a pipe, a device or a socket, or a file with other names (hard links). Taking it
    would make taco chmod, truncate and write the file it leads to (any file the user may
    write: a link planted in a downloaded image folder before ``taco caption``), or create the
    one a dangling link names. Said in one line naming it, with what to do
    (``FOLDER/.taco-lock is a symbolic link, not taco's lock: remove it``); nothing is changed.
    A :class:`FolderInUse`, so code that keeps out of a held folder keeps out of this one."""


class FolderLock:
    """An exclusive lock on ``FOLDER/.taco-lock`` (``flock``; on Windows ``msvcrt.locking`` of
    byte :data:`WINDOWS_LOCK_BYTE`), for one process's
    whole work in ``FOLDER``; a context manager. ``what`` names the work (``taco train``):
    the lock file records it and the pid, which a refused process's :class:`FolderInUse` says
    (``runs/x is in use by another taco train (pid 4242)``).

    :meth:`acquire` creates the folder if missing, and never waits: a held lock is refused
    at once. A folder this process may not write in (read-only) is not locked: nothing of
    this process's can change it. The kernel drops the lock when its holder dies (even by
    SIGKILL), so a stale lock file locks nothing. :meth:`release` removes the lock file (while still holding it:
    a process that opened the old file meanwhile sees it is no longer the folder's and
    opens the new one) and the folders :meth:`acquire` created, where they are empty: a run
    refused, or failed before writing, leaves nothing behind (on Windows, where an open file
    cannot be removed, after it lets the lock go). Without ``fcntl`` or ``msvcrt`` nothing is
    locked or created. On a file system without locks (``flock`` failing with ENOLCK: NFS
    without lockd; EOPNOTSUPP, ENOSYS) the work goes on unlocked, with a :class:`TacoWarning`
    naming the folder (``FOLDER: this file system has no locks: two taco processes must not use
    it at once``); it stopped with a bare "no locks available". A lock path that is a symbolic link, no regular file, or a file with
    other names (hard links) is refused (:class:`NotALockFile`), never followed, changed or
    removed. The Windows path is tested with a simulated ``msvcrt``
    (tests/test_folder_lock_windows.py), not on Windows itself.
    """

    def __init__(self, folder: str | os.PathLike[str], what: str) -> None:
        self.folder = Path(folder)
        self.what = what
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None
        self._pid = 0  # the holder: a forked child (a DataLoader worker) shares the lock
        self._created: list[Path] = []  # the folders acquire made, deepest first

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock; :class:`FolderInUse` if another process holds it, :class:`NotALockFile`
        if the lock path is a symbolic link, a folder, no regular file or a file with other names,
        an OSError if the folder or the lock file cannot be created (a file in the way, a full
        disk)."""
        if (fcntl is None and msvcrt is None) or self._fd is not None:
            return self
        try:
            for _ in range(100):  # another process removing the file or folder: open again
                self._created[:0] = make_folders(self.folder)
                try:
                    fd = _open(self.path)
                except FileNotFoundError:  # the folder was removed since
                    continue
                if fd is None:  # a folder this process cannot write in needs no lock
                    return self
                try:
                    locked = _lock(fd)
                except OSError as e:
                    if e.errno not in _NO_LOCKS:
                        os.close(fd)
                        raise
                    # NFS without lockd (ENOLCK), a FUSE file system: go on unlocked, said once
                    warn_at_caller(f"{shown_path(self.folder)}: this file system has no locks: two taco "
                                   "processes must not use it at once", TacoWarning)
                    locked = True
                except BaseException:
                    os.close(fd)
                    raise
                if not locked:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise FolderInUse(f"{shown_path(self.folder)} is in use by another {holder or self.what}")
                if _same_file(fd, self.path):
                    self._fd, self._pid = fd, os.getpid()
                    _write_holder(fd, f"{os.getpid()} {self.what}\n")
                    return self
                os.close(fd)  # its holder removed it on release: not the folder's lock now
            raise OSError(f"{shown_path(self.path)}: removed and created again by others, 100 times")
        except BaseException:
            self._remove_created()
            raise

    def release(self) -> None:
        """Remove the lock file (only if the lock path is still the file this lock opened:
        never a link or file put there since), let the lock go, remove the folders
        :meth:`acquire` created if they are empty. Does nothing if not held."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if os.getpid() != self._pid:  # a forked child's copy: the parent still holds it
            os.close(fd)
            return
        held = os.fstat(fd)
        if fcntl is None:  # Windows removes no open file: let go first (one opening it now keeps it)
            _unlock(fd)
            os.close(fd)
        try:
            if _is(held, os.lstat(self.path)):  # not a link or file put in its place meanwhile
                self.path.unlink()
        except OSError:  # a read-only folder: the file stays, locking nothing; already removed
            pass
        if fcntl is not None:
            os.close(fd)
        self._remove_created()

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __del__(self) -> None:
        if self._fd is not None:  # never released (an object dropped): let the lock go at least
            os.close(self._fd)

    def _remove_created(self) -> None:
        created, self._created = self._created, []
        remove_folders(created)


def hold_folder(folder: str | os.PathLike[str], what: str) -> FolderLock:
    """A :class:`FolderLock` on ``folder``, acquired (see there); :meth:`FolderLock.release`
    it, or use it as a context manager."""
    return FolderLock(folder, what).acquire()


#: Windows opens files as text (``\n`` written as ``\r\n``) without it.
_BINARY = getattr(os, "O_BINARY", 0)
#: The lock path is opened as itself, never through a symbolic link (where the system can say
#: so; elsewhere :func:`_refuse_odd` checks it before), and a pipe planted there does not block.
_OPEN_FLAGS = _BINARY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _odd(path: Path, st: os.stat_result) -> str | None:
    """Why the lock path ``path`` (``st``: its lstat, or the fstat of what was opened there) is
    not a lock file taco may take; None if it is one (a regular file with no other name)."""
    if stat.S_ISLNK(st.st_mode):
        why = "is a symbolic link"
    elif stat.S_ISDIR(st.st_mode):
        why = "is a folder"
    elif not stat.S_ISREG(st.st_mode):
        why = "is not a regular file (a pipe, a device or a socket)"
    elif st.st_nlink > 1:  # truncating it would change the file of its other names
        why = f"is a hard link (a file with {st.st_nlink} names)"
    else:
        return None
    return f"{shown_path(path)} {why}, not taco's lock: remove it"


def _refuse_odd(path: Path) -> None:
    """Raise :class:`NotALockFile` if ``path`` is there and no lock file taco may take (a
    symbolic link, dangling or not, is not followed); a path missing or that cannot be looked
    at is left to the open."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    why = _odd(path, st)
    if why is not None:
        raise NotALockFile(why)


def _open_as_lock(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` of the lock path, refusing (:class:`NotALockFile`) what is no lock file: a
    symbolic link (checked before; O_NOFOLLOW refuses one put there since), then what was
    opened, by its fstat (a folder, a pipe, a hard link), before anything in it is changed."""
    _refuse_odd(path)
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, mode)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EMLINK, errno.EISDIR):  # O_NOFOLLOW's refusal (BSD's EMLINK)
            _refuse_odd(path)
        raise
    try:
        why = _odd(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    if why is not None:
        os.close(fd)
        raise NotALockFile(why)
    return fd


def _open(path: Path) -> int | None:
    """The lock file open (created if missing, readable to all: another user's process must
    open it to take its lock; read-only where it may not be written: another user's, whose
    lock this process can still take); None if it can be neither created nor opened and the
    folder is not this process's to write (read-only, permissions): nothing of this process's
    can change it. In a folder this process may write in, a lock file it cannot open (another
    user's, readable only to them: an older taco's, made under umask 077) is a PermissionError
    naming it: taking that as "no lock needed" ran a second ``taco evaluate`` beside the first.
    A lock path that is no lock file (a symbolic link, dangling or not: never followed; a
    folder, a pipe, a hard link) is :class:`NotALockFile`, opened or not, before it is changed."""
    try:
        fd = _open_as_lock(path, os.O_RDWR | os.O_CREAT)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
    else:
        _readable_to_all(fd)
        return fd
    try:
        return _open_as_lock(path, os.O_RDONLY)
    except FileNotFoundError:  # its creation was refused: a folder this process cannot write in
        return None
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        if not _writable(path.parent):
            return None
        raise PermissionError(
            e.errno, "cannot open the lock file (permission denied: another user's, not "
            f"readable to others); if no taco of theirs works in {shown_path(path.parent)}, remove it",
            str(path)) from None


def _writable(folder: Path) -> bool:
    """Whether this process may create files in ``folder``."""
    return os.access(folder, os.W_OK | os.X_OK)


def _readable_to_all(fd: int) -> None:
    """Make the lock file just created readable to all (0644 whatever the umask: under umask 077
    it was 0600, and another user's process, unable to open it, took the folder for one it
    need not lock and ran beside its holder). Another user's file is left as it is."""
    if not hasattr(os, "fchmod"):  # Windows before Python 3.13: no modes to speak of
        return
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o044 != 0o044:
            os.fchmod(fd, mode | 0o644)
    except OSError:  # not ours (EPERM), a file system without modes: it locks all the same
        pass


#: The byte of the lock file that ``msvcrt.locking`` locks on Windows: past the holder's line, which
#: a refused process reads (Windows refuses reads of a locked byte).
WINDOWS_LOCK_BYTE = 4096


#: What ``flock`` raises on a file system without locks (NFS without lockd: ENOLCK; some FUSE
#: file systems: EOPNOTSUPP, ENOSYS): :meth:`FolderLock.acquire` goes on without the lock there.
_NO_LOCKS = frozenset(getattr(errno, name) for name in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "ENOSYS")
                      if hasattr(errno, name))


def _lock(fd: int) -> bool:
    """Lock the open lock file ``fd`` without waiting; False if another process holds it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    os.lseek(fd, WINDOWS_LOCK_BYTE, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as e:  # EACCES: locked by another (the C runtime's EDEADLOCK for a wait)
        if e.errno not in (errno.EACCES, errno.EDEADLK):
            raise
        return False
    return True


def _unlock(fd: int) -> None:
    """Let go the Windows lock of :func:`_lock` (closing the file does too, but not at once)."""
    try:
        os.lseek(fd, WINDOWS_LOCK_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    except OSError:
        pass


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` itself (not what a link there leads to) is still the file open at ``fd``."""
    try:
        now = os.lstat(path)
    except FileNotFoundError:
        return False
    return _is(os.fstat(fd), now)


def _is(held: os.stat_result, now: os.stat_result) -> bool:
    """Whether two stats are of one file: a regular one (a link put in its place is not)."""
    return stat.S_ISREG(now.st_mode) and (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _read_holder(fd: int) -> str | None:
    """``taco train (pid 4242)`` from the lock file open at ``fd``; None if it says nothing."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)  # not pread: Windows has none
        pid, _, what = os.read(fd, 512).decode("utf-8", "replace").strip().partition(" ")
    except OSError:
        return None
    return f"{shown_path(what)} (pid {pid})" if pid.isdigit() and what else None


def _write_holder(fd: int, text: str) -> None:
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text.encode("utf-8"))
    except OSError:  # a full disk: the lock holds all the same, a refusal names no pid
        pass
