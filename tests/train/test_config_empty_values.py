"""Review F: an empty path key (``out_dir: ""``, ``--set 'data.root=""'``) was accepted and meant
the current folder (a run wrote there), while ``-o ""`` was refused; and a config file whose top
level was ``[]``, ``0`` or ``false`` was read as an empty config, while ``[1, 2]`` was refused."""

from __future__ import annotations

import re

import pytest

from taco.cli import main
from taco.train.config import ALL_PATH_KEYS, ConfigError, load_config

ROOT_MESSAGE = "empty: give a path or name (the current folder is .)"


@pytest.mark.parametrize("key", ALL_PATH_KEYS)
def test_an_empty_path_key_is_refused(tmp_path, key):
    with pytest.raises(ConfigError, match=re.escape(f"{key}: {ROOT_MESSAGE}")):
        load_config(None, [f'{key}=""'])


def test_an_empty_path_from_a_file_names_the_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text('data:\n  root: ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{config}: data.root: {ROOT_MESSAGE}")):
        load_config(config)


def test_taco_train_refuses_an_empty_out_dir_from_set(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--set", 'out_dir=""', "data.root=photos", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err == f"taco train: error: out_dir: {ROOT_MESSAGE}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "top"), [("c.yaml", "[]"), ("c.yaml", "0"), ("c.yaml", "false"),
                                           ("c.yaml", "[1, 2]"), ("c.yaml", "hello"),
                                           ("c.json", "[]"), ("c.json", "false")])
def test_a_config_that_is_no_mapping_is_refused(tmp_path, name, top):
    config = tmp_path / name
    config.write_text(f"{top}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the config must be a mapping of keys to values"):
        load_config(config)


@pytest.mark.parametrize(("name", "text"), [("c.yaml", ""), ("c.yaml", "# notes only\n"),
                                            ("c.toml", "# notes only\n"), ("c.json", "")])
def test_an_empty_file_is_an_empty_config(tmp_path, name, text):
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    assert load_config(config).out_dir == "runs/taco"


def test_an_empty_section_takes_a_dotted_set(tmp_path, capsys):
    """A config whose ``data:`` and ``val:`` had their keys commented out was accepted, but
    ``--set data.root=ds`` said "'data' is not a section"."""
    config = tmp_path / "c.yaml"
    config.write_text("model: taco-minilm-small\nk_j: 0\ndata:\n  # root: photos\nval:\n", encoding="utf-8")
    assert load_config(config).data.root is None
    loaded = load_config(config, ["data.root=ds", "val.root=v", "val.images=3"])
    assert (loaded.data.root, loaded.val.root, loaded.val.images) == ("ds", "v", 3)
    assert main(["train", str(config), "--set", "data.root=ds", "--print-config"]) == 0
    assert "  root: ds\n" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="override 'data.root.x': 'root' is not a section"):
        load_config(config, ["data.root=ds", "data.root.x=1"])
