"""Text taken from a file (a colour profile's name, a checkpoint's training record) made safe to
show a person in a one-line message: a hostile file must not break lines or send a terminal
escape codes."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(text: str, limit: int = 80) -> str:
    """``text`` with whitespace runs as one space, other unprintable characters (control and
    escape codes) as ``?``, cut to ``limit`` characters (ending ``...``)."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."
