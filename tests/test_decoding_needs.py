"""What decoding a ``.taco`` file needs, from the model id and the weights' fingerprint in its
header (:func:`taco.resolve.decoding_needs`): ``taco info`` says it on its last line (and as the
JSON key ``decoding_needs``), without importing torch (a built-in's fingerprint is recorded in
its registry entry); ``taco decompress`` of a name that is not built in says the same remedy,
with the plugin hint only for an id a backbone may have registered."""

from __future__ import annotations

import json

import pytest

from taco.bitstream import TacoHeader, pack
from taco.cli import main
from taco.models import PRETRAINED, CheckpointError
from taco.resolve import (
    DEFAULT_MODEL,
    IMPORTED_MODEL_IDS,
    decoding_needs,
    file_model_kind,
    resolve_model,
)

HINT = "a registered backbone? import its module (or name it in TACO_PLUGINS)"


@pytest.fixture(autouse=True)
def _no_plugins(monkeypatch):
    monkeypatch.delenv("TACO_PLUGINS", raising=False)


def _file(tmp_path, model_id: str, fingerprint: bytes = bytes(8)):
    path = tmp_path / "x.taco"
    path.write_bytes(pack(TacoHeader(model_id, fingerprint, 64, 64, "RGB", quality=0), b"\x01" * 20))
    return path


def _builtin(name: str) -> bytes:
    """The weights' fingerprint recorded for built-in ``name``."""
    return bytes.fromhex(PRETRAINED[name].fingerprint)


