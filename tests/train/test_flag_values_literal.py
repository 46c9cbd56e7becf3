"""``taco train``'s value flags (-o, --init-from, --device, --time-limit) take their values as
written: they were turned into ``key=value`` text read as YAML like ``--set``, so ``-o 'my runs
#1'`` trained into ``my runs`` (a YAML comment) and ``-o yes`` was refused as a bool. And an
``init_from`` that is no string (``--set init_from=true``, ``init_from: 5`` in a file) crashed
with a TypeError traceback before the config was checked: a number is the folder of that name
(as ``out_dir: 2024`` is), any other type is one line naming ``init_from`` (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "smoke.yaml"


def resolved(capsys, *argv: str) -> dict:
    assert taco_main(["train", str(SMOKE), *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.mark.parametrize("folder", ["my runs #1", "yes", "null", "[x]", "runs/a: b", "!x", "5"])
def test_out_dir_flag_is_the_folder_as_written(capsys, folder):
    for flag in ("-o", "--out-dir"):
        assert resolved(capsys, flag, folder)["out_dir"] == folder


def test_a_tilde_out_dir_is_the_home_folder(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolved(capsys, "-o", "~")["out_dir"] == str(tmp_path)
    assert resolved(capsys, "-o", "~/runs")["out_dir"] == str(tmp_path / "runs")


def test_flags_still_win_over_set_and_keep_their_types(capsys):
    cfg = resolved(capsys, "--set", "out_dir=a", "device=cuda", "time_limit=1h", "max_steps=9",
                   "-o", "b", "--device", "cpu", "--time-limit", "90", "--max-steps", "3")
    assert (cfg["out_dir"], cfg["device"], cfg["time_limit"], cfg["max_steps"]) == ("b", "cpu", "90", 3)
    assert resolved(capsys, "--set", "out_dir=a")["out_dir"] == "a"


def test_init_from_flag_is_a_name_not_a_bool(capsys):
    assert taco_main(["train", str(SMOKE), "--init-from", "on", "--print-config"]) == 2
    assert "init_from: model 'on' is neither a checkpoint file" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["true", "[a]", "{a: 1}"])
def test_a_set_init_from_of_another_type_is_one_line(capsys, value):
    assert taco_main(["train", str(SMOKE), "--set", f"init_from={value}", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("taco train: error: init_from must be str") and err.count("\n") == 1


def test_a_file_init_from_of_another_type_names_the_file(capsys, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("init_from: true\n", encoding="utf-8")
    assert taco_main(["train", str(config), "--print-config"]) == 2
    assert capsys.readouterr().err == f"taco train: error: {config}: init_from must be str | None, got True\n"


def test_a_number_init_from_is_the_folder_of_that_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_checkpoint(create_model("elic-tiny", seed=1), Path("2024") / "checkpoint.safetensors")
    config = tmp_path / "c.yaml"
    config.write_text("init_from: 2024\nprogress: false\n", encoding="utf-8")
    assert taco_main(["train", str(config), "--print-config"]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert (cfg["init_from"], cfg["model"], cfg["preset"]) == ("2024", "elic-tiny", "elic")
    assert taco_main(["train", str(config), "--set", "init_from=2025", "--print-config"]) == 2
    assert "init_from: model '2025' is neither a checkpoint file" in capsys.readouterr().err
