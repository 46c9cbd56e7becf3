"""Atomic file writes: a file is either its old content or its complete new content.

The new content goes to a temporary file beside the target (``.<name>.tmp-<random>``, created
exclusively, so each write, of any thread or process, has its own), is flushed and fsynced, then
renamed over the target (or, not to replace one, linked to its name: ``replace=False``); the
folder is fsynced so the rename survives a power cut. A target replaced keeps its permission bits
and, where this process may give it, its owner (the temporary gets them before it is published;
a new file has the umask's; another user's file whose owner cannot be kept gets the umask's
bits); another hard link to the file replaced keeps the old content (a new file takes the name
alone). A target that is a symbolic link is written through, as ``cp`` and the shell's ``>`` do:
the file it points to is replaced (its temporary staged beside it), the link stays. A write that
fails (full disk, ...) removes its temporary file and raises :class:`OSError` with its ``errno``
(``ENOSPC`` for a full disk) and the target's name. A process killed mid-write leaves the target
untouched and, at worst, a temporary file that no loader reads (:func:`stale_temporaries`, which
looks beside a link and beside the file it points to); the writer holds an exclusive ``flock``
on its temporary until it is published, so that :func:`remove_stale_temporaries` can tell a
killed writer's temporary from one being written.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import re
import secrets
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

if sys.platform != "win32":
    import fcntl

#: Bytes per ``write`` call (a full disk fails on the first chunk that does not fit).
CHUNK = 16 << 20
#: What a write raises on a full disk or quota: freeing space and running again finishes the work
#: (``taco evaluate`` and ``taco caption`` stop in part on these, exit status 3).
DISK_FULL_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT") if hasattr(errno, name))
#: The longest file name, in bytes, that common file systems take (ext4, XFS, APFS, NTFS).
NAME_MAX = 255
_TMP = ".tmp-"
_RANDOM_HEX = 8
#: What follows the prefix in a temporary's name: the random hex digits, or the PID[-THREAD] of
#: the names taco wrote before (so an upgrade still cleans those up); not a longer name that
#: begins alike (``.x.taco.tmp-1.tmp-...`` is the temporary of the target ``x.taco.tmp-1``).
_STALE_TAIL = re.compile(rf"[0-9a-f]{{{_RANDOM_HEX}}}|[0-9]+(-[0-9]+)?")
_RANDOM_TAIL = re.compile(rf"[0-9a-f]{{{_RANDOM_HEX}}}")
#: Seconds since its last change after which a temporary whose writer cannot be asked (no locks
#: on its file system, or a name of taco before the lock) is taken as abandoned: a write takes
#: seconds (the data is ready before the temporary is made).
STALE_AGE_S = 10 * 60
#: What ``os.link`` raises where the file system has no hard links (FAT and exFAT: EPERM; some
#: network and FUSE file systems: the others).
_NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.ENOSYS,
                       errno.EMLINK})
#: What ``os.link`` raises on Windows where the file system has no hard links (FAT32 and exFAT:
#: ERROR_INVALID_FUNCTION, some network shares: ERROR_NOT_SUPPORTED), as ``winerror``; Python
#: gives both errno EINVAL, which on a POSIX system means something else.
_NO_LINKS_WINDOWS = frozenset({1, 50})


def _temporary_prefix(path: Path) -> str:
    """``.NAME.tmp-``; where that would make the temporary name longer than :data:`NAME_MAX`
    bytes (a target of a legal 250-byte name must get a legal temporary), NAME cut short and
    followed by ``~`` and 8 hex digits of its whole name's SHA-256, so two long names that begin
    alike keep apart."""
    stem = "." + path.name
    if len(os.fsencode(stem + _TMP)) + _RANDOM_HEX <= NAME_MAX:
        return stem + _TMP
    tag = "~" + hashlib.sha256(os.fsencode(path.name)).hexdigest()[:8]
    while stem and len(os.fsencode(stem + tag + _TMP)) + _RANDOM_HEX > NAME_MAX:
        stem = stem[:-1]
    return stem + tag + _TMP


def temporary_path(path: Path) -> Path:
    """A fresh name where :func:`write_bytes_atomic` may stage ``path`` (hidden, beside it,
    random: the writer creates it exclusively and draws again if it exists)."""
    return path.with_name(_temporary_prefix(path) + secrets.token_hex(_RANDOM_HEX // 2))


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files of ``path``: those of processes killed while writing it, and any being
    written now (a caller that owns the folder, as the trainer its run folder, removes them all;
    :func:`remove_stale_temporaries` removes only the abandoned ones). Where ``path`` is a
    symbolic link, those beside the file it points to too (a write through it stages there)."""
    found = []
    for place in _staged_beside(path):
        prefix = _temporary_prefix(place)
        found += [p for p in place.parent.glob(glob.escape(prefix) + "*")
                  if _STALE_TAIL.fullmatch(p.name[len(prefix):])]
    return sorted(found)


