"""A checkpoint whose taco header names an unknown text encoder (config.text_encoder {"name":
"clipp"}), an option it does not take, or an option of the wrong kind (seed "x") loaded, and
taco compress then failed without naming the file ('unknown text encoder 'clipp'; known: ...'),
or with a traceback from torch (seed "x"), where an unknown architecture says
'FILE: unknown architecture ...'. Loading it is a CheckpointError naming the file now.

``taco models FILE`` on such a checkpoint showed the model (exit 0): the header's text encoder
entry was checked only once torch was imported. The encoders' table is torch-free now
(taco.text_specs), and reading a header alone refuses such an entry, naming the file, with exit 2
and without importing torch."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

import taco.text
from taco.models import create_model, load_checkpoint, save_checkpoint
from taco.models.config import CheckpointError
from taco.text import text_encoder_from_spec, text_encoder_spec_problem
from taco.text_specs import TEXT_ENCODER_OPTIONS, text_encoder_arguments


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
    ({"name": "clipp"}, "unknown text encoder 'clipp' (did you mean 'clip'?); known: clip, clip-tiny, minilm"),
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


#: What reading a checkpoint's header may not import (tests/test_startup.py's HEAVY).
HEAVY = ("torch", "compressai", "transformers", "scipy", "matplotlib")


@pytest.mark.parametrize(("spec", "says"), [
    ({"name": "clipp"}, "unknown text encoder 'clipp' (did you mean 'clip'?); known: clip, clip-tiny, minilm"),
    ({"name": "clip-tiny", "bogus": 1},
     "text encoder 'clip-tiny' takes options ['max_tokens', 'seed'], not ['bogus']"),
    ({"name": "clip-tiny", "seed": "x"}, "text encoder 'clip-tiny': seed must be an integer, not 'x'"),
])
def test_taco_models_refuses_it_without_torch(probe, tmp_path, tmp_path_factory, with_text_encoder, spec, says):
    path = with_text_encoder(tmp_path_factory.mktemp("bad"), spec)
    r = probe(tmp_path, "models", str(path))
    assert r["code"] == 2, (r["stdout"], r["stderr"])
    assert r["stderr"].strip() == (
        f"taco models: error: {path}: invalid model config in the taco header ({says})")
    assert r["stdout"] == ""
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco models FILE imports {sorted(heavy)}"


def test_a_good_header_is_still_shown(probe, tmp_path, tmp_path_factory, with_text_encoder):
    """(Showing it counts the parameters of its architecture, which imports torch.)"""
    path = with_text_encoder(tmp_path_factory.mktemp("good"),
                         {"name": "clip-tiny", "seed": 3, "max_tokens": 32})
    r = probe(tmp_path, "models", str(path))
    assert r["code"] == 0 and str(path) in r["stdout"], r["stderr"]


def test_the_table_imports_no_torch():
    code = "import sys, taco.text_specs; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.stdout.strip() == "[]", run.stderr


def test_taco_text_builds_each_encoder_of_the_table():
    """One list of names: each in the table is an encoder class whose constructor takes the
    arguments its options name, and each has its width; the check is the same function."""
    classes = {cls.name: cls for cls in (taco.text.CLIPTextEncoder, taco.text.TinyCLIPTextEncoder,
                                         taco.text.MiniLMTextEncoder)}
    assert sorted(classes) == sorted(TEXT_ENCODER_OPTIONS) == sorted(taco.text.TEXT_ENCODER_DIMS)
    for name, options in TEXT_ENCODER_OPTIONS.items():
        assert set(options.values()) <= set(inspect.signature(classes[name].__init__).parameters)
    from taco.text_specs import text_encoder_spec_problem

    assert taco.text.text_encoder_spec_problem is text_encoder_spec_problem
    assert taco.text.build_text_encoder("clip-tiny", max_tokens=8).max_tokens == 8
    with pytest.raises(ValueError, match="unknown text encoder 'clipp'"):
        taco.text.build_text_encoder("clipp")
    with pytest.raises(ValueError, match=r"takes options \['max_tokens', 'path'\], not \['seed'\]"):
        text_encoder_arguments("minilm", {"seed": 1})
