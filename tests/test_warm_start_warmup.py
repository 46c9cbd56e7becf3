"""The lr warm-up of a warm start (``init_from``): given by ``--set`` or a config file it warms
up over INIT_WARMUP_STEPS unless ``warmup_steps`` is given, as ``--init-from`` does; a resumed
warm-started run reads its own ``warmup_steps`` from its saved state, and falls back to the warm
start's where that state cannot be opened."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taco.cli import main as taco_main
from taco.models import create_model, save_checkpoint
from taco.shards import TRAIN_STATE_FILE
from taco.train.config import INIT_WARMUP_STEPS


def printed(capsys, *argv: str) -> dict:
    assert taco_main(["train", *argv, "--print-config"]) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "w.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), path)
    return path


def test_init_from_by_set_or_config_file_warms_up(checkpoint, tmp_path, capsys):
    out = f"out_dir={tmp_path / 'run'}"
    assert printed(capsys, "--set", f"init_from={checkpoint}", out)["warmup_steps"] == INIT_WARMUP_STEPS
    config = tmp_path / "c.yaml"
    config.write_text(f"init_from: {checkpoint}\n", encoding="utf-8")
    assert printed(capsys, str(config), "--set", out)["warmup_steps"] == INIT_WARMUP_STEPS
    # given for this run: it is taken
    assert printed(capsys, "--set", f"init_from={checkpoint}", "warmup_steps=3", out)["warmup_steps"] == 3
    config.write_text(f"init_from: {checkpoint}\nwarmup_steps: 0\n", encoding="utf-8")
    assert printed(capsys, str(config), "--set", out)["warmup_steps"] == 0
    # no warm start: none
    assert printed(capsys, "--set", "model=elic-tiny", "preset=elic", out)["warmup_steps"] == 0


def test_a_resumed_runs_state_that_cannot_be_opened_leaves_the_warm_up_to_the_warm_start(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run folder holds a training state and no config.yaml: its warm-up is read from the
    state's config. Opening it fails (PermissionError: a user without read permission; root
    reads any file, so a stand-in, for the warm-up's read only): warmup_steps falls back to the
    warm start's, and the state is read again where the resumed run is checked."""
    import taco.train.state as state

    base = tmp_path / "base.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), base)
    run = tmp_path / "run"
    run.mkdir()
    (run / TRAIN_STATE_FILE).write_bytes(b"")  # found; its reads are stood in for below
    config = tmp_path / "mine.yaml"
    config.write_text(f"model: elic-tiny\npreset: elic\ninit_from: {base}\nout_dir: {run}\n",
                      encoding="utf-8")
    reads: list[Path] = []

    def meta(path: Path) -> dict:
        reads.append(Path(path))
        if len(reads) == 1:
            raise PermissionError(13, "Permission denied", str(path))
        return {"config": {"init_from": str(base), "warmup_steps": 7}}

    monkeypatch.setattr(state, "load_train_state_meta", meta)
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == INIT_WARMUP_STEPS
    assert reads[:2] == [run / TRAIN_STATE_FILE] * 2  # the warm-up's read, then the check's
    # read as it is, the run's own warm-up is taken
    reads.clear()
    monkeypatch.setattr(state, "load_train_state_meta",
                        lambda path: {"config": {"init_from": str(base), "warmup_steps": 7}})
    assert printed(capsys, str(config), "--resume")["warmup_steps"] == 7
