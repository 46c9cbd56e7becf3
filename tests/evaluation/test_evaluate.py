"""taco evaluate on tiny models: real bytes, CSV/JSON, resume, reproducibility, caption modes."""

from __future__ import annotations

import hashlib
import json
import math
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import taco.evaluation.evaluate as evaluate
from taco.codec import compress_image, decompress_tensor
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import (
    CaptionMode,
    EvalConfig,
    EvaluationError,
    ModelInfo,
    compare_caption_modes,
    evaluate_model,
    format_comparison,
    load_model,
    model_qualities,
    run_evaluation,
)
from taco.evaluation.measure import SetMetrics, hific_patches
from taco.evaluation.runner import ResultsFileError, read_rows
from taco.metrics import psnr
from taco.models import CheckpointError
from taco.recipe import IMAGE_METRICS


@pytest.fixture(scope="module")
def tiny_taco_model():
    return load_model("taco-tiny")


@pytest.fixture(scope="module")
def text_sensitive():
    """taco-tiny with gamma = 1: the adapter's output reaches the latent, so text changes bytes."""
    from taco.evaluation.evaluate import ModelInfo
    from taco.models import create_model, model_fingerprint

    model = create_model("taco-tiny", seed=0, gamma_init=1.0)
    info = ModelInfo("taco-tiny+gamma1", "taco-tiny+gamma1", False, model_fingerprint(model).hex(),
                     config=model.config.to_dict())
    return model, info


def run(model_info, folder: Path, out: Path, **kw) -> dict:
    model, info = model_info
    path = evaluate_model(model, info, open_dataset(str(folder)), out, progress=False, **kw)
    return json.loads(path.read_text())


def test_csv_json_written_from_real_bytes(tiny_taco_model, tiny_folder, tmp_path):
    model, info = tiny_taco_model
    result = run(tiny_taco_model, tiny_folder, tmp_path)
    rows = read_rows(tmp_path / result["csv"])
    assert [r["image"] for r in rows] == sorted(p.name for p in tiny_folder.glob("*.png"))
    assert result["complete"] and result["points"][0]["images"] == 4
    assert result["model"]["fingerprint"] == info.fingerprint and not result["model"]["trained"]
    assert torch.__version__.startswith(result["environment"]["versions"]["torch"])
    assert result["dataset"]["caption_source"].startswith("captions.jsonl")

    # the row is what the container really holds: same bytes, bpp from their length, same PSNR
    r0 = rows[0]
    x = open_dataset(str(tiny_folder)).images[0].image.unsqueeze(0)
    res = compress_image(x, r0["caption"], model)
    assert hashlib.sha256(res.data).hexdigest() == r0["sha256"]
    assert float(r0["bpp"]) == 8 * len(res.data) / (64 * 64) == res.bpp
    x_hat, _ = decompress_tensor(res.data, model)
    assert float(r0["psnr"]) == pytest.approx(float(psnr(x, x_hat)[0]))
    assert math.isnan(float(r0["ms_ssim"]))  # 64 px: too small for 5-scale MS-SSIM
    assert result["points"][0]["bpp"] == pytest.approx(np.mean([float(r["bpp"]) for r in rows]))


def test_resume_skips_done_images_and_reproduces(tiny_taco_model, tiny_folder, tmp_path):
    result = run(tiny_taco_model, tiny_folder, tmp_path / "a")
    csv_a = (tmp_path / "a" / result["csv"]).read_bytes()
    # a second run codes nothing
    again = run(tiny_taco_model, tiny_folder, tmp_path / "a")
    assert again["timing"]["images_timed"] == 0
    assert (tmp_path / "a" / result["csv"]).read_bytes() == csv_a
    # an interrupted run (last row lost, next one half written) resumes to the same file
    lines = csv_a.decode().splitlines(keepends=True)
    (tmp_path / "a" / result["csv"]).write_text("".join(lines[:-2]) + lines[-2][:20])
    resumed = run(tiny_taco_model, tiny_folder, tmp_path / "a")
    assert resumed["timing"]["images_timed"] == 2
    assert (tmp_path / "a" / result["csv"]).read_bytes() == csv_a
    # cut inside the last field (every column there, no newline): that row is coded again too
    (tmp_path / "a" / result["csv"]).write_bytes(csv_a[:-10])
    resumed = run(tiny_taco_model, tiny_folder, tmp_path / "a")
    assert resumed["timing"]["images_timed"] == 1 and resumed["complete"]
    assert (tmp_path / "a" / result["csv"]).read_bytes() == csv_a
    # a fresh run elsewhere gives byte-identical results
    run(tiny_taco_model, tiny_folder, tmp_path / "b")
    assert (tmp_path / "b" / result["csv"]).read_bytes() == csv_a


