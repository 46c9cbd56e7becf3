"""taco.train.config's reading of a run's values: run_qualities (the qualities a run's config gives
its model), an architecture no plugin registers still unknown, and an init file whose digest cannot
be taken still known by its name;
``taco train --print-config`` prints the YAML once."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from taco.models import MODEL_CONFIGS
from taco.train.config import run_qualities


def test_run_qualities_an_explicit_none() -> None:
    vr = MODEL_CONFIGS["taco-minilm-vr"].qualities
    assert isinstance(vr, list | tuple) and vr
    # a top-level qualities: None is as if unset: the model's
    assert run_qualities({"qualities": None, "model": "taco-minilm-vr"}) == vr
    # model_overrides' qualities: None makes the model single-rate
    assert run_qualities({"model_overrides": {"qualities": None}, "model": "taco-minilm-vr"}) is None
    assert run_qualities({"model_overrides": {"qualities": [0.01]}, "model": "taco"}) == [0.01]


def test_an_architecture_no_plugin_registers_is_still_unknown(monkeypatch):
    """TACO_PLUGINS' modules imported (load_plugins() True) without registering the name: the
    architecture is still unknown, said as building the model says it."""
    import re

    import taco.models.config as model_config
    from taco.train.config import ConfigError, load_config

    monkeypatch.setattr(model_config, "load_plugins", lambda: True)
    with pytest.raises(ConfigError, match=re.escape("model 'elic-tiny': unknown architecture 'foo'")):
        load_config(None, ["model=elic-tiny", "model_overrides={architecture: foo}"])


def test_an_init_file_whose_digest_cannot_be_taken_is_still_known_by_its_name(tmp_path: Path, monkeypatch):
    """The digest recorded, the file unreadable for it (OSError): not the end; the same file by
    name is still the run's weights."""
    import taco.train.config as train_config
    from taco.models import create_model, save_checkpoint
    from taco.train.config import same_init_weights

    src = tmp_path / "src.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=3), src)

    def unreadable(path: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(train_config, "weights_digest", unreadable)
    record = {"model_id": "elic-tiny", "trained_steps_total": 0, "sha256": "0" * 64}
    assert same_init_weights(str(src), str(src), record)


def test_print_config_is_the_yaml_once_ending_in_one_newline(tmp_path, capsys) -> None:
    from pathlib import Path

    from taco.cli import main

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    assert main(["train", str(smoke), "-o", str(tmp_path / "run"), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and not out.endswith("\n\n")  # as dump_config writes it, no blank line
