"""Config values that passed validation and then crashed (or quietly did something else):
a seed numpy cannot take, a number too large for a float, a milestone under 1, a section that is
no mapping; and errors about a key a config file gave name that file. Bounds at their exact
ends: an infinite loss weight or clip, a crop that is a multiple of 32 but not of 64, a huge
negative integer."""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main
from taco.train.config import MAX_SEED, ConfigError, TrainConfig, load_config
from taco.train.schedule import lr_at

BIG = "1" + "0" * 400


def _train_error(args, capsys) -> str:
    """``taco train ARGS`` in-process: asserts exit 2 and a one-line error, which it returns."""
    assert taco_main(["train", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2**32, 2**64])
def test_a_seed_out_of_range_is_refused_naming_the_range(seed):
    with pytest.raises(ConfigError, match=rf"seed must be from 0 to {MAX_SEED} .*got {seed}$"):
        load_config(overrides=[f"seed={seed}"])
    with pytest.raises(ConfigError, match="seed must be from 0"):
        TrainConfig(seed=seed).validate()


def test_the_seed_range_ends_are_taken():
    assert load_config(overrides=["seed=0"]).seed == 0
    assert load_config(overrides=[f"seed={MAX_SEED}"]).seed == MAX_SEED
    assert MAX_SEED + 64 < 2**32  # seed + rank still seeds numpy


@pytest.mark.parametrize("key", ["batch_size", "lmbda", "seed", "val.crop", "lr_milestones"])
def test_a_number_too_large_for_a_float_is_refused_by_key_and_cut_short(key, tmp_path, capsys):
    value = f"[{BIG}]" if key == "lr_milestones" else BIG
    with pytest.raises(ConfigError, match=rf"^{key} is too large a number, got .{{10,40}}$"):
        load_config(overrides=[f"{key}={value}"])
    err = _train_error(["--set", f"{key}={value}", "--print-config"], capsys)
    assert f"{key} is too large a number" in err and len(err) < 150, err
    path = tmp_path / "big.yaml"
    section, _, name = key.rpartition(".")
    path.write_text(f"{section}:\n  {name}: {value}\n" if section else f"{key}: {value}\n")
    err = _train_error([str(path), "--print-config"], capsys)
    assert f"{path}: {key} is too large a number" in err, err


@pytest.mark.parametrize("milestones", ["[0]", "[-2, 3]", "[0, 45]"])
def test_lr_milestones_under_one_are_refused(milestones):
    with pytest.raises(ConfigError, match=r"lr_milestones must each be >= 1"):
        load_config(overrides=[f"lr_milestones={milestones}"])
    assert load_config(overrides=["lr_milestones=[1, 2]"]).lr_milestones == [1, 2]
    assert load_config(overrides=["lr_milestones=[]"]).lr_milestones == []


@pytest.mark.parametrize("value", ["0", "false", '""', "[]", "3"])
@pytest.mark.parametrize("section", ["data", "val"])
def test_a_section_that_is_no_mapping_is_refused(section, value):
    with pytest.raises(ConfigError, match=rf"^{section} must be a mapping, got "):
        load_config(overrides=[f"{section}={value}"])


@pytest.mark.parametrize("section", ["data", "val"])
def test_an_empty_section_is_the_defaults(section, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"{section}:\n")
    assert load_config(path) == TrainConfig()


def test_an_error_about_a_key_from_the_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("lamda: 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}: unknown config key 'lamda'"):
        load_config(path)
    assert f"{path}: unknown config key 'lamda'" in _train_error([str(path)], capsys)
    path.write_text("data:\n  kind: cocoa\nseed: -3\n")
    assert f"{path}: data.kind must be 'folder' or 'coco'" in _train_error([str(path)], capsys)
    path.write_text("data: 0\n")
    assert f"{path}: data must be a mapping, got 0" in _train_error([str(path)], capsys)


def test_an_error_about_a_key_from_the_command_line_names_no_file(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\ndata:\n  kind: folder\n")
    for args in (["--set", "seed=-4"], ["--set", "data.kind=x"], ["--set", "data={kind: x}"],
                 ["--set", "lamda=1"]):
        err = _train_error([str(path), *args], capsys)
        assert str(path) not in err and err.startswith("taco train: error: "), err
    with pytest.raises(ConfigError, match=r"^seed must be"):
        load_config(path, ["seed=-4"])


def test_a_resumed_runs_config_is_named_in_its_errors(tmp_path, capsys):
    run = tmp_path / "hand"
    run.mkdir()
    (run / "config.yaml").write_text("lamda: 1\n")
    err = _train_error(["--resume", str(run)], capsys)
    assert f"{run / 'config.yaml'}: unknown config key 'lamda'" in err, err


@pytest.mark.parametrize("key", ["k_p", "beta", "clip_grad"])
def test_an_infinite_loss_weight_or_clip_is_refused_as_not_finite(key):
    with pytest.raises(ConfigError, match=f"^{key} must be a finite number >= 0, got inf$"):
        load_config(None, [f"{key}=.inf"])


def test_a_crop_that_is_a_multiple_of_32_but_not_64_is_refused():
    with pytest.raises(ConfigError, match="crop must be a multiple of 64"):
        load_config(None, ["crop=96"])


def test_a_huge_negative_integer_is_a_config_error_not_an_overflow():
    with pytest.raises(ConfigError, match="lr is too large a number"):
        load_config(None, ["lr=-1" + "0" * 400])


@pytest.mark.parametrize("milestones", ["[2, 1]", "[4, 2, 9]", "[5, 5, 3]"])
def test_lr_milestones_must_be_in_increasing_order(milestones):
    with pytest.raises(ConfigError, match=r"^lr_milestones must be in increasing order, got \["):
        load_config(overrides=[f"lr_milestones={milestones}"])
    assert load_config(overrides=["lr_milestones=[1, 2, 50]"]).lr_milestones == [1, 2, 50]
    assert load_config(overrides=["lr_milestones=[7]"]).lr_milestones == [7]


def test_a_repeated_lr_milestone_drops_the_lr_once_per_copy():
    """``[2, 2]`` is MultiStepLR's schedule for a drop by lr_gamma² after 2 passes."""
    for given, taken in (("[2, 2]", [2, 2]), ("[1, 1]", [1, 1]), ("[3, 5, 5]", [3, 5, 5])):
        cfg = load_config(overrides=["lr=0.01", "lr_gamma=0.1", f"lr_milestones={given}"])
        assert cfg.lr_milestones == taken
    assert [lr_at(cfg, e) for e in (2, 3, 4, 5)] == pytest.approx([0.01, 0.001, 0.001, 0.00001])


def test_a_run_with_a_repeated_lr_milestone_resumes(tmp_path, tiny, capsys):
    """177fa77 refused a repeated milestone, so a run whose saved config held one could not be
    resumed: ``taco train --resume runs/rm`` said 'lr_milestones must be strictly increasing
    (each drop once), got [2, 2]'."""
    run = tmp_path / "rm"
    elic = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "clip_model": "null"}
    assert taco_main(["train", "--set", *tiny(run, lr_milestones="[2, 2]", **elic), "--max-steps", "1"]) == 0
    assert "lr_milestones:\n- 2\n- 2\n" in (run / "config.yaml").read_text(encoding="utf-8")
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(run), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "lr_milestones" not in err, err
