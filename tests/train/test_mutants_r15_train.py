"""Mutation round 15 (training): a finished run resumed into another folder, the warm start's
warm-up, the run folder of an out_dir."""

from __future__ import annotations

from pathlib import Path


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
    assert f"taco train: {run} already finished at step 1" in err and "nothing to do" in err
    assert not other.exists() or not any(p.suffix == ".safetensors" for p in other.rglob("*"))


def _warmup_run(folder: Path, warmup: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"model: elic-tiny\nwarmup_steps: {warmup}\n", encoding="utf-8")
    return folder


def test_warm_start_warmup_reads_the_run_named_over_the_out_dir(tmp_path):
    """--resume RUN with another out_dir: the warm-up of RUN, the run resumed."""
    import argparse

    from taco.train.cli import warm_start_warmup

    run, other = _warmup_run(tmp_path / "run", 7), _warmup_run(tmp_path / "other", 3)
    args = argparse.Namespace(resume=str(run))
    assert warm_start_warmup(args, {"out_dir": str(other)}, run) == 7
    assert warm_start_warmup(args, {"out_dir": str(other)}, None) == 3


def test_warm_start_warmup_of_a_run_whose_state_does_not_read(tmp_path):
    """No config.yaml, a training state that is no safetensors file (a TrainStateError, not a
    ConfigError): the warm-up, the state's problem said where the trainer reads it."""
    import argparse

    from taco.shards import TRAIN_STATE_FILE
    from taco.train.cli import warm_start_warmup
    from taco.train.schedule import INIT_WARMUP_STEPS

    run = tmp_path / "run"
    run.mkdir()
    (run / TRAIN_STATE_FILE).write_bytes(b"garbage")
    assert warm_start_warmup(argparse.Namespace(resume=str(run)), {}, run) == INIT_WARMUP_STEPS


def test_a_run_config_recording_its_folder_under_home_is_not_moved(tmp_path, monkeypatch):
    """A run's config.yaml recording out_dir ~/runs/r (as given) is that run's folder: no
    'moved or copied' note when it is resumed from there."""
    from taco.cli import build_parser
    from taco.train.cli import resolve_config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("model: elic-tiny\npreset: elic\nout_dir: ~/runs/r\n", encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    notes: list[str] = []
    cfg = resolve_config(build_parser(["train"]).parse_args(["train", str(run / "config.yaml"), "--resume"]), notes)
    assert not [n for n in notes if "moved or copied" in n], notes
    assert Path(cfg.out_dir).expanduser() == run
