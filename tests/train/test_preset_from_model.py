"""A text-free model without a preset trains with preset elic (taco.train.config.preset_from_model);
a TACO preset given with one is still refused."""

from __future__ import annotations

import re

import pytest
import yaml

from taco.cli import main as taco_main
from taco.train.config import ConfigError, load_config

ELIC = {"model": "elic-tiny", "k_j": 0}  # no preset


@pytest.mark.parametrize("model", ["elic-vr", "elic-small", "elic-tiny", "elic"])
def test_a_text_free_model_without_a_preset_takes_preset_elic(model):
    assert load_config(None, [f"model={model}"]).preset == "elic"


def test_a_preset_given_is_kept_and_a_taco_one_refused(tmp_path):
    message = re.escape(
        "preset 'taco' trains a TACO model's text modules, but model 'elic-vr' reads no text: "
        "train it with --set preset=elic, or train a TACO model of its width "
        "(--set model=taco-minilm-vr)")
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["preset=taco", "model=elic-vr"])
    (tmp_path / "c.yaml").write_text("preset: taco\n")  # given by a config file: the same
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "c.yaml", ["model=elic-vr"])
    with pytest.raises(ConfigError, match=r"preset 'taco-frozen-base' \(--freeze-base\)"):
        load_config(None, ["preset=taco-frozen-base", "model=elic-vr"])
    # a TACO model, or one asking for text, infers nothing
    assert load_config(None, ["model=taco-tiny"]).preset == "taco"
    with pytest.raises(ConfigError, match="preset 'taco' trains a TACO model's text modules"):
        load_config(None, ["model=elic-small", "text_encoder=minilm"])
    # the architecture an override gives counts, not the registry name's
    assert load_config(None, ["model=taco-tiny", "model_overrides.architecture=elic"]).preset == "elic"


def test_freeze_base_with_a_text_free_model_is_still_refused(capsys):
    assert taco_main(["train", "--freeze-base", "--set", "model=elic-vr", "--print-config"]) == 2
    assert "preset 'taco-frozen-base' (--freeze-base) trains" in capsys.readouterr().err


def test_train_says_it_and_a_resume_keeps_it(tmp_path, tiny, capsys):
    run = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    err = capsys.readouterr().err
    assert "taco train: note: preset elic, as model elic-tiny reads no text" in err
    assert yaml.safe_load((run / "config.yaml").read_text())["preset"] == "elic"
    assert taco_main(["train", "--resume", str(run), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "preset elic, as" not in err  # the run's own preset
    assert taco_main(["train", "--set", "model=elic-vr", "--print-config"]) == 0
    assert "preset: elic" in capsys.readouterr().out
