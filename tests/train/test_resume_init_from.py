"""Review CX-A. (1) ``taco train --resume RUN --init-from OTHER`` printed "init from OTHER" and
recorded it (config.yaml, checkpoint metadata), yet trained on from RUN's saved weights, bit for
bit a plain resume: an ``init_from`` other than the run's own is now refused with --resume, in
one line, before anything is written; the run's own (a warm-started run resumed with its
command) still resumes. (2) ``--lambda-sweep`` with a given ``lmbda`` ignored it in silence: a
note says so. (3) A resume with ``--text-injection`` or ``--freeze-base`` that the saved state
cannot take named ``--set`` or the optimizer, never the flag typed: both name it now."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from taco.cli import build_parser, main as taco_main
from taco.models import create_model, save_checkpoint
from taco.train import train
from taco.train.checkpoints import STATE_FILE
from taco.train.cli import resolve_config
from taco.train.config import ConfigError, load_config

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def _files(folder: Path) -> dict[str, int]:
    return {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}


@pytest.fixture
def runs(tmp_path, tiny, capsys) -> tuple[Path, Path]:
    """(a 1-step elic-tiny run from scratch, another elic-tiny checkpoint)."""
    a, b = tmp_path / "a", tmp_path / "b.safetensors"
    assert taco_main(["train", "--set", *tiny(a, **ELIC), "--max-steps", "1"]) == 0
    save_checkpoint(create_model("elic-tiny", seed=3), b)
    capsys.readouterr()
    return a, b


def test_resume_with_another_init_from_is_refused(runs, capsys):
    a, b = runs
    before = _files(a)
    for given, argv in (("--init-from", ["--init-from", str(b)]),
                        ("init_from", ["--set", f"init_from={b}"])):
        assert taco_main(["train", "--resume", str(a), *argv, "--max-steps", "2"]) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line == (
            f"taco train: error: {given} {b} starts a new run from other weights, and --resume "
            f"continues {a} from its own (it was started from scratch): drop {given} to resume "
            "the run, or start a new run from those weights without --resume, in another --out-dir"
        )
        assert _files(a) == before  # nothing written: no config.yaml recording init_from b

    # the library refuses it too (its weights would never be used)
    cfg = dataclasses.replace(load_config(a / "config.yaml"), init_from=str(b), max_steps=2)
    with pytest.raises(ConfigError, match=r"^init_from .* starts a new run from other weights"):
        train(cfg, resume=a)
    assert _files(a) == before


def test_resume_of_a_warm_started_run_with_its_own_init_from(runs, tiny, tmp_path, capsys):
    a, _ = runs
    warm = tmp_path / "warm"
    assert taco_main(["train", "--set", *tiny(warm, **ELIC), "--init-from", str(a),
                      "--max-steps", "1"]) == 0
    capsys.readouterr()
    # the same source, written another way (a trailing slash): resumes, without a warning
    assert taco_main(["train", "--resume", str(warm), "--init-from", f"{a}/", "--max-steps", "2"]) == 0
    err = capsys.readouterr().err
    assert "resuming at step 1" in err and "different configuration" not in err
    # a run stopped before its first state starts again from those weights: not refused
    fresh = tmp_path / "fresh"
    shutil.copytree(warm, fresh)
    (fresh / STATE_FILE).unlink()
    (fresh / "checkpoint.safetensors").unlink()
    assert taco_main(["train", "--resume", str(fresh), "--init-from", str(a), "--max-steps", "1",
                      "--print-config"]) == 0


def test_lambda_sweep_notes_an_unused_lmbda(tmp_path):
    def notes_of(*argv: str) -> list[str]:
        notes: list[str] = []
        resolve_config(build_parser(["train"]).parse_args(["train", *argv]), notes)
        return notes

    assert notes_of("--lambda-sweep", "--set", "model=elic-tiny", "preset=elic", "lmbda=0.05") == [
        "lmbda 0.05 is unused: --lambda-sweep trains one run per λ of the paper's six "
        "(0.0004, 0.0008, 0.0016, 0.004, 0.009, 0.015)"
    ]
    assert notes_of("--lambda-sweep", "--set", "model=elic-tiny", "preset=elic") == []
    assert notes_of("--set", "model=elic-tiny", "preset=elic", "lmbda=0.05") == []


def test_resume_names_the_flag_its_state_cannot_take(tmp_path, tiny, capsys):
    run = tmp_path / "run"
    assert taco_main(["train", "--set", *tiny(run, k_j=0), "--max-steps", "1"]) == 0
    capsys.readouterr()
    before = _files(run)
    assert taco_main(["train", "--resume", str(run), "--text-injection", "tgic",
                      "--max-steps", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "to resume the run, drop --text-injection (or model_overrides.text_injection" in line
    assert taco_main(["train", "--resume", str(run), "--freeze-base", "--max-steps", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"taco train: error: {run / STATE_FILE}: the run was trained with preset 'taco' and this "
        "config asks for 'taco-frozen-base' (--freeze-base), which trains other parameters than "
        "its saved optimizer: to resume the run, drop --freeze-base; to train that, start a new "
        "run (without --resume, in another --out-dir)"
    )
    assert _files(run) == before
