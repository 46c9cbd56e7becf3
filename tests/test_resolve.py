"""The one ``--model`` resolver: built-in names, checkpoints (plain and sharded), architectures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from taco.bitstream import TacoFormatError
from taco.models import CheckpointError, create_model, model_fingerprint, save_checkpoint
from taco.resolve import DEFAULT_MODEL, resolve_model
from taco.samples import SAMPLES_DIR

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


def test_default_is_the_trained_builtin():
    r = resolve_model()
    assert (r.spec, r.trained, r.checkpoint, r.note) == (DEFAULT_MODEL, True, None, None)
    assert r.model.model_id == DEFAULT_MODEL and not r.model.training


def test_architecture_is_its_untrained_seed_0_model():
    r = resolve_model("elic-tiny")
    assert not r.trained and "no trained weights" in r.note
    assert model_fingerprint(r.model) == model_fingerprint(create_model("elic-tiny", seed=0))


def test_checkpoints_plain_and_sharded(tmp_path, tiny_elic):
    plain = save_checkpoint(tiny_elic, tmp_path / "plain.safetensors")
    r = resolve_model(str(plain))
    assert r.trained and r.checkpoint == plain
    name = tmp_path / "sharded.safetensors"
    save_checkpoint(tiny_elic, name, max_shard_bytes=1_000_000)
    assert not name.exists()  # shards and an index only
    r = resolve_model(str(name))
    assert r.trained and r.checkpoint == tmp_path / "sharded.safetensors.index.json"
    assert model_fingerprint(r.model) == model_fingerprint(tiny_elic)


def test_unknown_name_is_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint file nor a built-in model"):
        resolve_model("no-such-model")
    with pytest.raises(CheckpointError, match="missing.safetensors: no such checkpoint file$"):
        resolve_model(str(tmp_path / "missing.safetensors"))


def test_a_retired_builtin_says_where_its_checkpoint_is(tmp_path, monkeypatch, capsys, elic_checkpoint):
    """A built-in that left the package (issue 14) keeps its name in files; the library and the
    CLI say, in one line, where its checkpoint is rather than suggest an untrained architecture."""
    import taco
    from taco.bitstream.container import BUILTIN_MODEL_IDS
    from taco.cli import main
    from taco.models import PRETRAINED, RETIRED, load

    name = "elic-small-q4"  # a name with a one-byte code (kept forever), whatever ships today
    assert name in BUILTIN_MODEL_IDS
    model = load(elic_checkpoint)
    model.model_id = name
    data = taco.compress(Image.open(CHELSEA).convert("RGB").crop((0, 0, 64, 64)), None, model)
    path = tmp_path / "old.taco"
    path.write_bytes(data)
    monkeypatch.delitem(PRETRAINED, name, raising=False)
    monkeypatch.setitem(RETIRED, name, "0123abc")
    where = f"git show 0123abc:taco/assets/models/{name}.safetensors > {name}.safetensors"
    with pytest.raises(TacoFormatError, match=f"made with model '{name}': '{name}' was a built-in"):
        taco.decompress(data)
    with pytest.raises(CheckpointError, match="no longer ships") as e:
        resolve_model(name)
    assert where in str(e.value) and "did you mean" not in str(e.value)
    with pytest.raises(CheckpointError, match="no longer ships"):
        load(name)
    assert main(["decompress", str(path), "-o", str(tmp_path / "old.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and where in err
    assert np.array_equal(np.asarray(taco.decompress(data, model)),  # with its checkpoint: decodes
                          np.asarray(taco.decompress(data, load(elic_checkpoint))))


def test_in_python_the_model_object_that_coded_a_file_is_named(tmp_path, capsys):
    """In a notebook a file coded by create_model('elic-tiny', seed=1), never saved, was told to
    decode with a checkpoint (and, for a model of changed options, with taco decompress --model
    too): taco.decompress names the model object that coded it, and only Python's way; taco
    decompress says its own way, without it."""
    import taco
    from taco.cli import main

    crop = Image.open(CHELSEA).convert("RGB").crop((0, 0, 32, 32))
    seeded = create_model("elic-tiny", seed=1)
    data = taco.compress(crop, None, seeded)
    with pytest.raises(TacoFormatError) as e:
        taco.decompress(data)
    said = str(e.value)
    assert said.endswith("taco.decompress(data, taco.load(FILE)) (FILE: the checkpoint or its run folder), "
                         "or the model object that coded it (another seed, changed weights): "
                         "taco.decompress(data, model)"), said
    assert taco.decompress(data, seeded).size == (32, 32)  # as it says
    custom = create_model("elic-tiny", seed=1, N=24)
    data = taco.compress(crop, None, custom)
    with pytest.raises(TacoFormatError) as e:
        taco.decompress(data)
    assert str(e.value) == (
        "this file names model 'elic-tiny+custom', which is not a built-in model: decode it with the "
        "checkpoint that made it (a model of 'elic-tiny' built with changed options): "
        "taco.decompress(data, taco.load(FILE)), or the model object that coded it (another seed, "
        "changed weights): taco.decompress(data, model)")
    path = tmp_path / "custom.taco"
    path.write_bytes(data)
    assert main(["decompress", str(path), "-o", str(tmp_path / "custom.png")]) == 2
    err = capsys.readouterr().err
    assert "taco decompress --model FILE, or in Python taco.decompress(data, taco.load(FILE))" in err
    assert "model object" not in err