def _staged_beside(path: Path) -> list[Path]:
    """The names whose temporaries a write of ``path`` may have left: ``path``, and where it is a
    symbolic link the file it points to (:func:`_written_through`: a write through the link
    stages beside that file, in its folder), unless that cannot be told (a loop, a link into a
    folder that is not there: nothing was staged there)."""
    try:
        through = _written_through(path)
    except OSError:
        return [path]
    return [path] if through == path else [path, through]


def remove_stale_temporaries(paths: Iterable[Path]) -> list[Path]:
    """Remove the temporaries of ``paths`` that killed writers left; return those removed.

    A path that is a symbolic link has its temporaries looked for beside it and beside the file
    it points to (where a write through the link stages them). Each folder is listed once (a
    batch of thousands of outputs in one folder). A temporary is
    removed only when its writer is gone: the lock a writer holds on it until it is published
    can be taken (and is held while it is removed, so a writer that has just made it sees that).
    Where that cannot be told (a file system without ``flock``, a temporary named as taco named
    them before it locked them), only one unchanged for :data:`STALE_AGE_S` is removed. What
    cannot be looked at or removed (a folder not listable, a name that is not a regular file) is
    left alone. (On a network file system whose ``flock`` is a per-process lock, a temporary of
    another thread of this process would pass as abandoned: commands write from one thread.)
    """
    by_folder: dict[Path, set[str]] = {}
    for path in paths:
        for place in _staged_beside(path):
            by_folder.setdefault(place.parent, set()).add(_temporary_prefix(place))
    removed = []
    for folder, prefixes in by_folder.items():
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.name.startswith("."))
        except OSError:
            continue
        for name in names:
            head, sep, tail = name.rpartition(_TMP)
            if (sep and head + sep in prefixes and _STALE_TAIL.fullmatch(tail)
                    and _remove_if_abandoned(folder / name, locked=bool(_RANDOM_TAIL.fullmatch(tail)))):
                removed.append(folder / name)
    return removed


def _remove_if_abandoned(tmp: Path, *, locked: bool) -> bool:
    """Remove the temporary ``tmp`` if its writer is gone (see :func:`remove_stale_temporaries`;
    ``locked``: named as a writer that locks it names it); whether it was removed."""
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:  # gone meanwhile (published), or not ours to read
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        abandoned = time.time() - st.st_mtime > STALE_AGE_S
        if locked and sys.platform != "win32":
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                abandoned = True
            except BlockingIOError:
                return False  # its writer is alive
            except OSError:
                pass  # no locks on this file system: its age says
        now = os.stat(tmp, follow_symlinks=False)
        if not abandoned or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False
        if sys.platform == "win32":
            os.close(fd)  # Windows removes no open file
            fd = -1
        os.unlink(tmp)
        return True
    except OSError:
        return False
    finally:
        if fd >= 0:
            os.close(fd)


