"""taco.evaluation.quality_names (taco evaluate --qualities NAME=Q,...): which --model a name names
(the same path written otherwise), a --classic codec's name taken, a variable-rate model not named
evaluated at all its qualities, and a name of a model not looked up before torch left to its load."""

from __future__ import annotations


class _Named:  # what names a --model: its --model value and model id
    def __init__(self, spec: str, model_id: str) -> None:
        self.spec, self.model_id = spec, model_id


class _Rates:
    def __init__(self, qualities):
        self.qualities = qualities


def test_names_model_takes_the_same_path_written_otherwise(tmp_path, monkeypatch):
    from taco.evaluation.quality_names import names_model

    monkeypatch.chdir(tmp_path)
    info = _Named("run2", "elic-tiny+custom")
    for key in ("./run2", "run2/", str(tmp_path / "run2")):
        assert names_model(key.lower(), info), key
    assert not names_model("run3", info)


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
