"""Mistakes a backbone's author makes, each one clear error (or warning) where it is made
(review EX): a builder function that returns None or a model whose ``uses_text`` contradicts
its registration, a ``build`` that is not callable, a text-guided config without its text
encoder (it was CLIP, silently), two plugins registering one name, and a plugin module that
fails to import (its file and line were lost)."""

from __future__ import annotations

import sys
import warnings

import pytest

import taco
from taco.errors import TacoWarning
from taco.models import MODEL_CONFIGS, register_architecture
from taco.models.architecture import BUILDERS
from taco.models.config import ARCHITECTURES, PluginError, load_plugins, named_plugins
from taco.models.registry import plugin_hint


@pytest.fixture()
def example(registry_restored, load_script):
    return load_script("examples/mean_scale_backbone.py")


def test_a_builder_function_that_returns_none_is_refused_naming_the_builder(registry_restored):
    def forgot_return(config):
        pass

    register_architecture("no-return", forgot_return, configs={"no-return-t": {"N": 8, "M": 8}})
    with pytest.raises(TypeError) as refused:
        taco.create_model("no-return-t")
    message = str(refused.value)
    assert "the builder of architecture 'no-return'" in message
    assert "forgot_return) returned None (a missing return?)" in message
    assert "is not a subclass of taco.models.ELIC" in message


def test_a_build_that_is_not_callable_is_refused_at_registration(registry_restored):
    tables = list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)
    with pytest.raises(TypeError, match=r"register_architecture\('five'\): build must be a model "
                                        r"class or a function of the config, got int 5"):
        register_architecture("five", 5, configs={"five-t": {"N": 8, "M": 8}})  # type: ignore[arg-type]
    assert (list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)) == tables


def test_a_builder_functions_model_whose_uses_text_contradicts_textless_is_refused(example):
    cls = example.MeanScaleHyperprior  # uses_text False
    register_architecture("ms-text", lambda config: cls(config.N, config.M), textless=False,
                          configs={"ms-text-t": {"N": 8, "M": 8, "text_encoder": {"name": "minilm"}}})
    with pytest.raises(TypeError, match=r"^MeanScaleHyperprior.uses_text is False: register it "
                                        r"with textless=True$"):
        taco.create_model("ms-text-t")
    # the class registered so is refused in the same words
    with pytest.raises(ValueError, match=r"^MeanScaleHyperprior.uses_text is False: register it "
                                         r"with textless=True$"):
        register_architecture("ms-text2", cls, textless=False)


def test_a_text_guided_config_without_text_encoder_is_refused(example):
    cls = example.MeanScaleHyperprior
    tables = list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)
    with pytest.raises(ValueError, match=r"config 'needs-enc-t': a text-guided backbone's config "
                                         r"\(textless=False\) names its text encoder: add "
                                         r'"text_encoder": \{"name": "minilm"\} or \{"name": "clip"\}'):
        register_architecture("needs-enc", lambda config: cls(config.N, config.M), textless=False,
                              configs={"needs-enc-t": {"N": 8, "M": 8}})
    assert (list(ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)) == tables
    # a textless one needs none; the built-ins keep CLIP by default
    register_architecture("no-enc", cls, configs={"no-enc-t": {"N": 8, "M": 8}})
    assert MODEL_CONFIGS["taco"].text_encoder == {"name": "clip"}


def test_registering_a_name_again_with_another_builder_warns(example):
    cls = example.MeanScaleHyperprior

    def first(config):
        return cls(config.N, config.M)

    def second(config):
        return cls(config.N, config.M)

    register_architecture("twice", first, configs={"twice-a": {"N": 8, "M": 8}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_architecture("twice", first)  # the same builder again (a module re-imported): silent
    with pytest.warns(TacoWarning) as caught:
        register_architecture("twice", second, configs={"twice-b": {"N": 8, "M": 8}})
    message = str(caught[0].message)
    assert "architecture 'twice' registered again" in message
    assert "first is replaced by" in message and "second" in message
    assert caught[0].filename == __file__  # blamed on the registering line
    assert BUILDERS["twice"] is second


def test_a_plugin_that_fails_to_import_names_its_file_and_line(tmp_path, monkeypatch):
    plugin = tmp_path / "typo_backbone_ex.py"
    plugin.write_text("import torch.nn as nn\n\n\ndef make():\n    return nn.Conv2D(3, 3, 3)\n\n\n"
                      "TABLE = make()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TACO_PLUGINS", "typo_backbone_ex")
    monkeypatch.delitem(sys.modules, "typo_backbone_ex", raising=False)
    with pytest.raises(PluginError) as refused:
        load_plugins()
    message = str(refused.value)
    assert "cannot import 'typo_backbone_ex': AttributeError:" in message
    assert message.endswith(f"(at {plugin}:5 in make)"), message
    assert "\n" not in message
    assert refused.value.module == "typo_backbone_ex"  # which module, not read back from the message


def test_the_named_plugins_are_read_one_way(monkeypatch):
    """load_plugins, the plugin hint and taco info's decoding_needs all read TACO_PLUGINS through
    named_plugins: in order, each once, blanks and spaces dropped."""
    monkeypatch.setenv("TACO_PLUGINS", " json , ,sys,json,, ")
    assert named_plugins() == ["json", "sys"]
    assert plugin_hint() == "a registered backbone? TACO_PLUGINS=json , ,sys,json,, registers none of that name"
    monkeypatch.setenv("TACO_PLUGINS", "json, no_such_plugin_ex ,no_such_plugin_ex")
    assert plugin_hint().endswith(": 'no_such_plugin_ex' could not be imported")
