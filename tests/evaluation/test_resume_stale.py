"""What ``taco evaluate`` does not resume because it went stale since it was written: rows of a
photo replaced by another of the same byte size (the dataset's digests hold each file's
modification time too), rows whose results JSON was deleted (it records what made them), CMMD's CLIP features made by another CLIP (kept under a name that says
which weights made them), and ``--match-bpp`` rows coded for the bpp of a model run made again
since (another seed or caption mode: they would keep their old ``target_bpp`` and ``bpp_gap``)."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from taco.evaluation.classic import evaluate_codec, evaluate_matched, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.measure import SetMetrics, image_digests
from taco.evaluation.runner import FeatureStore, ResultsFileError, read_rows


def _replace_same_size(photo: Path) -> None:
    """Another picture of the same dimensions (so the same BMP byte size), written later."""
    size = photo.stat().st_size
    before = photo.stat().st_mtime_ns
    Image.effect_noise((48, 32), 60).convert("RGB").save(photo)
    assert photo.stat().st_size == size
    os.utime(photo, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a coarse clock's tick too


def test_a_photo_replaced_by_one_of_the_same_byte_size_changes_both_digests(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    before = open_dataset(str(root))
    content, image_content = before.content, before.image_content  # taken when asked for
    _replace_same_size(root / "a.bmp")
    after = open_dataset(str(root))
    assert after.content != content
    assert after.image_content != image_content


def test_the_digests_are_the_same_while_nothing_changed(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    first, again = open_dataset(str(root)), open_dataset(str(root))
    assert (first.content, first.image_content) == (again.content, again.image_content)


def test_a_resume_after_a_same_size_replacement_is_refused(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    jpeg = get_codec("jpeg")
    out = tmp_path / "out"
    evaluate_codec(jpeg, open_dataset(str(root)), out, qualities=[50], progress=False)
    _replace_same_size(root / "a.bmp")
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        evaluate_codec(jpeg, open_dataset(str(root)), out, qualities=[50], progress=False)


def _transpose(photo: Path) -> None:
    """Another picture of the photo: its pixels transposed, saved over it."""
    with Image.open(photo) as im:
        im.transpose(Image.Transpose.TRANSPOSE).save(photo)


def test_rows_whose_json_was_deleted_are_not_resumed(tmp_path, tiny_folder, taco_main, capsys):
    """A changed image is refused ('differs in: dataset'); with the JSON its refusal names
    deleted, the rerun took every CSV row as done and reported the old image's numbers, recording
    the new dataset's digest (exit 0). It is refused now, the CSV left as it was, no JSON written;
    with the CSV deleted too, the run codes the new image."""
    out = tmp_path / "ev"
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=50", "-o", str(out),
            "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--bootstrap", "0", "--quiet"]
    assert taco_main(argv) == 0
    folder = out / tiny_folder.name
    csv_path, json_path = folder / "jpeg.csv", folder / "jpeg.json"
    old = {r["image"]: r["psnr"] for r in read_rows(csv_path)}
    changed = sorted(old)[0]
    _transpose(tiny_folder / changed)
    capsys.readouterr()
    assert taco_main(argv) == 2
    assert "holds results of another configuration (differs in: dataset)" in capsys.readouterr().err
    json_path.unlink()
    before = csv_path.read_bytes()
    assert taco_main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        f"taco evaluate: error: {csv_path} holds 4 rows but {json_path}, which records what made them, "
        f"is gone: delete {csv_path} too, or choose another --output")
    assert csv_path.read_bytes() == before and not json_path.exists()
    csv_path.unlink()
    assert taco_main(argv) == 0
    new = {r["image"]: r["psnr"] for r in read_rows(csv_path)}
    assert new[changed] != old[changed]
    assert {k: v for k, v in new.items() if k != changed} == {k: v for k, v in old.items() if k != changed}


def test_rank_shards_whose_json_was_deleted_are_not_resumed(tmp_path, bmp_folder):
    """Rows an interrupted torchrun left in rank shards count as the CSV's, each file named."""
    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    json_path = evaluate_codec(jpeg, ds, out, qualities=[50, 70], progress=False)
    csv_path = json_path.with_suffix(".csv")
    lines = csv_path.read_text().splitlines(keepends=True)
    shards = [out / "jpeg.rank0.csv", out / "jpeg.rank1.csv"]
    shards[0].write_text("".join(lines[:2]))
    shards[1].write_text("".join([lines[0], *lines[2:]]))
    csv_path.write_text(lines[0])  # its header alone
    json_path.unlink()
    with pytest.raises(ResultsFileError) as refused:
        evaluate_codec(jpeg, ds, out, qualities=[50, 70], progress=False)
    assert str(refused.value) == (
        f"{shards[0]}, {shards[1]} hold {len(lines) - 1} rows but {json_path}, which records what made "
        "them, is gone: delete those files too, or choose another --output")
    assert [p.read_text() for p in shards] == ["".join(lines[:2]), "".join([lines[0], *lines[2:]])]
    assert not json_path.exists()


