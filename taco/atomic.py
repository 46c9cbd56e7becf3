"""Atomic file writes: a file is either its old content or its complete new content.

The new content goes to a temporary file beside the target (``.<name>.tmp-<pid>-<thread>``), is flushed
and fsynced, then renamed over the target; the folder is fsynced so the rename survives a power
cut. A write that fails (full disk, ...) removes its temporary file and raises :class:`OSError`
with its ``errno`` (``ENOSPC`` for a full disk). A process killed mid-write leaves the target
untouched and, at worst, a temporary file that no loader reads (:func:`stale_temporaries`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

#: Bytes per ``write`` call (a full disk fails on the first chunk that does not fit).
CHUNK = 16 << 20


def temporary_path(path: Path) -> Path:
    """Where :func:`write_bytes_atomic` stages ``path`` (hidden, named after this process)."""
    # the thread too: two threads of one process writing one target (a service's first use
    # writing a shared file) must not write into each other's temporary
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files of ``path`` left by processes that were killed while writing it."""
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


def _write_all(f, data: memoryview) -> None:  # noqa: ANN001 - a binary file object
    for start in range(0, len(data), CHUNK):
        f.write(data[start : start + CHUNK])


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename, fsync folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            _write_all(f, memoryview(data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


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