def folder_write_error(folder: Path) -> OSError | None:
    """The OSError creating a file in the existing folder ``folder`` raises (a read-only file
    system, no permission), or None where it can. ``os.access`` answers yes or no without
    creating anything; where it says no, a temporary file tried there says why (or succeeds:
    root, ACLs)."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc


def _write_all(f, data: memoryview) -> None:  # noqa: ANN001 - a binary file object
    for start in range(0, len(data), CHUNK):
        f.write(data[start : start + CHUNK])


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, replace: bool = True) -> Path:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename, fsync folder).

    ``replace=False``: write ``path`` only if it does not exist when the data is published, else
    raise :class:`FileExistsError` naming it (an output that another process wrote after the
    caller checked it was not there). The temporary is hard-linked to ``path``, which fails if
    ``path`` exists, then removed. Where the file system has no hard links (``os.link`` raises
    EPERM, ENOTSUP, EXDEV, ...: FAT, exFAT, some network file systems) it is checked that
    ``path`` does not exist and the temporary renamed to it: another writer could come between
    the two (microseconds), never a half-written file. (Not an ``O_EXCL`` placeholder instead:
    a process killed between it and the rename would leave an empty file where the output
    should be, which a later run would take for one written.)

    A ``path`` that is a device, a named pipe or a socket (``-o /dev/null``) is written into, as
    the shell's ``>`` does: renaming over it would put a regular file in its place (as root,
    ``/dev/null`` itself).

    Replacing (``replace=True``) an existing file keeps its permission bits (a 0600 output stays
    0600) and, where this process may give it (root; a group the writer is in), its owner and
    group; another user's file whose owner cannot be kept is replaced by the writer's with the
    umask's bits (:func:`_copy_mode`). A new file takes the name: another hard link to the file
    replaced still has the old content. A ``path`` that is a symbolic link is written through, as ``cp`` and ``>`` do: the
    file it points to is replaced (written where the link points to nothing yet, if that folder
    exists; else :class:`FileNotFoundError` naming ``path``) and the link stays.
    """
    path = Path(path)
    if replace and special_file(path):
        try:
            with open(path, "wb") as out:
                _write_all(out, memoryview(data))
        except OSError as exc:  # /dev/full: its errors name no file
            _raise_naming_target(exc, path, [])
            raise
        return path
    made = make_folders(path.parent)
    try:
        f, tmp, target = _stage(path, data, through_links=replace)
        with f:  # open, and so locked, until published: removed by no one as stale
            if sys.platform == "win32":
                f.close()  # Windows renames no open file
            try:
                _publish(tmp, target, replace)
            except BaseException as exc:
                tmp.unlink(missing_ok=True)
                _raise_naming_target(exc, path, [tmp])
                raise
    except BaseException:
        remove_folders(made)  # a failed write leaves no empty folder it made
        raise
    _fsync_folder(target.parent)
    return path


def make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and the missing folders above it; those this call made, deepest first
    (for :func:`remove_folders`): one another process made meanwhile is not among them."""
    missing = []
    for above in (folder, *folder.parents):
        if above.is_dir():
            break
        missing.append(above)
    made: list[Path] = []
    for above in reversed(missing):  # top down
        try:
            above.mkdir()
        except FileExistsError:  # another process made it: not ours to remove
            continue
        except OSError:  # a name too long further down: none left made
            remove_folders(made)
            raise
        made.insert(0, above)
    return made


def remove_folders(made: list[Path]) -> None:
    """Remove the folders :func:`make_folders` made, deepest first, those that are empty (one
    another writer put a file in stays, and so do those above it)."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone
            continue


def _stage(path: Path, data: bytes, *, through_links: bool = True) -> tuple[BinaryIO, Path, Path]:
    """A new temporary for ``path``, in its existing folder, holding ``data``, flushed and
    fsynced: returned open, and so locked until published, with its name and the target it is to
    replace: ``path``, or with ``through_links`` the file a link ``path`` points to
    (:func:`_written_through`). It has the permission bits of the file it replaces. A write that
    fails closes and removes it and raises naming ``path`` (:func:`_raise_naming_target`)."""
    target = _written_through(path) if through_links else path
    f, tmp = _create_temporary(target, path)
    try:
        _write_all(f, memoryview(data))
        f.flush()
        os.fsync(f.fileno())
    except BaseException as exc:
        with suppress(OSError):  # a small file's write fails at its flush, and again here
            f.close()
        tmp.unlink(missing_ok=True)
        _raise_naming_target(exc, path, [tmp])
        raise
    return f, tmp, target


def _written_through(path: Path) -> Path:
    """The file that replacing ``path`` writes: ``path``, or where it is a symbolic link the file
    it points to (``os.path.realpath``), as ``cp`` and the shell's ``>`` write through a link. A
    link to nothing names the file to write if that file's folder exists, else it is
    :class:`FileNotFoundError`; a loop of links is ``ELOOP``; both name ``path``."""
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    if real.is_symlink():  # realpath stops at a loop
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    if not real.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"it links to {real}, in a folder that does not exist", str(path))
    return real


