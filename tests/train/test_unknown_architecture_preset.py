"""An unknown ``model_overrides.architecture`` is said as building the model says it, whatever
the preset: with preset elic it was "preset 'elic' cannot train the foo model 'elic-tiny': it
reads text (text encoder None): train it with --set preset=taco" (the unknown name fell into the
branch of a model that reads text), with a text option "model ... is no TACO model"."""

from __future__ import annotations

import re

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, load_config

UNKNOWN = "model 'elic-tiny': unknown architecture 'foo' (known: taco, elic"


@pytest.mark.parametrize("preset", [[], ["preset=elic"], ["preset=taco"], ["preset=taco-frozen-base"]])
@pytest.mark.parametrize("more", [[], ["model_overrides={architecture: foo, text_injection: film}"]])
def test_an_unknown_architecture_is_said_whatever_the_preset(monkeypatch, preset, more) -> None:
    monkeypatch.delenv("TACO_PLUGINS", raising=False)
    with pytest.raises(ConfigError, match=re.escape(UNKNOWN)) as refused:
        load_config(None, ["model=elic-tiny", "model_overrides={architecture: foo}", *preset, *more])
    assert "reads text" not in str(refused.value) and "no TACO model" not in str(refused.value)


def test_the_cli_says_it(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("TACO_PLUGINS", raising=False)
    (tmp_path / "imgs").mkdir()
    code = taco_main(["train", "--set", f"data.root={tmp_path / 'imgs'}", "preset=elic", "model=elic-tiny",
                      "k_j=0", "model_overrides={architecture: foo}", "--max-steps", "1",
                      "-o", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"taco train: error: {UNKNOWN}"), err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_an_architecture_a_plugin_registers_is_known(register_texty, monkeypatch) -> None:
    """A name not registered yet is looked for in TACO_PLUGINS' modules first, as building the
    model does (here the plugin registers the text-guided ``texty``, which preset elic cannot
    train)."""
    import taco.models.config as model_config

    loaded = []

    def load_plugins() -> bool:
        loaded.append(True)
        register_texty(192, 320)
        return True

    monkeypatch.setattr(model_config, "load_plugins", load_plugins)
    with pytest.raises(ConfigError, match=re.escape(
            "preset 'elic' cannot train the texty model 'elic-tiny': it reads text")):
        load_config(None, ["preset=elic", "model=elic-tiny", "model_overrides={architecture: texty}"])
    assert loaded == [True]
