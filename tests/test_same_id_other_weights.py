"""Two checkpoints of one model id with other weights (two seeds saved under one ``model_id``),
as two runs of one training config give (review VR2):

- taco decompress with the other one said "made with model 'mine', not with --model 'b':
  give the checkpoint that made it", as if b were another model; it now says b is another
  checkpoint of 'mine' with other weights;
- taco compress --skip-existing kept the other one's outputs without its note (only the model
  id was compared), and, every output kept, compared no quality without -q (its default was
  not known there): the fingerprint is compared once the model is loaded, and the default
  quality is read from the model's config with its id;
- taco evaluate --qualities refused the --model's path written otherwise (``./vr``, ``vr/``)
  as "neither a --classic codec nor a --model of this run"."""

from __future__ import annotations

import json
import shutil

import pytest

import taco.cli.compress
from taco.cli import main
from taco.evaluation.evaluate import EvalConfig, run_evaluation
from taco.models import create_model, save_checkpoint
from taco.resolve import STALE_TABLES_HINT

LAMBDAS = [0.0004, 0.0016, 0.009]


@pytest.fixture
def ckpts(tmp_path):
    """Two variable-rate elic-tiny checkpoints, seeds 1 and 2, both of model id 'mine'."""
    return [save_checkpoint(create_model("elic-tiny", seed=seed, qualities=LAMBDAS),
                            tmp_path / f"{name}.safetensors", model_id="mine")
            for seed, name in ((1, "a"), (2, "b"))]


def _kept_notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "kept by --skip-existing" in line]


def test_decompress_says_the_model_given_is_another_checkpoint_of_the_files(ckpts, photos, tmp_path, capsys):
    a, b = ckpts
    coded = tmp_path / "a.taco"
    assert main(["compress", str(photos / "a.png"), "--caption", "", "-m", str(a), "-q", "1",
                 "-o", str(coded), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["decompress", str(coded), "-m", str(b), "-o", str(tmp_path / "x.png")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert errors == [
        f"taco decompress: error: {coded}: this file was made with model 'mine', not with --model "
        f"'{b}' (another checkpoint of 'mine': other weights, their fingerprints differ): give the "
        f"checkpoint that made it: --model FILE (the checkpoint or its run folder){STALE_TABLES_HINT}"]
    assert main(["decompress", str(coded), "-m", str(a), "-o", str(tmp_path / "x.png"), "--quiet"]) == 0


def test_skip_existing_names_outputs_of_another_checkpoint_of_the_model(ckpts, photos, tmp_path, capsys):
    a, b = ckpts
    folder = tmp_path / "fp"
    folder.mkdir()
    shutil.copy(photos / "a.png", folder)
    assert main(["compress", str(folder), "--caption", "x", "-m", str(b), "-q", "1", "--quiet"]) == 0
    shutil.copy(photos / "b.png", folder)
    capsys.readouterr()
    assert main(["compress", str(folder), "--caption", "x", "-m", str(a), "-q", "1", "--skip-existing",
                 "--quiet"]) == 0
    assert _kept_notes(capsys.readouterr().err) == [
        f"taco compress: note: 1 output kept by --skip-existing was made with another model or quality "
        f"({folder / 'a.taco'}: mine -q 1, other weights; this run: mine -q 1): --force codes it again"]
    (folder / "b.taco").unlink()  # the checkpoint that made a.taco: its own, no note
    assert main(["compress", str(folder), "--caption", "x", "-m", str(b), "-q", "1", "--skip-existing",
                 "--quiet"]) == 0
    assert _kept_notes(capsys.readouterr().err) == []


def test_skip_existing_compares_the_default_quality_when_every_output_is_kept(ckpts, photos, tmp_path,
                                                                                capsys, monkeypatch):
    _, b = ckpts
    out = tmp_path / "out"
    assert main(["compress", str(photos), "--caption", "", "-m", str(b), "-q", "1", "-o", str(out),
                 "--quiet"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(taco.cli.compress, "command_model", None)  # nothing left to code: no model
    assert main(["compress", str(photos), "-m", str(b), "-o", str(out), "--skip-existing"]) == 0
    captured = capsys.readouterr()
    assert _kept_notes(captured.err) == [
        f"taco compress: note: 3 outputs kept by --skip-existing were made with another model or quality "
        f"({out / 'a.taco'}: mine -q 1; this run: mine -q 2): --force codes them again"]  # 2: the middle one
    assert captured.out == "compressed 0 images (3 skipped: their outputs exist)\n"
    assert main(["compress", str(photos), "-m", str(b), "-q", "1", "-o", str(out), "--skip-existing"]) == 0
    assert _kept_notes(capsys.readouterr().err) == []


@pytest.mark.parametrize("key", ["./b.safetensors", "b.safetensors/../b.safetensors", "ABS"])
def test_evaluate_qualities_takes_the_model_path_written_otherwise(ckpts, photos, tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    key = str(tmp_path / "b.safetensors") if key == "ABS" else key
    cfg = EvalConfig(datasets=[str(photos)], models=["b.safetensors"], output=tmp_path / "out",
                     qualities={key.lower(): [3]}, limit=1, fid="off", cmmd_clip="off", plot=False,
                     progress=False)
    results = [json.loads(p.read_text()) for p in run_evaluation(cfg) if p.suffix == ".json"]
    assert [r["quality"] for r in results] == [3]
