"""taco.text.hf.model_folder: the one way taco finds or fetches a Hugging Face model, and the
four callers that go through it (the CLIP text encoder, the training loss's CLIP, CMMD's CLIP,
the captioner). Offline with an empty cache, each fails at once, naming the model, the cache it
looked in, why nothing was downloaded, and the caller's own fix; none touches the network. A file
named like a hub id is not taken for one, an offline flag with spaces or capitals counts, and
more than three missing weights are named as three and "..."."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from taco.errors import TacoError
from taco.text import hf
from taco.text.hf import has_weights, is_hub_id, model_folder

MISSING = "taco-tests/no-such-model"


class Missing(TacoError, RuntimeError):
    pass


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """HF_HUB_OFFLINE=1, an empty HF_HOME, and no network: a test that tries it fails."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.delenv("TACO_CLIP_PATH", raising=False)

    def no_network(*args: object, **kwargs: object) -> None:
        pytest.fail("a missing model tried the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    return tmp_path / "hf" / "hub"


def _cached(cache: Path, repo: str, files: list[str]) -> Path:
    """A snapshot of ``repo`` in the cache ``cache`` holding ``files`` (empty ones)."""
    snapshot = cache / f"models--{repo.replace('/', '--')}" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for f in files:
        (snapshot / f).write_text("{}")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    return snapshot


def test_a_folder_is_itself_and_a_path_that_is_none_is_said(tmp_path, empty_cache):
    assert model_folder(tmp_path, what="X", fix="FIX", error=Missing) == str(tmp_path)
    with pytest.raises(Missing, match=r"X: '.*nope' is not a folder \(no such folder\).* FIX$"):
        model_folder(tmp_path / "nope", what="X", fix="FIX", error=Missing)
    assert is_hub_id("org/model") and is_hub_id("gpt2")
    assert not is_hub_id("./clip") and not is_hub_id(str(tmp_path)) and not is_hub_id("a b")
    a_file = tmp_path / "clip"
    a_file.write_text("")
    with pytest.raises(Missing, match=r"X: '.*clip' is not a folder, nor a Hugging Face model id\. FIX$"):
        model_folder(a_file, what="X", fix="FIX", error=Missing)


@pytest.mark.parametrize("name", ["a--b", "org/model.git", "m" * 97])
def test_a_name_the_hub_refuses_as_an_id_is_the_callers_error(empty_cache, name):
    """Shaped like an id, refused by huggingface_hub's own check (HFValidationError): the
    caller's one-line error, not a traceback."""
    with pytest.raises(Missing, match=r"is not a folder \(no such folder\), nor a Hugging Face model id \(.*FIX$"):
        model_folder(name, what="X", fix="FIX", error=Missing)


def test_a_complete_cached_snapshot_is_found_offline(empty_cache):
    snapshot = _cached(empty_cache, "org/model", ["config.json", "model.safetensors"])
    assert has_weights(snapshot)
    assert model_folder("org/model", what="X", fix="FIX", error=Missing) == str(snapshot)


@pytest.mark.parametrize(("allow", "why"), [(True, "HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set, so it cannot be downloaded"),
                                            (False, "downloading is off here")])
def test_missing_or_partial_says_what_where_why_and_fix(empty_cache, allow, why):
    _cached(empty_cache, "org/partial", ["config.json"])  # no weights: not complete
    for name in (MISSING, "org/partial"):
        with pytest.raises(Missing) as info:
            model_folder(name, what="X", fix="FIX", error=Missing, allow_download=allow)
        assert str(info.value) == (f"X: {name!r} is not a folder and not (completely) in the "
                                   f"Hugging Face cache {empty_cache}, and {why}. FIX")


def test_an_unreachable_hub_is_said(empty_cache, monkeypatch):
    from taco.text import hf

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.setattr(hf, "hub_unreachable", lambda: "https://hub.test is unreachable (no route)")
    with pytest.raises(Missing, match=r"it cannot be downloaded: https://hub.test is unreachable"):
        model_folder(MISSING, what="X", fix="FIX", error=Missing)


# ----------------------------------------------------------------- the four callers


def _says_missing(message: str, empty_cache: Path) -> None:
    assert repr(MISSING) in message and "not (completely) in the Hugging Face cache" in message
    assert str(empty_cache) in message


def test_clip_text_encoder(empty_cache):
    from taco.text import TextEncoderUnavailable
    from taco.text.clip import CLIPTextEncoder

    with pytest.raises(TextEncoderUnavailable) as info:
        CLIPTextEncoder(MISSING)
    message = str(info.value)
    _says_missing(message, empty_cache)
    assert "HF_HUB_OFFLINE" in message and "--clip-path" in message and "TACO_CLIP_PATH" in message


def test_training_loss_clip(empty_cache):
    from taco.losses import ClipTowers
    from taco.metrics import MetricUnavailable

    with pytest.raises(MetricUnavailable) as info:
        ClipTowers.load(MISSING)
    message = str(info.value)
    _says_missing(message, empty_cache)
    assert "downloading is off" in message and "TACO_CLIP_PATH" in message and "k_j=0" in message


@pytest.mark.parametrize("allow_download", [False, True])
def test_cmmd_clip(empty_cache, allow_download):
    from taco.evaluation.measure import SetMetrics

    sets = SetMetrics(n_images=2, fid="off", cmmd_clip=MISSING, allow_download=allow_download)
    reason = sets.describe()["cmmd"]["reason"]
    assert sets.clip is None
    _says_missing(reason, empty_cache)
    assert ("HF_HUB_OFFLINE" if allow_download else "downloading is off") in reason
    assert "--download" in reason and "--cmmd-clip off" in reason


@pytest.mark.parametrize("allow_download", [False, True])
def test_captioner(empty_cache, allow_download):
    from taco.evaluation.caption import Captioner, CaptionerUnavailable

    with pytest.raises(CaptionerUnavailable) as info:
        Captioner(MISSING, allow_download=allow_download)
    message = str(info.value)
    _says_missing(message, empty_cache)
    assert ("HF_HUB_OFFLINE" if allow_download else "downloading is off") in message
    assert "-m DIR" in message and "--download" in message


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
