"""taco evaluate / plot / caption through the real command line."""

from __future__ import annotations

import hashlib
import importlib.util
import json

import pytest

from taco.resolve import DEFAULT_MODEL


def test_evaluate_plot_caption_commands(taco_main, tiny_folder, tmp_path, capsys, tiny_captioner_dir):
    out = tmp_path / "eval"
    rc = taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--classic", "jpeg,bpg",
                    "--qualities", "jpeg=30,70", "--match-bpp", "--fid", "off", "--cmmd-clip", "off",
                    "-o", str(out), "--quiet"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "skipping bpg: BPG: bpgenc, bpgdec not on PATH" in captured.err
    assert "elic-tiny (untrained) on photos (4 images): bpp" in captured.out
    folder = out / "photos"
    names = {p.name for p in folder.iterdir()}
    assert {"jpeg.json", "jpeg.csv", "rd.png", "rd.svg"} <= names
    has_bd = importlib.util.find_spec("bjontegaard") is not None
    assert ("rd.bdrate.md" in names) == has_bd
    assert ("Anchor: **JPEG**" in captured.out) == has_bd  # the BD table is printed too
    assert any(n.startswith("jpeg.matched-elic-tiny-") and n.endswith(".json") for n in names)
    assert json.loads((folder / "jpeg.json").read_text())["codec_settings"]["subsampling"] == "4:2:0"

    assert taco_main(["plot", str(folder), "-o", str(tmp_path / "fig"), "--anchor", "JPEG"]) == 0
    assert (tmp_path / "fig.png").is_file() and (tmp_path / "fig.svg").is_file()
    assert ("Anchor: **JPEG**" in capsys.readouterr().out) == has_bd

    bare = tmp_path / "bare"
    bare.mkdir()
    for p in tiny_folder.glob("*.png"):
        (bare / p.name).write_bytes(p.read_bytes())
    assert taco_main(["caption", str(bare), "-m", str(tiny_captioner_dir), "--quiet", "--max-new-tokens", "4"]) == 0
    assert len((bare / "captions.jsonl").read_text().splitlines()) == 4


def test_user_errors_are_one_line(taco_main, tiny_folder, tmp_path, capsys):
    assert taco_main(["evaluate", str(tiny_folder), "-m", "no-such-model", "-o", str(tmp_path / "ev")]) == 2
    assert "neither a checkpoint" in capsys.readouterr().err
    assert taco_main(["evaluate", str(tmp_path / "missing"), "--classic", "jpeg", "-o", str(tmp_path / "ev")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert taco_main(["evaluate", str(tiny_folder), "-o", str(tmp_path / "ev")]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err
    assert taco_main(["evaluate", str(tiny_folder), "-m", "taco-tiny", "--caption-mode", "random",
                      "-o", str(tmp_path / "ev")]) == 2
    assert "unknown caption mode" in capsys.readouterr().err
    assert taco_main(["caption", str(tiny_folder), "-m", str(tmp_path / "nope")]) == 2
    assert "not a local model folder" in capsys.readouterr().err
    assert taco_main(["plot", str(tmp_path / "nothing-here")]) == 2
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--match-bpp",
                      "-o", str(tmp_path / "ev")]) == 2
    assert f"--match-bpp codes the classic codecs at a model's bpp: give --model too (e.g. -m {DEFAULT_MODEL})" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("extra,message", [
    (["--classic", "jpg"], "--classic jpg: no such codec; the codecs are: jpeg, webp, avif, bpg, vtm"),
    (["--classic", "jpeg", "--qualities", "jpeg=0,50,200"], "--qualities jpeg=...: 0, 200 outside JPEG's qualities 1..100"),
    # Review M: an empty list ran the default sweep and a repeat was dropped, unlike a model's
    (["--classic", "jpeg", "--qualities", "jpeg="], "--qualities jpeg= names no quality: JPEG has qualities 1..100"),
    (["--classic", "jpeg", "--qualities", "jpeg=50,50"],
     "--qualities jpeg=50,50: JPEG has qualities 1..100; give each at most once"),
    (["--classic", "jpeg", "--device", "cuda:7"], "device 'cuda:7': "),
])
def test_mistakes_are_one_line_before_any_work(taco_main, tiny_folder, tmp_path, capsys, extra, message):
    """A typo in a codec name used to skip it and exit 0 with nothing evaluated; a quality out
    of range and a missing GPU ended in tracebacks after work had started."""
    assert taco_main(["evaluate", str(tiny_folder), *extra, "--fid", "off", "-o", str(tmp_path / "out"),
                      "--quiet"]) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "no --model given" not in line]
    assert len(err) == 1 and err[0].startswith(f"taco evaluate: error: {message}")
    assert not list((tmp_path / "out").rglob("*.csv"))


