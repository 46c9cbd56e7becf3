"""A ``--match-bpp`` result is complete only over the images the dataset has: it said
``complete: true`` (jobs_missing 0, skipped_images []) over 4 of a folder's 5 images, one of
them unreadable, where the codec's and the model's JSONs said complete false, and ``taco
evaluate``'s "incomplete:" lines left it out: its jobs were only the images the model had
coded."""

from __future__ import annotations

import json

from taco.evaluation.classic import evaluate_matched, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model


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
