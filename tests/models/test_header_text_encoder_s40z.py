"""A checkpoint whose taco header names an unknown text encoder (config.text_encoder {"name":
"clipp"}), an option it does not take, or an option of the wrong kind (seed "x") loaded, and
taco compress then failed without naming the file ('unknown text encoder 'clipp'; known: ...'),
or with a traceback from torch (seed "x"), where an unknown architecture says
'FILE: unknown architecture ...'. Loading it is a CheckpointError naming the file now."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from taco.models import create_model, load_checkpoint, save_checkpoint
from taco.models.config import CheckpointError
from taco.text import text_encoder_from_spec, text_encoder_spec_problem


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "taco-tiny.safetensors"
    save_checkpoint(create_model("taco-tiny", seed=0), path)
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    return path, load_file(str(path)), meta


def _with_encoder(tiny, tmp_path, spec):
    _, tensors, meta = tiny
    header = json.loads(meta["taco"])
    header["config"]["text_encoder"] = spec
    path = tmp_path / "checkpoint.safetensors"
    save_file(tensors, str(path), {**meta, "taco": json.dumps(header)})
    return path


BAD = [
    ({"name": "clipp"}, "unknown text encoder 'clipp'; known: clip, clip-tiny, minilm"),
    ({"name": "clip-tiny", "bogus": 1}, "text encoder 'clip-tiny' takes options ['max_tokens', 'seed'], not ['bogus']"),
    ({"name": "clip-tiny", "seed": "x"}, "text encoder 'clip-tiny': seed must be an integer, not 'x'"),
    ({"name": "clip-tiny", "max_tokens": 0}, "text encoder 'clip-tiny': max_tokens must be an integer >= 2, not '0'"),
    ({"name": "minilm", "path": 3}, "text encoder 'minilm': path must be a folder's path or a hub id, not '3'"),
]


@pytest.mark.parametrize("spec, says", BAD)
def test_loading_it_names_the_file(tiny, tmp_path, spec, says):
    path = _with_encoder(tiny, tmp_path, spec)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(info.value) == f"{path}: invalid model config in the taco header ({says})"


@pytest.mark.parametrize("spec, says", BAD)
def test_the_spec_alone(spec, says):
    assert text_encoder_spec_problem(spec) == says
    with pytest.raises(ValueError, match="text encoder"):
        text_encoder_from_spec(spec)


@pytest.mark.parametrize("spec", [{"name": "clip-tiny"}, {"name": "clip-tiny", "seed": 3, "max_tokens": 32},
                                  {"name": "minilm", "path": Path("/nowhere")}, {"name": "clip", "path": None}])
def test_what_taco_writes_passes(spec):
    assert text_encoder_spec_problem(spec) is None


def test_a_good_checkpoint_still_loads(tiny):
    assert load_checkpoint(tiny[0]).config.text_encoder == {"name": "clip-tiny"}


def test_reading_the_header_alone_refuses_it_without_torch(tiny, tmp_path):
    """The check runs without torch too (it ran only once torch was imported)."""
    path = _with_encoder(tiny, tmp_path, {"name": "clipp"})
    code = ("import sys, json; from taco.models.header import header_config, read_checkpoint_header\n"
            "try:\n    header_config(read_checkpoint_header(sys.argv[1]), sys.argv[1])\n"
            "except ValueError as e:\n    print(type(e).__name__, 'torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.stdout.split() == ["CheckpointError", "False"], run.stderr
