"""What a ``taco train`` killed by SIGKILL left: a temporary of a shard of
the training state (or of a sharded checkpoint) stayed beside the run for good, as did one of
config.yaml or log.jsonl; a resumed run now removes them (only those whose writer is gone)."""

from __future__ import annotations

import errno
import fcntl
from pathlib import Path

import pytest
import torch

import taco
from taco import shards
from taco.cli import main as taco_main
from taco.train.checkpoints import STATE_FILE, clear_leftovers, state_step


def _leftover(target: Path) -> Path:
    """A temporary of ``target`` as a writer killed mid-write leaves it (no lock held)."""
    tmp = target.with_name(f".{target.name}.tmp-0123abcd")
    tmp.write_bytes(b"half a file")
    return tmp


def test_a_killed_shard_writes_temporary_is_removed(tmp_path):
    """F1: killed while shard 2 of 3 was written: its temporary goes, the published run stays."""
    path = tmp_path / shards.TRAIN_STATE_FILE
    written = shards.save_sharded({"w": torch.ones(1000), "v": torch.zeros(1000)}, path, max_bytes=6000)
    stem = path.name.removesuffix(".safetensors")
    tmp = _leftover(tmp_path / f"{stem}-8f836f26-00002-of-00003.safetensors")
    clear_leftovers(tmp_path)
    assert not tmp.exists()
    assert sorted(tmp_path.iterdir()) == sorted(written)


def test_a_shard_temporary_being_written_is_kept(tmp_path):
    """A shard temporary whose writer holds its lock is another process's write in progress."""
    path = tmp_path / "checkpoint.safetensors"
    tmp = _leftover(tmp_path / "checkpoint-8f836f26-00001-of-00002.safetensors")
    with open(tmp, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        shards.remove_stale(path)
        assert tmp.exists()
    shards.remove_stale(path)
    assert not tmp.exists()


def test_killed_config_and_log_writes_temporaries_are_removed(tmp_path):
    """F2: a run killed while it wrote config.yaml or log.jsonl left their temporaries."""
    left = [_leftover(tmp_path / shards.RUN_CONFIG_FILE), _leftover(tmp_path / shards.RUN_LOG_FILE)]
    mine = tmp_path / ".notes.tmp-0123abcd"  # no temporary of a run file
    mine.write_bytes(b"mine")
    clear_leftovers(tmp_path)
    assert not any(t.exists() for t in left)
    assert mine.exists()


ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return shards.load_sharded(out / shards.CHECKPOINT_FILE)[0]


@pytest.mark.parametrize("nth", [1, 2])
def test_a_run_stopped_between_its_state_and_its_checkpoint_resumes_exactly(tmp_path, tiny, fail_writes, nth):
    """F3: the state is written before the checkpoint, so a run killed while it writes its first
    checkpoint (``nth=1``) has a state to resume from (it had a checkpoint and no state: neither
    ``--resume`` nor the same command went on). Killed at its last checkpoint (``nth=2``), the
    finished run's ``--resume`` writes the checkpoint its state is ahead of. Both end as a run
    never stopped."""
    reference = tmp_path / "reference"
    assert taco_main(["train", "--set", *tiny(reference, max_steps=2, ckpt_interval=1, **ELIC)]) == 0
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=2, ckpt_interval=1, **ELIC)
    fail_writes(errno.ENOSPC, nth=nth, once=True, target=shards.CHECKPOINT_FILE)  # once: then room
    assert taco_main(["train", "--set", *overrides]) == 3
    assert state_step(out / STATE_FILE) == nth
    tmp = _leftover(out / shards.CHECKPOINT_FILE)  # what the kill would have left
    assert taco_main(["train", "--set", *overrides, "--resume"]) == 0
    assert not tmp.exists()
    assert taco.load(out / shards.CHECKPOINT_FILE).metadata["trained_steps"] == 2
    mine, theirs = _weights(out), _weights(reference)
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_a_finished_runs_resume_into_another_folder_writes_nothing_there(tmp_path, tiny, fail_writes, capsys):
    """Review R2 F1: ``--resume RUN -o NEWDIR`` of a finished run whose checkpoint lags its state
    wrote NEWDIR/checkpoint.safetensors alone (no config, log or state: NEWDIR was then neither
    resumable nor a new run's folder). The checkpoint is rewritten only in the run's own folder,
    and that is said."""
    out = tmp_path / "run"
    overrides = tiny(out, max_steps=2, ckpt_interval=1, **ELIC)
    fail_writes(errno.ENOSPC, nth=2, once=True, target=shards.CHECKPOINT_FILE)  # its last one
    assert taco_main(["train", "--set", *overrides]) == 3
    new = tmp_path / "new"
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(out), "-o", str(new)]) == 0
    said = capsys.readouterr()
    assert "already finished at step 2" in said.err + said.out
    assert not (new / shards.CHECKPOINT_FILE).exists()
    assert taco.load(out / shards.CHECKPOINT_FILE).metadata["trained_steps"] == 1
    assert taco_main(["train", "--resume", str(out)]) == 0
    said = capsys.readouterr()
    assert "wrote its checkpoint of step 2, which a stop had left behind" in said.err + said.out
    assert taco.load(out / shards.CHECKPOINT_FILE).metadata["trained_steps"] == 2
    assert taco_main(["train", "--resume", str(out)]) == 0
    said = capsys.readouterr()
    assert "; nothing to do" in said.err + said.out
