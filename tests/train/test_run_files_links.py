"""A run folder whose own files are symbolic links (a downloaded run one resumes or trains on:
``log.jsonl -> ~/.bashrc``). ``taco train --resume run1 --max-steps 2`` read the log through the
link, rewrote its kept records through it (the target replaced by the training log, the link
kept) and appended to it, exit 0. Each of a run's own files (config.yaml, log.jsonl, the
checkpoint, the training state and their shard indexes) that is a link, dangling or not, is now
refused in one line naming it, exit 2, before anything is written; the log is opened for
appending without following a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taco.train.run_log import RunFilesNotWritable, RunLog, check_run_files, saved_progress

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links as a user makes them")

SECRET = "export PATH=/usr/bin\n"


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {f.name: (f.lstat().st_mtime_ns, f.lstat().st_ino) for f in folder.iterdir()}


def _plant(run: Path, name: str, tmp_path: Path) -> Path:
    """``run/name`` replaced by a link to a file of the user's (mode 600), which is returned."""
    victim = tmp_path / f"victim-{name}"
    victim.write_text(SECRET)
    victim.chmod(0o600)
    (run / name).unlink(missing_ok=True)
    (run / name).symlink_to(victim)
    return victim


def test_resuming_a_run_whose_log_links_elsewhere_is_refused_and_writes_nothing(
        one_step_elic_run: Path, tmp_path: Path, capsys, monkeypatch):
    from taco.cli import main as taco_main

    run = one_step_elic_run
    victim = _plant(run, "log.jsonl", tmp_path)
    before = _files(run)
    monkeypatch.chdir(tmp_path)
    assert taco_main(["train", "--resume", "run", "--max-steps", "2"]) == 2  # was 0
    assert capsys.readouterr().err.splitlines() == [
        f"taco train: error: run/log.jsonl is a symbolic link (to {victim}): a run writes its own "
        "files in its folder, never through a link; remove the link (or put a copy of what it "
        "links to in its place), or go on in another folder (--out-dir DIR)"]
    assert victim.read_text() == SECRET  # was replaced by the run's log records
    assert (victim.stat().st_mode & 0o777) == 0o600
    assert _files(run) == before  # config.yaml not rewritten, no state, no checkpoint
    # the link replaced by a copy of the run's own log: it resumes
    (run / "log.jsonl").unlink()
    (run / "log.jsonl").write_text('{"kind": "train", "step": 1}\n')
    assert taco_main(["train", "--resume", "run", "--max-steps", "2"]) == 0
    assert "resuming at step 1" in capsys.readouterr().err
    assert victim.read_text() == SECRET


@pytest.mark.parametrize("name", ["config.yaml", "log.jsonl", "checkpoint.safetensors",
                                  "checkpoint.safetensors.index.json", "train_state.safetensors",
                                  "train_state.safetensors.index.json"])
def test_each_of_a_runs_own_files_that_is_a_link_is_refused(tmp_path: Path, name: str):
    run = tmp_path / "run"
    run.mkdir()
    victim = _plant(run, name, tmp_path)
    for appends in (True, False):  # a finished run resumed may still write its checkpoint
        with pytest.raises(RunFilesNotWritable, match=rf"^{run / name} is a symbolic link \(to "):
            check_run_files(run, appends=appends)
    assert victim.read_text() == SECRET
    # dangling: refused too (a write through it would create the file it names)
    victim.unlink()
    with pytest.raises(RunFilesNotWritable, match=r"is a symbolic link"):
        check_run_files(run)
    assert not victim.exists()


def test_the_library_refuses_before_the_build_and_again_when_it_opens_the_log(
        one_step_elic_run: Path, tmp_path: Path, monkeypatch):
    from taco.train import train
    from taco.train.config import load_config

    run = one_step_elic_run
    cfg = load_config(run / "config.yaml", ["max_steps=2"])  # a step left: it would write
    victim = _plant(run, "config.yaml", tmp_path)
    with pytest.raises(RunFilesNotWritable, match=r"config\.yaml is a symbolic link"):
        RunLog(run, True, False, lambda path, e: e)
    RunLog(run, False, False, lambda path, e: e)  # another rank writes nothing: no check
    built = []
    monkeypatch.setattr("taco.train.trainer.check_data_folders", lambda cfg: built.append(cfg))
    with pytest.raises(RunFilesNotWritable):
        train(cfg, resume=run)
    assert built == []  # refused before the data folders were even looked at
    assert victim.read_text() == SECRET

    # a link made after the run was set up: open refuses it, the log's target untouched
    (run / "config.yaml").unlink()
    log = RunLog(run, True, False, lambda path, e: e)
    log_victim = _plant(run, "log.jsonl", tmp_path)
    with pytest.raises(RunFilesNotWritable, match=r"log\.jsonl is a symbolic link"):
        log.open("x: 1\n", 1)
    assert log_victim.read_text() == SECRET
    assert not (run / "config.yaml").exists()  # refused before config.yaml was written


