"""Mutation round 10 (today's new code): tests that kill the mutants the suite let survive."""
from __future__ import annotations

from taco.fileobjects import name_key
from taco.memory import allocation_failure


def test_name_key_keeps_a_character_whose_fold_and_lower_are_both_longer():
    # İ (U+0130): casefold and lower are both two characters; name_key keeps it as it is
    assert "\u0130".lower() != "\u0130" and len("\u0130".lower()) == 2
    assert name_key("\u0130.png") == "\u0130.png"
    assert name_key("A\u0130b.PNG") == "a\u0130b.png"


class _SafetensorsError(Exception):  # safetensors' own exception type, not an OSError
    pass


def test_safetensors_mapping_failure_is_an_allocation_failure():
    exc = _SafetensorsError("Cannot allocate memory (os error 12)")
    assert allocation_failure(exc) == "an allocation failed"
    assert allocation_failure(_SafetensorsError("No such file (os error 2)")) is None


def test_a_file_and_a_folder_named_relative_and_absolute_are_each_once(tmp_path, monkeypatch, capsys):
    from taco.cli.inputs import expand_inputs
    from taco.suffixes import DECODED_SUFFIX, IMAGE_SUFFIXES

    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.png").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    files, folder = expand_inputs(["a.png", str(tmp_path / "a.png"), "d", str(tmp_path / "d")],
                                  IMAGE_SUFFIXES, skip_in_folders=DECODED_SUFFIX, note_left_out="compress")
    assert folder
    assert len(files) == 2, files
    assert sorted(p.name for p in files) == ["a.png", "b.png"]
    assert capsys.readouterr().err == ""


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


def test_a_state_of_taco_adapter_weights_only_is_told_it_is_taco_own(tmp_path):
    import pytest
    import torch

    import taco
    from taco.official import import_checkpoint

    state = taco.create_model("taco-tiny", seed=0).state_dict()
    adapter = {k: v for k, v in state.items() if k.startswith("g_a.adapter.")}
    assert adapter
    path = tmp_path / "adapter.pth"
    torch.save(adapter, path)
    with pytest.raises(taco.CheckpointError, match=r"a taco model's own state dict \('g_a\.adapter\."):
        import_checkpoint(path)


def test_a_state_missing_one_coder_table_has_it_rebuilt_on_load():
    import torch

    import taco

    source = taco.create_model("elic-tiny", seed=0)
    state = source.state_dict()
    key = next(k for k in state if k.endswith("gaussian_conditional._quantized_cdf"))
    del state[key]  # the other coder tables and the scale table are there
    model = taco.create_model("elic-tiny", seed=1)
    model.load_state_dict(state, strict=True)
    assert torch.equal(model.state_dict()[key], source.state_dict()[key])


def test_epoch_indices_carry_the_epoch_the_iteration_started_in():
    from taco.train.distributed import EpochIndices

    class Epoch:
        epoch = 1

    dataset = Epoch()
    sampler = EpochIndices([2, 0, 1], dataset)  # type: ignore[arg-type]
    assert len(sampler) == 3
    pairs = iter(sampler)
    first = next(pairs)
    dataset.epoch = 2  # set_epoch while the loader still draws the epoch before
    assert [first, *pairs] == [(1, 2), (1, 0), (1, 1)]
    assert list(sampler) == [(2, 2), (2, 0), (2, 1)]


def test_context_widths_are_read_from_a_compressai_layout_codec_before_the_config():
    import taco
    from taco.bench.systems import context_widths

    model = taco.create_model("elic-tiny", layout="compressai")
    widths = tuple(model.config.ctx_hidden)
    assert widths != (224, 128)
    model.config = None  # the latent codec alone says them
    assert context_widths(model) == widths


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


def test_a_palette_image_says_which_transparency_is_dropped():
    import warnings

    from PIL import Image

    from taco.images import to_rgb

    said = {}
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    p.info["transparency"] = 0  # index 0, which every pixel has
    pa = Image.new("PA", (4, 4), (0, 0))
    for mode, image in (("P", p), ("PA", pa)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            to_rgb(image, f"x-{mode}.png")
        said[mode] = " ".join(str(w.message) for w in caught)
    assert "its palette's transparency is dropped" in said["P"], said
    assert "the alpha channel of this palette image is dropped" in said["PA"], said
