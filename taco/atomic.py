"""Atomic file writes: a file is either its old content or its complete new content.

The new content goes to a temporary file beside the target (``.<name>.tmp-<random>``, created
exclusively, so each write, of any thread or process, has its own), is flushed and fsynced, then
renamed over the target; the folder is fsynced so the rename survives a power cut. A write that
fails (full disk, ...) removes its temporary file and raises :class:`OSError` with its ``errno``
(``ENOSPC`` for a full disk) and the target's name. A process killed mid-write leaves the target
untouched and, at worst, a temporary file that no loader reads (:func:`stale_temporaries`).
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

#: Bytes per ``write`` call (a full disk fails on the first chunk that does not fit).
CHUNK = 16 << 20
#: The longest file name, in bytes, that common file systems take (ext4, XFS, APFS, NTFS).
NAME_MAX = 255
_TMP = ".tmp-"
_RANDOM_HEX = 8
#: What follows the prefix in a temporary's name: the random hex digits, or the PID[-THREAD] of
#: the names taco wrote before (so an upgrade still cleans those up); not a longer name that
#: begins alike (``.x.taco.tmp-1.tmp-...`` is the temporary of the target ``x.taco.tmp-1``).
_STALE_TAIL = re.compile(rf"[0-9a-f]{{{_RANDOM_HEX}}}|[0-9]+(-[0-9]+)?")


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
    """Temporary files of ``path`` left by processes that were killed while writing it."""
    prefix = _temporary_prefix(path)
    return sorted(p for p in path.parent.glob(glob.escape(prefix) + "*")
                  if _STALE_TAIL.fullmatch(p.name[len(prefix):]))


def _write_all(f, data: memoryview) -> None:  # noqa: ANN001 - a binary file object
    for start in range(0, len(data), CHUNK):
        f.write(data[start : start + CHUNK])


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename, fsync folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    f, tmp = _create_temporary(path)
    try:
        with f:
            _write_all(f, memoryview(data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno and exc.filename in (None, str(tmp)):
            raise _naming(exc, path) from None  # the target, not a name the caller never gave
        raise
    _fsync_folder(path.parent)
    return path


def _create_temporary(path: Path) -> tuple[BinaryIO, Path]:
    """A new temporary file for ``path``, open for writing (its permissions as ``open`` gives a
    new file: the umask's, not mkstemp's 0600)."""
    for _ in range(100):
        tmp = temporary_path(path)
        try:
            return open(tmp, "xb"), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise _naming(exc, path) from None
    raise FileExistsError(errno.EEXIST, "no free temporary name beside it", str(path))


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` (same errno, same class) naming ``path`` instead of its temporary."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``text`` atomically, as :func:`write_bytes_atomic` (no newline
    translation: the file holds exactly ``text`` encoded)."""
    return write_bytes_atomic(path, text.encode(encoding))


def save_safetensors_atomic(
    tensors: dict, path: str | os.PathLike[str], metadata: dict[str, str] | None = None
) -> Path:
    """``safetensors.torch.save_file`` made atomic, with a full disk raised as ``OSError``.

    (safetensors' own ``save_file`` reports I/O errors as ``SafetensorError`` without an errno
    and, depending on its version, writes the target in place.)
    """
    from safetensors.torch import save

    return write_bytes_atomic(path, save(tensors, metadata=metadata))


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
