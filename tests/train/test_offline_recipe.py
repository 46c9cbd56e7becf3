"""What a pip-installed taco (no configs/, no network) trains with: the recipe at the end of
``taco train --help`` runs as printed, a missing CLIP text encoder is said before the data is
read and names what applies to training, and the data loader never asks for more worker
processes than there are CPUs."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

import taco
from taco.cli import main as taco_main
from taco.devices import usable_cpus
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train.cli import EPILOG
from taco.train.trainer import loader_workers


def train_main(argv: list[str]) -> int:
    """``taco train ARGV``."""
    return taco_main(["train", *argv])


def _recipe() -> list[str]:
    line = next(line for line in EPILOG.splitlines() if line.strip().startswith("taco train --set"))
    return shlex.split(line.split("#")[0])[2:]


def test_help_ends_with_the_config_free_recipe(capsys):
    with pytest.raises(SystemExit):
        taco_main(["train", "--help"])
    out = capsys.readouterr().out
    assert "taco train --set data.root=PHOTOS model=taco-minilm-small k_j=0" in out
    assert "--resume runs/mine" in out and "preset=elic" in out and "TACO_CLIP_PATH" in out


def test_the_recipe_trains_offline(tmp_path, capsys, monkeypatch):
    """As printed, on a copy of the sample photos, made tiny (64 px crops, one step), with no
    CLIP anywhere and the Hugging Face hub off."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TACO_CLIP_PATH", str(tmp_path / "no-clip-here"))
    shutil.copytree(SAMPLES, tmp_path / "photos")
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("PHOTOS", "photos") for a in _recipe()]
    assert train_main([*argv, "--max-steps", "1", "--set", "crop=64", "progress=false"]) == 0
    model = taco.load(tmp_path / "runs" / "mine" / "checkpoint.safetensors")
    assert model.metadata["config"]["model"] == "taco-minilm-small"
    assert model.metadata["trained_steps"] == 1


def test_a_missing_clip_text_encoder_is_said_before_the_data(tmp_path, capsys, monkeypatch):
    """The default model reads captions with CLIP: where CLIP is not, the error comes before the
    data is read (here: a folder without photos; a folder that is not there at all is said
    first, checked by its name alone), names TACO_CLIP_PATH (training has no --clip-path) and
    the models that need no CLIP."""
    monkeypatch.setenv("TACO_CLIP_PATH", str(tmp_path / "no-clip-here"))
    out = tmp_path / "run"
    (tmp_path / "empty-photos").mkdir()
    assert train_main(["--set", f"data.root={tmp_path / 'empty-photos'}", "k_j=0",
                       f"out_dir={out}"]) == 2
    err = capsys.readouterr().err
    assert "CLIP" in err and "TACO_CLIP_PATH" in err and "--set model=taco-minilm-small" in err
    assert "empty-photos" not in err and not out.exists()


def test_loader_workers_are_capped_at_the_cpus():
    cpus = usable_cpus()
    assert cpus >= 1
    assert loader_workers(0) == 0 and loader_workers(1) == 1
    assert loader_workers(cpus + 3) == cpus


def _uncaptioned_recipe() -> list[str]:
    """The command docs/training.md gives for photos without captions (the first code span or
    line after 'Photos without captions' that sets preset=elic), as taco train's arguments."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    after = text[text.index("Photos\nwithout captions"):]
    for m in re.finditer(r"`([^`\n]+)`|^(taco train .+)$", after, re.M):
        command = m.group(1) or m.group(2)
        if "preset=elic" in command:
            return shlex.split(command.removeprefix("taco train"))
    raise AssertionError("docs/training.md gives no preset=elic command for photos without captions")


def test_the_uncaptioned_recipe_in_the_docs_trains_offline(tmp_path, monkeypatch):
    """docs/training.md's text-free recipe, as written (PHOTOS: a copy of the sample photos
    without their captions), trains one step with no CLIP anywhere: without k_j=0 it stopped
    at once for want of CLIP."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TACO_CLIP_PATH", str(tmp_path / "no-clip-here"))
    shutil.copytree(SAMPLES, tmp_path / "photos", ignore=shutil.ignore_patterns("*.jsonl", "*.txt"))
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("PHOTOS", "photos") for a in _uncaptioned_recipe()]
    if not any(a.startswith("data.root=") for a in argv):  # a bare --set to add to the recipe
        argv += ["--set", "data.root=photos"]
    if "--out-dir" not in argv:
        argv += ["--out-dir", "run"]
    assert train_main([*argv, "--max-steps", "1", "--set", "crop=64", "progress=false"]) == 0
    out = tmp_path / argv[argv.index("--out-dir") + 1]
    assert taco.load(out / "checkpoint.safetensors").metadata["trained_steps"] == 1
