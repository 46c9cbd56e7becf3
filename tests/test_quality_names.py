"""taco.evaluation.quality_names (taco evaluate --qualities NAME=Q,...): which --model a name names
(the same path written otherwise), a --classic codec's name taken, a variable-rate model not named
evaluated at all its qualities, and a name of a model not looked up before torch left to its load."""

from __future__ import annotations

import pytest


class _Named:  # what names a --model: its --model value and model id
    def __init__(self, spec: str, model_id: str) -> None:
        self.spec, self.model_id = spec, model_id


class _Rates:
    def __init__(self, qualities):
        self.qualities = qualities


def test_names_model_takes_the_same_path_written_otherwise(tmp_path, monkeypatch):
    from taco.evaluation.quality_names import names_model, quality_key

    monkeypatch.chdir(tmp_path)
    info = _Named("run2", "elic-tiny+custom")
    for key in ("./run2", "run2/", str(tmp_path / "run2"), "RUN2", "Elic-Tiny+Custom"):
        assert names_model(quality_key(key), info), key
    assert not names_model("run3", info)
    assert names_model("run2", _Named("./Run2/", "elic-tiny"))  # a name: any case


def test_a_path_key_keeps_its_case_and_expands_its_tilde(tmp_path, monkeypatch):
    """quality_key lower-cased paths and left ~ as it was, where --model expands it: -m
    ~/vr.safetensors was named by no --qualities key, and $PWD/VR.safetensors named vr.safetensors."""
    from taco.evaluation.quality_names import names_model, quality_key

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert quality_key("~/VR.safetensors") == str(tmp_path / "VR.safetensors")
    assert quality_key(" JPEG ") == "jpeg" and quality_key("Taco-MiniLM-VR") == "taco-minilm-vr"
    assert quality_key("./Run2") == "./Run2"
    info = _Named(str(tmp_path / "vr.safetensors"), "elic-tiny")
    for key in ("~/vr.safetensors", "vr.safetensors", "./vr.safetensors", str(tmp_path / "vr.safetensors")):
        assert names_model(quality_key(key), info), key
    for key in ("~/VR.safetensors", "VR.safetensors", str(tmp_path / "VR.safetensors")):
        assert not names_model(quality_key(key), info), key
    assert not names_model(quality_key("./RUN2"), _Named("run2", "elic-tiny"))  # another folder


@pytest.fixture()
def vr_checkpoint(tmp_path, monkeypatch):
    """A variable-rate checkpoint ``~/vr.safetensors`` (three qualities), HOME being ``tmp_path``."""
    from taco.models import create_model, save_checkpoint

    monkeypatch.setenv("HOME", str(tmp_path))
    return save_checkpoint(create_model("elic-tiny", seed=0, qualities=[0.001, 0.004, 0.01]),
                           tmp_path / "vr.safetensors")


def test_a_model_given_with_a_tilde_is_named_by_its_qualities(vr_checkpoint, tmp_path, capsys):
    from taco.cli import main

    (tmp_path / "images").mkdir()
    out = str(tmp_path / "out")
    code = main(["evaluate", str(tmp_path / "images"), "--model=~/vr.safetensors",
                 "--qualities=~/vr.safetensors=1", "-o", out, "--no-plot", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "neither a --classic codec" not in err, err
    assert err.endswith(": no images found\n"), err  # past the qualities, to the folder's images
    code = main(["evaluate", str(tmp_path / "images"), "--model=~/vr.safetensors",
                 "--qualities=~/vr.safetensors=9", "-o", out, "--no-plot"])
    assert code == 2 and "9 outside" in capsys.readouterr().err  # its qualities are checked
    code = main(["evaluate", str(tmp_path / "images"), "--model=~/vr.safetensors",
                 f"--qualities={tmp_path / 'VR.safetensors'}=1", "-o", out, "--no-plot"])
    assert code == 2
    assert capsys.readouterr().err == (f"taco evaluate: error: --qualities {tmp_path / 'VR.safetensors'}=...: "
                                       f"'{tmp_path / 'VR.safetensors'}' is neither a --classic codec nor a "
                                       "--model of this run\n")


def test_a_classic_codec_name_is_not_refused_as_naming_no_model():
    from taco.evaluation.quality_names import QualitiesError, check_quality_names

    check_quality_names(["jpeg"], {"jpeg"}, [])  # a --classic codec's name: fine
    check_quality_names(["elic-vr"], set(), [_Named("elic-vr", "elic-vr")])
    try:
        check_quality_names(["jpeg"], set(), [])
    except QualitiesError as exc:
        assert "'jpeg' is neither a --classic codec nor a --model" in str(exc)
    else:
        raise AssertionError("a name that is neither a codec nor a model was taken")


def test_a_variable_rate_model_not_named_is_evaluated_at_all_its_qualities():
    from taco.evaluation.quality_names import model_qualities

    info = _Named("elic-vr", "elic-vr")
    assert model_qualities(_Rates([0.1, 0.2, 0.3]), info, {}) == [1, 2, 3]
    assert model_qualities(_Rates(None), info, {}) == [None]
    assert model_qualities(_Rates([0.1, 0.2, 0.3]), info, {"./elic-vr": [3, 1]}) == [1, 3]


def test_a_qualities_name_of_a_model_not_looked_up_is_left_to_the_load(tmp_path, capsys):
    from taco.cli import main

    unreadable = tmp_path / "m" / "bad.safetensors"  # its config cannot be read before torch
    unreadable.parent.mkdir()
    unreadable.write_bytes(b"garbage")
    (tmp_path / "images").mkdir()
    code = main(["evaluate", str(tmp_path / "images"), "-o", str(tmp_path / "out"), "--quiet",
                 "-m", str(unreadable), "--qualities", f"{unreadable}=1", "--no-plot",
                 "--cmmd-clip", "off", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("taco evaluate: error: ") and "neither a --classic codec" not in err, err