def test_a_limited_run_is_completed_by_the_full_run(tiny_taco_model, tiny_folder, tmp_path):
    """docs/evaluation.md: --limit N writes to the same files, and a later run without the limit
    completes them (the dataset digest is the whole folder's, whatever the limit)."""
    model, info = tiny_taco_model
    first = evaluate_model(model, info, open_dataset(str(tiny_folder), limit=2), tmp_path, progress=False)
    full = json.loads(evaluate_model(model, info, open_dataset(str(tiny_folder)), tmp_path, progress=False).read_text())
    assert full["complete"] and full["timing"]["images_timed"] == 2 and full["points"][0]["images"] == 4
    assert first.name == full["csv"].replace(".csv", ".json")
    # shuffled captions are drawn over the whole dataset: the limited run's rows are the full run's
    limited = json.loads(evaluate_model(model, info, open_dataset(str(tiny_folder), limit=2), tmp_path / "s",
                                        mode="shuffled", progress=False).read_text())
    whole = evaluate_model(model, info, open_dataset(str(tiny_folder)), tmp_path / "t", mode="shuffled",
                           progress=False)
    rows = {r["image"]: r["caption"] for r in read_rows(whole.with_name(json.loads(whole.read_text())["csv"]))}
    for r in read_rows(tmp_path / "s" / limited["csv"]):
        assert r["caption"] == rows[r["image"]]


def test_resume_refuses_rows_of_other_photos_or_captions(tiny_taco_model, tiny_folder, tmp_path):
    """Rows are matched by image name: a caption edited, or a photo replaced by another of the
    same name, since the last run must not resume into the old rows."""
    run(tiny_taco_model, tiny_folder, tmp_path / "out")
    table = tiny_folder / "captions.jsonl"
    lines = table.read_text().splitlines()
    first = json.loads(lines[0])
    table.write_text("\n".join([json.dumps({**first, "captions": ["Something else."]}), *lines[1:]]) + "\n")
    with pytest.raises(ResultsFileError, match="another configuration \\(differs in: dataset\\)"):
        run(tiny_taco_model, tiny_folder, tmp_path / "out")
    table.write_text("\n".join(lines) + "\n")
    assert run(tiny_taco_model, tiny_folder, tmp_path / "out")["timing"]["images_timed"] == 0  # as before
    from PIL import Image

    photo = tiny_folder / first["image"]
    Image.new("RGB", (64, 64), (200, 10, 10)).save(photo)  # another photo, same name
    with pytest.raises(ResultsFileError, match="differs in: dataset"):
        run(tiny_taco_model, tiny_folder, tmp_path / "out")


def test_resume_refuses_another_configuration(tiny_taco_model, tiny_folder, tmp_path):
    run(tiny_taco_model, tiny_folder, tmp_path, mode="empty")
    result = json.loads(next(tmp_path.glob("*.caption-empty.json")).read_text())
    result["run"]["model_fingerprint"] = "0" * 16
    next(tmp_path.glob("*.caption-empty.json")).write_text(json.dumps(result))
    with pytest.raises(ResultsFileError, match="model_fingerprint"):
        run(tiny_taco_model, tiny_folder, tmp_path, mode="empty")


def test_caption_modes():
    caps = [f"caption {i}" for i in range(6)]
    shuffled = CaptionMode.parse("shuffled").captions(caps, seed=0)
    assert sorted(shuffled) == caps and all(s != c for s, c in zip(shuffled, caps, strict=True))
    assert shuffled == CaptionMode.parse("shuffled").captions(caps, seed=0)
    assert CaptionMode.parse("empty").captions(caps) == [""] * 6
    assert CaptionMode.parse("fixed:NA").captions(caps) == ["NA"] * 6
    for blank in ("fixed:", "fixed:  "):  # one name for no caption: empty
        with pytest.raises(EvaluationError, match="no text: use empty"):
            CaptionMode.parse(blank)
    assert CaptionMode.parse("true").captions(caps) == caps
    assert str(CaptionMode.parse("fixed:a photo")) == "fixed:a photo"
    assert CaptionMode.parse("fixed:a photo").slug.startswith("fixed-a-photo-")
    for bad in ("random", "fixed", ""):
        with pytest.raises(EvaluationError):
            CaptionMode.parse(bad)


