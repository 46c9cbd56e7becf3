"""Mutation round 6 (taco.text.hf): what a Hugging Face download fetches and returns (the hub
mocked: no network), a file named like a hub id, an offline flag with a trailing space, and the
"more weights missing" mark."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from taco.errors import TacoError
from taco.text import hf


class Missing(TacoError, RuntimeError):
    pass


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A mocked hub whose repository holds the files set on the returned namespace; a
    download writes them into a snapshot folder under ``tmp_path`` and is recorded."""
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))  # empty
    state = types.SimpleNamespace(files=[], fetched=[], snapshot=tmp_path / "snapshots" / "abc")

    class Api:
        def __init__(self, endpoint=None):  # taco passes the hub's endpoint at call time
            self.endpoint = endpoint

        def model_info(self, name, timeout=None):
            return types.SimpleNamespace(sha=None, siblings=[types.SimpleNamespace(rfilename=f)
                                                             for f in state.files])

    def download(name, file, revision=None, cache_dir=None, endpoint=None):
        state.fetched.append(file)
        path = state.snapshot / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(hf, "hub_unreachable", lambda timeout=3.0: None)
    return state


def test_a_download_fetches_only_the_top_folder_and_returns_the_snapshot(hub):
    hub.files = ["config.json", "model.safetensors", "vision/model.safetensors"]
    folder = hf.download_model("org/m")
    assert sorted(hub.fetched) == ["config.json", "model.safetensors"]
    assert Path(folder) == hub.snapshot


def test_a_repository_that_downloads_without_weights_is_one_line(hub):
    hub.files = ["config.json", "README.txt"]
    with pytest.raises(Missing, match="^CLIP: the Hugging Face repository 'org/nomodel' lacks files "
                                      "a model needs .* FIX$"):
        hf.model_folder("org/nomodel", what="CLIP", fix="FIX", error=Missing)


def test_a_file_named_like_a_hub_id_is_not_taken_for_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("blip").write_text("not a model")
    assert not hf.is_hub_id("blip")
    assert hf.is_hub_id("blip2")  # no such path: a hub id
    with pytest.raises(Missing, match=r"^captioner: 'blip' is not a folder, nor a Hugging Face "
                                      r"model id\. FIX$"):
        hf.model_folder("blip", what="captioner", fix="FIX", error=Missing, allow_download=False)


@pytest.mark.parametrize("value", ["1 ", " true\n", "YES"])
def test_an_offline_flag_with_spaces_or_capitals_counts(monkeypatch, value):
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert hf.hub_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "0 ")
    assert not hf.hub_offline()


def test_four_missing_weights_name_three_and_say_there_are_more():
    info = {"missing_keys": ["w.d", "w.a", "w.c", "w.b"], "mismatched_keys": []}
    assert hf.unloaded_weights(info) == "w.a, w.b, w.c, ..."
    assert hf.unloaded_weights({"missing_keys": ["w.a", "w.b"], "mismatched_keys": [("w.c", 1, 2)]}) \
        == "w.a, w.b, w.c"
