"""A quoted ``TACO_CACHE_DIR='~/tc'`` (or ``XDG_CACHE_HOME``) reaches taco with its ``~``
unexpanded; taco used it as given and made a folder literally named ``~`` in the current
directory. taco now expands it, as it does for ``--clip-path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.text import clip_vocab


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    clip_vocab.clip_bpe_folder.cache_clear()
    yield tmp_path
    clip_vocab.clip_bpe_folder.cache_clear()  # the next caller writes to its own cache again


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("TACO_CACHE_DIR", "~/tc", "home/tc/clip-bpe"),
    ("XDG_CACHE_HOME", "~/xdg", "home/xdg/taco/clip-bpe"),
])
def test_tilde_in_cache_variables_means_home(
        home: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str) -> None:
    monkeypatch.delenv("TACO_CACHE_DIR", raising=False)
    monkeypatch.setenv(variable, value)
    folder = clip_vocab.clip_bpe_folder()
    assert folder == home / expected
    assert (folder / "vocab.json").is_file()
    assert not (home / "~").exists()
