"""``taco train --resume RUN`` whose ``RUN/log.jsonl`` the process may not
write (another user's, mode 444) built the model, the data and the rest, then stopped at its
first log write (``taco train: stopped: cannot write RUN/log.jsonl: Permission denied``, exit
3). The run's files are now checked before anything is built: one line naming the file, exit 2,
nothing written. A FINISHED run logs nothing, so its read-only log (and ``tb/``) is not checked:
``--resume`` says it is finished (exit 0), and a ``--lambda-sweep --resume`` goes on past such a
λ. Seen with real permissions: root without the capabilities that bypass file modes (capsh),
the file chowned to nobody."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taco.train.run_log import (
    RunFilesNotWritable,
    RunLog,
    check_run_files,
    run_finished,
    saved_progress,
)

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


def _refuse_log(monkeypatch: pytest.MonkeyPatch, *logs: Path) -> None:
    """Opening ``logs`` for writing is refused (EACCES), as for another user's mode 444 file."""
    opened = os.open
    refused = {os.fspath(log) for log in logs}

    def denied(path, flags, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if os.fspath(path) in refused and flags & (os.O_WRONLY | os.O_RDWR):
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
    # a run file that is a link is refused, not written through (a downloaded run's config.yaml
    # pointing elsewhere)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.yaml").write_text("x: 1\n")
    (tmp_path / "config.yaml").symlink_to(elsewhere / "config.yaml")
    with pytest.raises(RunFilesNotWritable, match=r"config\.yaml is a symbolic link \(to .*elsewhere"):
        check_run_files(tmp_path)
    assert (elsewhere / "config.yaml").read_text() == "x: 1\n"


def test_resuming_a_finished_run_whose_log_is_read_only_says_it_is_finished(without_bypass, run: Path):
    log = run / "log.jsonl"
    records = log.read_bytes()
    os.chown(log, 65534, 65534)
    log.chmod(0o444)
    before = _files(run)
    done = without_bypass(["-m", "taco", "train", "--resume", "run"], run.parent)
    assert done.returncode == 0, done.stderr  # was 2: cannot write run/log.jsonl
    assert "run already finished at step 1" in done.stderr and "nothing to do" in done.stderr
    assert "cannot write" not in done.stderr
    assert _files(run) == before
    assert log.read_bytes() == records
    # with steps left it appends: still refused up front, as b3679c2 made it
    done = without_bypass(["-m", "taco", "train", "--resume", "run", "--max-steps", "2"], run.parent)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("taco train: error: cannot write run/log.jsonl: permission denied")
    assert _files(run) == before


def test_the_library_resumes_a_finished_run_with_a_read_only_log(run: Path, monkeypatch):
    from taco.train import train
    from taco.train.config import load_config

    _refuse_log(monkeypatch, run / "log.jsonl")
    cfg = load_config(run / "config.yaml")  # max_steps 1: finished
    result = train(cfg, resume=run)
    assert result.stopped == "done"
    built = []
    monkeypatch.setattr("taco.train.trainer.check_data_folders", lambda cfg: built.append(cfg))
    with pytest.raises(RunFilesNotWritable, match=r"^cannot write .*log\.jsonl: permission denied"):
        train(load_config(run / "config.yaml", ["max_steps=2"]), resume=run)
    assert built == []  # steps left: refused before the data folders are looked at


def test_a_sweep_goes_on_past_a_finished_lambda_whose_log_is_read_only(tmp_path: Path, tiny, monkeypatch,
                                                                       capsys):
    from taco.train import lambda_sweep, load_config

    cfg = load_config(None, tiny(tmp_path, max_steps=1, **ELIC))
    lambda_sweep(cfg, lambdas=(0.0004,))
    first = tmp_path / "lambda-0.0004"
    _refuse_log(monkeypatch, first / "log.jsonl")
    capsys.readouterr()
    results = lambda_sweep(cfg, lambdas=(0.0004, 0.0008), resume=True)
    assert [r.stopped for r in results] == ["done", "done"]
    assert "already finished at step 1" in capsys.readouterr().err
    assert (tmp_path / "lambda-0.0008" / "checkpoint.safetensors").is_file()


def test_run_finished_and_saved_progress(run: Path, tmp_path: Path):
    progress = saved_progress(run / "train_state.safetensors")
    assert progress is not None and progress["step"] == 1
    assert run_finished(progress, epochs=100, max_steps=1)
    assert not run_finished(progress, epochs=100, max_steps=2)
    assert run_finished({"step": 3, "epoch": 2}, epochs=2, max_steps=None)
    assert not run_finished({"step": 3, "epoch": 1}, epochs=2, max_steps=None)
    assert not run_finished({"step": 0, "epoch": 0}, epochs=0, max_steps=0)  # nothing trained yet
    assert not run_finished(None, epochs=1, max_steps=1)
    assert saved_progress(tmp_path / "none.safetensors") is None
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    assert saved_progress(tmp_path / "bad.safetensors") is None


def test_check_run_files_leaves_the_log_alone_for_a_run_that_appends_nothing(run: Path, monkeypatch):
    _refuse_log(monkeypatch, run / "log.jsonl")
    with pytest.raises(RunFilesNotWritable):
        check_run_files(run)
    check_run_files(run, appends=False)
    RunLog(run, True, False, lambda path, e: e, appends=False)
    with pytest.raises(RunFilesNotWritable):
        RunLog(run, True, False, lambda path, e: e)
