"""The torch-free modules that docstrings and docs point users at (``taco.errors.TacoValueError``,
``taco.memory.OutOfMemoryError``, ``taco.devices.resolve_device``) are attributes of ``taco``
after a bare ``import taco``, as type checkers already said; reaching them imports no torch
(they raised AttributeError until some other import had loaded them)."""

from __future__ import annotations

import subprocess
import sys

import pytest

LIGHT = {"errors": "TacoError", "memory": "OutOfMemoryError", "devices": "resolve_device",
         "progress": "Progress", "messages": "one_line", "fileobjects": "checked_path",
         "resolve": "DEFAULT_MODEL"}


@pytest.mark.parametrize("module", sorted(LIGHT))
def test_a_light_submodule_is_an_attribute_of_taco_without_torch(module: str) -> None:
    code = f"import sys, taco; taco.{module}.{LIGHT[module]}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]