def _raise_naming_target(exc: BaseException, path: Path, temporaries: list[Path]) -> None:
    """Raise ``exc`` as naming ``path`` (:func:`_naming`) if it is an OSError of one of the
    ``temporaries`` or of no file: the target, not a name the caller never gave; else return
    (the caller re-raises ``exc`` as it is)."""
    if isinstance(exc, OSError) and exc.errno and exc.filename in (None, *map(str, temporaries)):
        raise _naming(exc, path) from None


def special_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is there and is (or links to) a device, a named pipe or a socket: not a
    regular file or folder. :func:`write_bytes_atomic` writes into one instead of replacing it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _publish(tmp: Path, path: Path, replace: bool) -> None:
    """Give the written temporary ``tmp`` the name ``path`` (see :func:`write_bytes_atomic`)."""
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        if path.is_dir() and not path.is_symlink():  # as os.replace says it
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path)) from None
        raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS and getattr(exc, "winerror", None) not in _NO_LINKS_WINDOWS:
            raise
        if os.path.lexists(path):  # no hard links here: checked, then renamed
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.replace(tmp, path)
        return
    with suppress(OSError):  # published; a second name left behind is a stale temporary
        os.unlink(tmp)


def _create_temporary(target: Path, path: Path) -> tuple[BinaryIO, Path]:
    """A new temporary file beside ``target``, open for writing and locked (:func:`_lock_new`);
    its permissions those of the file ``target`` it is to replace (:func:`_copy_mode`), else as
    ``open`` gives a new file: the umask's, not mkstemp's 0600. Errors name ``path``."""
    for _ in range(100):
        tmp = temporary_path(target)
        try:
            f = open(tmp, "xb")
        except FileExistsError:
            continue
        except OSError as exc:
            raise _naming(exc, path) from None
        if _lock_new(f, tmp):
            _copy_mode(f, target)
            return f, tmp
        f.close()  # taken for a stale one and being removed: draw another name
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", str(path))


def _copy_mode(f: BinaryIO, target: Path) -> None:
    """Give the new temporary open as ``f`` the owner and permission bits of the regular file
    ``target`` it is to replace, before any data is in it; none where ``target`` is not there.
    The owner (user and group) is kept where this process may give it (root; a group the writer
    is in); where it cannot be, the bits are copied only if ``target`` was the writer's own, else
    the temporary keeps the umask's (another user's 0600 file made the writer's 0600 would lock
    its owner out). Best-effort: an error here loses no write. (Not on Windows, which has no
    ``fchmod``: its only bit is read-only, and a read-only target is not replaced there anyway.)"""
    if not hasattr(os, "fchmod"):
        return
    with suppress(OSError):
        st, mine = os.stat(target), os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return
        owner_kept = (st.st_uid, st.st_gid) == (mine.st_uid, mine.st_gid)
        if not owner_kept:
            try:
                os.fchown(f.fileno(), st.st_uid, st.st_gid)
                owner_kept = True
            except OSError:
                pass
        if owner_kept or st.st_uid == mine.st_uid:
            os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode) & 0o777)


