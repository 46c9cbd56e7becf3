"""The advice :func:`taco.resolve.made_with_problem` gives for a file that names a built-in
trained model but was made with other weights of that name (an in-memory fine-tune, or
``load_state_dict`` from another model). Decoding it with ``taco.load("<the built-in>")`` said
"leave the model out: taco.decompress(data) decodes it with '<built-in>'", and following that
failed with "made with other weights ... (a checkpoint's), not the built-in ones". Leaving the
model out is advised only where the built-in's weights made the file. The stale-tables hint
(:data:`STALE_TABLES_HINT`) follows exactly the "give the checkpoint that made it" advice, to a
caller whose model is the file's own model (its name or model id)."""

from __future__ import annotations

import pytest
import torch

import taco
from taco.cli import main
from taco.models import load_builtin, model_fingerprint
from taco.resolve import MODEL_OBJECT, STALE_TABLES_HINT, made_with_problem

BUILTIN = "elic-small-q3"
CHECKPOINT_FIX = (f"it was made with other weights of '{BUILTIN}' (a checkpoint's), not the "
                  "built-in ones: give the checkpoint that made it: ")


@pytest.fixture(scope="module")
def modified_file(sample_image) -> bytes:
    """A file coded with the built-in after a step of fine-tuning (one weight scaled in place;
    a 64x48 crop)."""
    model = load_builtin(BUILTIN)
    with torch.no_grad():
        model.g_a.stage1[0].weight.mul_(1.01)
    return taco.compress(sample_image.crop((0, 0, 64, 48)), None, model)


def test_the_built_in_given_by_its_name_says_give_the_checkpoint(modified_file):
    assert taco.info(modified_file).header.model_id == BUILTIN
    with pytest.raises(taco.TacoFormatError) as e:
        taco.decompress(modified_file, load_builtin(BUILTIN))
    said = str(e.value)
    assert said == (f"this file was made with model '{BUILTIN}', not with the model given (the same "
                    f"name, other weights): {CHECKPOINT_FIX}taco.decompress(data, taco.load(FILE)) "
                    f"(FILE: the checkpoint or its run folder), or {MODEL_OBJECT}{STALE_TABLES_HINT}")
    assert "leave the model out" not in said
    # what was advised before fails: the model the file names is that same built-in
    with pytest.raises(taco.TacoFormatError, match="made with other weights of 'elic-small-q3' "
                                                   r"\(a checkpoint's\), not the built-in ones"):
        taco.decompress(modified_file)


def test_another_built_in_given_says_give_the_checkpoint(modified_file):
    with pytest.raises(taco.TacoFormatError) as e:
        taco.decompress(modified_file, load_builtin("elic-small-q4"))
    assert str(e.value).startswith(f"this file was made with model '{BUILTIN}', not with the model "
                                   f"given ('elic-small-q4'): {CHECKPOINT_FIX}taco.decompress(data, ")


def test_taco_decompress_another_built_in_says_give_the_checkpoint(modified_file, tmp_path, capsys):
    src = tmp_path / "tuned.taco"
    src.write_bytes(modified_file)
    assert main(["decompress", str(src), "-m", "elic-small-q4", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert (f"not with --model 'elic-small-q4': {CHECKPOINT_FIX}--model FILE (the checkpoint or its "
            "run folder)") in err, err
    assert "leave out --model" not in err


def test_a_fine_tune_given_for_the_built_ins_file_still_says_leave_the_model_out(sample_image):
    """The built-in made the file, another model of its name is given: leaving it out works."""
    data = taco.compress(sample_image.crop((0, 0, 64, 48)), None, load_builtin(BUILTIN))
    tuned = load_builtin(BUILTIN)
    tuned.load_state_dict(load_builtin("elic-small-q4").state_dict())
    with pytest.raises(taco.TacoFormatError, match=r"\(the same name, other weights\): leave the model "
                       rf"out: taco.decompress\(data\) decodes it with '{BUILTIN}', the built-in "
                       "model it names$"):
        taco.decompress(data, tuned)
    assert taco.decompress(data).size == (64, 48)


FILE_FP = b"\x01" * 32  # weights that made the file


OTHER_FP = b"\x02" * 32  # the model given


@pytest.fixture(scope="module")
def builtin_fp() -> bytes:
    return model_fingerprint(load_builtin(BUILTIN))


# (file_model, file made by the built-in?, given, cli, hint expected)
CASES = {
    "cli, the file's own name given": ("elic-tiny", False, "elic-tiny", True, True),
    "built-in named, other weights made it": (BUILTIN, False, BUILTIN, False, True),
    "built-in named and made it: leave the model out": (BUILTIN, True, BUILTIN, False, False),
    "cli, built-in made it, a checkpoint given": (BUILTIN, True, "ck.safetensors", True, False),
    "architecture named": ("elic-tiny", False, "elic-tiny", False, True),
    "another name": ("my-own-model", False, "my-own-model", False, True),
    "another model given": ("my-own-model", False, "ck.safetensors", True, False),
    "no model named (code 0)": ("", False, "", False, False),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_stale_tables_hint_follows_the_checkpoint_advice_alone(case, builtin_fp) -> None:  # noqa: ANN001
    file_model, by_builtin, given, cli, hint = case
    fingerprint = builtin_fp if by_builtin else FILE_FP
    said = made_with_problem(file_model, fingerprint, OTHER_FP, given=given, cli=cli)
    assert said is not None
    assert said.endswith(STALE_TABLES_HINT) is hint, said
    assert said.count(STALE_TABLES_HINT) == int(hint)
    if file_model:  # (a file naming no model is answered before any of this)
        # the rule the text search stood for: the hint goes with asking for the checkpoint, to
        # a caller that gave the file's own model
        own = given == file_model
        assert hint == (own and "give the checkpoint that made it" in said.removesuffix(STALE_TABLES_HINT))


def test_a_model_of_the_files_id_given_by_another_name_gets_the_hint(tiny_elic) -> None:  # noqa: ANN001
    """A model given by a checkpoint's path whose model id is the file's: its own model too."""
    said = made_with_problem("elic-tiny", FILE_FP, tiny_elic, given="ck.safetensors", cli=True)
    assert said is not None and said.endswith(STALE_TABLES_HINT)
    assert "another checkpoint of 'elic-tiny'" in said
