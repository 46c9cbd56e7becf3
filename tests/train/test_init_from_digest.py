"""A warm-started run recorded no digest of the weights it started from,
so ``taco train --resume RUN --init-from COPY``, COPY a byte-identical copy of the run's
``init_from`` file under another path, was refused as other weights (8b3994d: only the same
file passed). The warm start now records the SHA-256 of its source's bytes (``init_from.sha256``
in the run's state and checkpoint), and a resume takes a file with that digest for the run's own
weights; a run without the record (older) refuses a copy as before."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.shards import files, save_sharded
from taco.train.config import same_init_weights, weights_digest
from taco.train.state import load_train_state_meta

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0, "clip_model": "null"}


def refusal(err: str) -> str:
    (line,) = [line for line in err.splitlines() if "error:" in line]
    return line


def test_same_init_weights_by_digest(tmp_path: Path):
    src, other = tmp_path / "src.safetensors", tmp_path / "other.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)
    save_checkpoint(create_model("elic-tiny", seed=4), other)
    copy = tmp_path / "copy.safetensors"
    shutil.copyfile(src, copy)
    assert weights_digest(src) == hashlib.sha256(src.read_bytes()).hexdigest()
    record = {"model_id": "elic-tiny", "trained_steps_total": 0, "sha256": weights_digest(src)}
    assert same_init_weights(str(copy), str(src), record)
    assert not same_init_weights(str(other), str(src), record)
    assert not same_init_weights(str(copy), str(src), {k: record[k] for k in record if k != "sha256"})
    src.unlink()  # the file it started from is gone: its copy is still those weights
    assert same_init_weights(str(copy), str(src), record)


def test_a_sharded_checkpoint_digest_covers_its_shards(tmp_path: Path):
    import torch

    base = tmp_path / "m.safetensors"
    written = save_sharded({f"t{i}": torch.full((1024,), float(i)) for i in range(4)}, base, max_bytes=6000)
    index = base.with_name(base.name + ".index.json")
    shards = [p for p in written if p != index]
    assert index in written and len(shards) > 1
    whole = hashlib.sha256(b"".join(p.read_bytes() for p in files(index))).hexdigest()
    assert files(index)[0] == index and set(files(index)[1:]) == set(shards)
    assert weights_digest(index) == weights_digest(base) == whole


def test_resume_with_a_copy_of_the_init_file(tmp_path: Path, tiny, capsys):
    src = tmp_path / "src.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    run = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(run, **ELIC), "--init-from", str(src),
                      "--max-steps", "1"]) == 0
    assert load_train_state_meta(run / "train_state.safetensors")["init_from"]["sha256"] == digest
    copy = tmp_path / "elsewhere" / "copy.safetensors"
    copy.parent.mkdir()
    shutil.copyfile(src, copy)
    src.unlink()
    capsys.readouterr()
    # was: --init-from .../copy.safetensors starts a new run from other weights (exit 2)
    assert taco_main(["train", "--resume", str(run), "--init-from", str(copy), "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert f"--init-from {copy} holds the weights {run} was started from ({src})" in err
    assert "resuming at step 1" in err
    assert f"init_from: {src}\n" in (run / "config.yaml").read_text()  # the run's own, kept
    meta = load_train_state_meta(run / "train_state.safetensors")
    assert meta["init_from"]["sha256"] == digest and meta["progress"]["step"] == 2
    # other bytes under the copy's name are not
    save_checkpoint(create_model("elic-tiny", seed=4), copy)
    assert taco_main(["train", "--resume", str(run), "--init-from", str(copy), "--max-steps", "3"]) == 2
    assert "starts a new run from other weights" in refusal(capsys.readouterr().err)


def test_a_run_without_the_digest_refuses_a_copy_as_before(tmp_path: Path, tiny, capsys, monkeypatch):
    """A run warm-started before the digest was recorded (here: its record made without it)."""
    import taco.train.model_setup as model_setup

    def unreadable(path: object) -> str:
        raise OSError("not read")

    src = tmp_path / "src.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(model_setup, "weights_digest", unreadable)
        assert taco_main(["train", "--set", *tiny(run, **ELIC), "--init-from", str(src),
                          "--max-steps", "1"]) == 0
    assert "sha256" not in load_train_state_meta(run / "train_state.safetensors")["init_from"]
    copy = tmp_path / "copy.safetensors"
    shutil.copyfile(src, copy)
    capsys.readouterr()
    assert taco_main(["train", "--resume", str(run), "--init-from", str(copy), "--max-steps", "2"]) == 2
    assert "starts a new run from other weights" in refusal(capsys.readouterr().err)
    assert taco_main(["train", "--resume", str(run), "--init-from", str(src), "--max-steps", "2"]) == 0


@pytest.mark.parametrize("given", ["folder", "file"])
def test_a_warm_start_from_a_run_folder_records_its_checkpoint_digest(tmp_path: Path, tiny, capsys, given):
    first = tmp_path / "first"
    assert taco_main(["train", "--set", *tiny(first, **ELIC), "--max-steps", "1"]) == 0
    source = first if given == "folder" else first / "checkpoint.safetensors"
    warm = tmp_path / "warm"
    assert taco_main(["train", "--set", *tiny(warm, **ELIC), "--init-from", str(source),
                      "--max-steps", "1"]) == 0
    record = load_train_state_meta(warm / "train_state.safetensors")["init_from"]
    assert record["sha256"] == hashlib.sha256((first / "checkpoint.safetensors").read_bytes()).hexdigest()
