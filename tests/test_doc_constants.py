"""Every constant README.md and docs/*.md name by its full path (`taco.module.NAME`) exists and,
where the module declares its public names, is one of them: a reader may import what the docs
point to, and a rename cannot leave the docs pointing at nothing."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"`(taco(?:\.[a-z_]+)+)\.([A-Z][A-Z0-9_]+)`")


def named_constants() -> set[tuple[str, str, str]]:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    return {(m.group(1), m.group(2), page.name)
            for page in pages for m in NAMED.finditer(page.read_text(encoding="utf-8"))}


def test_the_docs_name_constants_at_all() -> None:
    assert len(named_constants()) >= 10  # the pattern still finds what the docs write


def test_every_constant_the_docs_name_is_public_where_they_say() -> None:
    wrong = []
    for module_name, name, page in sorted(named_constants()):
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            wrong.append(f"{page}: {module_name}.{name} does not exist")
        elif name not in getattr(module, "__all__", [name]):
            wrong.append(f"{page}: {module_name}.{name} is not in {module_name}.__all__")
    assert not wrong, "\n".join(wrong)
