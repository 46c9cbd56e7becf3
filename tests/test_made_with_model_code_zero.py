"""A ``.taco`` file of model code 0 (no model id: its model's ``model_id`` was empty) that the
model tried for it did not make: the refusal says what code 0 means and which model was tried,
where it said "made with other weights of '' (a checkpoint's), not the built-in ones" (the
2026-12 hostile-files review)."""

from __future__ import annotations

from pathlib import Path

import pytest

import taco
from taco.bitstream import info
from taco.cli import main
from taco.models import create_model
from taco.resolve import DEFAULT_MODEL, made_with_problem

NO_MODEL = "this file names no model (model code 0: its model's model_id was empty)"


@pytest.fixture(scope="module")
def code_zero(tmp_path_factory, sample_image) -> Path:
    model = create_model("elic-tiny", seed=1)
    model.model_id = ""
    path = tmp_path_factory.mktemp("code-zero") / "x.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 48)), None, model))
    assert info(path.read_bytes()).header.model_id == ""
    return path


def test_left_out_the_default_model_is_named(code_zero, tmp_path, capsys):
    with pytest.raises(taco.TacoFormatError) as err:
        taco.decompress(code_zero.read_bytes())
    assert str(err.value) == (
        f"{NO_MODEL}, and taco's default model {DEFAULT_MODEL!r}, which decodes such files, did "
        "not make it: decode it with the model that made it: taco.decompress(data, taco.load(FILE)) "
        "(FILE: the checkpoint or its run folder), or the model object that coded it (another seed, "
        "changed weights): taco.decompress(data, model)")
    assert main(["decompress", str(code_zero), "-o", str(tmp_path / "x.png")]) == 2
    err_text = capsys.readouterr().err
    assert f"{code_zero}: {NO_MODEL}, and taco's default model" in err_text
    assert "--model FILE" in err_text and "''" not in err_text


def test_given_the_model_given_is_named(code_zero, tmp_path, capsys):
    with pytest.raises(taco.TacoFormatError, match=r"^this file names no model \(model code 0: .*"
                       r"and the model given \('elic-tiny'\) did not make it: give the checkpoint"):
        taco.decompress(code_zero.read_bytes(), create_model("elic-tiny", seed=0))
    assert main(["decompress", str(code_zero), "-m", "elic-tiny", "-o", str(tmp_path / "x.png")]) == 2
    err_text = capsys.readouterr().err
    assert f"{NO_MODEL}, and --model 'elic-tiny' did not make it: give the checkpoint" in err_text


def test_a_given_model_without_an_id_either(tiny_elic):
    said = made_with_problem("", b"\0" * 8, tiny_elic, given="", cli=False)
    assert said is not None and said.startswith(f"{NO_MODEL}, and the model given (with no "
                                                "model_id either) did not make it")
