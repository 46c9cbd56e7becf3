"""RD figures and reference points (taco.evaluation.plot, taco.evaluation.reference)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image

from taco.evaluation.plot import collect_curves, load_results, matched_markers, plot_results
from taco.evaluation.reference import REFERENCES, reference_datasets, references_for


def result(label: str, kind: str, points: list[dict], dataset: str = "val", dkind: str = "folder") -> dict:
    return {
        "format": "taco-eval", "version": 1, "kind": kind, "label": label, "codec": label.lower(),
        "dataset": {"name": dataset, "kind": dkind, "images": 14, "crop": "none"},
        "set_metrics": {"fid": {"computed": True, "mode": "256x256 patches ..."}}, "points": points,
    }


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    jpeg = [{"setting": f"q{q}", "bpp": b, "psnr": p, "ms_ssim": m, "lpips": lp, "fid": f}
            for q, b, p, m, lp, f in [(20, 0.4, 28.0, 0.93, 0.20, 60.0), (50, 0.8, 31.0, 0.96, 0.10, 30.0),
                                      (80, 1.5, 34.0, 0.98, 0.05, 12.0)]]
    webp = [{**p, "bpp": 0.8 * p["bpp"]} for p in jpeg]
    files = {
        "jpeg.json": result("JPEG", "classic", jpeg),
        "webp.json": result("WebP", "classic", webp),
        "m1.json": result("TACO", "learned", [{"bpp": 0.3, "psnr": 29.5, "ms_ssim": 0.95, "lpips": 0.06, "fid": 20.0}]),
        "m2.json": result("TACO", "learned", [{"bpp": 0.6, "psnr": 32.5, "ms_ssim": 0.97, "lpips": 0.03, "fid": 9.0}]),
        "matched.json": result("JPEG @ TACO bpp", "classic-matched", [{"bpp": 0.31, "psnr": 27.0, "lpips": 0.25}]),
        "other.json": {"format": "something-else"},
    }
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data))
    (tmp_path / "broken.json").write_text("{")
    return tmp_path


def test_references_are_labelled_by_dataset():
    assert set(reference_datasets()) == {"kodak", "coco30k"}
    kodak = {r.label for r in references_for("kodak")}
    assert kodak == {"ELIC (paper)", "LIC-TCM large (paper)", "MS-ILLM (paper)"}
    for r in REFERENCES:
        assert all("bpp" in p for p in r.points)
    elic = references_for("kodak")[0]
    assert elic.points[0] == {"bpp": 0.1235, "psnr": 29.11} and not elic.has("lpips")
    assert {r.label for r in references_for("coco30k")} == {"TACO (paper)", "HiFiC (TACO paper)"}
    # the TACO paper's LPIPS numbers: images fed to LPIPS in [0, 1] (docs/official.md)
    assert {r.lpips_input for r in references_for("coco30k")} == {"official"}


def test_results_group_into_curves(results_dir):
    results = load_results([results_dir])
    assert len(results) == 5  # other formats and broken files are ignored
    curves = {c.label: c for c in collect_curves(results)["val"]}
    assert [p["bpp"] for p in curves["TACO"].points] == [0.3, 0.6]  # two checkpoints, one curve
    assert curves["JPEG @ TACO bpp"].kind == "classic-matched"


def test_matched_points_of_two_models_have_two_markers():
    def matched(codec: str, model: str) -> dict:
        return {**result(f"{codec} @ {model} bpp", "classic-matched", [{"bpp": 0.3, "psnr": 27.0}]),
                "matched_to_label": model}

    runs = [matched("JPEG", "TACO"), matched("WebP", "TACO"), matched("JPEG", "ELIC"),
            result("JPEG", "classic", [{"bpp": 0.4, "psnr": 28.0}])]
    markers = matched_markers(collect_curves(runs)["val"])
    assert markers == {"JPEG @ TACO bpp": "*", "WebP @ TACO bpp": "*", "JPEG @ ELIC bpp": "D"}


def test_plot_writes_png_svg_and_bd_table(results_dir, tmp_path):
    pytest.importorskip("bjontegaard")
    out = tmp_path / "fig" / "rd"
    written = plot_results([results_dir], out, anchor="JPEG")
    names = sorted(p.name for p in written)
    assert names == ["rd.bdrate.json", "rd.bdrate.md", "rd.png", "rd.svg"]
    with Image.open(out.with_suffix(".png")) as im:
        assert im.width > 800 and im.height > 400
    svg = out.with_suffix(".svg").read_text()
    assert "PSNR" in svg and "FID" in svg and "256 px patches" in svg
    assert "ELIC (paper)" not in svg  # a photos/val plot gets no Kodak references by default
    table = json.loads((out.parent / "rd.bdrate.json").read_text())["table"]
    assert table["WebP"]["psnr"]["bd_rate"] == pytest.approx(-20.0)


def test_the_anchor_is_found_ignoring_case_or_refused_before_anything_is_written(results_dir, tmp_path):
    """``--anchor jpeg`` (the name --classic takes) is the JPEG curve; a name that is no curve
    is an error naming the curves, with nothing written (it used to drop the table silently)."""
    pytest.importorskip("bjontegaard")
    written = plot_results([results_dir], tmp_path / "a" / "rd", anchor="jpeg")
    assert json.loads((tmp_path / "a" / "rd.bdrate.json").read_text())["anchor"] == "JPEG"
    assert len(written) == 4
    with pytest.raises(ValueError, match="--anchor 'FOO' is none of the curves on val: .*JPEG, .*WebP"):
        plot_results([results_dir], tmp_path / "b" / "rd", anchor="FOO")
    assert not (tmp_path / "b").exists()


def test_reference_points_on_request(results_dir, tmp_path):
    plot_results([results_dir], tmp_path / "rd", reference="kodak")
    svg = (tmp_path / "rd.svg").read_text()
    assert "ELIC (paper), kodak" in svg and "MS-ILLM (paper), kodak" in svg
    with pytest.raises(ValueError, match="no reference points"):
        plot_results([results_dir], tmp_path / "rd", reference="clic")
    with pytest.raises(ValueError, match="no taco-eval"):  # a figure taco wrote: passed over, no result left
        plot_results([tmp_path / "rd.svg"], tmp_path / "x")


def test_kodak_results_get_kodak_references_automatically(tmp_path):
    r = result("TACO", "learned", [{"bpp": 0.3, "psnr": 31.0}], dataset="kodak", dkind="kodak")
    (tmp_path / "k.json").write_text(json.dumps(r))
    plot_results([tmp_path / "k.json"], tmp_path / "rd")
    assert "LIC-TCM large (paper), kodak" in (tmp_path / "rd.svg").read_text()


def test_image_curve_reads_the_rows_behind_a_curve(tmp_path, rd_folder):
    from taco.evaluation.plot import image_curve

    folder = rd_folder(tmp_path)
    curves = {c.label: c for c in collect_curves(load_results([folder]))["val"]}
    taco = image_curve(curves["TACO"])  # three JSONs (one per quality), one curve
    assert taco is not None and taco.rate.shape == (10, 3) and set(taco.quality) == {"psnr", "ms_ssim", "lpips"}
    # each point is the mean of its column: the JSON's point
    assert sorted(taco.rate.mean(0)) == pytest.approx([p["bpp"] for p in curves["TACO"].points])
    jpeg = image_curve(curves["JPEG"])
    assert jpeg is not None and jpeg.rate.shape == (10, 5) and jpeg.images[0] == "img00.png"
    # a JSON without its CSV (written by hand, or moved): no per-image curve
    (folder / "jpeg.csv").unlink()
    curves = {c.label: c for c in collect_curves(load_results([folder]))["val"]}
    assert image_curve(curves["JPEG"]) is None


def test_image_curve_keeps_the_rows_the_json_summarises(tmp_path, rd_run):
    from taco.evaluation.plot import image_curve

    write, rows = rd_run
    jpeg = rows(1.6, [0.1, 0.4, 1.6], n=6)
    # the CSV holds 6 images (an earlier run without --limit), the JSON summarises the first 4
    write(tmp_path, "jpeg", label="JPEG", kind="classic", codec="jpeg", rows=jpeg, images=4)
    # the other setting of a CSV (an image coded twice keeps its first row, as the summary does)
    write(tmp_path / "m", "m", label="M", kind="learned", codec="m",
          rows=[*rows(1.0, [0.4], n=3), {**rows(1.0, [0.4], n=1)[0], "bpp": 9.0}])
    (curve,) = [c for c in collect_curves(load_results([tmp_path]))["val"] if c.label == "JPEG"]
    ic = image_curve(curve)
    assert ic is not None and ic.images == ("img00.png", "img01.png", "img02.png", "img03.png")
    assert ic.rate.mean(0) == pytest.approx([p["bpp"] for p in curve.points])
    (model,) = [c for c in collect_curves(load_results([tmp_path]))["val"] if c.label == "M"]
    m = image_curve(model)
    assert m is not None and len(m.images) == 3 and m.rate.max() < 9.0


def test_plot_writes_bd_intervals_from_the_csvs(tmp_path, rd_folder):
    pytest.importorskip("bjontegaard")
    folder = rd_folder(tmp_path)
    plot_results([folder], tmp_path / "rd", anchor="AVIF", metrics=["psnr", "lpips"], bootstrap=200, seed=1)
    data = json.loads((tmp_path / "rd.bdrate.json").read_text())
    assert data["bootstrap"]["resamples"] == 200 and data["bootstrap"]["seed"] == 1
    psnr = data["table"]["TACO"]["psnr"]
    assert psnr["bd_rate"] == pytest.approx(-30.0, abs=1.0)  # 0.7x AVIF's bits for the same quality
    assert psnr["bd_rate_low"] < psnr["bd_rate"] < psnr["bd_rate_high"] and psnr["ci_images"] == 10
    md = (tmp_path / "rd.bdrate.md").read_text()
    assert "200 resamples, seed 1" in md and "| TACO | -30." in md
    # bootstrap 0: the table of before, no intervals
    plot_results([folder], tmp_path / "plain", anchor="AVIF", metrics=["psnr"])
    plain = json.loads((tmp_path / "plain.bdrate.json").read_text())
    assert "bootstrap" not in plain and "bd_rate_low" not in plain["table"]["TACO"]["psnr"]


def _model(label: str, arch: str, lmbda: float | None, bpp: float, fingerprint: str = "f") -> dict:
    return {**result(label, "learned", [{"bpp": bpp, "psnr": 30.0 + bpp}]),
            "model": {"fingerprint": fingerprint, "config": {"architecture": arch, "text_encoder": None},
                      "metadata": {"lambda": lmbda}}}


def test_one_label_over_runs_that_are_not_one_curve_is_refused():
    """Separate runs given one --label used to merge silently into one RD curve: ELIC's λ
    joined TACO's points (a curve mixing architectures), or one λ appeared twice."""
    sweep = [_model("TACO", "taco", 0.0016, 0.2), _model("TACO", "taco", 0.004, 0.3)]
    assert [p["bpp"] for p in collect_curves(sweep)["val"][0].points] == [0.2, 0.3]
    with pytest.raises(ValueError, match=r"curve 'TACO' \(learned\) on val joins models of different "
                       r"architectures \(taco: .*, elic: .*\): give each its own --label"):
        collect_curves([*sweep, _model("TACO", "elic", 0.008, 0.4)])
    with pytest.raises(ValueError, match="curve 'TACO' .* has λ 0.004 twice"):
        collect_curves([*sweep, _model("TACO", "taco", 0.004, 0.35, fingerprint="g")])
    # untrained weights (no λ) twice at one quality; a classic codec's setting twice
    with pytest.raises(ValueError, match="has weights f twice"):
        collect_curves([_model("T", "taco", None, 0.2), _model("T", "taco", None, 0.3)])
    jpeg = result("JPEG", "classic", [{"setting": "q50", "bpp": 0.8, "psnr": 31.0}])
    other = result("JPEG", "classic", [{"setting": "q50", "bpp": 0.9, "psnr": 31.5}])
    with pytest.raises(ValueError, match="curve 'JPEG' .* has setting q50 twice, with other results "
                       r"\(.*\): plot them from separate folders"):
        collect_curves([jpeg, other])


