"""One builder of the note on a ``--model``'s weights (:func:`taco.resolve.weights_note`):
taco evaluate said the untrained-weights and shadowed-name notes in its own words
("elic-tiny has no trained weights: evaluating ...", and the shadow note as a second line),
where compress, decompress and demo say :attr:`taco.resolve.ResolvedModel.note`. Now evaluate's
:attr:`taco.evaluation.evaluate.ModelInfo.note` is that note, with its own end for what
untrained weights mean to it, and the note is no field of the results' JSON."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from taco.evaluation.evaluate import ModelInfo
from taco.resolve import resolve_model, weights_note


def _info(**kw) -> ModelInfo:
    return ModelInfo(**{"spec": "elic-tiny", "model_id": "elic-tiny", "trained": False,
                        "fingerprint": "0" * 16, **kw})


def test_evaluate_says_the_untrained_note_in_every_commands_words():
    said = resolve_model("elic-tiny").note
    assert said == weights_note("elic-tiny", trained=False, shadowed=None) == (
        "'elic-tiny' has no trained weights; using its seed-0 random initialisation "
        "(the output will not look like the input)")
    assert _info().note == said.replace("(the output will not look like the input)",
                                        "(its quality numbers are meaningless)")


def test_a_shadowed_name_is_the_same_clause_for_evaluate_and_the_resolver():
    checkpoint = Path("elic-tiny") / "checkpoint.safetensors"
    shadow = ("./elic-tiny holds a checkpoint (elic-tiny/checkpoint.safetensors), but 'elic-tiny' "
              "is the built-in name: give ./elic-tiny to use that checkpoint")
    assert weights_note("elic-tiny", trained=True, shadowed=checkpoint) == shadow
    assert _info(trained=True, shadowed=str(checkpoint)).note == shadow
    assert _info(shadowed=str(checkpoint)).note.endswith(
        "(its quality numbers are meaningless); " + shadow)


def test_trained_weights_of_their_own_name_say_nothing_and_the_json_holds_no_note():
    assert _info(trained=True).note is None
    assert "note" not in asdict(_info())
