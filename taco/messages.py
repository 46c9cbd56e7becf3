"""Text for a person: text taken from a file (a colour profile's name, a checkpoint's training
record) made safe to show in a one-line message (a hostile file must not break lines or send a
terminal escape codes), counts of things in the right number, and where the docs a message
names are (:func:`docs_ref`)."""

from __future__ import annotations

__all__ = ["count", "docs_ref", "one_line"]


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


def docs_ref(name: str, section: str | None = None) -> str:
    """Where to read more, as every message and help text says it: ``docs/NAME`` (and its
    ``section``) in the source tree, which a wheel lacks (the wheel is the package alone; the sdist
    grafts docs/, MANIFEST.in): ``docs_ref("models.md", "Adding a backbone")`` is
    ``docs/models.md, "Adding a backbone", in taco's source tree (a checkout or the sdist)``."""
    page = f'docs/{name}, "{section}",' if section else f"docs/{name}"
    return f"{page} in taco's source tree (a checkout or the sdist)"
