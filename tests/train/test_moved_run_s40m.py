"""A run moved or copied to another folder: ``taco train MOVED/config.yaml --resume`` goes on
in MOVED (not in the out_dir its config.yaml records), ``--resume COPY --set data.root=NEW``
(the same photos, moved) continues without a 'different configuration' warning, and a
recorded data.root that is gone is said with where it was recorded and what to add."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

import taco
from taco.cli import main as taco_main
from taco.errors import TacoWarning
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import Trainer, load_config, train

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}
DIFFERENT = "with a different configuration"


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _steps(run: Path) -> int:
    return taco.load(run / "checkpoint.safetensors").metadata["trained_steps"]


def _files(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


def _run(tmp_path: Path, tiny, photos: Path = SAMPLES) -> Path:  # noqa: ANN001
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), f"data.root={photos}", "--max-steps", "2"]) == 0
    return run


def test_a_copied_runs_config_resumes_the_copy_not_the_original(tmp_path, tiny, capsys):
    run = _run(tmp_path, tiny)
    copy = tmp_path / "runMoved"
    shutil.copytree(run, copy)
    kept = _files(run)
    capsys.readouterr()
    assert train_main([str(copy / "config.yaml"), "--resume", "--max-steps", "3"]) == 0
    err = capsys.readouterr().err
    assert f"-> {copy}" in err and "resuming at step 2" in err, err
    assert f"records out_dir {run} (the run was moved or copied since)" in err
    assert f"resuming the run in its folder, {copy}" in err
    assert _steps(copy) == 3 and _steps(run) == 2 and _files(run) == kept


def test_a_moved_runs_config_resumes_it_where_it_is_now(tmp_path, tiny, capsys):
    run = _run(tmp_path, tiny)
    moved = tmp_path / "elsewhere" / "was_here"
    moved.parent.mkdir()
    shutil.move(run, moved)
    capsys.readouterr()
    assert train_main([str(moved / "config.yaml"), "--resume", "--max-steps", "3"]) == 0
    err = capsys.readouterr().err
    assert "nothing to resume" not in err and "resuming at step 2" in err, err
    assert _steps(moved) == 3 and not run.exists()


def test_an_out_dir_other_than_the_configs_folder_is_refused_naming_both(tmp_path, tiny, capsys):
    run = _run(tmp_path, tiny)
    copy, other = tmp_path / "copy", tmp_path / "other"
    shutil.copytree(run, copy)
    for config in (run, copy):  # moved or not: which run is meant is not clear
        for given in (["-o", str(other)], ["--set", f"out_dir={other}"]):
            capsys.readouterr()
            assert train_main([str(config / "config.yaml"), "--resume", *given, "--max-steps", "3"]) == 2
            err = capsys.readouterr().err
            assert len(err.strip().splitlines()) == 1, err
            assert f"is the config of the run in {config}, and the out_dir given is {other}" in err
            assert f"give --resume {config} --out-dir {other}" in err and f"give --resume {other}" in err
    assert not other.exists() and _steps(copy) == 2 and _steps(run) == 2
    # the config's own folder given as out_dir is that run
    assert train_main([str(copy / "config.yaml"), "--resume", "-o", str(copy), "--max-steps", "3"]) == 0
    assert _steps(copy) == 3 and _steps(run) == 2


def test_a_runs_own_config_in_its_folder_resumes_as_before(tmp_path, tiny, capsys):
    run = _run(tmp_path, tiny)
    capsys.readouterr()
    assert train_main([str(run / "config.yaml"), "--resume", "--max-steps", "3"]) == 0
    err = capsys.readouterr().err
    assert "moved or copied" not in err and _steps(run) == 3


def _photos(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (72, 72, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.png")
    return folder


def _resume_said(run: Path, tiny, photos: Path) -> list[str]:  # noqa: ANN001
    cfg = load_config(None, tiny(run, **ELIC, max_steps=3) + [f"data.root={photos}"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(cfg, resume=run).close()
    return [str(w.message) for w in caught if issubclass(w.category, TacoWarning)]


def test_the_same_photos_elsewhere_resume_without_a_config_warning(tmp_path, tiny):
    photos = _photos(tmp_path / "photos", 4)
    run = tmp_path / "run"
    train(load_config(None, tiny(run, **ELIC, max_steps=2) + [f"data.root={photos}"]))
    copied = tmp_path / "photos_copied"
    shutil.copytree(photos, copied)
    said = _resume_said(run, tiny, copied)
    assert not any(DIFFERENT in s or "training set changed" in s for s in said), said
    other = _photos(tmp_path / "other_photos", 4, seed=1)  # other names: said as another set
    (other / "p00.png").rename(other / "q00.png")
    said = _resume_said(run, tiny, other)
    assert any("the training set changed since the state was saved" in s for s in said), said
    assert not any(DIFFERENT in s for s in said), said


def test_a_changed_data_key_other_than_root_still_warns(tmp_path, tiny):
    photos = _photos(tmp_path / "photos", 4)
    run = tmp_path / "run"
    train(load_config(None, tiny(run, **ELIC, max_steps=2) + [f"data.root={photos}"]))
    cfg = load_config(None, tiny(run, **ELIC, max_steps=3) + [f"data.root={photos}",
                                                             "data.exclude=[zz*]"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(cfg, resume=run).close()
    said = [str(w.message) for w in caught if issubclass(w.category, TacoWarning)]
    assert any(f"{DIFFERENT} (data)" in s for s in said), said


def test_the_same_photos_elsewhere_resume_from_the_command_line(tmp_path, tiny, capsys):
    photos = _photos(tmp_path / "photos", 4)
    run = _run(tmp_path, tiny, photos)
    copied = tmp_path / "photos_copied"
    shutil.copytree(photos, copied)
    capsys.readouterr()
    assert train_main(["--resume", str(run), "--set", f"data.root={copied}", "max_steps=3"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 2" in err and DIFFERENT not in err, err


def test_a_recorded_data_root_that_is_gone_is_said_with_the_fix(tmp_path, tiny, capsys):
    photos = _photos(tmp_path / "photos", 4)
    run = _run(tmp_path, tiny, photos)
    moved = tmp_path / "moved"
    shutil.move(run, moved)
    now = tmp_path / "photos_now"
    shutil.move(photos, now)
    for argv in (["--resume", str(moved)], [str(moved / "config.yaml"), "--resume"]):
        capsys.readouterr()
        assert train_main([*argv, "--max-steps", "3"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert (f"{photos}: no such folder (the run's data.root, recorded in {moved / 'config.yaml'}; "
                "photos moved? add --set data.root=DIR)") in err, err
    # a data.root given on the command line is the user's own: no hint
    gone = tmp_path / "nope"
    assert train_main(["--resume", str(moved), "--set", f"data.root={gone}", "max_steps=3"]) == 2
    err = capsys.readouterr().err
    assert f"{gone}: no such folder" in err and "recorded in" not in err, err
    # with it given where the photos are now, the run goes on
    assert train_main(["--resume", str(moved), "--set", f"data.root={now}", "max_steps=3"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 2" in err and DIFFERENT not in err, err
    assert _steps(moved) == 3
