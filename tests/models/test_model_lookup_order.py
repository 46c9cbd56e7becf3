"""One lookup for a model argument (taco.models.registry.classify_model_spec): ``--model``
(resolve_model), ``taco.load`` and ``taco models`` (describe_model) agree on every kind of
argument, and a name taco knows means the same where a folder of that name holds a checkpoint."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PIL import Image

from taco.cli import main
from taco.errors import TacoWarning
from taco.models import (
    PRETRAINED,
    RETIRED,
    CheckpointError,
    create_model,
    describe_model,
    load,
    model_fingerprint,
    save_checkpoint,
)
from taco.models.registry import classify_model_spec
from taco.resolve import resolve_model
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-chelsea.png"
BUILTIN = "elic-small-q4"  # a shipped trained model whose name has a one-byte code


@pytest.fixture(scope="module")
def trained_elic_tiny():
    """An elic-tiny with weights other than the architecture's seed-0 ones."""
    return create_model("elic-tiny", seed=1)


@pytest.fixture()
def in_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_with_checkpoint(name: str, model) -> Path:
    """./NAME as a training run's folder: NAME/checkpoint.safetensors."""
    return save_checkpoint(model, Path(name) / "checkpoint.safetensors")


def test_an_architecture_name_beside_a_run_of_that_name(in_folder, trained_elic_tiny):
    """The review's case: ./elic-tiny holds a checkpoint. The name is the architecture for all
    three (the old --model and taco.load took the folder while taco models said untrained)."""
    checkpoint = run_with_checkpoint("elic-tiny", trained_elic_tiny)
    spec = classify_model_spec("elic-tiny")
    assert (spec.kind, spec.shadowed) == ("architecture", checkpoint)

    resolved = resolve_model("elic-tiny")
    seed0 = model_fingerprint(create_model("elic-tiny", seed=0))
    assert not resolved.trained and resolved.checkpoint is None
    assert model_fingerprint(resolved.model) == seed0
    assert "no trained weights" in resolved.note and "give ./elic-tiny to use" in resolved.note
    info = describe_model("elic-tiny")
    assert not info["trained"] and info["shadowed_checkpoint"] == str(checkpoint)
    with pytest.raises(CheckpointError, match="architecture without trained weights") as e:
        load("elic-tiny")
    assert "give ./elic-tiny to use that checkpoint" in str(e.value)


@pytest.mark.parametrize("given", ["./elic-tiny", Path("elic-tiny")], ids=["dot-slash", "pathlib"])
def test_the_folder_itself_is_its_checkpoint(in_folder, trained_elic_tiny, given):
    checkpoint = run_with_checkpoint("elic-tiny", trained_elic_tiny)
    assert classify_model_spec(given).kind == "checkpoint"
    trained = model_fingerprint(trained_elic_tiny)
    assert model_fingerprint(load(given)) == trained
    info = describe_model(given)
    assert info["trained"] and info["file"] == str(checkpoint) and "shadowed_checkpoint" not in info
    # a file's parameters are its own, not the ones PARAMETERS lists for the name it reads as
    assert info["parameters"] == sum(p.numel() for p in trained_elic_tiny.parameters())
    if isinstance(given, str):  # --model takes text
        resolved = resolve_model(given)
        assert resolved.trained and resolved.checkpoint == checkpoint and resolved.note is None
        assert model_fingerprint(resolved.model) == trained


def test_a_trained_builtin_beside_a_folder_of_its_name(in_folder, trained_elic_tiny):
    checkpoint = run_with_checkpoint(BUILTIN, trained_elic_tiny)
    assert classify_model_spec(BUILTIN).kind == "pretrained"
    with pytest.warns(TacoWarning, match=rf"^\./{BUILTIN} holds a checkpoint .*give \./{BUILTIN} to use"):
        shipped = model_fingerprint(load(BUILTIN))  # it was silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the CLI's resolver says it once, as a note
        resolved = resolve_model(BUILTIN)
    assert resolved.trained and model_fingerprint(resolved.model) == shipped
    assert resolved.note is not None and f"give ./{BUILTIN} to use" in resolved.note
    info = describe_model(BUILTIN)
    assert info["sha256"] == PRETRAINED[BUILTIN].sha256 and info["shadowed_checkpoint"] == str(checkpoint)


def test_a_retired_builtin_beside_a_folder_of_its_name(in_folder, monkeypatch, trained_elic_tiny):
    """A retired name is a name: all three say where its checkpoint is (taco models said
    'unknown model') and that ./NAME is the local one."""
    run_with_checkpoint(BUILTIN, trained_elic_tiny)
    monkeypatch.delitem(PRETRAINED, BUILTIN)
    monkeypatch.setitem(RETIRED, BUILTIN, "0123abc")
    assert classify_model_spec(BUILTIN).kind == "retired"
    for look_up in (resolve_model, load, describe_model):
        with pytest.raises(CheckpointError, match="no longer ships") as e:
            look_up(BUILTIN)
        assert f"give ./{BUILTIN} to use that checkpoint" in str(e.value), look_up


