"""A checkpoint file named by the user is the file read, even with a newer sharded index of
the same name beside it (``-m X.safetensors`` used to code with ``X.safetensors.index.json``'s
model when that was newer); only a training run's own files take the newer form
(tests/test_shards.py)."""

import os
import shutil
import warnings

import pytest

import taco
from taco import shards
from taco.cli import main
from taco.models import create_model, save_checkpoint

OLD, NEW = 1_000_000_000 * 10**9, 1_000_000_100 * 10**9


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """``m.safetensors`` (model id plain-one, old) beside a newer sharded
    ``m.safetensors.index.json`` (model id sharded-one)."""
    folder = tmp_path_factory.mktemp("both")
    other = tmp_path_factory.mktemp("other")
    model = create_model("elic-tiny", seed=0)
    plain = save_checkpoint(model, folder / "m.safetensors", model_id="plain-one")
    sharded = save_checkpoint(model, other / "m.safetensors", model_id="sharded-one",
                              max_shard_bytes=1_000_000)
    for f in shards.files(sharded):
        shutil.copy(f, folder / f.name)
    index = shards.index_path(plain)
    os.utime(plain, ns=(OLD, OLD))
    os.utime(index, ns=(NEW, NEW))
    return plain, index


def test_a_named_plain_file_is_read_not_a_newer_index_beside_it(both):
    plain, index = both
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no note: the user said which file
        assert shards.find(plain) == plain
        assert shards.files(plain) == [plain]
        assert taco.load(plain).model_id == "plain-one"
        assert shards.find(index) == index  # the index named: the index
        assert taco.load(index).model_id == "sharded-one"


def test_taco_models_names_the_given_files_model(both, capsys):
    plain, index = both
    assert main(["models", str(plain)]) == 0
    out = capsys.readouterr().out
    assert "plain-one" in out and "sharded-one" not in out


def test_a_named_plain_file_is_read_when_the_index_beside_it_is_broken(tmp_path):
    """The index's missing shard is not the named plain file's problem."""
    model = create_model("elic-tiny", seed=0)
    plain = save_checkpoint(model, tmp_path / "m.safetensors", model_id="plain-one")
    other = tmp_path / "other"
    other.mkdir()
    sharded = save_checkpoint(model, other / "m.safetensors", max_shard_bytes=1_000_000)
    shutil.copy(shards.index_path(sharded), shards.index_path(plain))  # no shards copied
    assert taco.load(plain).model_id == "plain-one"