def test_the_same_results_found_twice_count_once(results_dir, tmp_path_factory):
    """JPEG run into two folders (or a copied folder, or `runs/eval runs/eval/val`) plotted
    together: the same results once, not refused as 'setting q50 twice' nor drawn twice."""
    jpeg = result("JPEG", "classic", [{"setting": "q50", "bpp": 0.8, "psnr": 31.0}])
    assert len(collect_curves([jpeg, dict(jpeg)])["val"][0].points) == 1
    copy = tmp_path_factory.mktemp("copy")
    shutil.copytree(results_dir, copy, dirs_exist_ok=True)
    once = collect_curves(load_results([results_dir]))
    twice = collect_curves(load_results([results_dir, copy, results_dir / "m1.json"]))
    assert ([(c.label, len(c.sources), len(c.points)) for c in twice["val"]]
            == [(c.label, len(c.sources), len(c.points)) for c in once["val"]])


def test_an_unknown_metric_is_refused_before_anything_is_written(results_dir, tmp_path):
    """``--metrics psnr,bogus`` drew PSNR and ignored bogus without a word."""
    with pytest.raises(ValueError, match="unknown metric bogus; the metrics are: psnr, ms_ssim, lpips, fid, cmmd"):
        plot_results([results_dir], tmp_path / "p" / "rd", metrics=["psnr", "bogus"])
    assert not (tmp_path / "p").exists()