def test_a_broken_captions_line_is_one_line(taco_main, tiny_folder, tmp_path, capsys):
    with (tiny_folder / "captions.jsonl").open("a") as f:
        f.write("{broken\n")
    assert taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--fid", "off", "-o", str(tmp_path / "ev"),
                      "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"taco evaluate: error: {tiny_folder / 'captions.jsonl'}:5: expected")
    assert "Traceback" not in "\n".join(err)


def test_classic_only_says_so(taco_main, tiny_folder, tmp_path, capsys):
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=50",
                      "--fid", "off", "--cmmd-clip", "off", "--limit", "1", "-o", str(tmp_path / "ev"),
                      "--quiet"]) == 0
    assert (f"no --model given, so only the classic codecs run (add -m {DEFAULT_MODEL} for taco's "
            "default model)") in capsys.readouterr().err


def test_compare_caption_modes_command(taco_main, tiny_folder, tmp_path, capsys):
    out = tmp_path / "eval"
    rc = taco_main(["evaluate", str(tiny_folder), "-m", "taco-tiny", "--compare-caption-modes",
                    "shuffled,empty,fixed:NA", "--fid", "off", "--cmmd-clip", "off", "--no-plot",
                    "--bootstrap", "200", "-o", str(out), "--quiet"])
    assert rc == 0
    assert "| fixed:NA | 4 | 4 |" in capsys.readouterr().err  # gamma = 0: identical files
    folder = out / "photos"
    tag = next(p.stem for p in folder.glob("taco-tiny-*.csv") if "caption" not in p.name)
    true_run = json.loads((folder / f"{tag}.json").read_text())
    assert true_run["format"] == "taco-eval" and true_run["caption_mode"] == "true"
    comparison = json.loads((folder / f"{tag}.caption-modes.json").read_text())
    assert set(comparison["modes"]) == {"shuffled", "empty", "fixed:NA"}  # "true" added as reference
    assert comparison["bootstrap"]["resamples"] == 200
    assert (folder / f"{tag}.caption-modes.md").read_text().startswith(f"# Caption modes of {tag} on photos\n")
    assert (folder / f"{tag}.caption-fixed-NA-20ef0f.json").is_file()  # fixed:TEXT: TEXT-HASH
    for mode in ("shuffled", "empty"):
        assert json.loads((folder / f"{tag}.caption-{mode}.json").read_text())["label"].endswith(
            f"[caption {mode}]")


def test_one_label_per_model(taco_main, tiny_folder, tmp_path, capsys):
    """--label once per --model: one process codes several λ sweeps, each its own curve."""
    out = tmp_path / "eval"
    base = ["evaluate", str(tiny_folder), "--limit", "1", "--fid", "off", "--cmmd-clip", "off",
            "--no-plot", "--quiet", "-o", str(out), "-m", "elic-tiny", "-m", "taco-tiny"]
    assert taco_main([*base, "--label", "A", "--label", "B", "--label", "C"]) == 2
    assert "--label given 3 times for 2 --model" in capsys.readouterr().err
    assert taco_main([*base, "--label", "no text", "--label", "text"]) == 0
    labels = {json.loads(p.read_text())["model"]["model_id"]: json.loads(p.read_text())["label"]
              for p in (out / "photos").glob("*.json")}
    assert labels == {"elic-tiny": "no text", "taco-tiny": "text"}


