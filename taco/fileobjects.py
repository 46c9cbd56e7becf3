"""A caller's binary file object (``open(path, "rb")``, ``io.BytesIO``, a pipe), read to its end
or within a bound:
what :func:`taco.compress` takes for an image and :func:`taco.decompress` / :func:`taco.info` for
a ``.taco`` file. Imports nothing but :mod:`io` and :mod:`typing` (the bottom layer).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

__all__ = ["file_object_name", "is_file_object", "read_at_most", "read_file_object"]


def is_file_object(value: object) -> bool:
    """Whether ``value`` is read with ``.read()``: a file object of any kind (text ones included,
    for :func:`read_file_object` to refuse with a message)."""
    return callable(getattr(value, "read", None))


def file_object_name(stream: Any, default: str) -> str:
    """What messages call ``stream``: its ``name`` (a path for ``open``), else ``default``."""
    name = getattr(stream, "name", None)
    return str(name) if isinstance(name, str) and name else default


def read_file_object(stream: Any, what: str, error: Callable[[str], Exception],
                     limit: int | None = None) -> bytes:
    """All of ``stream``'s bytes from where it stands, or with ``limit`` at most that many
    (:func:`read_at_most`). A TypeError for a text-mode file, before anything is read (decoding a
    PNG as UTF-8 fails first, with a UnicodeDecodeError), and for a ``read()`` that gives no bytes
    (``None``: a non-blocking stream with nothing ready). ``error(reason)`` is raised for a stream
    already at its end (the ``BytesIO`` written to and not rewound); ``what`` names the kind of
    file in messages (``"an image"``, ``"a .taco file"``)."""
    if isinstance(stream, io.TextIOBase) or getattr(stream, "encoding", None) is not None:
        raise TypeError(f"a file object of {what} must be opened in binary mode ('rb'), not "
                        "text mode")
    data = stream.read() if limit is None else read_at_most(stream, limit, what)
    if data is None:
        raise TypeError(_not_ready(what))
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"a file object of {what} must be opened in binary mode ('rb'): its "
                        f"read() gave {type(data).__name__}")
    if not data:
        try:
            position = stream.tell()
        except (AttributeError, OSError, ValueError):  # a pipe cannot tell
            position = 0
        if position:
            raise error(f"the file object is at its end (position {position:,}): nothing left "
                        "to read (seek(0) first)")
    return bytes(data)


def read_at_most(stream: Any, limit: int, what: str) -> bytes:
    """Up to ``limit`` bytes of binary ``stream`` from where it stands: fewer only at its end.
    ``read(n)`` may give fewer than ``n`` (a pipe, a raw file), so it is called until ``limit``
    bytes or the end; a TypeError as in :func:`read_file_object` for a ``read()`` that gives
    ``None`` or no bytes object (``what`` names the file in it)."""
    parts: list[bytes] = []
    got = 0
    while got < limit:
        part = stream.read(limit - got)
        if part is None:
            raise TypeError(_not_ready(what))
        if not isinstance(part, bytes | bytearray | memoryview):
            raise TypeError(f"a file object of {what} must be opened in binary mode ('rb'): its "
                            f"read() gave {type(part).__name__}")
        if not part:
            break
        parts.append(bytes(part))
        got += len(part)
    return b"".join(parts)


def _not_ready(what: str) -> str:
    return (f"the file object of {what} had no bytes ready (a non-blocking stream): give a "
            "blocking one, or its bytes")
