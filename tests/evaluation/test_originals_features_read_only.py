"""A read-only ``originals.features/`` (the originals' CMMD features that every run into a
results folder shares). A run with images left to code checks it up front with its own
``STEM.features/``: refused in one line naming it, before any results file is written (it coded
every image, then failed keeping the originals' features, leaving an incomplete JSON and a CSV).
A run that only reads it (every original's features there: a new codec/model run, a complete
rerun) goes ahead; one missing an original's features is still refused.

Real modes: root without the capabilities that bypass them (capsh), as another user meets them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from taco.evaluation.datasets import open_dataset
from taco.evaluation.measure import (
    image_digests,
    original_keys,
    originals_left,
    stored_feature_names,
)
from taco.evaluation.runner import FeatureStore


def _args(folder: Path, clip: Path, out: Path, coder: list[str]) -> list[str]:
    return ["evaluate", str(folder), *coder, "--fid", "off", "--cmmd-clip", str(clip), "-o", str(out),
            "--no-plot"]


JPEG = ["--classic", "jpeg", "--qualities", "jpeg=50"]
WEBP = ["--classic", "webp", "--qualities", "webp=50"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*colours converted from its")
@pytest.mark.parametrize(("coder", "stem"), [(WEBP, "webp"), (["-m", "taco-tiny"], None)], ids=["classic", "model"])
def test_a_new_run_only_reads_a_read_only_originals_folder_holding_every_original(
        without_bypass, eval_main, tiny_folder, clip_folder, tmp_path, coder, stem):
    out = tmp_path / "out"
    assert eval_main(_args(tiny_folder, clip_folder, out, JPEG)) == 0
    originals = out / tiny_folder.name / "originals.features"
    kept = sorted(p.name for p in originals.iterdir())
    assert kept
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *_args(tiny_folder, clip_folder, out, coder)])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in originals.iterdir()) == kept
    results = sorted(p.name for p in (out / tiny_folder.name).glob("*.json"))
    assert len(results) == 2 and "jpeg.json" in results
    if stem:
        assert f"{stem}.json" in results


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*colours converted from its")
def test_a_read_only_originals_folder_missing_an_original_is_still_refused(
        without_bypass, eval_main, tiny_folder, clip_folder, tmp_path):
    """An original added to the folder since: its features would be written, so it is refused
    up front, before the new run's header or CSV exist."""
    out = tmp_path / "out"
    assert eval_main(_args(tiny_folder, clip_folder, out, JPEG)) == 0
    first = json.loads((tiny_folder / "captions.jsonl").read_text().splitlines()[0])
    shutil.copy(tiny_folder / first["image"], tiny_folder / "zz.png")
    with (tiny_folder / "captions.jsonl").open("a") as f:
        f.write(json.dumps({"image": "zz.png", "captions": first["captions"]}) + "\n")
    originals = out / tiny_folder.name / "originals.features"
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *_args(tiny_folder, clip_folder, out, WEBP)])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"taco evaluate: error: {originals}: permission denied"
    assert not (out / tiny_folder.name / "webp.json").exists()
    assert not (out / tiny_folder.name / "webp.csv").exists()


class _Sets:
    feature_names = ["clip-x", "inception"]


def test_originals_left_reads_the_cached_keys_and_names_alone(tiny_folder, tmp_path):
    dataset = open_dataset(str(tiny_folder))
    keys = original_keys(dataset, digests=image_digests(dataset))
    folder = tmp_path / "originals.features"
    names = list(dataset.names)
    assert originals_left(_Sets(), dataset, keys, stored_feature_names(folder)) == list(enumerate(names))
    store = FeatureStore(folder, "orig")
    for n in names:
        store.add(keys[n], {"clip-x": np.ones((1, 4), "float32")})
    store.flush()
    # clip-x kept for all, inception for none: every image still left
    assert originals_left(_Sets(), dataset, keys, stored_feature_names(folder)) == list(enumerate(names))
    for n in names[1:]:
        store.add(keys[n], {"inception": np.ones((2, 3), "float32")})
    store.flush()
    assert originals_left(_Sets(), dataset, keys, stored_feature_names(folder)) == [(0, names[0])]
    assert stored_feature_names(folder) == {k: set(v) for k, v in FeatureStore.load(folder).items()}
    # a photo replaced under its name (another size and time) is left again
    other = original_keys(dataset, digests={n: "1-2" for n in names})
    assert originals_left(_Sets(), dataset, other, stored_feature_names(folder)) == list(enumerate(names))


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("coder", [["--classic", "jpeg", "--qualities", "jpeg=50"], ["-m", "taco-tiny"]],
                         ids=["classic", "model"])
