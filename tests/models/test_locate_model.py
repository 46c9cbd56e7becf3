"""taco.models.registry.locate_model: the one place that refuses what no caller of a model
argument can use (a retired built-in, a folder without a checkpoint, nothing), so that
``taco.load``, ``--model`` (resolve_model), ``taco models`` (describe_model) and ``init_from``
say it in the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.models import (
    PRETRAINED,
    RETIRED,
    CheckpointError,
    create_model,
    describe_model,
    load,
    save_checkpoint,
)
from taco.models.registry import locate_model
from taco.resolve import resolve_model
from taco.train.config import init_from_file

BUILTIN = "elic-small-q4"


@pytest.fixture()
def in_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_what_a_caller_uses_comes_back(in_folder):
    checkpoint = save_checkpoint(create_model("elic-tiny"), Path("run") / "checkpoint.safetensors")
    assert locate_model("elic-tiny").kind == "architecture"
    assert locate_model(BUILTIN).kind == "pretrained"
    found = locate_model("run")
    assert (found.kind, found.checkpoint) == ("checkpoint", checkpoint)


def _refusals(name: str) -> list[str]:
    """What each caller says of ``name``, in the order load, resolve_model, describe_model,
    init_from."""
    said = []
    for call in (load, resolve_model, describe_model, init_from_file):
        with pytest.raises(CheckpointError) as e:
            call(name)
        said.append(str(e.value))
    return said


def test_a_retired_builtin_is_refused_in_the_same_words_everywhere(in_folder, monkeypatch):
    monkeypatch.delitem(PRETRAINED, BUILTIN, raising=False)
    monkeypatch.setitem(RETIRED, BUILTIN, "0123abc")
    with pytest.raises(CheckpointError) as e:
        locate_model(BUILTIN)
    assert "no longer ships" in str(e.value)
    # the same words up to how the caller takes the checkpoint (retired_message's use=)
    said = str(e.value)
    assert said.endswith("then give that file as the model (--model elic-small-q4.safetensors)")
    assert _refusals(BUILTIN) == [
        said.replace("then give that file as the model (--model elic-small-q4.safetensors)",
                     "then load that file: taco.load('elic-small-q4.safetensors')"),
        said, said,
        "init_from: " + said.replace("then give that file as the model (--model ",
                                     "then start from that file (--init-from ")]


def test_a_folder_without_a_checkpoint_is_refused_in_the_same_words_everywhere(in_folder):
    Path("empty").mkdir()
    with pytest.raises(CheckpointError) as e:
        locate_model("empty", context="init_from: ")
    said = str(e.value)
    assert said.startswith("init_from: ") and "empty" in said
    assert _refusals("empty") == [said.removeprefix("init_from: ")] * 3 + [said]


def test_nothing_is_the_callers_own_error(in_folder):
    with pytest.raises(CheckpointError, match="neither a checkpoint file nor a built-in model"):
        locate_model("no-such-model")
    with pytest.raises(KeyError):
        locate_model("no-such-model", unknown=lambda: KeyError("no-such-model"))
    with pytest.raises(KeyError):  # describe_model's: taco models reads the name from it
        describe_model("no-such-model")
    with pytest.raises(CheckpointError, match="^init_from: model 'no-such-model' is neither a checkpoint file nor a built-in trained model"):
        init_from_file("no-such-model")


def test_resolve_model_says_a_path_object_is_a_path(in_folder):
    """resolve_model(Path(NAME)) with no ./NAME says how to give the name, as taco.load does (it
    said 'neither a checkpoint file nor a built-in model (did you mean NAME?)')."""
    said = "Path('elic-tiny') is read as a path and ./elic-tiny does not exist; pass the str 'elic-tiny'"
    for call in (load, resolve_model):
        with pytest.raises(CheckpointError) as e:
            call(Path("elic-tiny"))
        assert said in str(e.value) and "did you mean" not in str(e.value)
