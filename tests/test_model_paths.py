"""``--model PATH`` that is not a model: a training run's folder without a checkpoint yet, its
training state (plain or sharded), an empty or unrelated folder. Each is one error line (exit 2)
saying what the path is and what to give instead, for compress, decompress, evaluate and models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import taco
from taco.cli import main
from taco.models import CheckpointError, save_checkpoint
from taco.samples import SAMPLES_DIR
from taco.shards import (
    CHECKPOINT_FILE,
    RUN_FILES,
    TRAIN_STATE_FILE,
    TRAIN_STATE_KEY,
    read_metadata,
)
from taco.train.checkpoints import STATE_FILE
from taco.train.run_log import CONFIG_FILE, LOG_FILE
from taco.train.state import save_train_state

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


def run_folder(root: Path, *, checkpoint: object = None, sharded: bool = False) -> Path:
    """A training run's folder as ``taco train`` leaves it: config, log, training state (one file,
    or shards + index), and ``checkpoint`` (a model) saved as its checkpoint when given."""
    run = root / "run"
    run.mkdir()
    (run / CONFIG_FILE).write_text("model: elic-tiny\n")
    (run / LOG_FILE).write_text("")
    tensors = {f"t{i}": torch.zeros(256) for i in range(4)}
    save_train_state(run / STATE_FILE, tensors, {"progress": {}}, max_bytes=2500 if sharded else None)
    if checkpoint is not None:
        save_checkpoint(checkpoint, run / CHECKPOINT_FILE)
    return run


def refused(capsys, *argv: str) -> str:
    """The one error line ``taco ARGV`` prints, its exit status checked (2)."""
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def commands(model: Path, tmp_path: Path, small_taco: Path) -> list[list[str]]:
    return [
        ["compress", str(CHELSEA), "--caption", "", "-m", str(model), "-o", str(tmp_path / "x.taco")],
        ["decompress", str(small_taco), "-m", str(model), "-o", str(tmp_path / "x.png")],
        ["evaluate", "-m", str(model), str(CHELSEA.parent), "--limit", "1", "-o", str(tmp_path / "ev")],
        ["models", str(model)],
    ]


@pytest.fixture(scope="module")
def small_taco(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    return out


def test_the_names_are_the_ones_training_writes(tmp_path):
    assert (TRAIN_STATE_FILE, set(RUN_FILES)) == (STATE_FILE, {CONFIG_FILE, LOG_FILE})
    save_train_state(tmp_path / "s.safetensors", {"x": torch.zeros(1)}, {})
    assert TRAIN_STATE_KEY in read_metadata(tmp_path / "s.safetensors")


def test_run_without_checkpoint_yet(tmp_path, capsys, small_taco):
    run = run_folder(tmp_path, sharded=True)
    for argv in commands(run, tmp_path, small_taco):
        line = refused(capsys, *argv)
        assert (f"{run} is a training run with no model checkpoint yet ({CHECKPOINT_FILE}): train it "
                f"further (taco train --resume {run})") in line, argv
    for name in (STATE_FILE + ".index.json", *(p.name for p in run.glob("train_state-*"))):
        (run / name).unlink()  # killed before its first checkpoint: config and log only
    line = refused(capsys, *commands(run, tmp_path, small_taco)[0])
    assert f"{run} is a training run with no model checkpoint yet" in line


@pytest.mark.parametrize("sharded", [False, True])
def test_training_state_is_not_a_model(tmp_path, capsys, small_taco, tiny_elic, sharded):
    run = run_folder(tmp_path, checkpoint=tiny_elic, sharded=sharded)
    given = [run / STATE_FILE] + ([run / (STATE_FILE + ".index.json")] if sharded else [])
    for state in given:
        for argv in commands(state, tmp_path, small_taco):
            line = refused(capsys, *argv)
            assert f"error: {state}" in line, argv  # taco models names the index it read
            assert (" is a training state for taco train --resume, not a model: give "
                    f"{run / CHECKPOINT_FILE} or its run's folder ({run})") in line, argv
        with pytest.raises(CheckpointError, match="is a training state for taco train --resume"):
            taco.load(state)
    assert main(["models", str(run)]) == 0  # the folder it points to is a model
    capsys.readouterr()


def test_training_state_of_a_run_without_checkpoint(tmp_path, capsys, small_taco):
    run = run_folder(tmp_path)
    line = refused(capsys, *commands(run / STATE_FILE, tmp_path, small_taco)[0])
    assert (f"{run / STATE_FILE} is a training state for taco train --resume, not a model; its run "
            f"({run}) has no model checkpoint ({CHECKPOINT_FILE}) yet: train it further") in line


def test_folders_that_are_not_runs(tmp_path, capsys, small_taco, tiny_elic):
    empty, other = tmp_path / "empty", tmp_path / "other"
    empty.mkdir()
    other.mkdir()
    (other / "notes.txt").write_text("hello")
    for folder in (empty, other):
        for argv in commands(folder, tmp_path, small_taco):
            line = refused(capsys, *argv)
            assert (f"{folder} is a folder without a model checkpoint ({CHECKPOINT_FILE}), not a "
                    "training run: give a checkpoint file, a training run's folder or a built-in "
                    "model name") in line, argv
        with pytest.raises(CheckpointError, match="is a folder without a model checkpoint"):
            taco.load(folder)
    save_checkpoint(tiny_elic, other / "mine.safetensors")
    line = refused(capsys, *commands(other, tmp_path, small_taco)[0])
    assert "give one of its files (mine.safetensors), a training run's folder" in line


def test_a_folder_named_like_an_architecture_is_still_the_architecture(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("elic-tiny").mkdir()
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", "x.taco"]) == 0
    assert "no trained weights" in capsys.readouterr().err


def test_a_run_with_its_checkpoint_still_loads(tmp_path, tiny_elic):
    run = run_folder(tmp_path, checkpoint=tiny_elic)
    shutil.copy(run / CHECKPOINT_FILE, tmp_path / "copy.safetensors")
    assert taco.load(run).model_id == taco.load(tmp_path / "copy.safetensors").model_id


@pytest.mark.parametrize("name", ["no ck", "it's mine", "-r 1"])
def test_the_resume_command_suggested_for_a_run_works_pasted(tmp_path, monkeypatch, capsys, name):
    """``taco compress -m "no ck" x.png`` said ``train it further (taco train --resume no ck)``,
    which pasted resumed ``no`` with ``ck`` as its config: each path is one word now, one
    starting with ``-`` written ``./-r 1`` (else an option)."""
    import re
    import shlex

    from taco.cli import build_parser

    monkeypatch.chdir(tmp_path)
    run = Path(name)
    run_folder(tmp_path).rename(run)
    for model in (run, run / STATE_FILE):  # no_checkpoint_message, training_state_message
        line = refused(capsys, "compress", str(CHELSEA), "--caption", "", "-m", f"./{model}", "-o", "x.taco")
        words = shlex.split(re.search(r"\(taco (train --resume .*)\)", line).group(1))
        assert Path(build_parser(words).parse_args(words).resume) == run, line