def test_a_folder_without_a_checkpoint_and_an_unknown_name(in_folder):
    Path("empty").mkdir()
    assert classify_model_spec("empty").kind == "folder"
    for look_up in (resolve_model, load, describe_model):
        with pytest.raises(CheckpointError, match="is a folder without a model checkpoint"):
            look_up("empty")
    assert classify_model_spec("no-such-model").kind == "unknown"
    for look_up in (resolve_model, load):
        with pytest.raises(CheckpointError, match="neither a checkpoint file nor a built-in model"):
            look_up("no-such-model")
    with pytest.raises(KeyError):  # taco models turns it into the same line
        describe_model("no-such-model")


def test_a_name_a_file_gives_never_reads_the_disk(in_folder, trained_elic_tiny):
    run_with_checkpoint("elic-tiny", trained_elic_tiny)
    spec = classify_model_spec("elic-tiny", names_only=True)
    assert (spec.kind, spec.shadowed) == ("architecture", None)
    assert classify_model_spec("./elic-tiny", names_only=True).kind == "unknown"
    note = resolve_model("elic-tiny", names_only=True).note
    assert note is not None and "no trained weights" in note and "./elic-tiny" not in note


def test_taco_models_and_compress_agree(in_folder, capsys, trained_elic_tiny):
    run_with_checkpoint("elic-tiny", trained_elic_tiny)
    Image.open(SAMPLE).convert("RGB").crop((0, 0, 64, 64)).save("x.png")
    assert main(["models", "elic-tiny"]) == 0
    out = capsys.readouterr().out
    assert "trained: no" in out and "note: ./elic-tiny holds a checkpoint" in out
    assert main(["compress", "x.png", "--caption", "", "-m", "elic-tiny", "-o", "x.taco"]) == 0
    err = capsys.readouterr().err
    assert "no trained weights" in err and "give ./elic-tiny to use that checkpoint" in err
    # the file decodes with no --model anywhere: the name meant the seed-0 weights
    assert main(["decompress", "x.taco", "-o", "x.out.png"]) == 0


@pytest.mark.parametrize("name", ["taco-minilm-small-q4", "elic-tiny"])
def test_a_path_with_a_names_text_and_nothing_on_disk(in_folder, name):
    """pathlib.Path(NAME) is a path: with no ./NAME, load and describe_model say so and how to
    give the name (they said 'neither a checkpoint file nor a built-in model (did you mean
    NAME?)', and describe_model a bare KeyError)."""
    said = f"Path({name!r}) is read as a path and ./{name} does not exist; pass the str {name!r}"
    with pytest.raises(CheckpointError) as e:
        load(Path(name))
    assert said in str(e.value) and "did you mean" not in str(e.value)
    with pytest.raises(KeyError) as k:
        describe_model(Path(name))
    assert k.value.args[0] == name and said in str(k.value)  # args[0]: what taco models reads


def test_an_unknown_name_says_why_in_python_too(in_folder):
    with pytest.raises(KeyError) as k:
        describe_model("no-such-model")
    assert k.value.args[0] == "no-such-model" and "neither a checkpoint file" in str(k.value)


@pytest.mark.parametrize("holds", ["text", "folder"])
def test_a_file_of_a_names_name_that_is_no_checkpoint_gets_no_note(in_folder, capsys, holds):
    """./elic holding text (or a folder whose checkpoint.safetensors is text) is not called a
    checkpoint in the name's note."""
    if holds == "text":
        Path("elic").write_text("hello\n")
    else:
        Path("elic").mkdir()
        Path("elic/checkpoint.safetensors").write_text("hello\n")
    assert classify_model_spec("elic").shadowed is None
    assert "shadowed_checkpoint" not in describe_model("elic")
    assert resolve_model("elic-tiny").note is not None  # untrained; and no note of ./elic:
    assert main(["models", "elic"]) == 0
    assert "holds a checkpoint" not in capsys.readouterr().out


def test_a_path_object_is_a_path_for_resolve_model_and_evaluation(in_folder, trained_elic_tiny):
    from taco.evaluation.evaluate import load_model

    checkpoint = run_with_checkpoint("elic-tiny", trained_elic_tiny)
    by_path = resolve_model(Path("elic-tiny"))
    assert by_path.trained and by_path.checkpoint == checkpoint and by_path.spec == "elic-tiny"
    assert not resolve_model("elic-tiny").trained  # the str is the name
    _, info = load_model(Path("elic-tiny"))
    assert info.trained and info.checkpoint == str(checkpoint) and info.spec == "elic-tiny"
    _, info = load_model("elic-tiny")
    assert not info.trained and info.checkpoint is None