def test_text_reaches_the_bytes_only_when_gamma_is_nonzero(tiny_taco_model, text_sensitive,
                                                          tiny_folder, tmp_path):
    for model_info, differ in ((tiny_taco_model, False), (text_sensitive, True)):
        out = tmp_path / model_info[1].tag
        runs = {}
        for mode in ("true", "shuffled", "fixed:NA"):
            model, info = model_info
            runs[mode] = evaluate_model(model, info, open_dataset(str(tiny_folder)), out,
                                        mode=mode, progress=False)
        cmp = compare_caption_modes(runs, resamples=500, seed=0)
        for mode in ("shuffled", "fixed:NA"):
            entry = cmp["modes"][mode]
            assert entry["images"] == 4
            # gamma = 0 (a fresh TACO): the adapter adds nothing, files are identical
            assert (entry["identical_files"] < 4) == differ
            for m in ("bpp", "psnr", "lpips"):
                # 4 images: too few for a 95 % interval (taco.evaluation.stats.min_pairs)
                assert math.isnan(entry[m]["low"]) and math.isnan(entry[m]["high"])
                assert not entry[m]["significant"] and "needs at least 6" in entry[m]["reason"]
                if not differ:
                    assert entry[m]["mean"] == 0.0
        used = [r["caption"] for r in read_rows(runs["shuffled"].with_suffix(".csv"))]
        true = [r["caption"] for r in read_rows(runs["true"].with_suffix(".csv"))]
        assert sorted(used) == sorted(true) and all(u != t for u, t in zip(used, true, strict=True))
        again = compare_caption_modes(runs, resamples=500, seed=0)
        assert json.dumps(again, sort_keys=True) == json.dumps(cmp, sort_keys=True)
        assert "| shuffled | 4 |" in format_comparison(cmp)


def test_too_few_images_are_never_significant(rd_run, tmp_path):
    """Two images 0.01 dB apart: a percentile bootstrap over 2 pairs has a zero-width interval
    that excludes 0. No interval below 6 images; the table says why; above it, one is given."""
    write_rd_run, _ = rd_run

    def runs(n: int) -> dict[str, Path]:
        base = [{"image": f"img{i}.png", "setting": "", "bpp": 0.3 + 0.01 * i,
                 "psnr": 26.3 + 0.5 * i, "ms_ssim": 0.95, "lpips": 0.2} for i in range(n)]
        return {mode: write_rd_run(tmp_path / str(n), f"run-{mode}", label=mode, kind="learned",
                                   codec="taco", rows=[{**r, "psnr": r["psnr"] - shift} for r in base])
                for mode, shift in (("true", 0.0), ("shuffled", 0.01))}

    small = compare_caption_modes(runs(2), resamples=200)
    psnr_diff = small["modes"]["shuffled"]["psnr"]
    assert psnr_diff["mean"] == pytest.approx(-0.01) and psnr_diff["n"] == 2
    assert psnr_diff["significant"] is False and math.isnan(psnr_diff["low"])
    assert psnr_diff["reason"].startswith("2 pairs: a 95% interval needs at least 6")
    assert small["bootstrap"]["min_images"] == 6
    table = format_comparison(small)
    assert "-0.01 [no CI]" in table and "*" not in table.split("\n", 1)[1].split("no CI, so")[0]
    assert "no CI, so never *:\n- 2 pairs: a 95% interval needs at least 6" in table

    enough = compare_caption_modes(runs(6), resamples=200)
    psnr_diff = enough["modes"]["shuffled"]["psnr"]
    assert psnr_diff["reason"] == "" and psnr_diff["significant"] is True  # 6 of 6 lower: p = 0.031
    assert "-0.01 [-0.01, -0.01]*" in format_comparison(enough)


