"""One "did you mean" (taco.messages.did_you_mean) for every message about an unknown
model: taco.load / --model, create_model, and a training config's model."""

from __future__ import annotations

import pytest

from taco.messages import did_you_mean
from taco.models import CheckpointError, create_model, load
from taco.models.registry import looks_like_path, unknown_model_message
from taco.train.config import ConfigError, load_config, unknown_model_text


def test_did_you_mean_names_the_closest_candidates():
    assert did_you_mean("elic-tinny", ["elic-tiny", "taco", "elic-vr"]) == " (did you mean 'elic-tiny'?)"
    assert did_you_mean("elci", ["elic", "elic-vr"]) == " (did you mean 'elic'?)"
    assert did_you_mean("x", ["elic", "taco"]) == ""
    assert did_you_mean("chekpoint.safetensors", ["checkpoint.safetensors"], prefix="run/") == (
        " (did you mean 'run/checkpoint.safetensors'?)")
    many = did_you_mean("taco-minilm-smal-q4", ["taco-minilm-small-q4", "taco-minilm-small-q3",
                                                "taco-minilm-small", "taco-minilm-tiny"])
    assert many.count("'") == 6 and many.startswith(" (did you mean 'taco-minilm-small-q4' or ")


def test_the_three_messages_say_it_the_same_way():
    hint = " (did you mean 'elic-tiny'"
    assert f"model 'elic-tinny' is neither a checkpoint file nor a built-in model{hint}" in (
        unknown_model_message("elic-tinny"))
    with pytest.raises(CheckpointError, match=r"untrained \(for taco.create_model\)") as e:
        load("elic-tinny")
    assert hint in str(e.value)
    with pytest.raises(ValueError) as v:
        create_model("elic-tinny")
    assert str(v.value).startswith(f"unknown model 'elic-tinny'{hint}")
    assert unknown_model_text("elic-tinny").startswith(f"unknown model 'elic-tinny'{hint}")
    with pytest.raises(ConfigError, match="models: elic, "):
        load_config(None, ["model=elic-tinny"])


def test_each_message_keeps_its_own_advice():
    assert "trained: " in unknown_model_message("nope") and "untrained (random weights): " in (
        unknown_model_message("nope"))
    with pytest.raises(ValueError, match=r"load it with taco.load.*did you mean 'taco-minilm-small'"):
        create_model("taco-minilm-small-q4")
    assert "--init-from elic-small-q4 (without model)" in unknown_model_text("elic-small-q4")


@pytest.mark.parametrize("key, path_like", [
    ("run/checkpoint.safetenors", True), ("model.pt", True), ("m.PTH", True), ("x.ckpt", True),
    ("x.safetensors.index.json", True), ("taco-minilm-small-q4", False), ("elic-vr", False),
])
def test_looks_like_path(key, path_like):
    assert looks_like_path(key) is path_like


def test_a_missing_file_is_compared_without_its_ending(tmp_path):
    """The long ``.safetensors`` ending is not what makes two file names alike: an unrelated name
    gets no suggestion, a one-letter typo still does (with the ending and the folder shown)."""
    from taco.models.registry import no_such_file_message

    for name in ("final.safetensors", "elic-small-q4.safetensors"):
        (tmp_path / name).write_bytes(b"")
    assert "did you mean" not in no_such_file_message(f"{tmp_path}/zzz.safetensors")
    assert no_such_file_message(f"{tmp_path}/finl.safetensors").endswith(
        f"(did you mean '{tmp_path}/final.safetensors'?)")


def test_a_retired_built_in_says_where_its_checkpoint_is(monkeypatch):
    """Once the built-ins are retired (:data:`taco.models.registry.RETIRED`), ``taco train --set
    model=NAME`` and ``taco.create_model(NAME)`` said "unknown model ... (did you mean
    'elic-small'?)": they now say, as ``taco.load`` does, where its checkpoint is."""
    from taco.models import registry

    name = "elic-small-q4"
    monkeypatch.delitem(registry.PRETRAINED, name, raising=False)
    monkeypatch.setitem(registry.RETIRED, name, "0123abc")
    file = f"{name}.safetensors"
    where = f"git show 0123abc:taco/assets/models/{file} > {file}, then "
    text = unknown_model_text(name)
    assert text.startswith(f"model '{name}' is a trained model, not an architecture: '{name}' was a built-in")
    assert f"{where}start from that file (--init-from {file}), without model" in text
    assert "unknown model" not in text and "\n" not in text
    with pytest.raises(ConfigError) as c:
        load_config(None, [f"model={name}"])
    assert where in str(c.value) and "unknown model" not in str(c.value)
    with pytest.raises(ValueError) as v:
        create_model(name)
    assert str(v.value).startswith(f"'{name}' is a trained model, not an architecture: '{name}' was a built-in")
    assert f"{where}load that file: taco.load('{file}'); or create an untrained one: models: " in str(v.value)
    assert "unknown model" not in str(v.value)


@pytest.mark.parametrize("name", ["my q4", "-q4"])
def test_the_init_from_a_trained_name_is_told_works_pasted(monkeypatch, name):
    """``model=NAME`` for a trained model said ``--init-from NAME``, the name as it is: one with
    a space read as two arguments, one starting with ``-`` as an option. A name is no path (no
    ``./``): ``--init-from='my q4'``, ``--init-from=-q4``; a retired one's file is a path."""
    import re
    import shlex
    from pathlib import Path

    from taco.cli import build_parser
    from taco.models import registry

    def init_from(command: str) -> str:
        words = ["train", *shlex.split(command)]
        return build_parser(words).parse_args(words).init_from

    monkeypatch.setitem(registry.PRETRAINED, name, registry.PRETRAINED["elic-small-q4"])
    text = unknown_model_text(name)
    assert init_from(re.search(r"architecture: (--init-from.*) \(without model\)", text).group(1)) == name, text
    monkeypatch.delitem(registry.PRETRAINED, name)
    monkeypatch.setitem(registry.RETIRED, name, "0123abc")
    text = unknown_model_text(name)
    command = re.search(r"\((--init-from .*)\), without model$", text).group(1)
    assert Path(init_from(command)) == Path(f"{name}.safetensors"), text
