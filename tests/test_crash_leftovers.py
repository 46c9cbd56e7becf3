"""What a killed or failed write leaves: a temporary ``.NAME.tmp-XXXXXXXX`` beside an output was
cleaned up by compress, decompress, demo and a resumed training only; every command that writes
a file now removes the ones of its outputs (``taco.atomic.write_text_atomic``, under
``write_json``, does for each file it writes). ``taco plot`` published its PNG before it wrote
its SVG (a full disk left a new PNG beside an old SVG): a figure's files are all written, then
all renamed, or none; its SVG was not the same bytes twice (a date, random clip-path ids).
``taco train`` saved and restored Python's RNG state without seeding it."""

from __future__ import annotations

import errno
import json
import os
import random
from pathlib import Path

import pytest

from taco.atomic import stale_temporaries, write_all_atomic, write_text_atomic
from taco.cli import main
from taco.evaluation.plot import plot_results
from taco.jsonfiles import write_json
from taco.samples import SAMPLES_DIR as SAMPLES

OFFICIAL = Path(__file__).resolve().parent / "data" / "official" / "taco-tiny.pth.tar"
POINT = {"setting": "q50", "images": 2, "bpp": 0.5, "psnr": 30.0, "ms_ssim": 0.9, "lpips": 0.1}
JPEG = {"format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "photos", "kind": "folder", "images": 2}, "points": [POINT]}
MODEL = {**JPEG, "kind": "learned", "label": "TACO", "codec": "taco",
         "points": [{**POINT, "setting": "", "bpp": 0.3, "psnr": 29.0}]}


def _leftover(target: Path) -> Path:
    """A temporary of ``target`` as a writer killed mid-write leaves it (no lock held)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-0123abcd")
    tmp.write_bytes(b"half a file")
    return tmp


def _results(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, result in (("taco.json", MODEL), ("jpeg.json", JPEG)):
        (folder / name).write_text(json.dumps(result))
    return folder


def test_single_file_writers_remove_their_targets_leftovers(tmp_path):
    for write in (lambda p: write_text_atomic(p, "x"), lambda p: write_json(p, {"a": 1}),
                  lambda p: write_all_atomic({p: b"x"})):
        target = tmp_path / "out.json"
        other = _leftover(tmp_path / "other.json")
        _leftover(target)
        write(target)
        assert stale_temporaries(target) == [] and other.exists()  # another file's is not its


def test_import_captions_removes_a_killed_imports_temporary(tmp_path):
    src = tmp_path / "auth.json"
    src.write_text(json.dumps({"kodim01.png": "a brick building"}))
    out = tmp_path / "ic.jsonl"
    _leftover(out)
    assert main(["import-captions", str(src), "-o", str(out)]) == 0
    assert stale_temporaries(out) == [] and out.is_file()


def test_plot_removes_the_temporaries_of_all_its_outputs(tmp_path):
    folder = _results(tmp_path / "res")
    stem = tmp_path / "fig"
    outputs = [tmp_path / n for n in ("fig.png", "fig.svg", "fig.bdrate.md", "fig.bdrate.json")]
    for p in outputs:
        _leftover(p)
    assert main(["plot", str(folder), "-o", str(stem), "--metrics", "psnr", "--anchor", "JPEG",
                 "--bootstrap", "0"]) == 0
    assert all(p.is_file() and stale_temporaries(p) == [] for p in outputs)


def test_import_checkpoint_removes_a_killed_imports_temporary(tmp_path):
    out = tmp_path / "official.safetensors"
    _leftover(out)
    assert main(["import-checkpoint", str(OFFICIAL), "-o", str(out), "--text-encoder", "clip-tiny"]) == 0
    assert stale_temporaries(out) == [] and out.is_file()


def test_evaluate_removes_the_temporaries_of_its_results(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "rocket.png").write_bytes((SAMPLES / "skimage-rocket.png").read_bytes())
    out = tmp_path / "eval"
    targets = [out / "photos-crop64" / n
               for n in ("jpeg.json", "jpeg.csv", "rd.png", "rd.svg", "rd.bdrate.md", "rd.bdrate.json")]
    for p in targets:
        _leftover(p)
    assert main(["evaluate", str(photos), "--classic", "jpeg", "--qualities", "jpeg=50", "--fid", "off",
                 "--cmmd-clip", "off", "--crop", "64", "-o", str(out), "--quiet"]) == 0
    assert all(p.is_file() and stale_temporaries(p) == [] for p in targets)


def test_a_full_disk_at_the_svg_keeps_the_old_figure_whole(tmp_path, monkeypatch):
    folder = _results(tmp_path / "res")
    stem = tmp_path / "fig"
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    png.write_bytes(b"old png")
    svg.write_bytes(b"old svg")
    fsync, calls = os.fsync, []

    def full_at_the_second(fd: int) -> None:  # the PNG's data fits, the SVG's does not
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(os, "fsync", full_at_the_second)
    with pytest.raises(OSError) as err:
        plot_results(folder, stem, metrics=["psnr"], reference="none")
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(svg)
    assert png.read_bytes() == b"old png" and svg.read_bytes() == b"old svg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg", "res"]  # no temporaries


def test_plot_draws_the_same_svg_twice(tmp_path):
    folder = _results(tmp_path / "res")
    plot_results(folder, tmp_path / "a", metrics=["psnr"], reference="none")
    plot_results(folder, tmp_path / "b", metrics=["psnr"], reference="none")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def _train_overrides(out_dir: Path) -> list[str]:
    values = {"model": "elic-tiny", "preset": "elic", "k_j": 0, "data.root": SAMPLES, "crop": 64,
              "batch_size": 2, "workers": 0, "clip_model": "tiny", "log_interval": 1,
              "ckpt_interval": 2, "progress": "false", "out_dir": out_dir}
    return [f"{k}={v}" for k, v in values.items()]


def test_training_seeds_pythons_rng_whose_state_it_saves(tmp_path):
    from taco.train.checkpoints import STATE_FILE
    from taco.train.state import load_train_state_meta

    states = []
    for n in (1, 2):
        random.seed(n)  # whatever the process drew before, a run's stream is its seed's
        run = tmp_path / f"run{n}"
        assert main(["train", "--set", *_train_overrides(run), "--max-steps", "1"]) == 0
        states.append(load_train_state_meta(run / STATE_FILE)["rng"]["python"])
    assert states[0] == states[1]