def test_a_model_labelled_like_a_classic_codec_is_refused(results_dir, tmp_path):
    """A model run with ``--label JPEG`` beside the JPEG codec: the BD table (keyed by label)
    kept one of the two curves and the legend showed one entry for both."""
    (results_dir / "m3.json").write_text(json.dumps(result("JPEG", "learned", [{"bpp": 0.5, "psnr": 30.0}])))
    with pytest.raises(ValueError, match=r"label 'JPEG' on val names curves of two kinds \(classic and "
                       r"learned\): give the model another --label"):
        collect_curves(load_results([results_dir]))
    with pytest.raises(ValueError, match="two kinds"):
        plot_results([results_dir], tmp_path / "p" / "rd", anchor="JPEG")
    assert not (tmp_path / "p").exists()


def test_a_plot_leaves_no_filter_on_matplotlibs_logger(rd_folder, tmp_path, monkeypatch):
    """The filter that quiets matplotlib's no-home-folder warning while it is imported is
    taken off after: matplotlib's later messages are its own again."""
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    logger = logging.getLogger("matplotlib")
    before = list(logger.filters)
    plot_results(rd_folder(tmp_path / "results"), tmp_path / "out" / "rd")
    assert logger.filters == before


def test_a_matched_run_missing_the_rate_by_a_fifth_is_closest_reachable():
    """A gap of 20 % of the model's bpp (over the 5 % threshold) is labelled."""
    r = {"dataset": {"name": "kodak"}, "label": "JPEG @ model", "kind": "classic-matched", "codec": "jpeg",
         "bpp_gap": {"mean_abs": 0.04}, "points": [{"bpp": 0.2, "psnr": 28.0}], "matched_to_label": "taco"}
    assert [c.label for c in collect_curves([r])["kodak"]] == ["JPEG @ model (closest reachable)"]


