"""``taco evaluate --captions NAME``: a bare name found both inside the dataset folder and in the
current folder is read inside the dataset folder, with a note naming the one read (review B).

``taco compress --captions NAME`` reads ./NAME, evaluate read DATASET/NAME silently, and the
result JSON records only ``NAME``."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from taco.evaluation.datasets import open_dataset


def _caps(path: Path, caption: str) -> None:
    path.write_text(json.dumps({"image": "a.png", "captions": [caption]}) + "\n", encoding="utf-8")


def _dataset(tmp_path: Path) -> Path:
    root = tmp_path / "f3"
    root.mkdir()
    Image.new("RGB", (16, 16), (10, 20, 30)).save(root / "a.png")
    _caps(root / "capsX.jsonl", "inside")
    return root


def test_a_bare_name_in_both_places_is_noted(tmp_path, monkeypatch, capsys):
    root = _dataset(tmp_path)
    _caps(tmp_path / "capsX.jsonl", "here")
    monkeypatch.chdir(tmp_path)
    dataset = open_dataset("f3", captions_file="capsX.jsonl")
    assert dataset.listing[0].captions == ("inside",)
    err = capsys.readouterr().err
    assert err == (f"taco evaluate: note: captions file capsX.jsonl: reading {Path('f3/capsX.jsonl')}, "
                   "the one inside the dataset folder, not ./capsX.jsonl here (a bare name is looked "
                   "for inside the dataset folder: give ./capsX.jsonl for the one here)\n")
    assert open_dataset("f3", captions_file="./capsX.jsonl").listing[0].captions == ("here",)
    assert capsys.readouterr().err == ""
    monkeypatch.chdir(root)  # one file: nothing to say
    open_dataset(".", captions_file="capsX.jsonl")
    assert capsys.readouterr().err == ""


def test_a_bare_name_only_inside_is_not_noted(tmp_path, monkeypatch, capsys):
    _dataset(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert open_dataset("f3", captions_file="capsX.jsonl").listing[0].captions == ("inside",)
    assert capsys.readouterr().err == ""