def test_python_api_takes_str_paths(tiny_taco_model, tiny_folder, tmp_path):
    """Every public function that takes a folder or file takes a str as well as a Path."""
    from taco.evaluation import (
        EvalConfig,
        evaluate_codec,
        evaluate_matched,
        get_codec,
        plot_results,
        run_evaluation,
    )
    from taco.models import save_checkpoint

    out = str(tmp_path / "runs" / "val")
    ds = open_dataset(Path(tiny_folder), limit=1)
    assert ds.root == tiny_folder and len(ds) == 1
    model, info = tiny_taco_model
    runs = {mode: evaluate_model(model, info, ds, out, mode=mode, progress=False)
            for mode in ("true", "empty")}
    assert runs["true"].parent == Path(out) and json.loads(runs["true"].read_text())["complete"]
    jpeg = get_codec("jpeg")
    assert evaluate_codec(jpeg, ds, out, qualities=[50], progress=False).parent == Path(out)
    matched = evaluate_matched(jpeg, ds, out, str(runs["true"]), progress=False)
    assert json.loads(matched.read_text())["matched_to"] == runs["true"].name
    cmp = compare_caption_modes({mode: str(path) for mode, path in runs.items()}, resamples=10)
    assert cmp["modes"]["empty"]["images"] == 1
    assert [p.name for p in plot_results(out, out + "/rd", metrics=("psnr",))] == ["rd.png", "rd.svg"]

    ckpt = save_checkpoint(model, tmp_path / "tiny.safetensors")
    assert load_model(Path(ckpt))[1].spec == str(ckpt)  # a str, as --model gives it
    written = run_evaluation(EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"],
                                        qualities={"jpeg": [50]}, limit=1, fid="off", cmmd_clip="off",
                                        output=str(tmp_path / "cfg"), plot=False, progress=False))
    assert written == [tmp_path / "cfg" / "photos" / "jpeg.json"]


def test_uncaptioned_folder_needs_a_caption_mode(tiny_taco_model, tmp_path, folder_factory):
    folder = folder_factory(tmp_path / "bare", captions=False)
    ds = open_dataset(str(folder))
    assert not ds.captioned and "taco caption" in ds.caption_source
    with pytest.raises(EvaluationError, match="taco caption"):
        run(tiny_taco_model, folder, tmp_path / "out")
    assert run(tiny_taco_model, folder, tmp_path / "out", mode="empty")["complete"]


def test_a_caption_over_the_cap_stops_an_evaluation_before_it_codes(tiny_taco_model, tiny_folder, tmp_path):
    """The text encoders refuse captions over 10,000 characters: said at the start, not at the
    image whose turn it is."""
    import json

    from taco.text.base import CaptionTooLongError

    captions = tiny_folder / "captions.jsonl"
    records = [json.loads(line) for line in captions.read_text().splitlines()]
    records[-1]["captions"] = ["x" * 10_001]
    captions.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(CaptionTooLongError, match="10,001 characters"):
        run(tiny_taco_model, tiny_folder, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*.csv"))  # nothing coded
    assert run(tiny_taco_model, tiny_folder, tmp_path / "out2", mode="empty")["complete"]


def test_text_free_model_refuses_caption_modes(tiny_folder, tmp_path):
    with pytest.raises(EvaluationError, match="takes no text"):
        run(load_model("elic-tiny"), tiny_folder, tmp_path, mode="shuffled")


def test_unknown_model_is_a_clear_error():
    with pytest.raises(CheckpointError, match="neither a checkpoint"):
        load_model("no-such-model")


class FakeInception:
    """Stands in for the Inception network: per-channel means and variances as features."""

    source = "fake (test)"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        flat = images.flatten(2)  # (N, 3, HW)
        return torch.cat([flat.mean(-1), flat.var(-1)], dim=1).float()  # (N, 6)


@pytest.fixture(scope="module")
def tiny_clip():
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=32, patch_size=16, projection_dim=16)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return CLIPVisionModelWithProjection(cfg).eval()