def _lock_new(f: BinaryIO, tmp: Path) -> bool:
    """Lock the temporary ``tmp`` just made (open as ``f``) for its writer; False if a cleaner
    (:func:`remove_stale_temporaries`) took it for a stale one before the lock: it holds the lock
    or has removed the name. True where there are no locks."""
    if sys.platform == "win32":
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # no locks on this file system: cleaners go by age
        return True
    try:
        now, mine = os.stat(tmp, follow_symlinks=False), os.fstat(f.fileno())
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` (same errno, same class) naming ``path`` instead of its temporary."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def write_text_atomic(
    path: str | os.PathLike[str], text: str, encoding: str = "utf-8", *, replace: bool = True
) -> Path:
    """Replace ``path`` with ``text`` atomically, as :func:`write_bytes_atomic` (no newline
    translation: the file holds exactly ``text`` encoded); ``replace=False``: only if ``path``
    does not exist when it is published, else :class:`FileExistsError` naming it, as there.

    The temporaries of ``path`` that killed writers left are removed first
    (:func:`remove_stale_temporaries`): this writes one file a command writes once (a JSON
    result, a table, a captions file), and nothing else would ever clean up beside it. (Not
    :func:`write_bytes_atomic`, which a batch calls for each of thousands of files in a folder.)
    """
    remove_stale_temporaries([Path(path)])
    return write_bytes_atomic(path, text.encode(encoding), replace=replace)


def write_all_atomic(files: Mapping[Path, bytes], *, replace: bool = True) -> list[Path]:
    """Replace each path of ``files`` with its bytes, all or none (a figure's PNG and SVG): every
    temporary is written and fsynced before the first is renamed, so a failure while writing (a
    full disk at the last file) removes them all and leaves every target as it was. (The renames
    write no data; one that fails, a target that became a folder, leaves those before it done.)
    The temporaries of these targets that killed writers left are removed first, as by
    :func:`write_text_atomic`; a target that is a device, a named pipe or a socket is written
    into after the others are published, and one replaced keeps its permission bits (a link is
    written through), as by :func:`write_bytes_atomic`. Returns the paths.

    ``replace=False``: none of the paths is replaced. Each is published as
    :func:`write_bytes_atomic` publishes with ``replace=False`` (hard-linked to its name, which
    fails if the name exists), in order; one found there (written by another process since the
    caller checked: two runs writing one figure) is :class:`FileExistsError` naming it, and the
    files of this call published before it are removed again (those still this call's: the
    same file), so that no mix of two writers' files is left: the one that publishes the first
    path has them all. A device, a named pipe or a socket counts as a file there.
    """
    targets = list(files)
    remove_stale_temporaries(targets)
    special = [p for p in targets if special_file(p)] if replace else []
    # (open and locked temporary, its name, the path given, the file it becomes: _stage)
    staged: list[tuple[BinaryIO, Path, Path, Path]] = []
    # replace=False: each file staged, by its (st_dev, st_ino); those published, with theirs
    idents: dict[Path, tuple[int, int]] = {}
    published: list[tuple[Path, tuple[int, int]]] = []
    made: list[Path] = []
    path = Path()
    try:
        for path in targets:
            if path in special:
                continue
            made[:0] = make_folders(path.parent)
            f, tmp, target = _stage(path, files[path], through_links=replace)
            staged.append((f, tmp, path, target))
            if not replace:
                st = os.fstat(f.fileno())
                idents[path] = (st.st_dev, st.st_ino)
        for f, tmp, path, target in staged:  # noqa: B007 - path: what an error names
            if sys.platform == "win32":
                f.close()  # Windows renames no open file
            if replace:
                os.replace(tmp, target)
            else:  # linked to its name; a name found there undoes the links made before it
                _publish(tmp, path, replace=False)
                published.append((path, idents[path]))
    except BaseException as exc:
        for done, ident in published:  # ours still: another writer's file of that name stays
            with suppress(OSError):
                now = os.stat(done, follow_symlinks=False)
                if (now.st_dev, now.st_ino) == ident:
                    os.unlink(done)
        for f, tmp, _, _ in staged:
            f.close()
            tmp.unlink(missing_ok=True)
        remove_folders(made)
        _raise_naming_target(exc, path, [t for _, t, _, _ in staged])
        raise
    for f, _, _, _ in staged:
        f.close()
    for folder in dict.fromkeys(t.parent for _, _, _, t in staged):
        _fsync_folder(folder)
    for path in special:
        write_bytes_atomic(path, files[path])
    return targets


def save_safetensors_atomic(
    tensors: dict, path: str | os.PathLike[str], metadata: dict[str, str] | None = None,
    *, replace: bool = True,
) -> Path:
    """``safetensors.torch.save_file`` made atomic, with a full disk raised as ``OSError``;
    ``replace=False``: only if ``path`` does not exist when it is published, else
    :class:`FileExistsError` naming it (:func:`write_bytes_atomic`).

    (safetensors' own ``save_file`` reports I/O errors as ``SafetensorError`` without an errno
    and, depending on its version, writes the target in place.)
    """
    from safetensors.torch import save

    return write_bytes_atomic(path, save(tensors, metadata=metadata), replace=replace)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is done anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
