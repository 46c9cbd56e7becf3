"""Text for a person: text taken from a file (a colour profile's name, a checkpoint's training
record) made safe to show in a one-line message (a hostile file must not break lines or send a
terminal escape codes), and counts of things in the right number."""

from __future__ import annotations

__all__ = ["count", "one_line"]


def one_line(text: str, limit: int = 80) -> str:
    """``text`` with whitespace runs as one space, other unprintable characters (control and
    escape codes) as ``?``, cut to ``limit`` characters (ending ``...``)."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the right number, thousands grouped by commas: ``1 image``,
    ``0 images``, ``1,234 steps``; ``plural`` where adding an s does not make it
    (``count(6, "patch", "patches")``)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
