"""README's figures of the built-in trained models and of a run folder, against what taco says."""

from __future__ import annotations

import json
from pathlib import Path

from taco.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_gives_the_trained_models_parameters_as_taco_models_does(capsys):
    """README called every trained built-in "~2.9 M parameters"; ``taco models`` shows the ELIC
    ones at 2.25 M and the TACO ones at 2.92 M."""
    assert main(["models", "--json"]) == 0
    trained = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    trained = [m for m in trained if m["trained"]]
    sizes = {("TACO + MiniLM" if m["text_encoder"] else "ELIC"): f"{m['parameters'] / 1e6:.2f}"
             for m in trained}
    assert len(sizes) == 2 and len(trained) == 4, sizes  # one size per family
    said = f"{sizes['ELIC']} M parameters for ELIC, {sizes['TACO + MiniLM']} M for TACO + MiniLM"
    assert said in README.read_text(encoding="utf-8")


def test_readme_says_a_run_folder_may_shard_its_train_state():
    """A taco-minilm-small run writes its train state as shards and an index (docs/training.md):
    README named only train_state.safetensors."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "train_state.safetensors.index.json" in text
    assert "train_state-<tag>-0000N-of-0000M.safetensors" in text