def test_a_csv_header_alone_without_its_json_is_no_refusal(tmp_path, bmp_folder):
    """No row to reuse: a CSV holding its header alone (a run stopped before its first row,
    its JSON deleted) codes every image."""
    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    json_path = evaluate_codec(jpeg, ds, out, qualities=[50], progress=False)
    csv_path = json_path.with_suffix(".csv")
    rows = read_rows(csv_path)
    csv_path.write_text(csv_path.read_text().splitlines(keepends=True)[0])
    json_path.unlink()
    assert evaluate_codec(jpeg, ds, out, qualities=[50], progress=False) == json_path
    assert read_rows(csv_path) == rows
    assert json.loads(json_path.read_text())["complete"] is True


def _result(codec: str, content: str, tmp_path: Path) -> Path:
    """A classic result on ``val`` whose dataset has the image digest ``content``."""
    import json

    points = [{"setting": f"q{q}", "images": 2, "bpp": b, "psnr": p} for q, b, p in
              [(20, 0.4, 28.0), (50, 0.8, 31.0), (80, 1.5, 34.0)]]
    path = tmp_path / "eval" / f"{codec}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "classic", "label": codec.upper(), "codec": codec,
        "dataset": {"name": "val", "kind": "folder", "images": 2, "crop": "none", "image_content": content},
        "run": {"codec": {"name": codec}}, "points": points}), encoding="utf-8")
    return path.parent


def test_taco_plot_refuses_runs_before_and_after_a_same_size_replacement(tmp_path, bmp_folder):
    from taco.evaluation.plot import collect_curves, load_results

    root = bmp_folder(tmp_path / "bmp")
    before = open_dataset(str(root)).image_content
    _replace_same_size(root / "a.bmp")
    _result("jpeg", before, tmp_path)
    folder = _result("webp", open_dataset(str(root)).image_content, tmp_path)
    with pytest.raises(ValueError, match="results on val were run on different images"):
        collect_curves(load_results(folder))


def test_taco_plot_compares_an_older_digest_only_with_its_like(tmp_path, bmp_folder):
    """A result written before the digest held the times (16 hex digits, names and sizes) is not
    refused beside a newer one of the same folder; two older ones that differ still are."""
    from taco.evaluation.datasets import IMAGE_CONTENT_MARK
    from taco.evaluation.plot import collect_curves, load_results

    root = bmp_folder(tmp_path / "bmp")
    new = open_dataset(str(root)).image_content
    assert new.startswith(IMAGE_CONTENT_MARK) and len(new) == len(IMAGE_CONTENT_MARK) + 16
    _result("jpeg", "0123456789abcdef", tmp_path)
    folder = _result("webp", new, tmp_path)
    assert sorted(c.label for c in collect_curves(load_results(folder))["val"]) == ["JPEG", "WEBP"]
    _result("avif", "fedcba9876543210", tmp_path)
    with pytest.raises(ValueError, match="different images") as exc:
        collect_curves(load_results(folder))
    assert "0123456789abcdef: " in str(exc.value) and "fedcba9876543210: " in str(exc.value)
    assert new not in str(exc.value)


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