def test_lpips_input_is_recorded_and_kept_apart(taco_main, tiny_folder, tmp_path):
    """--lpips-input official: effl-lab/TACO's [0, 1] LPIPS, in every row and JSON, own folder."""
    from taco.evaluation.plot import collect_curves, load_results
    from taco.evaluation.runner import read_rows

    out = tmp_path / "eval"
    base = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "--classic", "jpeg", "--qualities",
            "jpeg=50", "--limit", "2", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet",
            "-o", str(out)]
    assert taco_main(base) == 0
    assert taco_main([*base, "--lpips-input", "official"]) == 0
    runs = {c: out / ("photos" + ("-lpips-official" if c == "official" else ""))
            for c in ("standard", "official")}
    rows = {}
    for convention, folder in runs.items():
        for stem in ("jpeg", next(p.stem for p in folder.glob("elic-tiny-*.json"))):
            result = json.loads((folder / f"{stem}.json").read_text())
            assert result["lpips_input"] == result["run"]["lpips_input"] == convention
            assert (("[0, 1]" in result["metric_notes"]["lpips"])
                    == (convention == "official"))
            rows[convention, stem.split("-")[0]] = read_rows(folder / result["csv"])
            assert [r["lpips_input"] for r in rows[convention, stem.split("-")[0]]] == [convention] * 2
    for codec in ("jpeg", "elic"):
        for std, off in zip(rows["standard", codec], rows["official", codec], strict=True):
            assert std["sha256"] == off["sha256"] and std["psnr"] == off["psnr"]  # same files
            assert float(off["lpips"]) < float(std["lpips"])
    # an official row holds metrics.lpips(..., "official") of the decoded file
    from taco.codec import compress_image, decompress_tensor
    from taco.evaluation.datasets import open_dataset
    from taco.evaluation.evaluate import load_model
    from taco.metrics import compute_metrics

    model, _ = load_model("elic-tiny")
    r = rows["official", "elic"][0]
    x = open_dataset(str(tiny_folder)).images[0].image.unsqueeze(0)
    res = compress_image(x, "", model)
    assert hashlib.sha256(res.data).hexdigest() == r["sha256"]
    x_hat, _ = decompress_tensor(res.data, model)
    expected = compute_metrics(x, x_hat, ["lpips"], lpips_input="official").lpips
    assert float(r["lpips"]) == pytest.approx(float(expected[0]), abs=1e-6)
    # one figure per convention, never one curve mixing them
    keys = set(collect_curves(load_results([out])))
    assert keys == {"photos", "photos [LPIPS official]"}


def test_lpips_input_choices(taco_main, tiny_folder, tmp_path, capsys):
    with pytest.raises(SystemExit):
        taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--lpips-input", "0-1"])
    assert "invalid choice: '0-1'" in capsys.readouterr().err


def test_protocol_and_captions_path_errors(taco_main, tiny_folder, tmp_path, capsys):
    base = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "-o", str(tmp_path / "ev")]
    assert taco_main([*base, "--coco30k-protocol", "official"]) == 2
    assert "--coco30k-protocol applies to coco30k:ROOT datasets only" in capsys.readouterr().err
    two = ["evaluate", str(tiny_folder), f"kodak:{tiny_folder}", "-m", "elic-tiny", "-o", str(tmp_path / "ev")]
    assert taco_main([*two, "--captions-file", str(tmp_path / "c.jsonl")]) == 2
    assert "is a path, which would caption every dataset alike" in capsys.readouterr().err


def test_summary_lines_of_one_label_tell_their_runs_apart():
    """A λ sweep or a variable-rate model shares a label, and so do their matched-bpp runs: each
    summary line names the model, quality or run it is about (they read alike before)."""
    from taco.evaluation.cli import _setting

    learned = {"kind": "learned", "label": "elic", "model": {"model_id": "elic-small-q4"}}
    assert _setting(learned, {}) == " (elic-small-q4)"
    vr = {"kind": "learned", "label": "taco-minilm-vr", "model": {"model_id": "taco-minilm-vr"}, "quality": 2}
    assert _setting(vr, {}) == " q2"
    own = {"kind": "learned", "label": "elic-tiny (untrained)", "model": {"model_id": "elic-tiny"}}
    assert _setting(own, {}) == ""
    matched = {"kind": "classic-matched", "matched_to": "taco-minilm-vr-0123abcd.q2.json"}
    assert _setting(matched, {"setting": "matched"}) == " matched to taco-minilm-vr-0123abcd.q2"
    assert _setting({"kind": "classic"}, {"setting": "q50"}) == " q50"