@pytest.mark.parametrize(("model_id", "kind", "needs"), [
    ("elic-small-q4", "pretrained", "nothing: the built-in trained model 'elic-small-q4'"),
    ("taco-minilm-tiny", "architecture",
     "nothing if the untrained seed-0 weights of the architecture 'taco-minilm-tiny' made it, else "
     "the checkpoint of it that did: --model FILE"),
    ("", "none", f"taco's default model {DEFAULT_MODEL!r} (model code 0: no model id), else the "
     "model that made it: --model FILE"),
    ("taco-official", "imported",
     "the authors' checkpoint that taco import-checkpoint saved (its .safetensors): --model FILE"),
    ("elic-official", "imported",
     "the authors' checkpoint that taco import-checkpoint saved (its .safetensors): --model FILE"),
    ("elic-small+custom", "custom",
     "the checkpoint that made it (a model of 'elic-small' built with changed options): --model FILE"),
    ("custom", "custom",
     "the checkpoint that made it (a model built from a bare config, without a name): --model FILE"),
    ("my-model", "other", f"the model that made it: --model FILE; {HINT}"),
    ("runs/a.safetensors", "other", "the model that made it: --model FILE"),  # no backbone's name
])
def test_what_a_model_id_needs(tmp_path, capsys, model_id, kind, needs):
    fingerprint = _builtin(model_id) if kind == "pretrained" else bytes(8)  # the built-in's weights
    assert file_model_kind(model_id) == kind
    assert decoding_needs(model_id, fingerprint) == needs
    path = _file(tmp_path, model_id, fingerprint)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoding_needs"] == needs
    assert main(["info", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{'decoding_needs':>18}: {needs}"


def test_the_import_ids_are_the_ones_import_checkpoint_gives():
    import inspect

    from taco.official import checkpoint

    source = inspect.getsource(checkpoint.import_checkpoint)
    assert '"elic-compressai" if compressai else f"{config.architecture}-official"' in source
    assert set(IMPORTED_MODEL_IDS) == {"elic-compressai", "taco-official", "elic-official"}


@pytest.mark.parametrize(("model_id", "needs"), [
    ("taco-official", "the authors' checkpoint that taco import-checkpoint saved (its .safetensors): "),
    ("elic-small+custom", "the checkpoint that made it (a model of 'elic-small' built with changed options): "),
    ("my-model", "the model that made it: "),
])
def test_decompress_says_the_remedy_of_each_kind(model_id, needs):
    with pytest.raises(CheckpointError) as refused:  # the name a .taco file gives
        resolve_model(model_id, names_only=True)
    both = "taco decompress --model FILE, or in Python taco.decompress(data, taco.load(FILE))"
    hint = f"; {HINT}" if model_id == "my-model" else ""
    assert str(refused.value) == (f"this file names model {model_id!r}, which is not a built-in "
                                  f"model: decode it with {needs}{both}{hint}")


def test_info_of_a_name_not_built_in_imports_no_torch(probe, tmp_path):
    path = _file(tmp_path, "my-model")
    r = probe(tmp_path, "info", str(path))
    assert r["code"] == 0 and f"decoding_needs: the model that made it: --model FILE; {HINT}" in r["stdout"]
    assert not {"torch", "numpy", "PIL"} & set(r["modules"])


def test_a_broken_plugin_module_does_not_stop_info(tmp_path, monkeypatch, capsys):
    import uuid

    module = f"broken_backbone_{uuid.uuid4().hex}"  # a name no run imported before: it fails now
    (tmp_path / f"{module}.py").write_text("raise RuntimeError('broken')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TACO_PLUGINS", module)
    path = _file(tmp_path, "my-model")
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoding_needs"] == (
        f"the model that made it: --model FILE; TACO_PLUGINS: cannot import {module!r}: "
        f"RuntimeError: broken (at {tmp_path / module}.py:1 in <module>)")


def _files(tmp_path, model_id: str, count: int) -> list[str]:
    """``count`` distinct .taco files naming ``model_id`` (in folders 0, 1, ...)."""
    paths = []
    for i in range(count):
        (tmp_path / str(i)).mkdir()
        paths.append(str(_file(tmp_path / str(i), model_id)))
    return paths


def test_info_says_a_plugin_module_that_cannot_be_imported(tmp_path, monkeypatch, capsys):
    """TACO_PLUGINS naming a module that is not importable: taco info said "a registered
    backbone? TACO_PLUGINS=X registers none of that name", blaming a module it never imported;
    it now says why the import failed, as taco decompress does, for each file (the import is
    tried once a process), in text and in --json."""
    import uuid

    module = f"missing_backbone_{uuid.uuid4().hex}"
    monkeypatch.setenv("TACO_PLUGINS", module)
    needs = (f"the model that made it: --model FILE; TACO_PLUGINS: cannot import {module!r}: "
             f"ModuleNotFoundError: No module named {module!r}")
    paths = _files(tmp_path, "bm-unknown", 2)
    assert main(["info", *paths]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "decoding_needs" in line]
    assert lines == [f"{'decoding_needs':>18}: {needs}"] * 2
    assert main(["info", *paths, "--json"]) == 0
    assert [json.loads(line)["decoding_needs"] for line in capsys.readouterr().out.splitlines()] == [needs] * 2
    assert decoding_needs("bm-unknown") == needs
    monkeypatch.setenv("TACO_PLUGINS", "json")  # a module that imports and registers nothing
    assert decoding_needs("bm-unknown") == (
        "the model that made it: --model FILE; a registered backbone? TACO_PLUGINS=json "
        "registers none of that name")


def test_a_plugin_failure_raised_elsewhere_is_not_called_registering_none(monkeypatch):
    """A TACO_PLUGINS module whose import failed where a model was looked up (taco.load, taco
    decompress: PluginError) is not tried again in the process: what is said of a name after
    it does not claim that the module registers none of it."""
    import uuid

    from taco.models import PluginError, load

    module = f"missing_backbone_{uuid.uuid4().hex}"
    monkeypatch.setenv("TACO_PLUGINS", module)
    with pytest.raises(PluginError, match=f"cannot import {module!r}"):
        load("bm-unknown")
    assert decoding_needs("bm-unknown") == (
        f"the model that made it: --model FILE; a registered backbone? TACO_PLUGINS={module}: "
        f"{module!r} could not be imported")


def test_info_with_a_plugin_module_that_cannot_be_imported_imports_no_torch(probe, tmp_path, monkeypatch):
    monkeypatch.setenv("TACO_PLUGINS", "missing_backbone_for_the_probe")
    r = probe(tmp_path, "info", str(_file(tmp_path, "bm-unknown")))
    assert r["code"] == 0, r["stderr"]
    assert ("decoding_needs: the model that made it: --model FILE; TACO_PLUGINS: cannot import "
            "'missing_backbone_for_the_probe': ModuleNotFoundError: No module named "
            "'missing_backbone_for_the_probe'") in r["stdout"]
    assert not {"torch", "numpy", "PIL"} & set(r["modules"])


def test_each_recorded_builtin_fingerprint_is_the_loaded_one():
    """The fingerprint recorded beside each built-in's SHA-256 is the one its loaded weights have
    (the one its files carry): a built-in re-trained or re-shipped cannot keep a stale one (taco
    info would say "nothing" of files its former weights made, and of none it makes)."""
    from taco.models import load_builtin, model_fingerprint

    for name, entry in PRETRAINED.items():
        assert len(entry.fingerprint) == 16, f"{name}: record its fingerprint in taco/models/registry.py"
        assert model_fingerprint(load_builtin(name)).hex() == entry.fingerprint, name


@pytest.mark.parametrize("name", ["taco-minilm-small-q4", "elic-small-q3"])
def test_a_builtin_name_with_other_weights_needs_their_checkpoint(tmp_path, capsys, name):
    """A file naming a built-in but made with other weights (taco train --set model_id=NAME, or
    a file of a built-in since re-trained): taco info said "nothing: the built-in trained model",
    and taco decompress then refused it ("made with other weights of NAME"); it now says the
    checkpoint that made it is needed, as taco decompress does."""
    needs = (f"the checkpoint that made it (other weights than those of the built-in {name!r}): "
             "--model FILE")
    assert decoding_needs(name, bytes(8)) == needs
    path = _file(tmp_path, name)
    assert main(["info", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoding_needs"] == needs
    assert main(["info", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{'decoding_needs':>18}: {needs}"
    assert main(["decompress", str(path), "-o", str(tmp_path / "x.png")]) == 2  # as it refuses
    assert f"made with other weights of {name!r}" in capsys.readouterr().err


def test_former_weights_of_a_builtin_are_said_where_they_are(monkeypatch):
    from taco.models import registry

    monkeypatch.setattr(registry, "REPLACED", {"00" * 8: ("elic-small-q4", "abc1234")})
    git = "git show abc1234:taco/assets/models/elic-small-q4.safetensors > elic-small-q4.safetensors, "
    assert decoding_needs("elic-small-q4", bytes(8)) == (
        f"the former weights of 'elic-small-q4', which shipped up to commit abc1234: {git}then give "
        "that file as the model (--model elic-small-q4.safetensors)")
    assert decoding_needs("elic-small-q3", bytes(8)).startswith("the checkpoint that made it (other weights")


def test_a_builtin_without_a_known_fingerprint_is_hedged(monkeypatch):
    """Without the file's fingerprint, or for a built-in whose entry records none (a plugin's),
    "nothing" is said with an if."""
    import dataclasses

    hedge = ("nothing if the built-in trained model 'elic-small-q4' made it, else the checkpoint "
             "that did: --model FILE")
    assert decoding_needs("elic-small-q4") == hedge
    entry = dataclasses.replace(PRETRAINED["elic-small-q4"], fingerprint="")
    monkeypatch.setitem(PRETRAINED, "elic-small-q4", entry)
    assert decoding_needs("elic-small-q4", bytes(8)) == hedge


@pytest.mark.parametrize("fingerprint", [None, bytes(8)])
def test_info_of_a_builtin_name_imports_no_torch(probe, tmp_path, fingerprint):
    fingerprint = fingerprint or _builtin("taco-minilm-small-q4")
    path = _file(tmp_path, "taco-minilm-small-q4", fingerprint)
    r = probe(tmp_path, "info", str(path))
    said = ("nothing: the built-in trained model" if fingerprint != bytes(8) else
            "the checkpoint that made it (other weights than those of the built-in")
    assert r["code"] == 0 and f"decoding_needs: {said}" in r["stdout"]
    assert not {"torch", "numpy", "PIL"} & set(r["modules"])


def test_each_plugin_module_that_failed_is_said_until_it_is_imported(monkeypatch):
    """TACO_PLUGINS naming two modules that cannot be imported: what decoding a file needs says
    why each failed, one after the other (by the second file: the import is tried once a
    process); a module imported since (by the program itself) is
    no longer said to have failed."""
    import sys
    import types
    import uuid

    first, second = (f"missing_backbone_{uuid.uuid4().hex}" for _ in range(2))
    monkeypatch.setenv("TACO_PLUGINS", f"{first},{second}")
    said = [f"TACO_PLUGINS: cannot import {name!r}: ModuleNotFoundError: No module named {name!r}"
            for name in (first, second)]
    assert said[0] in decoding_needs("bm-unknown")  # the import of the next is tried for the next file
    assert decoding_needs("bm-unknown") == f"the model that made it: --model FILE; {said[0]}; {said[1]}"
    monkeypatch.setitem(sys.modules, first, types.ModuleType(first))
    assert decoding_needs("bm-unknown") == f"the model that made it: --model FILE; {said[1]}"
