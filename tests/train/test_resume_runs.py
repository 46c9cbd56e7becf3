"""``taco train --resume RUN``: the run goes on in its own folder, from its own config.yaml,
from any directory; a folder that holds another run is never overwritten. A run moved or copied
to another folder: ``taco train MOVED/config.yaml --resume`` goes on in MOVED (not in the out_dir
its config.yaml records), ``--resume COPY --set data.root=NEW`` (the same photos, moved)
continues without a 'different configuration' warning, and a recorded data.root that is gone is
said with where it was recorded and what to add. Which config changes a resume warns about."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import taco
from taco.cli import main as taco_main
from taco.errors import TacoWarning
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train import Trainer, load_config, train
from taco.train.checkpoints import STATE_FILE, check_resumed_config
from taco.train.config import TrainConfig

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}
DIFFERENT = "with a different configuration"


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _files(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


def _steps(run: Path) -> int:
    return taco.load(run / "checkpoint.safetensors").metadata["trained_steps"]


def test_resume_continues_the_named_run_in_its_own_folder(tmp_path, tiny, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run1, other = tmp_path / "run1", tmp_path / "runs" / "taco"
    assert train_main(["--set", *tiny(run1, **ELIC), "--max-steps", "1"]) == 0
    assert train_main(["--set", *tiny(other, **ELIC), "--max-steps", "3"]) == 0
    before = _files(other)
    # no out_dir anywhere but the default (runs/taco, which holds another run): run1 goes on
    # in run1, from run1's config.yaml
    assert train_main(["--resume", str(run1), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and f"-> {run1}" in err
    assert _steps(run1) == 2 and _files(other) == before and _steps(other) == 3

    # continuing it into a folder that holds another run is refused, naming both
    assert train_main(["--resume", str(run1), "--out-dir", str(other), "--max-steps", "3"]) == 2
    err = capsys.readouterr().err
    assert f"--resume {run1}: {other} holds another run ({STATE_FILE})" in err
    assert len(err.strip().splitlines()) == 1
    assert _files(other) == before and _steps(run1) == 2

    # into an empty folder it continues there (a copy that trains on), run1 left as it was
    fork = tmp_path / "fork"
    kept = _files(run1)
    assert train_main(["--resume", str(run1), "--out-dir", str(fork), "--max-steps", "3"]) == 0
    assert _steps(fork) == 3 and _files(run1) == kept

    # a path that is not there is an error, not a new run in a new folder
    assert train_main(["--resume", str(tmp_path / "rnu1"), "--max-steps", "3"]) == 2
    assert "--resume" in capsys.readouterr().err and not (tmp_path / "rnu1").exists()


def test_resume_reads_the_runs_config_from_any_directory(tmp_path, tiny, capsys, monkeypatch):
    """A run started with --set and relative paths resumes with --resume RUN alone, from
    another directory: its config.yaml holds absolute paths."""
    work = tmp_path / "work"
    shutil.copytree(SAMPLES, work / "photos")
    monkeypatch.chdir(work)
    argv = ["--set", *tiny("run1", **ELIC), "data.root=photos", "--max-steps", "1"]
    assert train_main(argv) == 0
    saved = yaml.safe_load((work / "run1" / "config.yaml").read_text())
    assert saved["data"]["root"] == str(work / "photos") and saved["out_dir"] == str(work / "run1")

    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert train_main(["--resume", "work/run1", "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "different configuration" not in err
    assert _steps(work / "run1") == 2 and not (tmp_path / "runs").exists()
    # --set applies on top of the run's config
    assert train_main(["--resume", "work/run1", "--set", "max_steps=3", "log_interval=3"]) == 0
    assert _steps(work / "run1") == 3


def test_resume_names_a_run_by_any_of_its_files(tmp_path, tiny, capsys):
    """--resume RUN/checkpoint.safetensors (or its config.yaml, log.jsonl) continues RUN in RUN;
    it had made the checkpoint file the run's folder. Another file is refused, left as it was."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    for name, steps in (("checkpoint.safetensors", 2), ("config.yaml", 3), ("log.jsonl", 4)):
        capsys.readouterr()
        assert train_main(["--resume", str(run / name), "--max-steps", str(steps)]) == 0
        assert "resuming at step" in capsys.readouterr().err
        assert (run / "checkpoint.safetensors").is_file() and _steps(run) == steps

    other = tmp_path / "notes.txt"
    other.write_text("mine")
    assert train_main(["--resume", str(other), "--max-steps", "5"]) == 2
    err = capsys.readouterr().err
    assert (f"--resume takes a run folder or a file of it ({STATE_FILE}, checkpoint.safetensors, "
            f"config.yaml); {other} is not one of a run's files") in err
    assert len(err.strip().splitlines()) == 1 and other.read_text() == "mine"

    # a hand-written config.yaml beside no run is not taken for a run (it was trained over)
    mine = tmp_path / "cfgs" / "config.yaml"
    mine.parent.mkdir()
    mine.write_text("# my experiment\n" + (run / "config.yaml").read_text())
    kept = mine.read_text()
    assert train_main(["--resume", str(mine), "--max-steps", "5"]) == 2
    err = capsys.readouterr().err
    assert f"{mine} is a config beside no run: to start a run from it, give it without --resume" in err
    assert mine.read_text() == kept and sorted(p.name for p in mine.parent.iterdir()) == ["config.yaml"]


