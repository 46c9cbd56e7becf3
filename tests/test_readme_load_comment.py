"""README's Python API says what ``taco.load`` takes as it is: a trained name or a checkpoint
path, and ``taco.create_model`` for an untrained architecture. It said "or any name", and
``taco.load('taco-tiny')`` refuses (by design, pointing at create_model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import taco
from taco.models.checkpoint import CheckpointError

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_says_what_load_takes() -> None:
    (api,) = [b for b in re.findall(r"^```python\n(.*?)^```", README, flags=re.M | re.S)
              if "taco.load(taco.DEFAULT_MODEL)" in b]
    start = api.index("taco.load(taco.DEFAULT_MODEL)")
    comment = " ".join(line.split("#", 1)[1].strip() for line in api[start:].splitlines()[:3]
                       if "#" in line)
    assert "any name" not in comment
    assert "a trained name" in comment and "checkpoint path" in comment
    assert "taco.create_model(NAME)" in comment and "untrained architecture" in comment


def test_load_refuses_an_architecture_and_names_create_model() -> None:
    with pytest.raises(CheckpointError, match=r"taco\.create_model\('taco-tiny'\)"):
        taco.load("taco-tiny")
