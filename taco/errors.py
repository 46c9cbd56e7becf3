"""The base classes of what taco raises and warns on purpose.

Every error taco raises on purpose is a :class:`TacoError`, and keeps the builtin base it had
before (``CheckpointError`` is also a ``ValueError``, ``OutOfMemoryError`` a ``MemoryError``),
so ``except taco.TacoError`` catches all of them and older ``except ValueError`` code still
works. Every warning taco gives on purpose is a :class:`TacoWarning` (a ``UserWarning``).
Imports nothing (the bottom layer), so ``import taco.errors`` loads no torch.
"""

from __future__ import annotations

__all__ = ["TacoError", "TacoWarning"]


class TacoError(Exception):
    """Every error taco raises on purpose: a bad input, file, setting or environment, said in
    words for a person. A bug in taco surfaces as another exception."""


class TacoWarning(UserWarning):
    """Every warning taco gives on purpose (a caption cut to fit, an image converted to RGB, an
    unreadable image skipped)."""
