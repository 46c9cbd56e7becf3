"""taco's cache folder: a damaged CLIP tokenizer cache file is rewritten, a relative
XDG_CACHE_HOME is ignored (an absolute one used), and the variables are documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.text import clip_vocab


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TACO_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    clip_vocab.clip_bpe_folder.cache_clear()
    yield tmp_path
    clip_vocab.clip_bpe_folder.cache_clear()  # the next caller writes to its own cache again


def test_a_damaged_tokenizer_file_is_rewritten(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not UTF-8: read as text, it was a UnicodeDecodeError traceback at every run."""
    monkeypatch.setenv("TACO_CACHE_DIR", str(cache / "c"))
    (cache / "c" / "clip-bpe").mkdir(parents=True)
    vocab = cache / "c" / "clip-bpe" / "vocab.json"
    vocab.write_bytes(b"\xff\xfe\x00garbage")
    assert clip_vocab.clip_bpe_folder() == cache / "c" / "clip-bpe"
    assert vocab.read_text(encoding="utf-8").startswith('{"!": 0')


@pytest.mark.parametrize("value", ["relative/cache", "cache"])
def test_a_relative_xdg_cache_home_is_ignored(cache: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """The XDG Base Directory specification: a relative path in XDG_CACHE_HOME is invalid and
    is ignored (it made a cache inside whatever the current folder was)."""
    monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert clip_vocab.taco_cache_dir() == cache / "home" / ".cache" / "taco"


def test_an_absolute_xdg_cache_home_is_used(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache / "xdg"))
    assert clip_vocab.taco_cache_dir() == cache / "xdg" / "taco"


def test_the_cache_variables_are_documented() -> None:
    """The error when no cache folder can be written tells users to set TACO_CACHE_DIR."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "models.md").read_text(encoding="utf-8")
    assert "`TACO_CACHE_DIR`" in text and "XDG_CACHE_HOME" in text
