"""``init_from`` looks its argument up as ``--model`` does (classify_model_spec: a name taco
knows before a file or folder of the same name), and the settings and the weights of a warm
start come from the same file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from taco.models import CheckpointError, create_model, save_checkpoint
from taco.train.config import init_from_file, init_source
from taco.train.model_setup import init_from_checkpoint


@pytest.fixture()
def run_named_elic_tiny(tmp_path, monkeypatch) -> Path:
    """./elic-tiny: a training run's folder holding a trained (seed-1) elic-tiny."""
    monkeypatch.chdir(tmp_path)
    return save_checkpoint(create_model("elic-tiny", seed=1), Path("elic-tiny") / "checkpoint.safetensors")


def test_an_architecture_name_beside_a_run_of_that_name_is_refused_with_the_note(run_named_elic_tiny):
    """The settings were read from ./elic-tiny while the weights' load took the name and
    refused it; now both refuse the name, and say ./elic-tiny gives the run."""
    for step in (init_from_file, init_source,
                 lambda name: init_from_checkpoint(create_model("elic-tiny"), name)):
        with pytest.raises(CheckpointError, match="architecture without trained weights") as e:
            step("elic-tiny")
        assert "give ./elic-tiny to use that checkpoint" in str(e.value)


@pytest.mark.parametrize("given", ["./elic-tiny", Path("elic-tiny")], ids=["dot-slash", "pathlib"])
def test_the_run_given_as_a_path_initialises(run_named_elic_tiny, given):
    assert init_from_file(given) == run_named_elic_tiny
    assert init_source(given)[0].architecture == "elic"
    model = create_model("elic-tiny", seed=0)
    init_from_checkpoint(model, given)
    trained = create_model("elic-tiny", seed=1).state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in model.state_dict().items())


def test_a_builtin_name_beside_a_folder_of_its_name_is_the_builtin(run_named_elic_tiny, tmp_path):
    """elic-small-q4 is the shipped model even where ./elic-small-q4 holds an elic-tiny."""
    save_checkpoint(create_model("elic-tiny", seed=1), Path("elic-small-q4") / "checkpoint.safetensors")
    assert init_from_file("elic-small-q4").name == "elic-small-q4.safetensors"
    assert init_source("elic-small-q4")[0].N == 48
    model = create_model("elic-small", layout="compressai")  # the shipped ones'
    init_from_checkpoint(model, "elic-small-q4")
    assert model.metadata["init_from"]["model_id"] == "elic-small-q4"
