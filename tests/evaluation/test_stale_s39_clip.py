"""F-STALE (s39): CMMD's CLIP features were kept under the name ``clip`` whatever CLIP made them:
``taco evaluate ds -m elic-tiny --cmmd-clip clipA -o outA`` then the same with ``--cmmd-clip
clipB`` resumed clipA's number (the JSON saying clipB), another run into outA with clipB compared
clipA's features of the originals with clipB's of its reconstructions (cmmd 15.43 against 5.38
fresh), and a CLIP of another width crashed (mat1 and mat2 shapes). The features are now named
after the network (:func:`taco.evaluation.measure.clip_feature_name`), in the caches and in the
run's ``set_metrics``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.measure import SetMetrics, image_digests
from taco.evaluation.runner import FeatureStore, ResultsFileError


def _clip(folder: Path, seed: int, projection_dim: int = 16) -> Path:
    """A tiny random CLIP vision tower saved in ``folder``, as ``--cmmd-clip FOLDER`` loads it."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=16, projection_dim=projection_dim)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        CLIPVisionModelWithProjection(cfg).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {"A": _clip(root / "clipA", 0), "B": _clip(root / "clipB", 1),
            "C": _clip(root / "clipC", 2, projection_dim=24), "A2": _clip(root / "other" / "clip", 0)}


def _sets(folder: Path) -> SetMetrics:
    return SetMetrics(n_images=4, fid="off", cmmd_clip=str(folder))


def _cmmd(json_path: Path) -> float:
    return json.loads(json_path.read_text())["points"][0]["cmmd"]


def test_the_feature_name_tells_clips_apart(clips, tmp_path):
    a, b, c, a2 = (_sets(clips[k]).clip_feature for k in ("A", "B", "C", "A2"))
    assert a.startswith("clip-clipA-") and b.startswith("clip-clipB-")
    assert len({a, b, c}) == 3
    assert a2.split("-")[-1] == a.split("-")[-1]  # the same weights elsewhere: the same digest
    assert _sets(clips["A"]).feature_names == [a]
    replaced = _clip(tmp_path / "clipA", 5)  # a folder of the same name, other weights
    assert _sets(replaced).clip_feature.startswith("clip-clipA-") and _sets(replaced).clip_feature != a


def test_a_resume_with_another_clip_is_refused(clips, tiny_folder, tmp_path):
    ds, jpeg = open_dataset(str(tiny_folder)), get_codec("jpeg")
    evaluate_codec(jpeg, ds, tmp_path, qualities=[50], sets=_sets(clips["A"]), progress=False)
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: set_metrics\)"):
        evaluate_codec(jpeg, ds, tmp_path, qualities=[50], sets=_sets(clips["B"]), progress=False)


@pytest.mark.parametrize("key", ["B", "C"])  # C: another width, which crashed
def test_cached_originals_of_another_clip_are_not_compared(clips, tiny_folder, tmp_path, key):
    import shutil

    ds, jpeg, webp = open_dataset(str(tiny_folder)), get_codec("jpeg"), get_codec("webp")
    evaluate_codec(jpeg, ds, tmp_path / "a", qualities=[50], sets=_sets(clips["A"]), progress=False)
    shared = tmp_path / "shared"  # a folder whose originals.features holds clipA's features only
    shutil.copytree(tmp_path / "a" / "originals.features", shared / "originals.features")
    mixed = _cmmd(evaluate_codec(webp, ds, shared, qualities=[50], sets=_sets(clips[key]), progress=False))
    fresh = _cmmd(evaluate_codec(webp, ds, tmp_path / "fresh", qualities=[50], sets=_sets(clips[key]),
                                 progress=False))
    assert mixed == pytest.approx(fresh, rel=1e-6)


def test_an_older_folder_of_clip_features_is_taken_again(clips, tiny_folder, tmp_path):
    """originals.features written before the features were named after their CLIP (``clip``,
    here of another width) are not read: the originals' features are taken again."""
    ds, webp = open_dataset(str(tiny_folder)), get_codec("webp")
    store = FeatureStore(tmp_path / "old" / "originals.features", "orig")
    for name, digest in image_digests(ds).items():
        store.add(f"{name}\t{digest}", {"clip": np.ones((1, 7), np.float32)})
    store.flush()
    old = _cmmd(evaluate_codec(webp, ds, tmp_path / "old", qualities=[50], sets=_sets(clips["B"]), progress=False))
    fresh = _cmmd(evaluate_codec(webp, ds, tmp_path / "fresh", qualities=[50], sets=_sets(clips["B"]),
                                 progress=False))
    assert old == pytest.approx(fresh, rel=1e-6)