def _targets(path: Path) -> dict[str, str]:
    with path.open(newline="") as f:
        return {r["image"]: r["target_bpp"] for r in csv.DictReader(f)}


def test_matched_rows_for_the_bpp_of_a_model_run_made_again_are_refused(bmp_folder, model_result, tmp_path):
    root = bmp_folder(tmp_path / "bmp")
    ds, jpeg, out = open_dataset(str(root)), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    path = evaluate_matched(jpeg, ds, out, model_json, progress=False)
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}
    model_result(tmp_path / "model", {"a.bmp": 1.0, "b.bmp": 2.0})  # run again: other results
    with pytest.raises(ResultsFileError, match=r"differs in: target_bpp of a\.bmp.*delete .*jpeg\.matched-m-1234\.csv "
                       r"and .*jpeg\.matched-m-1234\.json, or choose another --output$"):
        evaluate_matched(jpeg, ds, out, model_json, progress=False)
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}  # untouched
    assert path.is_file()


def test_matched_rows_resume_while_the_model_run_only_grew(bmp_folder, model_result, tmp_path):
    root = bmp_folder(tmp_path / "bmp")
    ds, jpeg, out = open_dataset(str(root)), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})  # a larger --limit: one more image
    path = evaluate_matched(jpeg, ds, out, model_json, progress=False)
    rows = read_rows(out / "jpeg.matched-m-1234.csv")
    assert [r["image"] for r in rows] == ["a.bmp", "b.bmp"]
    assert _targets(out / "jpeg.matched-m-1234.csv") == {"a.bmp": "1.5", "b.bmp": "2.0"}
    assert path.is_file()


def test_matched_rows_of_images_the_model_run_no_longer_has_are_left_to_the_resume(bmp_folder, model_result, tmp_path):
    """The model's run made again on fewer images (a smaller --limit): the matched rows of
    an image it has no row for now are not compared with a target (no KeyError)."""
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.datasets import open_dataset

    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    model_result(tmp_path / "model", {"a.bmp": 1.5})
    assert evaluate_matched(jpeg, ds, out, model_json, progress=False).is_file()


def test_matched_rows_in_rank_shards_for_another_target_are_refused(bmp_folder, model_result, tmp_path):
    """An interrupted run's rows in its rank shards are checked as the CSV's are."""
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.datasets import open_dataset
    from taco.evaluation.runner import ResultsFileError

    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    csv_path = out / "jpeg.matched-m-1234.csv"
    csv_path.rename(out / "jpeg.matched-m-1234.rank1.csv")  # the rows in a rank's shard alone
    model_result(tmp_path / "model", {"a.bmp": 1.0, "b.bmp": 2.0})
    with pytest.raises(ResultsFileError, match=r"differs in: target_bpp of a\.bmp"):
        evaluate_matched(jpeg, ds, out, model_json, progress=False)


def test_the_clip_feature_name_holds_the_weights_last_values_and_shapes():
    """Networks that differ only in a weight's last values, or only in a weight's
    shape (the same values), get other feature names."""
    import torch

    from taco.evaluation.measure import clip_feature_name

    def net(shape, last=0.0):  # noqa: ANN001, ANN202
        module = torch.nn.Module()
        weight = torch.zeros(shape)
        weight.view(-1)[-1] = last
        module.weight = torch.nn.Parameter(weight)
        return module

    base = clip_feature_name(net((4, 40)))
    assert base == clip_feature_name(net((4, 40)))
    assert clip_feature_name(net((4, 40), last=1.0)) != base
    assert clip_feature_name(net((40, 4))) != base
