"""``taco models FILE`` on a checkpoint whose header names an unknown text encoder, an option it
does not take or a seed that is a string showed the model (exit 0): the header's text encoder
entry was checked only once torch was imported (taco.models.header.header_config looked at
``sys.modules``), as the encoders' table lived in taco.text, which imports torch. The table is
torch-free now (taco.text_specs), and reading a header alone refuses such an entry, naming the
file, with exit 2 and without importing torch."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest

import taco.text
from taco.text_specs import TEXT_ENCODER_OPTIONS, text_encoder_arguments

#: What reading a checkpoint's header may not import (tests/test_startup.py's HEAVY).
HEAVY = ("torch", "compressai", "transformers", "scipy", "matplotlib")


@pytest.mark.parametrize(("spec", "says"), [
    ({"name": "clipp"}, "unknown text encoder 'clipp'; known: clip, clip-tiny, minilm"),
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