def test_a_curve_without_its_csv_says_why_it_has_no_interval(tmp_path, rd_folder):
    """Result JSONs copied without their per-image CSVs lost their intervals unsaid, while too
    few images or resamples are said ("no interval: ...")."""
    pytest.importorskip("bjontegaard")
    folder = rd_folder(tmp_path)
    (folder / "webp.csv").unlink()
    plot_results([folder], tmp_path / "rd", anchor="AVIF", metrics=["psnr", "lpips"], bootstrap=200)
    table = json.loads((tmp_path / "rd.bdrate.json").read_text())["table"]
    assert table["WebP"]["psnr"]["ci_reason"] == "no per-image CSV beside webp.json"
    assert table["WebP"]["lpips"]["ci_reason"] == "no per-image CSV beside webp.json"
    assert "ci_reason" not in table["TACO"]["psnr"] and table["TACO"]["psnr"]["ci_images"] == 10
    md = (tmp_path / "rd.bdrate.md").read_text()
    assert "no interval: no per-image CSV beside webp.json." in md
    # none beside any JSON (cp RUN/*.json J2/): the anchor's missing CSV is every row's reason
    copy = tmp_path / "J2"
    copy.mkdir()
    for f in folder.glob("*.json"):
        shutil.copy(f, copy)
    plot_results([copy], tmp_path / "j2", anchor="AVIF", metrics=["psnr"], bootstrap=200)
    table = json.loads((tmp_path / "j2.bdrate.json").read_text())["table"]
    assert {row["psnr"]["ci_reason"] for row in table.values()} == {"no per-image CSV beside avif.json"}
    # without the bootstrap no interval was asked for: nothing to say
    plot_results([copy], tmp_path / "plain", anchor="AVIF", metrics=["psnr"], bootstrap=0)
    plain = json.loads((tmp_path / "plain.bdrate.json").read_text())["table"]
    assert all("ci_reason" not in row["psnr"] for row in plain.values())
    assert "no interval" not in (tmp_path / "plain.bdrate.md").read_text()


