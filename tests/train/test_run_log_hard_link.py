"""A run's log.jsonl that is a hard link (a file with another name: a run folder copied with
``cp -al``, a backup made by hard links) was appended to by a resumed run, which changed the
file under its other name too. It is refused as a symbolic link is (taco.fileobjects
.own_file_problem, shared with taco caption and taco evaluate), before anything is written; the
files a run replaces whole (config.yaml, the checkpoint) may have other names: a new file takes
the name, the other keeps the old content."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from taco.train.run_log import RunFilesNotWritable, check_run_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="hard links as a user makes them")


def test_a_hard_linked_log_is_refused(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    backup = tmp_path / "backup-log.jsonl"
    backup.write_text('{"kind": "train", "step": 1}\n')
    os.link(backup, run / "log.jsonl")
    with pytest.raises(RunFilesNotWritable) as refused:
        check_run_files(run)
    log = run / "log.jsonl"
    assert str(refused.value) == (
        f"{log} is a hard link (a file with 2 names, which a write here would change too): a run writes "
        f"its own files in its folder; give it a copy of its own (cp {log} {log}.copy && mv {log}.copy "
        f"{log}), or go on in another folder (--out-dir DIR)")
    assert "remove the link" not in str(refused.value)  # that would lose the run's log
    assert backup.read_text() == '{"kind": "train", "step": 1}\n'


def test_the_copy_advice_keeps_the_log_and_lets_the_run_go_on(tmp_path: Path):
    """``cp -al runA "runA snap"``, then resuming runA: the advice, run as the shell runs it (the
    space quoted), gives the log a copy of its own; the run then goes on, its log kept, and the
    snapshot's log is left as it was."""
    snap = tmp_path / "runA snap"
    snap.mkdir()
    (snap / "log.jsonl").write_text('{"kind": "train", "step": 1}\n')
    run = tmp_path / "run A"
    run.mkdir()
    os.link(snap / "log.jsonl", run / "log.jsonl")
    with pytest.raises(RunFilesNotWritable) as refused:
        check_run_files(run)
    advice = str(refused.value).split("give it a copy of its own (", 1)[1].split("), or ", 1)[0]
    assert advice.startswith("cp '")
    subprocess.run(["sh", "-c", advice], check=True)
    check_run_files(run)
    assert (run / "log.jsonl").read_text() == '{"kind": "train", "step": 1}\n'
    assert os.stat(run / "log.jsonl").st_nlink == 1
    with open(run / "log.jsonl", "a") as log:
        log.write('{"kind": "train", "step": 2}\n')
    assert (snap / "log.jsonl").read_text() == '{"kind": "train", "step": 1}\n'


def test_a_hard_linked_config_is_replaced_not_refused(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    other = tmp_path / "config-copy.yaml"
    other.write_text("model: x\n")
    os.link(other, run / "config.yaml")
    check_run_files(run)  # replaced by a new file when written: the other name keeps its content
