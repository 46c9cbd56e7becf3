"""Session 40, F-RES (1). ``taco train --resume RUN`` whose ``RUN/log.jsonl`` the process may not
write (another user's, mode 444) built the model, the data and the rest, then stopped at its
first log write (``taco train: stopped: cannot write RUN/log.jsonl: Permission denied``, exit
3). The run's files are now checked before anything is built: one line naming the file, exit 2,
nothing written. Seen with real permissions: root without the capabilities that bypass file
modes (capsh), the file chowned to nobody."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taco.train.run_log import RunFilesNotWritable, RunLog, check_run_files

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "clip_model": "null"}


def _files(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


@pytest.fixture
def run(one_step_elic_run: Path) -> Path:
    return one_step_elic_run


def test_resume_with_a_log_it_cannot_append_to_is_refused_before_the_build(without_bypass, run: Path):
    log = run / "log.jsonl"
    os.chown(log, 65534, 65534)
    log.chmod(0o444)
    before = _files(run)
    done = without_bypass(["-m", "taco", "train", "--resume", "run", "--max-steps", "2"], run.parent)
    assert done.returncode == 2, done.stderr  # was 3, after the model and data were built
    assert done.stderr.splitlines() == [
        "taco train: error: cannot write run/log.jsonl: permission denied (the run appends its "
        "records to it): make it writable, or go on in another folder (--out-dir DIR)"]
    assert _files(run) == before  # config.yaml not rewritten, no state, no checkpoint
    # writable again: it resumes
    log.chmod(0o644)
    os.chown(log, 0, 0)
    done = without_bypass(["-m", "taco", "train", "--resume", "run", "--max-steps", "2"], run.parent)
    assert done.returncode == 0, done.stderr
    assert "resuming at step 1" in done.stderr


def test_a_new_run_into_a_read_only_folder_is_refused_up_front(without_bypass, tmp_path: Path, tiny):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    folder.chmod(0o555)
    done = without_bypass(["-m", "taco", "train", "--set", *tiny(folder, **ELIC), "--max-steps", "1"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"taco train: error: cannot write into {folder}: permission denied"]
    assert list(folder.iterdir()) == []


def _refuse_log(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Opening ``log`` for writing is refused (EACCES), as for another user's mode 444 file."""
    opened = os.open

    def denied(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) == os.fspath(log) and flags & (os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return opened(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)


def test_the_library_refuses_it_before_the_build_too(run: Path, monkeypatch):
    """RunLog (made at the start of the trainer's set-up, before the data and model) checks."""
    _refuse_log(monkeypatch, run / "log.jsonl")
    with pytest.raises(RunFilesNotWritable, match=r"^cannot write .*log\.jsonl: permission denied"):
        RunLog(run, True, False, lambda path, e: e)
    RunLog(run, False, False, lambda path, e: e)  # another rank writes nothing: no check
    from taco.train import train
    from taco.train.config import load_config

    built = []
    monkeypatch.setattr("taco.train.trainer.check_data_folders", lambda cfg: built.append(cfg))
    cfg = load_config(run / "config.yaml", ["max_steps=2"])  # a step left: it would append
    with pytest.raises(RunFilesNotWritable):
        train(cfg, resume=run)
    assert built == []  # refused before the data folders were even looked at


def test_what_it_checks(tmp_path: Path, monkeypatch):
    check_run_files(tmp_path / "not-yet")  # a folder not made yet: nothing to write over
    (tmp_path / "log.jsonl").write_text('{"kind": "train", "step": 1}\n')
    check_run_files(tmp_path)  # writable: passes, and changes nothing
    assert (tmp_path / "log.jsonl").read_text() == '{"kind": "train", "step": 1}\n'
    if os.name != "posix":
        return
    # a run file that links into a folder it cannot write in (it is replaced there)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.yaml").write_text("x: 1\n")
    (tmp_path / "config.yaml").symlink_to(elsewhere / "config.yaml")
    import taco.train.run_log as run_log

    real = run_log.folder_write_error
    monkeypatch.setattr(run_log, "folder_write_error", lambda folder: (
        PermissionError(errno.EACCES, "Permission denied") if Path(folder) == elsewhere else real(folder)))
    with pytest.raises(RunFilesNotWritable, match=r"config\.yaml: permission denied in .*elsewhere"):
        check_run_files(tmp_path)