def test_defaults_have_one_home():
    """--fid-min-images, EvalConfig and SetMetrics share FID_MIN_IMAGES; the metric lists are one."""
    import argparse
    import inspect

    import taco.metrics
    from taco.evaluation import bdrate, measure, plot
    from taco.evaluation.cli import register
    from taco.evaluation.defaults import FID_MIN_IMAGES
    from taco.evaluation.evaluate import EvalConfig

    sub = argparse.ArgumentParser().add_subparsers()
    register(sub)
    evaluate = sub.choices["evaluate"]
    assert evaluate.get_default("fid_min_images") == FID_MIN_IMAGES == 2048
    assert EvalConfig(datasets=[], output="x").fid_min_images == FID_MIN_IMAGES
    assert inspect.signature(measure.SetMetrics).parameters["fid_min_images"].default == FID_MIN_IMAGES
    assert measure.IMAGE_METRICS is taco.metrics.IMAGE_METRICS
    assert inspect.signature(plot.plot_results).parameters["metrics"].default is None  # all:
    assert plot.METRIC_ORDER is bdrate.METRIC_ORDER


def test_caption_modes_table_is_of_this_runs_images(taco_main, tiny_folder, tmp_path, capsys):
    """After a 4-image run, a --limit 2 run's table compared all 4 rows of the CSVs."""
    base = ["evaluate", str(tiny_folder), "-m", "taco-tiny", "--compare-caption-modes", "empty",
            "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--bootstrap", "0", "-o",
            str(tmp_path / "ev"), "--quiet"]
    assert taco_main(base) == 0
    assert "| empty | 4 |" in capsys.readouterr().err
    assert taco_main([*base, "--limit", "2"]) == 0
    assert "| empty | 2 |" in capsys.readouterr().err
    comparison = next((tmp_path / "ev" / "photos").glob("*.caption-modes.json"))
    assert json.loads(comparison.read_text())["modes"]["empty"]["images"] == 2


def test_match_bpp_matches_the_caption_mode_run(taco_main, tiny_folder, tmp_path, capsys):
    """With --caption-mode empty alone, --match-bpp wrote nothing and said nothing."""
    assert taco_main(["evaluate", str(tiny_folder), "-m", "taco-tiny", "--caption-mode", "empty",
                      "--classic", "jpeg", "--qualities", "jpeg=30,70", "--match-bpp", "--limit", "1",
                      "--fid", "off", "--cmmd-clip", "off", "--no-plot", "-o", str(tmp_path / "ev"),
                      "--quiet"]) == 0
    matched = list((tmp_path / "ev" / "photos").glob("jpeg.matched-*.json"))
    assert len(matched) == 1 and matched[0].name.endswith(".caption-empty.json")
    result = json.loads(matched[0].read_text())
    assert result["matched_to"].endswith(".caption-empty.json") and result["points"][0]["images"] == 1


