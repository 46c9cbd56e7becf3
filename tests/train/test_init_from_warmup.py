"""(1) The documented way to train on from a run's weights, ``taco train
DIR/config.yaml --init-from DIR -o NEWDIR``, got no lr warm-up: the run's own config.yaml records
the resolved ``warmup_steps: 0``, which counted as given. A run's own config.yaml (beside its
log, checkpoint or state) now gives no ``warmup_steps`` to ``--init-from``; ``--set`` or another
config file still does, and the run's config.yaml without ``--init-from`` keeps its value; a moved
or copied run's config.yaml counts as the run's own too (beside the run's files, moved or not).
(2) An ``lmbda`` given for a variable-rate run was silently unused: a note says so at start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from taco.cli import build_parser, main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train.cli import resolve_config, run_saved_config
from taco.train.config import INIT_WARMUP_STEPS


@pytest.fixture
def old_run(tmp_path: Path, capsys) -> Path:
    """A stopped run's folder as a GPU slice brings it back: config.yaml (every key, resolved:
    warmup_steps 0), log.jsonl and checkpoint.safetensors."""
    run = tmp_path / "r1"
    run.mkdir()
    save_checkpoint(create_model("elic-tiny", seed=1), run / "checkpoint.safetensors")
    assert taco_main(["train", "--set", "model=elic-tiny", "preset=elic", f"out_dir={run}",
                      "--print-config"]) == 0
    (run / "config.yaml").write_text(capsys.readouterr().out, encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    assert yaml.safe_load((run / "config.yaml").read_text())["warmup_steps"] == 0
    return run


def printed(capsys, *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def test_a_runs_own_config_warm_starts_with_a_warm_up(old_run, tmp_path, capsys):
    out = str(tmp_path / "r2")
    config = str(old_run / "config.yaml")
    assert run_saved_config(config)
    assert printed(capsys, config, "--init-from", str(old_run), "-o", out)["warmup_steps"] == INIT_WARMUP_STEPS
    # given for this run: --set wins
    assert printed(capsys, config, "--init-from", str(old_run), "-o", out,
                   "--set", "warmup_steps=0")["warmup_steps"] == 0
    # without --init-from the run's config is taken as it is
    assert printed(capsys, config, "-o", out)["warmup_steps"] == 0


def test_a_users_config_file_still_gives_warmup_steps(old_run, tmp_path, capsys):
    mine = tmp_path / "config.yaml"  # named as a run's, but beside no run
    mine.write_text("model: elic-tiny\npreset: elic\nwarmup_steps: 7\n", encoding="utf-8")
    assert not run_saved_config(mine)
    out = str(tmp_path / "r2")
    assert printed(capsys, str(mine), "--init-from", str(old_run), "-o", out)["warmup_steps"] == 7
    mine.write_text("model: elic-tiny\npreset: elic\n", encoding="utf-8")
    assert printed(capsys, str(mine), "--init-from", str(old_run), "-o", out)["warmup_steps"] == INIT_WARMUP_STEPS


def notes_of(*argv: str) -> list[str]:
    notes: list[str] = []
    resolve_config(build_parser(["train"]).parse_args(["train", *argv]), notes)
    return notes


def test_a_given_lmbda_of_a_variable_rate_run_gets_a_note(tmp_path, old_run):
    vr = ["model=elic-tiny", "preset=elic", "qualities=[0.001,0.01]"]
    note = "lmbda 0.05 is unused: a variable-rate run trains each step with the λ of the quality drawn for it (0.001, 0.01)"
    assert notes_of("--set", *vr, "lmbda=0.05") == [note]
    config = tmp_path / "vr.yaml"
    config.write_text("model: elic-tiny\npreset: elic\nqualities: [0.001, 0.01]\nlmbda: 0.05\n", encoding="utf-8")
    assert notes_of(str(config)) == [note]
    assert notes_of("--set", *vr) == []  # the default lmbda: nothing given
    assert notes_of("--set", "model=elic-tiny", "preset=elic", "lmbda=0.05") == []  # single-rate: used
    # a run's own config.yaml records lmbda whatever the run: not given
    saved = yaml.safe_load((old_run / "config.yaml").read_text())
    (old_run / "config.yaml").write_text(yaml.safe_dump({**saved, "qualities": [0.001, 0.01]}), encoding="utf-8")
    assert notes_of(str(old_run / "config.yaml"), "-o", str(tmp_path / "r3")) == []


def test_a_users_config_beside_a_log_of_its_own_still_gives_warmup_steps(old_run, tmp_path, capsys):
    """Review R2 F3: any config.yaml beside a log.jsonl (or checkpoint, or state) was taken as a
    run's own, so a user's ``warmup_steps: 0`` there was dropped under --init-from. A run's own
    names its folder as out_dir; another out_dir, or none, is the user's file."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "log.jsonl").write_text('{"event": "my app"}\n', encoding="utf-8")
    mine = folder / "config.yaml"
    out = str(tmp_path / "r2")
    mine.write_text("model: elic-tiny\npreset: elic\nwarmup_steps: 0\n", encoding="utf-8")
    assert not run_saved_config(mine)
    assert printed(capsys, str(mine), "--init-from", str(old_run), "-o", out)["warmup_steps"] == 0
    # a run's saved config records an out_dir: taken as the run's, its own folder or another
    # (a run moved or copied, as --resume takes it), wherever it is given from
    for recorded in (folder, old_run):
        mine.write_text(f"model: elic-tiny\npreset: elic\nwarmup_steps: 0\nout_dir: {recorded}\n",
                        encoding="utf-8")
        assert run_saved_config(mine)
    (folder / "log.jsonl").unlink()  # but only beside that run's files
    assert not run_saved_config(mine)


def test_a_moved_runs_config_warm_starts_with_the_warm_up(tmp_path: Path, capsys) -> None:
    run = tmp_path / "x"
    run.mkdir()
    save_checkpoint(create_model("elic-tiny", seed=1), run / "checkpoint.safetensors")
    (run / "config.yaml").write_text(yaml.safe_dump(printed(
        capsys, "--set", "model=elic-tiny", "preset=elic", f"out_dir={run}")), encoding="utf-8")
    (run / "log.jsonl").write_text("", encoding="utf-8")
    moved = tmp_path / "m"
    shutil.copytree(run, moved)
    config = str(moved / "config.yaml")
    assert yaml.safe_load(Path(config).read_text())["warmup_steps"] == 0  # as the run resolved it
    assert run_saved_config(config)
    for source in (run, moved):
        got = printed(capsys, str(source / "config.yaml"), "--init-from", str(moved),
                      "-o", str(tmp_path / "nm"))
        assert got["warmup_steps"] == INIT_WARMUP_STEPS
    # given for this run, it is taken; without --init-from the file is taken as it is
    assert printed(capsys, config, "--init-from", str(moved), "-o", str(tmp_path / "nm"),
                   "--set", "warmup_steps=3")["warmup_steps"] == 3
    assert printed(capsys, config, "-o", str(tmp_path / "nm"))["warmup_steps"] == 0
