"""F-STALE (s39): CMMD's CLIP features were kept under the name ``clip`` whatever CLIP made them:
``taco evaluate ds -m elic-tiny --cmmd-clip clipA -o outA`` then the same with ``--cmmd-clip
clipB`` resumed clipA's number (the JSON saying clipB), another run into outA with clipB compared
clipA's features of the originals with clipB's of its reconstructions (cmmd 15.43 against 5.38
fresh), and a CLIP of another width crashed (mat1 and mat2 shapes). The features are now named
after the network (:func:`taco.evaluation.measure.clip_feature_name`), in the caches and in the
run's ``set_metrics``: ``clip-DIGEST``, the digest of its configuration and weights alone, so
one CLIP loaded from two folders (``clipA`` and ``copy/clip-vit``) is one CLIP (F-DC4: its first
name, ``clip-NAME-DIGEST``, refused that resume and took the originals' features again)."""

from __future__ import annotations

import json
import re
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
    assert all(re.fullmatch(r"clip-[0-9a-f]{12}", n) for n in (a, b, c, a2))
    assert len({a, b, c}) == 3
    assert a2 == a  # the same weights in a folder of another last name: the same CLIP
    assert _sets(clips["A"]).feature_names == [a]
    replaced = _clip(tmp_path / "clipA", 5)  # a folder of the same name, other weights
    assert _sets(replaced).clip_feature != a


def test_one_clip_in_another_folder_resumes_on_its_features(clips, tiny_folder, tmp_path):
    """``--cmmd-clip clipA`` then ``--cmmd-clip other/clip`` (the same CLIP) into one folder: the
    second run resumes (it was refused, 'differs in: set_metrics') and takes no feature again;
    its JSON names the folder it loaded the CLIP from."""
    ds, jpeg = open_dataset(str(tiny_folder)), get_codec("jpeg")
    first = evaluate_codec(jpeg, ds, tmp_path, qualities=[50], sets=_sets(clips["A"]), progress=False)
    chunks = sorted(p.name for p in tmp_path.rglob("*.npz"))
    again = evaluate_codec(jpeg, ds, tmp_path, qualities=[50], sets=_sets(clips["A2"]), progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*.npz")) == chunks  # nothing extracted again
    assert _cmmd(again) == pytest.approx(_cmmd(first), rel=1e-6)
    assert json.loads(again.read_text())["set_metrics"]["cmmd"]["clip"] == str(clips["A2"])


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


@pytest.mark.parametrize("old_name", ["clip", "clip-clipB-{digest}"])
def test_an_older_folder_of_clip_features_is_taken_again(clips, tiny_folder, tmp_path, old_name):
    """originals.features written before the features were named by their CLIP's digest alone
    (``clip``, or ``clip-NAME-DIGEST``; here of another width) are not read: the originals'
    features are taken again, no crash."""
    ds, webp = open_dataset(str(tiny_folder)), get_codec("webp")
    name = old_name.format(digest=_sets(clips["B"]).clip_feature.split("-")[-1])
    store = FeatureStore(tmp_path / "old" / "originals.features", "orig")
    for image, digest in image_digests(ds).items():
        store.add(f"{image}\t{digest}", {name: np.ones((1, 7), np.float32)})
    store.flush()
    old = _cmmd(evaluate_codec(webp, ds, tmp_path / "old", qualities=[50], sets=_sets(clips["B"]), progress=False))
    fresh = _cmmd(evaluate_codec(webp, ds, tmp_path / "fresh", qualities=[50], sets=_sets(clips["B"]),
                                 progress=False))
    assert old == pytest.approx(fresh, rel=1e-6)
