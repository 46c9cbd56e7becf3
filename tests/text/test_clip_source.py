"""Where CLIP comes from is decided once, in :mod:`taco.text.clip` (``DEFAULT_CLIP``,
``CLIP_PATH_ENV``, :func:`~taco.text.clip.resolve_clip_source`): the clip text encoder, the
training loss's CLIP (:meth:`taco.losses.ClipTowers.load`) and ``taco compress --clip-path`` all
follow a change made there."""

from __future__ import annotations

import os

import pytest

import taco
import taco.text.clip as clip
from taco import cli
from taco.losses import ClipTowers
from taco.metrics import MetricUnavailable
from taco.text.base import TextEncoderUnavailable

OTHER_ENV = "TACO_TESTS_OTHER_CLIP_PATH"


@pytest.fixture
def other_env(monkeypatch):
    """CLIP_PATH_ENV renamed in its one place; neither variable set."""
    monkeypatch.setattr(clip, "CLIP_PATH_ENV", OTHER_ENV)
    monkeypatch.delenv("TACO_CLIP_PATH", raising=False)
    monkeypatch.delenv(OTHER_ENV, raising=False)
    return monkeypatch


def test_encoder_and_loss_read_the_same_variable(tmp_path, other_env):
    missing = str(tmp_path / "no-clip-here")
    other_env.setenv(OTHER_ENV, missing)
    with pytest.raises(TextEncoderUnavailable, match=repr(missing).replace("\\", "\\\\")):
        clip.resolve_clip_source(None)
    with pytest.raises(MetricUnavailable, match="k_j=0") as refused:
        ClipTowers.load()
    assert repr(missing) in str(refused.value)


def test_encoder_and_loss_share_the_default(monkeypatch):
    monkeypatch.setattr(clip, "DEFAULT_CLIP", "taco-tests/no-such-clip")
    monkeypatch.delenv("TACO_CLIP_PATH", raising=False)
    assert clip.resolve_clip_source(None) == "taco-tests/no-such-clip"
    with pytest.raises(MetricUnavailable, match=r"'taco-tests/no-such-clip' is not a folder and "
                       r"not \(completely\) in the Hugging Face cache"):
        ClipTowers.load()


def test_loss_reads_a_home_relative_folder_as_the_encoder_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "clip").mkdir()
    assert clip.resolve_clip_source("~/clip") == str(tmp_path / "clip")
    with pytest.raises(MetricUnavailable, match="has no config.json") as refused:
        ClipTowers.load("~/clip")  # found (an empty folder), so refused for what it lacks
    assert str(tmp_path / "clip") in str(refused.value)


def test_compress_clip_path_sets_the_one_variable(tmp_path, clip_checkpoint_and_photo, capsys, other_env):
    path, image = clip_checkpoint_and_photo
    missing = str(tmp_path / "no-clip-here")
    code = cli.main(["compress", str(image), "--caption", "a cat", "--model", str(path),
                     "--clip-path", missing])
    assert code == 2
    assert os.environ.get(OTHER_ENV) == missing and "TACO_CLIP_PATH" not in os.environ
    err = capsys.readouterr().err
    assert "taco compress: error: CLIP" in err and missing in err


def test_an_empty_clip_path_variable_is_unset(tmp_path, clip_checkpoint_and_photo, capsys, monkeypatch):
    # TACO_CLIP_PATH= is unset, as for TACO_CACHE_DIR and TACO_PLUGINS: the default CLIP, not ''
    monkeypatch.setattr(clip, "DEFAULT_CLIP", "taco-tests/no-such-clip")
    monkeypatch.setenv("TACO_CLIP_PATH", "")
    with pytest.raises(TextEncoderUnavailable, match="'taco-tests/no-such-clip' is not a folder"):
        taco.text.get_text_encoder("clip")
    path, image = clip_checkpoint_and_photo
    code = cli.main(["compress", str(image), "--caption", "a cat", "--model", str(path),
                     "-o", str(tmp_path / "cat.taco")])
    assert code == 2
    err = capsys.readouterr().err
    assert "'taco-tests/no-such-clip' is not a folder" in err and "'' is not a folder" not in err
