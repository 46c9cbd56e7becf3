"""A run's log.jsonl that is a hard link (a file with another name: a run folder copied with
``cp -al``, a backup made by hard links) was appended to by a resumed run, which changed the
file under its other name too. It is refused as a symbolic link is (taco.fileobjects
.own_file_problem, shared with taco caption and taco evaluate), before anything is written; the
files a run replaces whole (config.yaml, the checkpoint) may have other names: a new file takes
the name, the other keeps the old content."""

from __future__ import annotations

import os
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
    assert str(refused.value) == (
        f"{run / 'log.jsonl'} is a hard link (a file with 2 names): a run writes its own files in its "
        "folder, never through a link; remove the link (or put a copy of what it links to in its "
        "place), or go on in another folder (--out-dir DIR)")
    assert backup.read_text() == '{"kind": "train", "step": 1}\n'


def test_a_hard_linked_config_is_replaced_not_refused(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    other = tmp_path / "config-copy.yaml"
    other.write_text("model: x\n")
    os.link(other, run / "config.yaml")
    check_run_files(run)  # replaced by a new file when written: the other name keeps its content