def test_resume_of_a_folder_that_holds_no_run_is_an_error(tmp_path, capsys):
    """--resume DIR, DIR holding neither config.yaml nor a state, and no config: every key would
    be a default (the CLIP-reading taco model, on data/coco): an error, nothing written."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert train_main(["--resume", str(empty), "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert f"nothing to resume in {empty}: no config.yaml, no {STATE_FILE}" in err
    assert len(err.strip().splitlines()) == 1 and list(empty.iterdir()) == []


def test_resume_with_another_model_says_so_in_one_line(tmp_path, tiny, capsys):
    """--resume RUN --set model=OTHER: one line naming both models and what to do, not
    load_state_dict's list of every missing and unexpected key, nor first the warning about a
    changed configuration (the refusal follows it); a change that is accepted is warned about."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    capsys.readouterr()
    assert train_main(["--resume", str(run), "--set", "model=elic-small", "max_steps=2"]) == 2
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith(f"taco train: error: {run / STATE_FILE}: ") and "Missing key" not in err
    assert ("the run was trained with model 'elic-tiny' and this config asks for 'elic-small', "
            "which its weights do not fit: to resume the run, drop that model from --set") in err
    assert "start a new run (without --resume, in another --out-dir)" in err

    assert train_main(["--resume", str(run), "--set", "lr=5e-5", "max_steps=2"]) == 0
    err = capsys.readouterr().err
    assert (f"taco train: warning: resuming {run / STATE_FILE} with a different configuration "
            "(lr); the run will not continue exactly as it started\n") in err


def test_resume_warnings_read_as_taco_trains_own(tmp_path, tiny, capsys):
    """A resume with another batch size warns twice, each line as taco's other warnings read
    (``taco train: warning: ...``), not as a library's (``warning: UserWarning: ...``)."""
    run = tmp_path / "run"
    assert train_main(["--set", *tiny(run, **ELIC), "--max-steps", "1"]) == 0
    capsys.readouterr()
    assert train_main(["--resume", str(run), "--set", "batch_size=1", "max_steps=2"]) == 0
    err = capsys.readouterr().err
    assert (f"taco train: warning: resuming {run / STATE_FILE} with a different configuration "
            "(batch_size); the run will not continue exactly as it started\n") in err
    assert ("taco train: warning: resuming with another layout (batch 2 -> 1): continuing from "
            "the same step, but not bit-exactly\n") in err
    assert "UserWarning" not in err


