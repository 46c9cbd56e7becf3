"""home_paths and absolute_paths walked PATH_KEYS each in their own copy of the same loop (and
home_paths twice): one walk serves both now, and home_paths copies only when a path changes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import taco.train.config as config
from taco.train.config import absolute_paths, home_paths


def test_the_path_keys_are_walked_in_one_place() -> None:
    source = Path(config.__file__).read_text(encoding="utf-8")
    assert source.count('key.split(".")') == 1


def test_home_paths_copies_only_when_a_path_changes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    plain = {"out_dir": "runs/a", "data": {"root": "x"}, "val": "not a section"}
    assert home_paths(plain) is plain
    values = {"out_dir": "~/a", "data": {"root": "~/p"}, "val": {"root": 3}, "clip_model": "~"}
    out = home_paths(values)
    assert out == {"out_dir": str(tmp_path / "a"), "data": {"root": str(tmp_path / "p")},
                   "val": {"root": 3}, "clip_model": str(tmp_path)}
    assert values["data"] == {"root": "~/p"}  # the caller's mapping is left as it was


def test_absolute_paths_keeps_names_and_makes_paths_absolute(tmp_path: Path) -> None:
    (tmp_path / "ckpt").mkdir()
    out = absolute_paths({"out_dir": "runs", "init_from": "ckpt", "clip_model": "openai/clip",
                          "data": {"root": ""}}, cwd=tmp_path)
    assert out == {"out_dir": str(tmp_path / "runs"), "init_from": str(tmp_path / "ckpt"),
                   "clip_model": "openai/clip", "data": {"root": ""}}


def test_a_null_byte_in_the_text_encoder_path_is_refused_by_name(tmp_path: Path, capsys) -> None:
    """``text_encoder: {name: minilm, path: "a\\0b"}`` in model_overrides was a traceback in
    absolute_encoder_path (Path.resolve: ValueError: embedded null byte), where the other path
    keys' null bytes are refused by name."""
    from taco.cli import main as taco_main
    from taco.train.config import ConfigError, absolute_encoder_path, load_config

    message = ("model_overrides.text_encoder.path: the path holds a null byte (character 2), "
               "which no file name can")
    encoder = {"model_overrides": {"text_encoder": {"name": "minilm", "path": "a\0b"}}}
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$") as caught:
        absolute_encoder_path(encoder, cwd=tmp_path)
    assert caught.value.key == "model_overrides.text_encoder.path"
    path = tmp_path / "c.yaml"
    path.write_text('model: taco-minilm-small\nmodel_overrides:\n  text_encoder: {name: minilm, path: "a\\0b"}\n')
    with pytest.raises(ConfigError, match=f"^{re.escape(f'{path}: {message}')}$"):
        load_config(path)
    assert taco_main(["train", str(path), "--print-config"]) == 2
    assert capsys.readouterr().err == f"taco train: error: {path}: {message}\n"
    fine = {"model_overrides": {"text_encoder": {"name": "minilm", "path": "enc"}}}
    assert absolute_encoder_path(fine, cwd=tmp_path)["model_overrides"]["text_encoder"]["path"] == str(
        (tmp_path / "enc").resolve())
