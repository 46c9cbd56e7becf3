"""A checkpoint with two keys giving one taco name (an old bottleneck name beside its new one,
``module.x`` beside ``x``) is refused: the import kept whichever came last, silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from taco.official.checkpoint import CheckpointError, import_checkpoint

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"


def _bare() -> dict:
    """The golden checkpoint's weights without their ``module.`` prefix."""
    state = torch.load(GOLDEN, weights_only=True)["state_dict"]
    return {k.removeprefix("module."): v for k, v in state.items()}


def _saved(tmp_path: Path, state: dict) -> Path:
    path = tmp_path / "both.pth.tar"
    torch.save({"state_dict": state}, path)
    return path


def test_old_and_new_bottleneck_names_together_are_refused(tmp_path):
    state = _bare()
    new = next(k for k in state if k.startswith("entropy_bottleneck.matrices."))
    old = re.sub(r"matrices\.(\d+)$", r"_matrix\1", new)
    path = _saved(tmp_path, {**state, old: state[new] + 1})
    with pytest.raises(CheckpointError, match=f"'{re.escape(new)}' and '{re.escape(old)}' both give "
                       f"'latent_codec.{re.escape(new)}'"):
        import_checkpoint(path, text_encoder="clip-tiny")


def test_module_prefix_beside_the_bare_name_is_refused(tmp_path):
    state = _bare()
    key = next(iter(state))
    path = _saved(tmp_path, {**state, f"module.{key}": state[key] + 1})
    with pytest.raises(CheckpointError, match=f"'{re.escape(key)}' and 'module.{re.escape(key)}' "
                       f"both give '{re.escape(key)}'"):
        import_checkpoint(path, text_encoder="clip-tiny")
