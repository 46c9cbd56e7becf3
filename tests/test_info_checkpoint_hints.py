"""taco info on a sharded checkpoint's index, or on a training run's folder, says to use
`taco models` (as it already did for a .safetensors file), not 'wrong magic bytes' or 'no input
files'."""

import json

import pytest

from taco.bitstream.container import other_file_kind
from taco.cli import main
from taco.shards import INDEX_FORMAT

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


def test_a_folder_without_a_checkpoint_gets_no_hint(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) != 0
    assert "taco models" not in capsys.readouterr().err
