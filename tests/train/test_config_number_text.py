"""A number where a config key takes text (a path, a name) is the text written: YAML reads
``007`` as 7, ``2019_01`` as 201901, ``0755`` as 493 and ``1.10`` as 1.1, and the config took
``str()`` of that number (``--set out_dir=007`` wrote the run into ``7``, ``data.root: 2019_01``
was "201901: no such folder", ``--set time_limit=010`` was 8 s where ``--time-limit 010`` is
10 s); the numbers of every other key are plain ints and floats."""

from __future__ import annotations

import json

import pytest
import yaml

from taco.cli import main as taco_main
from taco.train.config import (
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
    load_yaml,
    read_config_file,
)

AS_WRITTEN = ["007", "2019_01", "0755", "010", "0x1F", "+5", "1.10", "1_000.50", "0b11"]


@pytest.mark.parametrize("text", AS_WRITTEN)
def test_a_number_in_a_text_key_is_kept_as_written(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(f"out_dir: {text}\nmodel_id: {text}\ndata:\n  root: {text}\n  exclude: [{text}]\n"
                    f"val: {{root: {text}}}\n")
    values = read_config_file(path)
    assert values == {"out_dir": text, "model_id": text, "data": {"root": text, "exclude": [text]},
                      "val": {"root": text}}
    for config in (load_config(path), load_config(None, [f"out_dir={text}", f"data.root={text}",
                                                         f"data.exclude=[{text}]"])):
        assert (config.out_dir, config.data.root, config.data.exclude) == (text, text, [text])
    assert load_config(None, [f"data={{root: {text}}}"]).data.root == text
    assert apply_overrides({}, [f"val.root={text}"]) == {"val": {"root": text}}


def test_set_time_limit_reads_as_the_flag_does():
    assert load_config(None, ["time_limit=010"]).time_limit == "010"  # 10 s, as --time-limit 010


def test_other_numbers_are_plain_and_dump_and_serialise(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 010\nlr: 1.0e-4\nlr_milestones: [1, 0x2]\nmodel: taco-minilm-small\n"
                    "model_overrides: {N: 0x80, gamma_init: 0.50, 7: x}\nout_dir: 2024\n")
    values = read_config_file(path)
    assert values["seed"] == 8 and type(values["seed"]) is int
    assert type(values["lr"]) is float and [type(v) for v in values["lr_milestones"]] == [int, int]
    overrides = values["model_overrides"]
    assert overrides == {"N": 128, "gamma_init": 0.5, 7: "x"}
    assert [type(k) for k in overrides] == [str, str, int]
    assert [type(v) for v in overrides.values()] == [int, float, str]
    assert type(load_yaml("[1, 2.5]")[0]) is int and type(load_yaml("2.5")) is float
    del values["model_overrides"][7]
    path.write_text(yaml.safe_dump(values))
    config = load_config(path, ["model_overrides.N=0x40"])
    assert type(config.model_overrides["N"]) is int and config.model_overrides["N"] == 64
    text = dump_config(config)  # a subclass of int or float would be a RepresenterError
    assert "N: 64" in text and "out_dir: '2024'" in text
    assert json.loads(json.dumps(config.to_dict()))["seed"] == 8


def test_set_out_dir_007_prints_as_written(capsys):
    assert taco_main(["train", "--set", "out_dir=007", "data.exclude=[2024]", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "out_dir: '007'" in out and "- '2024'" in out


def test_a_number_given_in_python_for_a_text_key_is_its_str():
    built = config_from_dict({"out_dir": 7, "data": {"exclude": [2024, "a*"]}})
    assert (built.out_dir, built.data.exclude) == ("7", ["2024", "a*"])
