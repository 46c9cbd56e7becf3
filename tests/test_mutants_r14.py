"""Mutation round 14: tests that kill mutants of the s40 changes the earlier tests let live."""

from __future__ import annotations

import errno
import os
import signal
import warnings
from pathlib import Path

import pytest
from PIL import Image

import taco.data
from taco.cli import main
from taco.data import TRANSIENT_ERRNOS, CaptionedImages, CaptionRecord
from taco.distributed import SilentInterrupted, StoppedTogether
from taco.errors import Interrupted
from taco.images import ImageReadError


@pytest.fixture
def photos(transient_photos: Path) -> Path:
    """a.png and b.png, no pause between tries (tests/conftest.py's transient_photos)."""
    return transient_photos


# --------------------------------------------------------------------------- taco.data


def test_enobufs_is_a_read_of_the_moment_and_read_again(photos, monkeypatch, failing_loads):
    """ENOBUFS (buffers short) is one of TRANSIENT_ERRNOS: the photo is read again, not dropped."""
    assert errno.ENOBUFS in TRANSIENT_ERRNOS
    reads = failing_loads({"a.png": [OSError(errno.ENOBUFS, os.strerror(errno.ENOBUFS))]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[0].name == "a.png"
    assert reads == {"a.png": 2} and ds.skipped == 0


def _emfile() -> OSError:
    return OSError(errno.EMFILE, os.strerror(errno.EMFILE))


def test_an_errno_of_the_moment_in_the_context_of_the_cause_is_of_the_moment(photos, monkeypatch):
    """The read error raised from a decoder's error that was itself raised while handling an
    EMFILE (implicit chaining, ``__context__``): still a read of the moment, read again."""
    real = taco.data.load_image
    reads: list[str] = []

    def load(path: Path, **kwargs: object) -> Image.Image:
        reads.append(Path(path).name)
        if len(reads) == 1:
            try:
                try:
                    raise _emfile()
                except OSError:
                    raise ValueError("decoder failed")  # noqa: B904 (its context, as a decoder has it)
            except ValueError as e:
                raise ImageReadError(path, "file is truncated or corrupt") from e
        return real(path, **kwargs)

    monkeypatch.setattr(taco.data, "load_image", load)
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds[0].name == "a.png"
    assert reads == ["a.png", "a.png"] and ds.skipped == 0


def test_the_pause_between_tries_grows(photos, monkeypatch, failing_loads):
    """TRANSIENT_PAUSE_S after the first failure, twice it after the second; none after the last."""
    monkeypatch.setattr(taco.data, "TRANSIENT_PAUSE_S", 0.001)
    pauses: list[float] = []
    monkeypatch.setattr(taco.data.time, "sleep", pauses.append)
    failing_loads({"a.png": [_emfile() for _ in range(taco.data.TRANSIENT_TRIES)]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")])
    with pytest.warns(taco.data.SkippedImageWarning, match="for now"):
        assert ds[0].name == "b.png"
    assert pauses == pytest.approx([0.001 * k for k in range(1, taco.data.TRANSIENT_TRIES)])


def test_a_transient_failure_counts_toward_max_retries(photos, monkeypatch, failing_loads):
    """A photo skipped for the moment is one of the ``max_retries`` failures of the call: with
    max_retries=1 the draw stops there (UnreadableImagesError), as for an unreadable one."""
    failing_loads({"a.png": [_emfile() for _ in range(taco.data.TRANSIENT_TRIES)]})
    ds = CaptionedImages(photos, [CaptionRecord(f"{n}.png", (n,)) for n in ("a", "b")], max_retries=1)
    with pytest.warns(taco.data.SkippedImageWarning, match="for now"), \
            pytest.raises(taco.data.UnreadableImagesError, match="1 unreadable in a row"):
        ds[0]


# --------------------------------------------------------------------------- taco.cli: the first stop


def _command_raising(monkeypatch, first: BaseException, then: BaseException) -> None:
    """``taco info X`` raises ``first``, then ``then`` in its ``finally``."""
    def cmd(args: object) -> int:
        try:
            raise first
        finally:
            raise then

    monkeypatch.setattr("taco.cli.info.cmd_info", cmd)


def test_a_later_stop_that_says_how_far_it_got_is_said_over_an_earlier_bare_one(monkeypatch, capsys):
    _command_raising(monkeypatch, KeyboardInterrupt(), Interrupted(signal.SIGTERM, " at step 4"))
    assert main(["info", "x"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "taco info: stopped by SIGTERM at step 4\n"


def test_a_shared_stop_is_said_over_an_earlier_bare_signal_even_without_progress(monkeypatch, capsys):
    _command_raising(monkeypatch, Interrupted(signal.SIGTERM), StoppedTogether(signal.SIGHUP))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == "taco info: stopped by SIGHUP\n"


def test_a_silent_rank_s_shared_stop_stays_silent_after_a_ctrl_c(monkeypatch, capsys):
    _command_raising(monkeypatch, KeyboardInterrupt(), SilentInterrupted(signal.SIGHUP))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == ""


def test_a_stop_raised_from_an_earlier_one_keeps_the_earlier(monkeypatch, capsys):
    """The chain is followed through ``__cause__`` (``raise ... from stop``) too."""
    def cmd(args: object) -> int:
        raise Interrupted(signal.SIGTERM) from StoppedTogether(signal.SIGHUP, " at step 4")

    monkeypatch.setattr("taco.cli.info.cmd_info", cmd)
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == "taco info: stopped by SIGHUP at step 4\n"


# --------------------------------------------------------------------------- taco.train.run_log


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


# --------------------------------------------------------------------------- taco.train.config


def test_an_architecture_no_plugin_registers_is_still_unknown(monkeypatch):
    """TACO_PLUGINS' modules imported (load_plugins() True) without registering the name: the
    architecture is still unknown, said as building the model says it."""
    import re

    import taco.models.config as model_config
    from taco.train.config import ConfigError, load_config

    monkeypatch.setattr(model_config, "load_plugins", lambda: True)
    with pytest.raises(ConfigError, match=re.escape("model 'elic-tiny': unknown architecture 'foo'")):
        load_config(None, ["model=elic-tiny", "model_overrides={architecture: foo}"])


def test_an_init_file_whose_digest_cannot_be_taken_is_still_known_by_its_name(tmp_path: Path, monkeypatch):
    """The digest recorded, the file unreadable for it (OSError): not the end; the same file by
    name is still the run's weights."""
    import taco.train.config as train_config
    from taco.models import create_model, save_checkpoint
    from taco.train.config import same_init_weights

    src = tmp_path / "src.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)

    def unreadable(path: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(train_config, "weights_digest", unreadable)
    record = {"model_id": "elic-tiny", "trained_steps_total": 0, "sha256": "0" * 64}
    assert same_init_weights(str(src), str(src), record)


# --------------------------------------------------------------------------- taco.models.header


def test_checkpoint_metadata_names_the_run_folders_unreadable_checkpoint(tmp_path: Path, monkeypatch):
    from taco.models import CheckpointError, create_model, save_checkpoint
    from taco.models.header import checkpoint_metadata

    run = tmp_path / "run"
    run.mkdir()
    ckpt = run / "checkpoint.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=0), ckpt)
    opened = Path.open

    def denied(file: Path, *args: object, **kwargs: object):  # noqa: ANN202
        if os.fspath(file) == os.fspath(ckpt):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return opened(file, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(CheckpointError) as caught:
        checkpoint_metadata(run)
    assert str(caught.value) == f"{ckpt}: cannot be read (Permission denied)"


# --------------------------------------------------------------------------- taco.shards.save_sharded


def _shard_tensors(seed: int) -> dict:
    import torch

    g = torch.Generator().manual_seed(seed)
    return {f"layer{i}.weight": torch.randn(64, 64, generator=g) for i in range(6)}  # 3 shards of 40 kB


def test_a_shard_published_before_its_own_write_failed_is_removed_too(monkeypatch, tmp_path: Path):
    """The second shard renamed into place, then its write fails (the folder's fsync): that shard
    is this save's too, and goes with the first; no new shard is left."""
    from taco import shards

    real = shards.write_bytes_atomic
    calls: list = []

    def write(path, data, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            real(path, data, **kwargs)
            raise OSError(errno.EIO, "Input/output error")
        return real(path, data, **kwargs)

    monkeypatch.setattr(shards, "write_bytes_atomic", write)
    with pytest.raises(OSError):
        shards.save_sharded(_shard_tensors(0), tmp_path / "train_state.safetensors", {"step": "1"},
                            max_bytes=40_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_empty_index_left_there_does_not_keep_a_failed_save_s_shards(monkeypatch, tmp_path: Path):
    """An empty index file in place (a leftover) when a save fails at its second shard: the first
    shard is still removed (an index not yet written is never 'published')."""
    from taco import shards

    path = tmp_path / "train_state.safetensors"
    index = Path(str(path) + ".index.json")
    index.write_bytes(b"")
    real = shards.write_bytes_atomic
    calls: list = []

    def write(p, data, **kwargs):
        calls.append(p)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        return real(p, data, **kwargs)

    monkeypatch.setattr(shards, "write_bytes_atomic", write)
    with pytest.raises(OSError):
        shards.save_sharded(_shard_tensors(0), path, {"step": "1"}, max_bytes=40_000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [index.name]
