"""taco.train.run_log: a run's tb/ folder checked only for a run that appends to its logs, and the
saved progress of a training state whose record is not an object read as none."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest


def test_tb_is_checked_only_for_a_run_that_appends(tmp_path: Path, monkeypatch):
    """With TensorBoard installed, a tb/ the run cannot write into is refused for a run that
    logs, and left alone for a finished run resumed (appends=False)."""
    import importlib.util

    import taco.train.run_log as run_log
    from taco.train.run_log import RunFilesNotWritable, check_run_files

    (tmp_path / "tb").mkdir()
    real_spec, real_error = importlib.util.find_spec, run_log.folder_write_error
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
        object() if name == "tensorboard" else real_spec(name, *a)))
    monkeypatch.setattr(run_log, "folder_write_error", lambda folder: (
        PermissionError(errno.EACCES, "Permission denied") if Path(folder).name == "tb"
        else real_error(folder)))
    with pytest.raises(RunFilesNotWritable, match=r"cannot write into .*tb \(TensorBoard's scalars\): "
                       "permission denied"):
        check_run_files(tmp_path)
    check_run_files(tmp_path, appends=False)


@pytest.mark.parametrize("raw", ["{", "[1]", '{"progress": 5}', '"text"'])
def test_saved_progress_of_a_state_whose_record_is_not_an_object_is_none(tmp_path: Path, raw):
    """A training state whose taco record is not JSON, not an object, or whose progress is not
    one: None (the run says why where it loads the state), not a traceback."""
    import numpy as np
    import safetensors.numpy

    from taco.shards import TRAIN_STATE_FILE, TRAIN_STATE_KEY
    from taco.train.run_log import run_finished, saved_progress

    state = tmp_path / TRAIN_STATE_FILE
    safetensors.numpy.save_file({"x": np.zeros(1, np.float32)}, state, metadata={TRAIN_STATE_KEY: raw})
    assert saved_progress(state) is None
    safetensors.numpy.save_file({"x": np.zeros(1, np.float32)}, state,
                                metadata={TRAIN_STATE_KEY: '{"progress": {"step": 2, "epoch": 0}}'})
    assert saved_progress(state) == {"step": 2, "epoch": 0}
    assert run_finished(saved_progress(state), epochs=5, max_steps=2)