def test_the_title_gives_the_range_of_images_of_runs_of_another_limit(tmp_path):
    """Runs of --limit 4 and --limit 8 of one dataset drawn together: the title said 8 images."""
    import re

    points = [{"setting": "q1", "bpp": 0.4, "psnr": 28.0}, {"setting": "q2", "bpp": 0.8, "psnr": 31.0}]
    four = result("JPEG", "classic", points)
    four["dataset"]["images"] = 4
    eight = result("WebP", "classic", points)
    eight["dataset"]["images"] = 8
    (tmp_path / "jpeg.json").write_text(json.dumps(four))
    (tmp_path / "webp.json").write_text(json.dumps(eight))

    def title(out: Path) -> str:
        svg = re.sub(r"<!--.*?-->", "", out.with_suffix(".svg").read_text(encoding="utf-8"), flags=re.S)
        return re.findall(r"Rate-distortion on val: [^<]*", svg)[0]

    plot_results([tmp_path], tmp_path / "rd", metrics=["psnr"])
    assert title(tmp_path / "rd") == "Rate-distortion on val: 4-8 images"
    plot_results([tmp_path / "webp.json"], tmp_path / "one", metrics=["psnr"])
    assert title(tmp_path / "one") == "Rate-distortion on val: 8 images"


def test_a_dataset_metric_has_no_interval_to_miss_without_a_csv(tmp_path, rd_folder):
    """FID is one number a point, over the whole dataset: its cell never has an interval, so a
    curve without its per-image CSV gives it no reason for missing one (PSNR's says it)."""
    pytest.importorskip("bjontegaard")
    folder = rd_folder(tmp_path)
    (folder / "webp.csv").unlink()
    for path in folder.glob("*.json"):
        result = json.loads(path.read_text())
        for p in result["points"]:
            p["fid"] = 40.0 / (1.0 + p["bpp"])
        path.write_text(json.dumps(result))
    plot_results([folder], tmp_path / "rd", anchor="AVIF", metrics=["psnr", "fid"], bootstrap=200)
    table = json.loads((tmp_path / "rd.bdrate.json").read_text())["table"]
    assert table["WebP"]["psnr"]["ci_reason"] == "no per-image CSV beside webp.json"
    assert isinstance(table["WebP"]["fid"]["bd_rate"], float)
    assert "ci_reason" not in table["WebP"]["fid"]
