"""Fixtures of the reliability suite: the fuzz script loaded as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fuzz():
    """``scripts/fuzz_decoder.py``: its mutators and its target, exercised in CI."""
    spec = importlib.util.spec_from_file_location("fuzz_decoder", REPO / "scripts" / "fuzz_decoder.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_decoder"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus(fuzz):
    """Seeded tiny models and valid files made with them (see ``fuzz_decoder.Models``)."""
    return fuzz.Models()
