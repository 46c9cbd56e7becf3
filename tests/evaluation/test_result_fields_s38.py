"""Review JS-A (s38). 1: a ``--match-bpp`` result said ``complete: true`` (jobs_missing 0,
skipped_images []) over 4 of a folder's 5 images, one of them unreadable, where the codec's and
the model's JSONs said complete false, and ``taco evaluate``'s "incomplete:" lines left it out:
its jobs were only the images the model had coded. 2: a classic codec's ``timing`` had
``images_timed`` (the images coded) without any mean, and a resumed run with nothing to code
dropped the means too (a KeyError for a script): ``images_timed`` counts the images timed, and
``encode_ms_mean`` / ``decode_ms_mean`` are always there (null when none was timed)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from PIL import Image

from taco.evaluation.classic import evaluate_codec, evaluate_matched, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
from taco.evaluation.runner import Job, JobResult, RunReport, run_jobs


def test_a_matched_result_of_a_partial_run_is_incomplete_and_names_the_unreadable_image(
        taco_main, tiny_folder, tmp_path, capsys, broken_png):
    broken_png(tiny_folder / "trunc.png")
    with (tiny_folder / "captions.jsonl").open("a") as f:
        f.write(json.dumps({"image": "trunc.png", "captions": ["a broken picture"]}) + "\n")
    out = tmp_path / "ev"
    rc = taco_main(["evaluate", str(tiny_folder), "-m", "elic-tiny", "--classic", "jpeg", "--qualities",
                    "jpeg=50", "--match-bpp", "--fid", "off", "--cmmd-clip", "off", "--bootstrap", "0",
                    "-o", str(out), "--quiet", "--no-plot"])
    err = capsys.readouterr().err
    assert rc == 3, err
    folder = out / "photos"
    (matched_path,) = folder.glob("jpeg.matched-*.json")
    matched = json.loads(matched_path.read_text())
    assert matched["complete"] is False and matched["jobs_missing"] == 1
    assert matched["skipped_images"] == ["trunc.png"] and matched["points"][0]["images"] == 4
    (model_path,) = [p for p in folder.glob("elic-tiny*.json") if ".matched-" not in p.name]
    model = json.loads(model_path.read_text())
    assert (model["complete"], model["jobs_missing"], model["skipped_images"]) == (False, 1, ["trunc.png"])
    incomplete = [line for line in err.splitlines() if line.startswith("taco evaluate: incomplete:")]
    assert len(incomplete) == 3  # the codec's, the model's and the matched result
    assert any(f"{matched_path} lacks 1 per-image result (unreadable: trunc.png)" in line
               for line in incomplete)


def test_a_matched_result_counts_the_images_the_model_did_not_code(tiny_folder, tmp_path):
    """The model's run over 3 of the 4 images (no image unreadable): the matched result over the
    4 is not complete, one result missing, nothing named unreadable."""
    model, info = load_model("elic-tiny")
    model_json = evaluate_model(model, info, open_dataset(str(tiny_folder), limit=3), tmp_path,
                                progress=False)
    jpeg = get_codec("jpeg")
    ds = open_dataset(str(tiny_folder))
    matched = json.loads(evaluate_matched(jpeg, ds, tmp_path, model_json, progress=False).read_text())
    assert (matched["complete"], matched["jobs_missing"], matched["skipped_images"]) == (False, 1, [])
    assert matched["points"][0]["images"] == 3
    # the model's run completed over the 4: the matched result codes the 4th and is complete
    model_json = evaluate_model(model, info, ds, tmp_path / "full", progress=False)
    full = json.loads(evaluate_matched(jpeg, ds, tmp_path / "full", model_json, progress=False).read_text())
    assert (full["complete"], full["jobs_missing"], full["skipped_images"]) == (True, 0, [])
    assert full["timing"]["images_timed"] == 4  # the encode and decode of the file kept
    assert full["timing"]["encode_ms_mean"] > 0 and full["timing"]["decode_ms_mean"] > 0


def test_a_classic_run_times_its_codec_and_a_resume_keeps_both_means(tiny_folder, tmp_path):
    ds = open_dataset(str(tiny_folder))
    jpeg = get_codec("jpeg")
    timing = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False)
                        .read_text())["timing"]
    assert timing["images_timed"] == 8
    assert timing["encode_ms_mean"] > 0 and timing["decode_ms_mean"] > 0
    assert all(math.isfinite(timing[k]) for k in ("encode_ms_mean", "decode_ms_mean"))
    again = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False)
                       .read_text())["timing"]
    assert again["images_timed"] == 0
    assert again["encode_ms_mean"] is None and again["decode_ms_mean"] is None


def test_a_codec_that_says_no_timings_is_not_counted_as_timed(tiny_folder, tmp_path):
    """A ClassicCodec with an encode of its own (no clock): its images are coded, none timed."""
    import dataclasses

    jpeg = get_codec("jpeg")
    def encode(image: Image.Image, quality: int) -> tuple[bytes, Image.Image]:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=quality)
        with Image.open(io.BytesIO(buf.getvalue())) as decoded:
            return buf.getvalue(), decoded.convert("RGB")

    own = dataclasses.replace(jpeg, encode=encode)
    assert own.code_timed(_first_image(tiny_folder), 50)[2] == {}
    assert set(jpeg.code_timed(_first_image(tiny_folder), 50)[2]) == {"encode_ms", "decode_ms"}
    result = json.loads(evaluate_codec(own, open_dataset(str(tiny_folder), limit=2), tmp_path / "x",
                                       qualities=[50], progress=False).read_text())
    assert result["complete"] and result["points"][0]["images"] == 2
    assert result["timing"]["images_timed"] == 0
    assert result["timing"]["encode_ms_mean"] is None and result["timing"]["decode_ms_mean"] is None


def _first_image(folder: Path) -> Image.Image:
    with Image.open(sorted(folder.glob("*.png"))[0]) as im:
        return im.convert("RGB")


def test_run_jobs_counts_only_the_jobs_that_returned_timings(tmp_path):
    jobs = [Job(i, f"{i}.png") for i in range(3)]

    def work(job: Job) -> JobResult:
        timings = {"encode_ms": 2.0, "decode_ms": 4.0} if job.index == 1 else {}
        return JobResult({"index": job.index}, timings=timings)

    report = run_jobs(jobs, work, tmp_path / "r.csv", ("index", "image", "setting"), progress=False)
    assert (report.coded, report.timed) == (3, 1)
    assert report.timing_summary() == {"encode_ms_mean": 2.0, "decode_ms_mean": 4.0}
    assert RunReport().timing_summary() == {"encode_ms_mean": None, "decode_ms_mean": None}
