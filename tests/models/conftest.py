"""Fixtures of the model tests."""

from __future__ import annotations

import pytest


@pytest.fixture()
def ship(load_script, monkeypatch, tmp_path):
    """scripts/ship_model.py as a module, writing into ``tmp_path`` instead of the package."""
    module = load_script("scripts/ship_model.py")
    monkeypatch.setattr(module, "ASSETS", tmp_path)
    return module
