"""The authors' train.py starts ``best_bpp`` at ``inf`` (and a ``best_*`` may be NaN): an import
wrote them into the checkpoint's safetensors header as ``Infinity`` / ``NaN``, which strict JSON
readers refuse. They are written as null; taco.load reads the file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors import safe_open

import taco
from taco.official import import_checkpoint_file

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"


def _strict(token: str) -> None:
    raise ValueError(f"not strict JSON: {token}")


def test_non_finite_best_values_are_null_in_a_strict_json_header(tmp_path):
    checkpoint = torch.load(GOLDEN, weights_only=True)
    source = tmp_path / "epoch1.pth.tar"
    torch.save({**checkpoint, "best_bpp": math.inf, "best_psnr": math.nan, "best_lpips": 0.25}, source)
    out = import_checkpoint_file(source, tmp_path / "epoch1.safetensors", text_encoder="clip-tiny")
    with safe_open(str(out), "pt") as f:
        text = f.metadata()["taco"]
    metadata = json.loads(text, parse_constant=_strict)["metadata"]
    assert metadata["source_best_bpp"] is None and metadata["source_best_psnr"] is None
    assert metadata["source_best_lpips"] == 0.25
    assert taco.load(out).metadata["source_best_bpp"] is None