def test_the_log_is_appended_to_without_following_a_link_made_meanwhile(tmp_path: Path, monkeypatch):
    """A link put in place of the log between its check and its open is not followed (O_NOFOLLOW):
    the open fails (the run's write error), the file it names is untouched."""
    import taco.train.run_log as run_log

    run = tmp_path / "run"
    run.mkdir()
    log = RunLog(run, True, False, lambda path, e: e)
    victim = tmp_path / "victim"
    victim.write_text(SECRET)
    real = run_log.write_bytes_atomic

    def then_link(path: Path, data: bytes) -> None:
        real(path, data)
        if path.name == "log.jsonl":
            path.unlink()
            path.symlink_to(victim)

    monkeypatch.setattr(run_log, "write_bytes_atomic", then_link)
    with pytest.raises(OSError) as caught:
        log.open("x: 1\n", 0)
    assert not isinstance(caught.value, RunFilesNotWritable)
    assert victim.read_text() == SECRET
    log.close()


def test_a_run_folder_reached_through_a_link_and_plain_files_pass(tmp_path: Path):
    """Only the run's own files are refused as links: the folder itself may be one (the user
    names it), and other files in it (a link of the user's beside the run's) are left alone."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "log.jsonl").write_text('{"kind": "train", "step": 1}\n')
    (real / "notes.txt").symlink_to(tmp_path)
    via = tmp_path / "via"
    via.symlink_to(real, target_is_directory=True)
    check_run_files(via)
    log = RunLog(via, True, False, lambda path, e: e)
    log.open("x: 1\n", 1)
    log.write({"kind": "train", "step": 2, "loss": 1.0})
    log.close()
    lines = (real / "log.jsonl").read_text().splitlines()
    assert [line[:28] for line in lines] == ['{"kind": "train", "step": 1}', '{"kind": "train", "step": 2,']


@pytest.mark.parametrize("name", ["log.jsonl", "config.yaml", "train_state.safetensors", "train_state.safetensors.index.json",
                                  "checkpoint.safetensors"])
def test_resuming_a_run_with_a_named_pipe_among_its_files_is_refused_not_blocked(
        one_step_elic_run: Path, name: str):
    """A named pipe planted at one of a run's own names (``mkfifo run/log.jsonl``) blocked
    ``taco train --resume run`` for ever in its open (no writer ever comes). Refused now in one
    line naming it, exit 2, before anything is opened; run in a process of its own with a
    timeout, so a missing refusal fails here and does not hang the suite."""
    import subprocess
    import sys

    run = one_step_elic_run
    (run / name).unlink(missing_ok=True)  # an index: none in this layout
    os.mkfifo(run / name)
    before = _files(run)
    try:
        done = subprocess.run([sys.executable, "-m", "taco", "train", "--resume", "run", "--max-steps", "2"],
                              cwd=run.parent, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"taco train --resume blocked on the named pipe run/{name}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"taco train: error: run/{name} is not a regular file (a named pipe): a run writes its own "
        "files in its folder; remove it, or go on in another folder (--out-dir DIR)"]
    assert _files(run) == before


@pytest.mark.parametrize("kind", ["fifo", "folder", "socket"])
def test_each_of_a_runs_own_files_that_is_no_regular_file_is_refused(tmp_path: Path, kind: str):
    import socket

    run = tmp_path / "run"
    run.mkdir()
    path = run / "train_state.safetensors"
    words = {"fifo": "a named pipe", "folder": "a folder", "socket": "a socket"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(path))
        except OSError as e:  # a path too long for a socket's address
            pytest.skip(f"no socket here: {e}")
        sock.close()
    for appends in (True, False):
        with pytest.raises(RunFilesNotWritable, match=rf"^{run / path.name} is not a regular file \({words}\): "):
            check_run_files(run, appends=appends)
    assert saved_progress(path) is None  # not opened (a pipe would block the read)


def test_saved_progress_reads_a_training_state_reached_through_a_symbolic_link(tmp_path: Path):
    """Only what is neither a regular file nor a symbolic link is left unread: a state that is a
    link to a regular file is read (check_run_files refuses the link itself, in its own words)."""
    import json
    import struct

    from taco.shards import TRAIN_STATE_KEY

    header = json.dumps({"__metadata__": {TRAIN_STATE_KEY: json.dumps({"progress": {"step": 7, "epoch": 1}})}})
    data = header.encode() + b" " * (-len(header) % 8)
    real = tmp_path / "saved.safetensors"
    real.write_bytes(struct.pack("<Q", len(data)) + data)
    (tmp_path / "run").mkdir()
    state = tmp_path / "run" / "train_state.safetensors"
    state.symlink_to(real)
    assert saved_progress(real) == {"step": 7, "epoch": 1}
    assert saved_progress(state) == {"step": 7, "epoch": 1}
