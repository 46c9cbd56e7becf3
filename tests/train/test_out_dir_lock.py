"""Two ``taco train`` runs into one out_dir: the second is refused at its start in one line (exit
status 2), before it reads or writes anything there; the first holds the folder to its end (both
used to run and exit 0, the second's files over the first's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import taco
from taco.cli import main as taco_main
from taco.locks import LOCK_FILE, FolderInUse, hold_folder
from taco.train import ConfigError, Trainer, lambda_sweep, load_config

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}
REPO = Path(__file__).resolve().parents[2]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != LOCK_FILE}


def test_a_second_run_is_refused_before_it_touches_the_folder(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(out, max_steps=1, **ELIC)]) == 0
    # what a write killed mid-way leaves: a run that started would remove it (clear_leftovers)
    (out / ".checkpoint.safetensors.tmp-0123abcd").write_bytes(b"half a checkpoint")
    before = _files(out)
    capsys.readouterr()
    with hold_folder(out, "taco train"):
        # without --resume it would be refused for the run the folder holds (a ConfigError),
        # with it it would continue that run: the lock comes before either
        for extra in ([], ["--resume"]):
            argv = ["train", "--set", *tiny(out, max_steps=2, lr=0.01, **ELIC), *extra]
            assert taco_main(argv) == 2
            err = capsys.readouterr().err
            assert err.splitlines() == [
                f"taco train: error: {out} is in use by another taco train (pid {os.getpid()})"]
            assert _files(out) == before
    assert not (out / LOCK_FILE).exists()


def test_a_run_holds_its_folder_from_its_start_to_its_end(tmp_path, tiny, monkeypatch):
    out = tmp_path / "run"
    cfg = load_config(None, tiny(out, max_steps=2, **ELIC))
    trainer = Trainer(cfg)
    with pytest.raises(FolderInUse, match=rf"{out} is in use by another taco train \(pid {os.getpid()}\)"):
        Trainer(cfg)
    step, refused = Trainer.train_step, []

    def step_and_try(self, batch):  # noqa: ANN001, ANN202
        try:
            hold_folder(out, "taco train").release()
        except FolderInUse:
            refused.append(self.progress.step)
        return step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", step_and_try)
    trainer.fit()
    assert refused == [0, 1]  # held at every step
    assert LOCK_FILE not in {p.name for p in out.iterdir()}  # and let go at the end
    # a run refused in its set-up (out_dir holds a run, no --resume) lets the folder go too
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(cfg)
    hold_folder(out, "taco train").release()


def test_each_run_of_a_lambda_sweep_holds_its_own_folder(tmp_path, tiny):
    cfg = load_config(None, tiny(tmp_path / "sweep", max_steps=1, **ELIC))
    taken = tmp_path / "sweep" / "lambda-0.015"
    with hold_folder(taken, "taco train"):
        with pytest.raises(FolderInUse, match=f"{taken} is in use"):
            lambda_sweep(cfg, lambdas=(0.0004, 0.015))
        assert _files(taken) == {}  # the refused run wrote nothing there
    done = tmp_path / "sweep" / "lambda-0.0004" / "checkpoint.safetensors"
    assert taco.load(done).metadata["trained_steps"] == 1


@pytest.mark.slow
def test_under_torchrun_rank_0_holds_the_folder_for_the_job(tmp_path, tiny):
    """Rank 0 alone takes the lock (the other ranks are the same run): a job into a folder in
    use is refused by rank 0, and the other rank says so in one line instead of a traceback."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "taco.train", "--set", *tiny(out, batch_size=1, max_steps=1, **ELIC)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with hold_folder(out, "taco train"):
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode != 0
        assert f"taco train: error: {out} is in use by another taco train (pid {os.getpid()})" in proc.stderr
        assert f"taco train: error: rank 0 could not take {out} for the run; see its error" in proc.stderr
        assert str(REPO / "taco") not in proc.stderr  # no traceback through taco's code
        assert _files(out) == {}
    # free, the same job runs: only rank 0 locks (a rank 1 that also did would refuse itself)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert sorted(_files(out)) == ["checkpoint.safetensors", "config.yaml", "log.jsonl",
                                   "train_state.safetensors"]
