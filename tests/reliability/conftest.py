"""Fixtures of the reliability suite: the fuzz script loaded as a module, a tiny checkpoint, and
the CLI run as a user runs it (an error is one line, no traceback)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable

import pytest
from safetensors import safe_open


@pytest.fixture(scope="session")
def fuzz(load_script):
    """``scripts/fuzz_decoder.py``: its mutators and its target, exercised in CI."""
    return load_script("scripts/fuzz_decoder.py")


@pytest.fixture(scope="session")
def corpus(fuzz):
    """Seeded tiny models and valid files made with them (see ``fuzz_decoder.Models``)."""
    return fuzz.Models()


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """An elic-tiny checkpoint (seed 0) as written: (file, its tensors, its taco header)."""
    from taco.models import create_model, save_checkpoint

    path = tmp_path_factory.mktemp("ckpt") / "elic-tiny.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=0), path)
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    return path, state, header


@pytest.fixture
def cli(capsys) -> Callable[..., tuple[int, str]]:
    """``cli(*argv)``: run ``taco ARGV``; (status, stderr), checking that an error is one line
    (``taco COMMAND: error: ...``) without a traceback."""
    from taco.cli import main

    def run(*argv: str) -> tuple[int, str]:
        with warnings.catch_warnings(record=True):  # the CLI shows warnings; keep them here
            status = main(list(argv))
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if status == 2:
            errors = [line for line in err.splitlines() if ": error: " in line]
            assert len(errors) == 1 and errors[0].startswith(f"taco {argv[0]}: error: "), err
        return status, err

    return run
