"""settings_from_init's note names the --set keys of exactly the settings it took from
``init_from`` (recorded as each is taken, not re-derived afterwards)."""

from __future__ import annotations

import pytest

from taco.models import create_model, save_checkpoint
from taco.train.config import settings_from_init


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "single.safetensors"
    return save_checkpoint(create_model("elic-tiny", seed=0), path, metadata={"lambda": 0.002})


def test_the_note_names_each_setting_taken(single):
    values, notes = settings_from_init({"init_from": str(single)})
    assert (values["model"], values["lmbda"]) == ("elic-tiny", 0.002)
    assert notes == [f"model elic-tiny and λ=0.002 from init_from {single}, as it was trained "
                     "(--set model=... lmbda=... to change)"]
    _, notes = settings_from_init({"init_from": str(single), "model": "elic-tiny"})
    assert notes == [f"λ=0.002 from init_from {single}, as it was trained (--set lmbda=... to change)"]
    assert settings_from_init({"init_from": str(single), "model": "elic-tiny", "lmbda": 0.01})[1] == []