def test_set_metrics_fid_and_cmmd(tiny_taco_model, tiny_folder, tmp_path, tiny_clip):
    sets = SetMetrics(n_images=4, fid="full", extractor=FakeInception(), clip_model=tiny_clip)
    result = run(tiny_taco_model, tiny_folder, tmp_path, sets=sets)
    point = result["points"][0]
    assert point["fid"] > 0 and point["fid_samples"] == 4
    assert point["cmmd"] > 0 and point["cmmd_samples"] == 4
    fid = result["set_metrics"]["fid"]
    assert fid["computed"] and fid["network"] == "fake (test)" and fid["reliable"] is False
    assert result["set_metrics"]["cmmd"]["computed"]
    # features survive in files: a resumed run recomputes the same set metrics without coding
    again = run(tiny_taco_model, tiny_folder, tmp_path, sets=sets)
    assert again["timing"]["images_timed"] == 0
    assert again["points"][0]["fid"] == pytest.approx(point["fid"])
    assert again["points"][0]["cmmd"] == pytest.approx(point["cmmd"])


def test_fid_mode_choice_and_missing_network(monkeypatch):
    assert SetMetrics(n_images=30_000, extractor=FakeInception()).fid_mode == "full"
    small = SetMetrics(n_images=24, extractor=FakeInception())
    assert small.fid_mode == "patches" and small.fid_feature == "inception-p256"
    off = SetMetrics(n_images=24, fid="off")
    assert off.fid_feature is None and not off.describe()["fid"]["computed"]

    from taco.evaluation import measure
    from taco.metrics import MetricUnavailable

    def unavailable(device):
        raise MetricUnavailable("no Inception weights here")

    monkeypatch.setattr(measure, "InceptionFeatures", unavailable)
    missing = SetMetrics(n_images=24)
    assert missing.fid_mode == "off" and "no Inception" in missing.describe()["fid"]["reason"]
    with pytest.raises(ValueError):
        SetMetrics(n_images=3, fid="sometimes")


def test_cmmd_with_an_unavailable_clip_is_skipped_with_a_reason():
    sets = SetMetrics(n_images=4, fid="off", cmmd_clip="/no/such/clip-folder")
    assert sets.clip is None and "CLIP" in sets.describe()["cmmd"]["reason"]


@pytest.mark.parametrize(("h", "w", "n"), [(384, 512, 3), (576, 768, 8), (256, 256, 1), (200, 900, 0)])
def test_hific_patches(h, w, n):
    patches = hific_patches(torch.rand(1, 3, h, w))
    assert patches.shape == (n, 3, 256, 256)


def test_best_lpips_keeps_the_lowest_lpips_caption(text_sensitive, tiny_folder, tmp_path):
    """Caption mode best-lpips: every caption of the image is coded, the lowest-LPIPS file kept."""
    from taco.evaluation.measure import pair_metrics

    lines = [json.loads(line) for line in (tiny_folder / "captions.jsonl").read_text().splitlines()]
    extra = ["a photo", "an orange rocket on the moon", "green grass"]
    with (tiny_folder / "captions.jsonl").open("w") as f:
        for rec in lines:
            f.write(json.dumps({"image": rec["image"], "captions": rec["captions"] + extra}) + "\n")
    model, info = text_sensitive
    dataset = open_dataset(str(tiny_folder), limit=2)
    for lpips_input in ("standard", "official"):
        path = evaluate_model(model, info, dataset, tmp_path / lpips_input, mode="best-lpips",
                              progress=False, lpips_input=lpips_input)
        result = json.loads(path.read_text())
        assert result["caption_mode"] == "best-lpips" and path.name.endswith(".caption-best-lpips.json")
        for i, row in enumerate(read_rows(path.with_name(result["csv"]))):
            x = dataset.images[i].image.unsqueeze(0)
            tried = {}
            for caption in dataset.all_captions[i]:
                res = compress_image(x, caption, model)
                x_hat, _ = decompress_tensor(res.data, model)
                tried[caption] = (pair_metrics(x, x_hat, lpips_input)["lpips"], res.data)
            assert len({data for _, data in tried.values()}) > 1  # the caption changes the file
            best = min(tried, key=lambda c: tried[c][0])
            assert row["caption"] == best and float(row["lpips"]) == tried[best][0]
            assert row["sha256"] == hashlib.sha256(tried[best][1]).hexdigest()


