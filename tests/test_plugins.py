"""Backbones of one's own: a TACO_PLUGINS module that fails to import is said by taco compress
in its own words (the early -q check swallowed it, and the import is tried once per process); a
backbone variable-rate only by its class's default qualities is refused where it is registered or
built, not taken for single-rate by the config-reading -q check; a model argument that reads as a
path (``./run``, ``x.safetensors``) is looked up without importing the plugins (docs/models.md:
"never otherwise"), so a broken plugin does not stop a checkpoint path."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import taco
import taco.cli
from taco.errors import TacoValueError
from taco.models import ELIC, create_model, register_architecture, save_checkpoint
from taco.models.config import PLUGINS_VARIABLE
from taco.models.registry import classify_model_spec

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


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "w.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=1), path)
    return path


def test_a_path_is_looked_up_without_importing_plugins(checkpoint, monkeypatch, tmp_path):
    monkeypatch.setenv(PLUGINS_VARIABLE, "no_such_plugin_module_s33")
    monkeypatch.chdir(tmp_path)
    for spec in (str(checkpoint), f"./{checkpoint.name}", "./nothing", "x/y.safetensors"):
        classify_model_spec(spec)  # a PluginError if the plugins were imported
    assert classify_model_spec(f"./{checkpoint.name}").kind == "checkpoint"
