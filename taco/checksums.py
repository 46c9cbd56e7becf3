"""SHA-256 of files (checkpoints, shipped weights, downloaded networks), read in 1 MiB chunks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_verified(path: str | os.PathLike[str], sha256: str, what: str, fix: str,
                  error: Callable[[str], Exception]) -> bytes:
    """The bytes of the shipped file at ``path``, whose SHA-256 must be ``sha256``: else
    ``error(message)``, the message naming it (``what``), why (missing, or its digest) and what to
    do (``fix``)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise error(f"{what} is missing ({e}): {fix}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise error(f"{what} {os.fspath(path)} has SHA-256 {digest}, expected {sha256}: {fix}")
    return data