def test_shuffled_on_one_image_is_one_line(taco_main, folder_factory, tmp_path, capsys):
    """A one-image dataset has no other image's caption to borrow: it was a ValueError traceback."""
    folder = folder_factory(tmp_path / "photos")
    lines = (folder / "captions.jsonl").read_text().splitlines()
    (folder / "captions.jsonl").write_text(lines[0] + "\n")
    for p in folder.glob("*.png"):
        if p.name not in lines[0]:
            p.unlink()
    assert taco_main(["evaluate", str(folder), "-m", "taco-tiny", "--compare-caption-modes", "shuffled",
                      "--fid", "off", "--cmmd-clip", "off", "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("taco evaluate: error: caption mode shuffled needs at least 2 captioned "
                              "images (another image's caption for each): ")
    assert "Traceback" not in "\n".join(err)
    assert not list((tmp_path / "out").rglob("*.csv"))  # refused before the true run was coded


@pytest.mark.parametrize("extra,message", [
    (["-m", "elic-tiny", "--caption-mode", "empty"],
     "nothing to evaluate: elic-tiny takes no text, so caption mode empty means nothing for it"),
    (["--classic", "bpg"], "nothing to evaluate: none of the --classic codecs is available here"),
])
def test_nothing_left_to_run_is_an_error(taco_main, tiny_folder, tmp_path, capsys, extra, message):
    """Every run skipped used to print an empty 'wrote:' and exit 0."""
    assert taco_main(["evaluate", str(tiny_folder), *extra, "--fid", "off", "--cmmd-clip", "off",
                      "-o", str(tmp_path / "ev"), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1].startswith(f"taco evaluate: error: {message}")
    assert "wrote:" not in captured.out


def test_caption_mode_with_compare_is_compared(taco_main, tiny_folder, tmp_path):
    """--caption-mode was silently dropped when --compare-caption-modes was given."""
    assert taco_main(["evaluate", str(tiny_folder), "-m", "taco-tiny", "--compare-caption-modes", "empty",
                      "--caption-mode", "fixed:NA", "--limit", "1", "--fid", "off", "--cmmd-clip", "off",
                      "--no-plot", "--bootstrap", "0", "-o", str(tmp_path / "ev"), "--quiet"]) == 0
    comparison = next((tmp_path / "ev" / "photos").glob("*.caption-modes.json"))
    assert list(json.loads(comparison.read_text())["modes"]) == ["empty", "fixed:NA"]


def test_a_repeated_qualities_name_is_refused(taco_main, tiny_folder, tmp_path, capsys):
    """--qualities jpeg=10 --qualities jpeg=50 silently kept jpeg=50 alone."""
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=10",
                      "--qualities", "JPEG=50", "-o", str(tmp_path / "ev"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "taco evaluate: error: --qualities jpeg=... given twice: give each name once, with all its "
        "qualities (jpeg=Q1,Q2,...)")
    assert not list(tmp_path.rglob("*.csv"))


def test_a_codec_named_twice_runs_once(taco_main, tiny_folder, tmp_path, capsys):
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg,JPEG", "--qualities", "jpeg=50",
                      "--limit", "1", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "-o",
                      str(tmp_path / "ev"), "--quiet"]) == 0
    wrote = capsys.readouterr().out.split("wrote:")[1].split()
    assert wrote == [str(tmp_path / "ev" / "photos" / "jpeg.json")]


@pytest.mark.parametrize("label", ["JPEG", "webp", "VTM (intra)"])
def test_a_model_label_of_a_classic_codec_is_refused(taco_main, tiny_folder, tmp_path, capsys, label):
    """-m X --label JPEG --classic jpeg drew the model as JPEG's curve and left it out of the BD table."""
    assert taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--label", label, "--classic",
                      "jpeg,webp", "-o", str(tmp_path / "ev"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"taco evaluate: error: --label {label}: the classic codec ")
    assert err[-1].endswith("'s label; give the model a label of its own")
    assert not list(tmp_path.rglob("*.csv"))


def test_bd_table_is_redrawn_with_the_figure(taco_main, tiny_folder, tmp_path, capsys):
    """A call without --classic redrew rd.png but left the earlier call's rd.bdrate.* as they were."""
    base = ["evaluate", str(tiny_folder), "--limit", "2", "--fid", "off", "--cmmd-clip", "off",
            "--bootstrap", "0", "-o", str(tmp_path / "ev"), "--quiet"]
    assert taco_main([*base, "-m", "elic-tiny", "--classic", "jpeg", "--qualities", "jpeg=30,70"]) == 0
    table = tmp_path / "ev" / "photos" / "rd.bdrate.md"
    assert "taco-tiny" not in table.read_text()
    assert taco_main([*base, "-m", "taco-tiny"]) == 0  # anchor: the JPEG results already there
    assert "Anchor: **JPEG**" in capsys.readouterr().out
    assert "taco-tiny" in table.read_text()


def test_no_anchor_leaves_no_stale_bd_table(taco_main, tiny_folder, tmp_path):
    base = ["evaluate", str(tiny_folder), "--limit", "1", "--fid", "off", "--cmmd-clip", "off",
            "--bootstrap", "0", "-o", str(tmp_path / "ev"), "--quiet", "-m", "elic-tiny"]
    assert taco_main([*base, "--anchor", "elic-tiny (untrained)"]) == 0
    assert (tmp_path / "ev" / "photos" / "rd.bdrate.md").is_file()
    assert taco_main([*base, "-m", "taco-tiny"]) == 0  # no classic codec: no anchor, no table
    assert not list((tmp_path / "ev" / "photos").glob("rd.bdrate.*"))
    assert (tmp_path / "ev" / "photos" / "rd.png").is_file()