@pytest.mark.filterwarnings("ignore:.*colours converted from its")
@pytest.mark.slow
def test_a_read_only_originals_features_folder_is_refused_before_anything_is_coded(
        without_bypass, tiny_folder, clip_folder, tmp_path, coder):
    out = tmp_path / "out"
    originals = out / tiny_folder.name / "originals.features"
    originals.mkdir(parents=True)
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *_args(tiny_folder, clip_folder, out, coder)])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"taco evaluate: error: {originals}: permission denied"
    assert _snapshot(out) == {tiny_folder.name: None, f"{tiny_folder.name}/originals.features": None}


@pytest.mark.filterwarnings("ignore:.*colours converted from its")
@pytest.mark.slow
def test_a_complete_rerun_reads_a_read_only_originals_features_folder(without_bypass, eval_main, tiny_folder, clip_folder,
                                                                       tmp_path):
    """The same rule as STEM.features: with nothing left to code the kept features are only read."""
    out = tmp_path / "out"
    args = _args(tiny_folder, clip_folder, out, ["--classic", "jpeg", "--qualities", "jpeg=50"])
    assert eval_main(args) == 0
    originals = out / tiny_folder.name / "originals.features"
    assert any(originals.iterdir())
    csv_path = out / tiny_folder.name / "jpeg.csv"
    rows = csv_path.read_bytes()
    originals.chmod(0o555)
    try:
        done = without_bypass(["-m", "taco", *args])
    finally:
        originals.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert csv_path.read_bytes() == rows


def test_check_run_writable_checks_the_features_folders_only_with_jobs_left(tmp_path, monkeypatch):
    """No job left (a complete rerun): neither STEM.features nor originals.features is checked
    (they are only read); a job left: both are (without a dataset, originals with STEM)."""
    from taco.evaluation import results
    from taco.evaluation.runner import Job

    class Sets:
        feature_names = ["clip-x"]

    checked: list = []
    monkeypatch.setattr(results, "check_writable", lambda files, folders: checked.append(list(folders)))
    json_path, csv_path, features = tmp_path / "jpeg.json", tmp_path / "jpeg.csv", tmp_path / "jpeg.features"
    results.check_run_writable(json_path, csv_path, features, [], Sets())
    results.check_run_writable(json_path, csv_path, features, [Job(0, "a.png", 50)], Sets())
    results.check_run_writable(json_path, csv_path, features, [Job(0, "a.png", 50)], None)
    assert checked == [[], [features, tmp_path / results.ORIGINALS_FEATURES], []]


def test_stored_feature_names_leaves_out_a_feature_a_key_has_no_rows_of(tmp_path):
    """Two keys in one chunk, each with another feature: each is said to hold its own only (a
    count of 0 rows is no feature kept), as FeatureStore.load reads them."""
    import numpy as np

    from taco.evaluation.measure import stored_feature_names
    from taco.evaluation.runner import FeatureStore

    folder = tmp_path / "originals.features"
    store = FeatureStore(folder, "orig")
    store.add("a.png\t1", {"clip-x": np.ones((1, 4), "float32")})
    store.add("b.png\t2", {"inception": np.ones((2, 3), "float32")})
    store.flush()
    assert stored_feature_names(folder) == {"a.png\t1": {"clip-x"}, "b.png\t2": {"inception"}}
    assert stored_feature_names(folder) == {k: set(v) for k, v in FeatureStore.load(folder).items()}
