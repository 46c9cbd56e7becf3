"""``taco train --help``'s recipe model (model=taco-minilm-small) trains another entropy-model
layout than the shipped taco-minilm-small-q4: the help says so, with both parameter counts."""

from __future__ import annotations

import re

from taco.models import create_model
from taco.models.registry import checkpoint_config
from taco.train.cli import EPILOG
from taco.train.config import init_from_file


def _millions(model) -> str:  # noqa: ANN001
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M"


def test_the_help_gives_the_recipe_and_the_shipped_models_layouts_and_sizes():
    text = " ".join(EPILOG.split())
    shipped = checkpoint_config(init_from_file("taco-minilm-small-q4"))
    assert shipped.layout == "compressai"
    trained = create_model("taco-minilm-small")
    assert trained.config.layout == "reference"  # the authors' (taco.models.elic)
    as_shipped = create_model("taco-minilm-small", layout=shipped.layout)
    found = re.search(r"model=taco-minilm-small trains the authors' entropy-model layout "
                      r"\((\d+\.\d+ M) parameters\), not the CompressAI one of the shipped "
                      r"taco-minilm-small-q4 \((\d+\.\d+ M);", text)
    assert found is not None, text
    assert found.groups() == (_millions(trained), _millions(as_shipped))
