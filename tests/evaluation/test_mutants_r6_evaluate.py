"""taco evaluate's choices pinned where mutation testing (round 6) found them unpinned:
--qualities naming a variable-rate model by its model id, a text-free model given
``--caption-mode true --caption-mode empty`` (the true run goes ahead), an image exactly
32,768 px wide (kept: a .taco file holds it), an unmeasured LPIPS cell in the caption-mode
comparison (left out of the reference mean, not NaN), and an untrained model's legend label."""

from __future__ import annotations

import json
import math
import types
import warnings
from pathlib import Path

import pytest
from PIL import Image

import taco.evaluation.evaluate as evaluate
from taco.bitstream import MAX_SIDE
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import (
    EvalConfig,
    ModelInfo,
    compare_caption_modes,
    model_qualities,
    run_evaluation,
    without_oversized,
)
from taco.recipe import IMAGE_METRICS


def _info(*, trained: bool = True) -> ModelInfo:
    return ModelInfo(spec="runs/vr/checkpoint.safetensors", model_id="my-vr-model", trained=trained,
                     fingerprint="0" * 16)


def test_qualities_may_name_a_variable_rate_model_by_its_model_id():
    model = types.SimpleNamespace(qualities=[0.0004, 0.0016, 0.009])
    assert model_qualities(model, _info(), {"my-vr-model": [2]}) == [2]
    assert model_qualities(model, _info(), {"runs/vr/checkpoint.safetensors": [1, 3]}) == [1, 3]


def test_an_untrained_models_label_says_so():
    assert _info(trained=False).label == "my-vr-model (untrained)"
    assert _info(trained=True).label == "my-vr-model"


def test_a_text_free_model_with_true_and_empty_runs_the_true_mode(tiny_folder, tmp_path):
    """caption modes true and empty for elic-tiny (no text): empty means nothing for it, but the
    true run goes ahead; only when no mode is true is it refused."""
    cfg = EvalConfig(datasets=[str(tiny_folder)], models=["elic-tiny"], output=tmp_path / "out",
                     caption_modes=["true", "empty"], limit=1, fid="off", bootstrap=0, plot=False,
                     progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # untrained weights
        written = run_evaluation(cfg)
    results = [p for p in map(Path, written) if p.suffix == ".json"]
    assert results and all(json.loads(p.read_text())["complete"] for p in results), written


def test_an_image_exactly_max_side_wide_is_kept(tmp_path):
    """A .taco file holds sides up to 32,768 px: such an image is evaluated, one pixel more is
    skipped."""
    Image.new("L", (MAX_SIDE, 1)).save(tmp_path / "wide.png")
    Image.new("L", (8, 8)).save(tmp_path / "small.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = without_oversized(open_dataset(str(tmp_path)))
    assert sorted(r.file for r in kept.images.records) == ["small.png", "wide.png"]
    Image.new("L", (MAX_SIDE + 1, 1)).save(tmp_path / "wide.png")
    with pytest.warns(Warning, match=r"skipping 1 image over 32,768 px a side.*wide\.png: 32769x1"):
        kept = without_oversized(open_dataset(str(tmp_path)))
    assert [r.file for r in kept.images.records] == ["small.png"]


def test_an_unmeasured_lpips_cell_leaves_the_reference_mean_a_number(monkeypatch):
    """compare_caption_modes: an image whose LPIPS was not measured (an empty cell) is left out
    of the reference mean; it does not make it NaN."""
    def rows(kind):
        out = []
        for i in range(8):
            row = {"image": f"{i}.png", "sha256": f"{kind}{i}", "bpp": str(0.5 + i / 100)}
            for metric in IMAGE_METRICS:
                row[metric] = "" if (metric == "lpips" and i == 0) else str(0.3 + i / 50)
            out.append(row)
        return out

    monkeypatch.setattr(evaluate, "result_rows", rows)
    compared = compare_caption_modes({"true": "t", "empty": "e"}, resamples=50)
    means = {m: compared["modes"]["empty"][m]["reference_mean"] for m in ("bpp", *IMAGE_METRICS)}
    assert all(math.isfinite(v) for v in means.values()), means
    assert means["lpips"] == pytest.approx(sum(0.3 + i / 50 for i in range(1, 8)) / 7)
