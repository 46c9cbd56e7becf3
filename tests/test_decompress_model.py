"""``taco decompress --model`` for a file another model made: the line says what to give instead
(nothing, for a built-in's file: taco picks the model a file names)."""

from __future__ import annotations

import pytest

import taco
from taco.cli import main
from taco.models import load_builtin


@pytest.fixture(scope="module")
def q3_file(tmp_path_factory, sample_image):
    """A 64x48 file of the built-in elic-small-q3."""
    path = tmp_path_factory.mktemp("q3") / "q3.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 48)), None, load_builtin("elic-small-q3")))
    return path


def test_a_built_ins_file_given_another_model_says_leave_out_model(q3_file, tmp_path, capsys):
    assert main(["decompress", str(q3_file), "-m", "elic-small-q4", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert ("this file was made with model 'elic-small-q3', not with --model 'elic-small-q4': leave "
            "out --model: taco decodes it with 'elic-small-q3', the built-in model it names") in err, err
    assert main(["decompress", str(q3_file), "-o", str(tmp_path / "x.png")]) == 0


def test_an_architectures_file_given_another_model_names_both_ways(sample_image, tiny_elic, tmp_path, capsys):
    src = tmp_path / "tiny.taco"
    src.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic))
    assert main(["decompress", str(src), "-m", "elic-small-q4", "-o", str(tmp_path / "x.png")]) == 2
    assert ("leave out --model if it was made with the untrained 'elic-tiny', else give the "
            "checkpoint that made it: --model FILE") in capsys.readouterr().err


def test_the_api_says_leave_the_model_out(q3_file):
    with pytest.raises(taco.TacoFormatError, match=r"not with the model given \('elic-small-q4'\): leave "
                       r"the model out: taco.decompress\(data\) decodes it with 'elic-small-q3', the "
                       r"built-in model it names$"):
        taco.decompress(q3_file.read_bytes(), load_builtin("elic-small-q4"))
