"""``out_dir: ~/runs/a`` in a training config wrote into a folder named ``~`` in the current
directory (a later ``rm -rf ~`` there...), and ``data.root: ~/photos`` was no folder: the
config's paths have a leading ``~`` expanded, as ``taco evaluate`` does for its dataset."""

from __future__ import annotations

from pathlib import Path

from taco.train.config import config_from_dict


def test_a_leading_tilde_in_a_config_path_is_the_home_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = config_from_dict({"out_dir": "~/runs/a", "data": {"root": "~/photos", "captions": "~/c.jsonl"},
                            "init_from": "~/ckpt.safetensors"})
    assert cfg.out_dir == str(tmp_path / "runs" / "a")
    assert cfg.data.root == str(tmp_path / "photos")
    assert cfg.data.captions == str(tmp_path / "c.jsonl")  # was ROOT/~/c.jsonl
    assert cfg.init_from == str(tmp_path / "ckpt.safetensors")


def test_names_and_relative_paths_are_left_as_given() -> None:
    cfg = config_from_dict({"out_dir": "runs/a", "init_from": "elic-small-q4"})
    assert (cfg.out_dir, cfg.init_from) == ("runs/a", "elic-small-q4")


def test_a_clip_folder_that_is_not_here_is_left_as_written(tmp_path: Path, monkeypatch) -> None:
    """``./myclip`` names a folder (taco.text.hf.is_hub_id): made ``myclip`` it read as a hub id."""
    monkeypatch.chdir(tmp_path)
    cfg = config_from_dict({"model": "taco-tiny",
                            "model_overrides": {"text_encoder": {"name": "clip", "path": "./myclip"}}})
    assert cfg.model_overrides["text_encoder"]["path"] == "./myclip"
