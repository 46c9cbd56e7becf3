"""``taco evaluate --model NAME`` where ./NAME holds a checkpoint says, as compress does, that
the name was evaluated and ./NAME would be the checkpoint (the resolver's note was dropped)."""

from __future__ import annotations

import json
from pathlib import Path

import taco.cli
from taco.models import create_model, save_checkpoint


def test_evaluate_says_a_run_of_the_models_name_was_not_used(tiny_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.chdir(tmp_path)
    checkpoint = save_checkpoint(create_model("elic-tiny", seed=1), Path("elic-tiny") / "checkpoint.safetensors")
    out = tmp_path / "eval"
    assert taco.cli.main(["evaluate", str(tiny_folder), "--limit", "1", "--fid", "off", "--cmmd-clip", "off",
                          "--no-plot", "--quiet", "-o", str(out), "-m", "elic-tiny"]) == 0
    err = capsys.readouterr().err
    note = ("taco evaluate: note: 'elic-tiny' has no trained weights; using its seed-0 random "
            "initialisation (its quality numbers are meaningless); ./elic-tiny holds a checkpoint "
            "(elic-tiny/checkpoint.safetensors), but 'elic-tiny' is the built-in name: give "
            "./elic-tiny to use that checkpoint")
    assert err.count("holds a checkpoint") == 1 and note in err.splitlines(), err
    (result,) = (out / "photos").glob("*.json")
    assert json.loads(result.read_text())["model"]["shadowed"] == str(checkpoint)
