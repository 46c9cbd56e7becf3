"""Regressions of session 33's commits (review R): a TACO_PLUGINS module that fails to import is
said by taco compress in its own words (the early -q check swallowed it, and the import is tried
once per process); a backbone variable-rate only by its class's default qualities is refused
where it is registered or built, not taken for single-rate by the config-reading -q check;
taco evaluate's figure stays OUT/DATASET/rd.png beside a folder named rd; git status runs
without optional locks."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import taco
import taco.cli
from taco.errors import TacoValueError
from taco.evaluation import measure
from taco.models import ELIC, register_architecture

GROUPS = [8, 8, 16, 16]
MESSAGE = r"builds a model with qualities \[0\.001, 0\.004\] from a config with qualities None: put the model's qualities in the config"


def test_compress_says_why_a_taco_plugins_module_cannot_be_imported(tmp_path, monkeypatch, capsys):
    name = f"no_such_plugin_{uuid.uuid4().hex[:8]}"  # a module this process never tried
    monkeypatch.setenv("TACO_PLUGINS", name)
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
    rc = taco.cli.main(["compress", str(image), "-m", "mean-scale-tiny", "-o", str(tmp_path / "t.taco")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert f"taco compress: error: TACO_PLUGINS: cannot import '{name}': ModuleNotFoundError" in err, err
    assert "registers none of that name" not in err and len(err.strip().splitlines()) == 1, err


def test_a_class_variable_rate_by_its_default_is_refused_at_registration(registry_restored):
    class VRDefault(ELIC):
        def __init__(self, N, M, qualities=(0.001, 0.004)):
            super().__init__(N=N, M=M, groups=GROUPS, qualities=qualities)

    with pytest.raises(TacoValueError, match=r"^config 'vrdef-t': the builder of architecture 'vrdef' "
                                             r"\(.*VRDefault\) " + MESSAGE):
        register_architecture("vrdef", VRDefault, textless=True,
                              configs={"vrdef-t": {"N": 16, "M": 48, "groups": GROUPS}})
    # with its qualities in the config it is registered, built and variable-rate
    register_architecture("vrdef", VRDefault, textless=True, configs={
        "vrdef-t": {"N": 16, "M": 48, "groups": GROUPS, "qualities": [0.001, 0.004]}})
    assert taco.create_model("vrdef-t", seed=0).qualities == (0.001, 0.004)


def test_a_builder_functions_model_whose_qualities_are_not_its_configs_is_refused(registry_restored):
    register_architecture("vrfn", lambda config: ELIC(N=16, M=48, groups=GROUPS, qualities=(0.001, 0.004)),
                          textless=True, configs={"vrfn-t": {"N": 16, "M": 48, "groups": GROUPS}})
    with pytest.raises(TypeError, match=r"^the builder of architecture 'vrfn' \(.*<lambda>\) " + MESSAGE):
        taco.create_model("vrfn-t", seed=0)


def test_evaluate_draws_its_figure_beside_a_folder_named_rd(tmp_path, monkeypatch):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    out = tmp_path / "out"
    (out / "photos" / "rd").mkdir(parents=True)
    rc = taco.cli.main(["evaluate", str(photos), "--classic", "jpeg", "--qualities", "jpeg=30,70",
                        "--fid", "off", "--cmmd-clip", "off", "-o", str(out), "--quiet"])
    assert rc == 0
    assert (out / "photos" / "rd.png").is_file() and (out / "photos" / "rd.svg").is_file()
    assert list((out / "photos" / "rd").iterdir()) == []


def test_git_checkout_takes_no_optional_locks(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "taco-codec"\n')
    calls: list[list[str]] = []

    def run(args, **kwargs):
        calls.append(list(args))
        return subprocess.CompletedProcess(args, 0, stdout="# branch.oid abc123\n", stderr="")

    monkeypatch.setattr(measure.subprocess, "run", run)
    assert measure.git_checkout(Path(tmp_path)) == ("abc123", False)
    assert calls and calls[0][:2] == ["git", "--no-optional-locks"] and "status" in calls[0], calls
