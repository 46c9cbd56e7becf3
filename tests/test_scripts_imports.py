"""Every name the scripts, benchmarks and examples import from taco exists: f981cd1 removed
``taco.demo.sample_caption`` while scripts/make_goldens.py (README's golden check) still imported
it, and no test ran that script. Checked from the source (``from taco... import NAME`` and
``import taco...``), without running the scripts, so it costs no start-up of theirs."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("scripts", "benchmarks", "examples") for p in (ROOT / folder).rglob("*.py"))


def _taco_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) of each import of a taco module in ``path``."""
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "taco":
            out += [(node.lineno, node.module or "", alias.name) for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None) for alias in node.names if alias.name.split(".")[0] == "taco"]
    return out


def test_there_are_sources_to_check():
    assert any(p.name == "make_goldens.py" for p in SOURCES)
    assert any(_taco_imports(p) for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_taco_name_a_script_imports_exists(path):
    missing = []
    for line, module, name in _taco_imports(path):
        mod = importlib.import_module(module)
        if name is not None and not hasattr(mod, name):
            try:  # a submodule: from taco.models import fast_codec
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"{path.name}:{line}: {module}.{name}")
    assert not missing, missing
