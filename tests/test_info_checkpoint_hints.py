"""taco info on a sharded checkpoint's index, or on a training run's folder, says to use
`taco models` (as it already did for a .safetensors file), not 'wrong magic bytes' or 'no input
files'. What taco says of other files that are no checkpoint it can use: a folder
holding a sharded checkpoint under another name gets its index named, and a plain pickle is not
called an old PyTorch checkpoint."""

import json
import pickle

import pytest
import torch

from taco.bitstream.container import other_file_kind
from taco.cli import main
from taco.models.config import CheckpointError
from taco.models.header import no_checkpoint_message, read_checkpoint_header
from taco.shards import INDEX_FORMAT, save_sharded

HINT = "(for a model checkpoint: taco models FILE)"


def _index(path):
    index = {"format": INDEX_FORMAT, "version": 1, "metadata": {"taco": "{}"},
             "weight_map": {"w": "checkpoint-00001-of-00002.safetensors"}}
    path.write_text(json.dumps(index, indent=1))  # as taco.shards writes it
    return path


def test_an_index_is_named_as_a_sharded_checkpoint(tmp_path):
    head = _index(tmp_path / "checkpoint.safetensors.index.json").read_bytes()[:286]
    assert other_file_kind(head) == f"the index of a sharded safetensors checkpoint {HINT}"
    assert other_file_kind(b'{"format": "something else"}') is None


def test_taco_info_on_an_index_says_taco_models(tmp_path, capsys):
    index = _index(tmp_path / "checkpoint.safetensors.index.json")
    assert main(["info", str(index)]) != 0
    err = capsys.readouterr().err
    assert "not a .taco file: it is the index of a sharded safetensors checkpoint" in err
    assert HINT in err and "wrong magic bytes" not in err


@pytest.mark.parametrize("name", ["checkpoint.safetensors", "checkpoint.safetensors.index.json"])
def test_taco_info_on_a_run_folder_says_taco_models(tmp_path, capsys, name):
    run = tmp_path / "run"
    run.mkdir()
    (run / name).write_bytes(b"{}")
    (run / "log.jsonl").write_text("")
    assert main(["info", str(run)]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(f"holds a model checkpoint (for it: taco models {run})"), err
    assert "no input files (.taco) found in" in err


def test_the_taco_models_hint_names_the_folder_as_a_shell_reads_it(tmp_path, monkeypatch, capsys):
    """``taco models -my run`` pasted read a dash and two words: the folder is one word now."""
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "-my run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(b"{}")
    assert main(["info", "--", "-my run"]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("-my run holds a model checkpoint (for it: taco models './-my run')"), err


def test_a_folder_without_a_checkpoint_gets_no_hint(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) != 0
    assert "taco models" not in capsys.readouterr().err


def test_the_not_a_model_folder_hint_names_the_index_not_its_shards(tmp_path):
    """A folder holding a sharded checkpoint under another name: the hint gives the index, the
    one file of it that can be given as a model."""
    written = save_sharded({"w": torch.ones(1000), "v": torch.ones(1000)},
                           tmp_path / "mine.safetensors", max_bytes=6000)
    assert len(written) == 3  # the index and two shards
    message = no_checkpoint_message(tmp_path)
    assert "give one of its files (mine.safetensors.index.json)," in message
    assert not any(shard.name in message for shard in written[1:])


def test_a_plain_pickle_is_not_called_an_old_pytorch_checkpoint(tmp_path):
    """Only torch.save's legacy magic number marks a pre-1.6 PyTorch checkpoint; a pickle of
    protocol 2 starts with the same two bytes (0x80 0x02) and is no checkpoint at all."""
    notes = tmp_path / "notes.pkl"
    notes.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError) as err:
        read_checkpoint_header(notes)
    assert "PyTorch" not in str(err.value) and "import-checkpoint" not in str(err.value)
    legacy = tmp_path / "old.pth"
    torch.save({"a": torch.zeros(1)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="before PyTorch 1.6"):
        read_checkpoint_header(legacy)