def test_best_lpips_needs_captions(text_sensitive, folder_factory, tmp_path):
    bare = folder_factory(tmp_path / "bare", captions=False)
    model, info = text_sensitive
    with pytest.raises(EvaluationError, match="has no captions"):
        evaluate_model(model, info, open_dataset(str(bare)), tmp_path, mode="best-lpips", progress=False)


def test_models_sharing_a_label_must_be_one_lambda_sweep():
    """Checkpoints name their architecture, so two training runs of it share a legend label:
    drawn as one curve (and BD-rated as a λ sweep) unless refused. A λ sweep is fine."""
    from taco.evaluation.evaluate import EvaluationError, ModelInfo, check_one_curve_per_label

    def info(fp: str, lmbda: float | None, spec: str) -> tuple[None, ModelInfo]:
        return None, ModelInfo(spec=spec, model_id="taco-minilm-tiny", trained=True, fingerprint=fp,
                               metadata={"lambda": lmbda})

    sweep = [info("a" * 16, 0.004, "q4.safetensors"), info("b" * 16, 0.0016, "q3.safetensors")]
    check_one_curve_per_label(sweep, [None, None])
    runs = [info("a" * 16, 0.004, "run1/checkpoint.safetensors"), info("c" * 16, 0.004, "run2/checkpoint.safetensors")]
    with pytest.raises(EvaluationError, match="would be one RD curve labelled 'taco-minilm-tiny', but they "
                                              "are not one λ sweep \\(λ: 0.004, 0.004\\): give each its own --label"):
        check_one_curve_per_label(runs, [None, None])
    check_one_curve_per_label(runs, ["run 1", "run 2"])  # labelled apart: two curves
    with pytest.raises(EvaluationError, match="λ: \\?, 0.004"):  # a variable-rate one: a curve of its own
        check_one_curve_per_label([info("d" * 16, None, "vr.safetensors"), runs[0]], [None, None])