def test_images_smaller_than_the_crop_are_skipped(taco_main, tiny_folder, tmp_path, capsys):
    """--crop N upscaled an image under N px (bicubic), which then coded to an inflated PSNR."""
    from PIL import Image

    small = sorted(tiny_folder.glob("*.png"))[0]
    Image.open(small).resize((40, 40)).save(small)
    base = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "--fid", "off", "--cmmd-clip", "off",
            "--no-plot", "-o", str(tmp_path / "ev"), "--quiet"]
    assert taco_main([*base, "--crop", "48"]) == 0
    captured = capsys.readouterr()
    warned = [line for line in captured.err.splitlines() if "48 px" in line]
    assert len(warned) == 1 and f"skipping 1 under 48 px on the shorter side ({small.name})" in warned[0]
    assert "on photos (3 images)" in captured.out
    csv = next((tmp_path / "ev" / "photos-crop48").glob("*.csv")).read_text()
    assert small.name not in csv
    assert taco_main([*base, "--crop", "128"]) == 2  # none is left
    assert "4 under 128 px on the shorter side" in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_log_gets_a_line_per_finished_run_and_a_terminal_none(taco_main, tiny_folder, tmp_path, capsys,
                                                                  monkeypatch):
    """taco evaluate ... > log 2>&1 (nohup, slurm) wrote nothing between its notes and the summary
    at the end: no bar off a terminal, so a long run looked hung."""
    import re
    import sys

    argv = ["evaluate", str(tiny_folder), "-m", "elic-tiny", "--classic", "jpeg", "--qualities", "jpeg=30,60",
            "--match-bpp", "--fid", "off", "--cmmd-clip", "off", "--limit", "2", "--no-plot"]
    assert taco_main([*argv, "-o", str(tmp_path / "log")]) == 0  # stderr captured: no terminal
    done = [line for line in capsys.readouterr().err.splitlines() if line.startswith("taco evaluate: done: ")]
    number = r"\d+\.\d{4}"
    shapes = [r"elic-tiny \(untrained\)", "JPEG q30", "JPEG q60",
              r"JPEG @ elic-tiny \(untrained\) bpp matched to elic-tiny-[0-9a-f]{8}"]
    assert len(done) == len(shapes), done
    for line, shape in zip(done, shapes, strict=True):
        assert re.fullmatch(rf"taco evaluate: done: {shape} on {tiny_folder.name} \(2 images\): "
                            rf"bpp {number}, psnr {number}; (\d+:)?\d+:\d\d elapsed", line), line
    assert taco_main([*argv, "-o", str(tmp_path / "quiet"), "--quiet"]) == 0  # no progress asked for
    assert "done:" not in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar says it
    monkeypatch.setenv("TERM", "xterm")
    assert taco_main([*argv, "-o", str(tmp_path / "terminal")]) == 0
    assert "done:" not in capsys.readouterr().err
    monkeypatch.setenv("TERM", "dumb")  # a terminal that gets no bar (taco.progress.draws_bar): the lines
    assert taco_main([*argv, "-o", str(tmp_path / "dumb")]) == 0
    assert len([line for line in capsys.readouterr().err.splitlines() if " done: " in line]) == len(shapes)


def test_quiet_leaves_out_what_its_help_says(taco_main, tiny_folder, tmp_path, capsys, monkeypatch):
    """--quiet's help said 'no progress bars', but off a terminal it also leaves out the 'done:'
    line per finished run and the line a minute of how far a run is (a clock that moves a
    minute at each reading makes those lines at every image)."""
    import itertools

    import taco.progress

    ticks = itertools.count()
    monkeypatch.setattr(taco.progress, "monotonic", lambda: 61.0 * next(ticks))
    argv = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=30", "--fid", "off",
            "--cmmd-clip", "off", "--limit", "2", "--no-plot"]
    assert taco_main([*argv, "-o", str(tmp_path / "log")]) == 0  # stderr captured: a log
    err = capsys.readouterr().err
    assert "taco evaluate: done: " in err and " img, " in err and " elapsed" in err
    assert taco_main([*argv, "-o", str(tmp_path / "quiet"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "done:" not in err and " img, " not in err
    with pytest.raises(SystemExit) as exited:
        taco_main(["evaluate", "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert ("--quiet no progress: no bars, and off a terminal no 'done:' line per finished run nor a line "
            "a minute of how far it is") in shown
