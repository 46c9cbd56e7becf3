"""taco.fileobjects.checked_path asks the system for its path limit once, not per path."""

import os

import pytest

from taco import fileobjects


def test_the_path_limit_is_asked_once(monkeypatch):
    calls = []
    real = os.pathconf

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(os, "pathconf", counting)
    fileobjects.path_limit.cache_clear()
    for name in ("a.png", "b.png", "c.png"):
        fileobjects.checked_path(name, ValueError)
    with pytest.raises(ValueError, match="too long for a path"):
        fileobjects.checked_path("x" * 40000, ValueError)
    assert len(calls) == 1