def test_a_misfit_names_the_key_that_changed_or_the_first_problem():
    from taco.train.checkpoints import model_misfit
    from taco.train.config import TrainConfig

    error = RuntimeError("Error(s) in loading state_dict for ELIC:\n\tMissing key(s): a, b.\n\t"
                         "size mismatch for c.\n\tsize mismatch for d.")
    cfg = TrainConfig(preset="elic", model="elic-tiny")
    # a state saved without model: the preset's (elic)
    assert "with model 'elic' and this config asks for 'elic-tiny'" in model_misfit(
        cfg, {"preset": "elic"}, error)
    saved = {"preset": "elic", "model": "elic-tiny", "model_overrides": {"N": 8}}
    assert "with model_overrides {'N': 8} and this config asks for {}" in model_misfit(cfg, saved, error)
    same = model_misfit(cfg, {"preset": "elic", "model": "elic-tiny"}, error)
    assert same == "the saved model does not fit this run: Missing key(s): a, b; and 2 more"


def _resume_warnings(cfg: TrainConfig, saved: dict) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_resumed_config(cfg, saved, "runs/x/train_state.safetensors")
    return [str(w.message) for w in caught]


def test_resuming_with_another_time_limit_is_no_different_configuration():
    assert _resume_warnings(TrainConfig(time_limit="20m"), TrainConfig(time_limit="8m").to_dict()) == []


def test_a_state_from_before_newer_keys_resumes_without_a_warning():
    saved = TrainConfig().to_dict()
    for key in ("warmup_steps", "fused_adam", "lpips_input"):  # keys added since: at defaults
        del saved[key]
    assert _resume_warnings(TrainConfig(), saved) == []
    # a key that is there and differs is still said
    changed = {**TrainConfig().to_dict(), "k_p": 2.0}
    assert any("different configuration (k_p)" in s for s in _resume_warnings(TrainConfig(), changed))


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


def test_a_finished_run_resumed_into_another_folder_writes_nothing_there(one_step_elic_run: Path, tmp_path,
                                                                      capsys):
    from taco.train import train
    from taco.train.config import load_config

    run = one_step_elic_run
    other = tmp_path / "other"
    cfg = load_config(run / "config.yaml", [f"out_dir={other}"])
    result = train(cfg, resume=run)
    assert result.stopped == "done"
    err = capsys.readouterr().err
    assert err.startswith(f"train: {run} already finished at step 1") and "nothing to do" in err  # Python: no "taco train:"
    assert not other.exists() or not any(p.suffix == ".safetensors" for p in other.rglob("*"))


def _pasted(command: str) -> object:
    """``command`` (``taco train ...``, as a message suggests it) as a shell splits it, parsed
    by taco's own parser: what it gives pasted."""
    import shlex

    from taco.cli import build_parser

    words = shlex.split(command)
    assert words[:2] == ["taco", "train"], words
    return build_parser(words[1:]).parse_args(words[1:])


@pytest.mark.parametrize("name", ["my runs/r 1", "it's mine", "-r 1"])
def test_the_commands_the_out_dir_refusal_suggests_work_pasted(tmp_path, monkeypatch, capsys, name):
    """``taco train "my runs/r 1/config.yaml" --resume --out-dir "other dir"`` said ``give
    --resume my runs/r 1 --out-dir other dir``, which pasted read ``1`` and ``dir`` as two more
    arguments (and a name starting with ``-`` as an option): each name is one word now."""
    import re

    monkeypatch.chdir(tmp_path)
    run, other = Path(name), f"-{name} other"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({**ELIC, "out_dir": str(tmp_path / "was")}))
    (run / "log.jsonl").write_text("")
    assert train_main([f"./{run}/config.yaml", "--resume", f"--out-dir={other}"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line, line
    there, here = re.search(r"there, give (.*); to continue the run in .*, give (.*)$", line).groups()
    args = _pasted(f"taco train {there}")
    assert (Path(args.resume), Path(args.out_dir)) == (run, Path(other)), there
    args = _pasted(f"taco train {here}")
    assert (Path(args.resume), args.out_dir) == (Path(other), None), here


def test_the_new_run_a_folder_with_no_run_suggests_works_pasted(tmp_path, monkeypatch, capsys):
    import re

    monkeypatch.chdir(tmp_path)
    empty = Path("-an empty folder's")
    empty.mkdir()
    assert train_main([f"--resume=./{empty}"]) == 2
    line = capsys.readouterr().err.strip()
    command = re.search(r"\((taco train CONFIG --out-dir .*)\)$", line).group(1)
    assert Path(_pasted(command).out_dir) == empty, line
