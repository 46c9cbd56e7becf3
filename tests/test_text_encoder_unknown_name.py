"""An unknown text encoder's name said only "unknown text encoder 'mpnet'; known: clip, clip-tiny,
minilm" : a user with another sentence embedder was not told that a BERT folder of
their own is read as ``{name: minilm, path: DIR}`` (docs/training.md, docs/models.md). A name that
is no typo of a known one says so now; a typo (``clipp``) or a known name in other capitals
(``MiniLM``, as ``taco models`` prints it) keeps the short message, which names the encoder it is
close to (taco.messages.did_you_mean, as an unknown model or config key does: "unknown text
encoder 'minlm'" named none)."""

from __future__ import annotations

import pytest

from taco.errors import TacoValueError
from taco.text_specs import text_encoder_arguments, text_encoder_spec_problem


@pytest.mark.parametrize("name", ["mpnet", "bert-base-uncased", "e5"])
def test_another_model_is_told_how_a_bert_folder_is_read(name):
    with pytest.raises(ValueError) as info:
        text_encoder_arguments(name, {})
    said = str(info.value)
    assert said.startswith(f"unknown text encoder {name!r}; known: clip, clip-tiny, minilm (another BERT")
    assert "{name: minilm, path: DIR}" in said and "model_overrides.text_encoder" in said
    assert "\n" not in said


@pytest.mark.parametrize(("name", "meant"), [("clipp", "'clip'"), ("minlm", "'minilm'"),
                                             ("clip_tiny", "'clip-tiny' or 'clip'")])
def test_a_typo_keeps_the_short_message_naming_what_was_meant(name, meant):
    assert text_encoder_spec_problem({"name": name}) == (
        f"unknown text encoder {name!r} (did you mean {meant}?); known: clip, clip-tiny, minilm")


def test_taco_train_says_it(tmp_path, monkeypatch, capsys):
    import taco.cli

    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.train.cli",))
    code = taco.cli.main(["train", "--set", "model=taco-tiny", "text_encoder=mpnet", f"data.root={tmp_path}",
                          "max_steps=1", "--out-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "{name: minilm, path: DIR}" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(("name", "meant"), [("MiniLM", "'minilm'"), ("CLIP", "'clip' or 'clip-tiny'"),
                                             ("Clip-Tiny", "'clip-tiny' or 'clip'"), ("clipp", "'clip'")])
def test_a_known_name_in_other_capitals_is_a_typo(name, meant):
    with pytest.raises(TacoValueError) as e:
        text_encoder_arguments(name, {})
    assert str(e.value) == f"unknown text encoder {name!r} (did you mean {meant}?); known: clip, clip-tiny, minilm"


def test_another_model_still_gets_the_hint():
    with pytest.raises(TacoValueError, match="another BERT"):
        text_encoder_arguments("mpnet", {})