def test_torchrun_maps_device_as_training_does(monkeypatch, tiny_folder, tmp_path):
    """Rank 1 of 2: cuda and auto are the rank's GPU, a named GPU stays that GPU (evaluate used
    to overwrite an explicit cuda:0 with cuda:LOCAL_RANK; training kept it)."""
    from taco.evaluation import evaluate

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    for name, value in (("RANK", "1"), ("LOCAL_RANK", "1"), ("WORLD_SIZE", "2"),
                        ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500")):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(evaluate, "join_process_group", lambda env: None)
    seen: list[str] = []

    class Loaded(Exception):
        pass

    def load(spec, device):
        seen.append(str(device))
        raise Loaded

    monkeypatch.setattr(evaluate, "load_model", load)
    for given in ("cuda:0", "cuda", "auto", "cpu"):
        with pytest.raises(Loaded):
            evaluate.run_evaluation(evaluate.EvalConfig(datasets=[str(tiny_folder)], models=["taco-tiny"],
                                                        device=given, output=tmp_path / "ev"))
    assert seen == ["cuda:0", "cuda:1", "cuda:1", "cpu"]


def test_reproducibility_claim_names_what_evaluate_writes(tiny_taco_model, tiny_folder, tmp_path):
    """docs/evaluation.md promised byte-identical `.taco` files, which evaluate never writes: what
    it keeps of each coded file is its SHA-256 in the CSV, that of the bytes the codec writes."""
    model, info = tiny_taco_model
    dataset = open_dataset(str(tiny_folder), limit=1)
    result = json.loads(evaluate_model(model, info, dataset, tmp_path, progress=False).read_text())
    assert not list(tmp_path.rglob("*.taco"))
    row = read_rows(tmp_path / result["csv"])[0]
    coded = compress_image(dataset.images[0].image.unsqueeze(0), row["caption"], model).data
    assert row["sha256"] == hashlib.sha256(coded).hexdigest()
    docs = (Path(__file__).resolve().parents[2] / "docs" / "evaluation.md").read_text()
    claim = docs[docs.index("What is\nreproducible"):].split("\n\n")[0]
    assert "byte-identical CSVs" in claim and "`sha256` column" in claim
    assert "`.taco` files, and" not in claim


def test_taco_evaluate_checks_each_caption_once(tiny_folder, tmp_path, monkeypatch):
    """run_evaluation checked every mode's captions before coding, and evaluate_model checked them
    again (once more per quality): each caption went through normalize_caption twice."""
    from taco.evaluation import evaluate as evaluate_module
    from taco.evaluation.evaluate import EvalConfig, run_evaluation

    checked: list[str] = []
    real = evaluate_module.normalize_caption
    monkeypatch.setattr(evaluate_module, "normalize_caption", lambda c: checked.append(c) or real(c))
    run_evaluation(EvalConfig(datasets=[str(tiny_folder)], models=["taco-tiny"],
                              caption_modes=["true", "empty"], output=tmp_path / "ev", fid="off",
                              cmmd_clip="off", plot=False, progress=False))
    true = [json.loads(line)["captions"][0]
            for line in (tiny_folder / "captions.jsonl").read_text().splitlines()]
    assert sorted(checked) == sorted([*true, ""])  # each mode's distinct captions, once


def test_evaluate_model_takes_captions_drawn_for_its_own_call(tiny_taco_model, tiny_folder, tmp_path):
    from taco.evaluation.evaluate import draw_captions

    model, info = tiny_taco_model
    dataset = open_dataset(str(tiny_folder))
    empty = draw_captions(model, info, dataset, "empty")
    assert empty.candidates == [("",)] * len(dataset)
    path = evaluate_model(model, info, dataset, tmp_path, mode="empty", captions=empty, progress=False)
    assert {r["caption"] for r in read_rows(path.with_suffix(".csv"))} == {""}
    for mode, other in (("true", dataset), ("empty", open_dataset(str(tiny_folder)))):
        with pytest.raises(ValueError, match="drawn for another dataset"):
            evaluate_model(model, info, other, tmp_path, mode=mode, captions=empty, progress=False)


def test_a_text_model_run_encodes_a_caption_before_its_first_job(tiny_folder, tmp_path, monkeypatch):
    """The text encoder is loaded before any job is timed (before_jobs)."""
    import taco.codec
    from taco.evaluation import evaluate_model, load_model, open_dataset

    calls: list[object] = []
    real = taco.codec.encode_text

    def encode_text(model, captions, *args, **kwargs):
        calls.append(list(captions))
        return real(model, captions, *args, **kwargs)

    monkeypatch.setattr(taco.codec, "encode_text", encode_text)
    model, info = load_model("taco-tiny")
    evaluate_model(model, info, open_dataset(str(tiny_folder), limit=1), tmp_path, progress=False)
    assert calls and calls[0] == [""]


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


def test_compare_caption_modes_checks_its_seed_and_resamples_before_reading(monkeypatch):
    """A bad seed was said only inside paired_bootstrap, after the CSVs were read; an np.int64
    seed went into the JSON's "bootstrap" unconverted."""
    from taco.errors import TacoValueError

    def unread(path):
        raise AssertionError(f"{path} read before the arguments were checked")

    monkeypatch.setattr(evaluate, "result_rows", unread)
    runs = {"true": "t", "empty": "e"}
    with pytest.raises(TacoValueError, match=r"^compare_caption_modes: seed must be at least 0, got -1$"):
        compare_caption_modes(runs, seed=-1)
    with pytest.raises(TypeError, match=r"^compare_caption_modes: seed must be an integer, not float$"):
        compare_caption_modes(runs, seed=1.0)
    with pytest.raises(TypeError, match=r"^compare_caption_modes: resamples must be an integer \(bootstrap draws\), "
                                        r"not str$"):
        compare_caption_modes(runs, resamples="x")
    with pytest.raises(TacoValueError, match=r"^compare_caption_modes: resamples must be >= 0, got -1$"):
        compare_caption_modes(runs, resamples=-1)
    rows = [{"image": f"{i}.png", "sha256": str(i), "bpp": str(0.5 + i / 100),
             **{m: str(0.3 + i / 50) for m in IMAGE_METRICS}} for i in range(8)]
    monkeypatch.setattr(evaluate, "result_rows", lambda path: rows)
    bootstrap = compare_caption_modes(runs, resamples=np.int64(50), seed=np.int64(3))["bootstrap"]
    assert (type(bootstrap["seed"]), type(bootstrap["resamples"])) == (int, int)
    assert json.loads(json.dumps(bootstrap))["seed"] == 3
