"""The packages' lazy names and what type checkers see of them agree: each name a package loads
on first use (its ``_LAZY``) is also imported, from the same module, under ``if TYPE_CHECKING``
(tests/typing/public_api.py checks the types mypy then sees), and ``__all__`` lists them."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import taco


def _type_checking_imports(package: str) -> dict[str, str]:
    """name -> module of the ``from M import X as X`` under the package's ``if TYPE_CHECKING``."""
    path = Path(importlib.import_module(package).__file__ or "")
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    for alias in stmt.names:
                        assert alias.asname == alias.name, f"{package}: {alias.name} is not re-exported"
                        module = "." * stmt.level + (stmt.module or "")
                        found[alias.name] = module
    return found


@pytest.mark.parametrize("package", ["taco", "taco.models", "taco.train", "taco.evaluation"])
def test_every_lazy_name_is_visible_to_type_checkers(package):
    module = importlib.import_module(package)
    seen = _type_checking_imports(package)
    lazy = module._LAZY
    assert {name: seen.get(name) for name in lazy} == dict(lazy)
    assert set(lazy) <= set(module.__all__)
    for name in module.__all__:  # and each resolves at run time
        assert getattr(module, name) is not None


def test_taco_lists_its_names_and_subpackages_for_type_checkers():
    assert taco.__all__ == ["__version__", *taco._LAZY]
    seen = _type_checking_imports("taco")
    assert {name for name, module in seen.items() if module == "."} == set(taco._SUBMODULES)


def test_taco_official_names_are_visible_to_type_checkers():
    import taco.official

    assert set(_type_checking_imports("taco.official")) == set(taco.official.__all__)


def test_the_default_model_is_a_public_name_that_imports_no_torch():
    """taco.DEFAULT_MODEL is the model the commands use when given none (taco.resolve), so that
    ``taco.load(taco.DEFAULT_MODEL)`` follows it; reading it imports no torch."""
    import subprocess
    import sys

    from taco.resolve import DEFAULT_MODEL

    assert taco.DEFAULT_MODEL == DEFAULT_MODEL
    assert "DEFAULT_MODEL" in dir(taco)
    code = "import sys, taco; print(taco.DEFAULT_MODEL, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [DEFAULT_MODEL, "False"]
