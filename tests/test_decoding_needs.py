"""What decoding a ``.taco`` file needs, from the model id in its header alone
(:func:`taco.resolve.decoding_needs`): ``taco info`` says it on its last line (and as the JSON key
``decoding_needs``), without importing torch; ``taco decompress`` of a name that is not built in
says the same remedy, with the plugin hint only for an id a backbone may have registered."""

from __future__ import annotations

import json

import pytest

from taco.bitstream import TacoHeader, pack
from taco.cli import main
from taco.models import CheckpointError
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


def _file(tmp_path, model_id: str):
    path = tmp_path / "x.taco"
    path.write_bytes(pack(TacoHeader(model_id, bytes(8), 64, 64, "RGB", quality=0), b"\x01" * 20))
    return path


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
    assert file_model_kind(model_id) == kind
    assert decoding_needs(model_id) == needs
    path = _file(tmp_path, model_id)
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
        "the model that made it: --model FILE; a registered backbone? "
        f"TACO_PLUGINS={module} registers none of that name")
