"""A torch file whose pickle builds objects of shared parts repeated past a bound (a dict keyed by
a tuple nested N deep of shared halves: a 1.4 KB file whose key ``torch.load`` hashes 2**N times
over) is refused from its opcodes before ``torch.load`` (taco.fileobjects.pickle_expansion_problem,
in taco.text.weights.load_torch_file); real checkpoints, zip and legacy, pass it."""

from __future__ import annotations

import pickle
import pickletools
import re
import struct
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from taco.cli import main
from taco.fileobjects import PICKLE_EXPANSION_LIMIT, pickle_expansion_problem
from taco.official.checkpoint import CheckpointError, read_official_state_dict
from taco.text.weights import load_torch_file

GOLDEN = Path(__file__).resolve().parent / "data" / "official" / "taco-tiny.pth.tar"
REFUSAL = (r"its pickle .* builds objects repeating shared parts past [\d,]+ items in \d+ opcodes "
           r"\(over 2\*\*\d+; unpickling would hash or copy every repeat\): not a checkpoint's weights")


def nested(depth: int) -> tuple:
    """A tuple nested ``depth`` deep, each level two references to the one below: 2**depth
    tuples to hash, in a pickle of 3 opcodes a level."""
    t: tuple = ()
    for _ in range(depth):
        t = (t, t)
    return t


def keyed(path: Path, depth: int, *, legacy: bool = False) -> Path:
    torch.save({nested(depth): [1]}, path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.fixture
def no_torch_load(monkeypatch):
    def refuse(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("torch.load was reached")

    monkeypatch.setattr(torch, "load", refuse)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_tuple_key_of_shared_halves_is_refused_before_torch_load(tmp_path, no_torch_load, legacy):
    """Before, depth 28 ran seconds in torch.load (twice as long each level deeper: 40 would
    take hours); now refused from the pickle's 69 opcodes at once."""
    path = keyed(tmp_path / "tup.pth.tar", 24, legacy=legacy)
    assert path.stat().st_size < 2000
    started = time.perf_counter()
    with pytest.raises(ValueError, match=REFUSAL) as err:
        load_torch_file(path)
    assert time.perf_counter() - started < 0.5
    assert "\n" not in str(err.value)
    assert ("data.pkl" in str(err.value)) is not legacy  # the zip's record, or the legacy pickle's number
    with pytest.raises(CheckpointError, match=REFUSAL):
        read_official_state_dict(path)


def test_taco_import_checkpoint_refuses_it_in_one_line(tmp_path, capsys, no_torch_load):
    path = keyed(tmp_path / "tup.pth.tar", 24)  # (building the dict hashes the key: 40, days, only in a pickle)
    out = tmp_path / "x.safetensors"
    assert main(["import-checkpoint", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(REFUSAL, err), err
    assert not out.exists()


def test_a_shallow_tuple_key_is_left_to_torch_load(tmp_path):
    path = keyed(tmp_path / "tup3.pth.tar", 3)
    assert pickle_expansion_problem(path) is None
    assert load_torch_file(path) == {nested(3): [1]}


def test_a_key_hashed_in_dicts_dropped_on_the_way_counts_too(tmp_path):
    """Every object made counts, not only the largest: a tuple of 2**20 shared parts hashed as
    the key of 8 dicts, each popped off the stack (none of 2**22 items, under a fifth of the
    bound)."""
    body = pickle.dumps(nested(20), protocol=2)
    assert body.endswith(b".")
    memo = max(arg for op, arg, _ in pickletools.genops(body) if op.name in ("BINPUT", "LONG_BINPUT"))
    get = b"j" + struct.pack("<I", memo)  # LONG_BINGET of the whole tuple
    dropped = b"}" + get + b"N" + b"s" + b"0"  # EMPTY_DICT, the key, None, SETITEM, POP
    path = tmp_path / "dropped.pt"
    path.write_bytes(body[:-1] + b"0" + dropped * 8 + b"N.")
    assert pickle.loads(path.read_bytes()) is None  # a pickle Python reads
    assert re.search(REFUSAL, pickle_expansion_problem(path) or "")
    path.write_bytes(body[:-1] + b"0" + dropped + b"N.")  # one dict: within the bound
    assert pickle_expansion_problem(path) is None


@pytest.mark.parametrize("data", [
    b"not a pickle at all\n",
    b"\x80\x02}q\x00(",  # cut short
    b"\x80\x02\x8e" + struct.pack("<Q", 1 << 62),  # BINBYTES8 declaring 2**62 bytes: never asked for
    b"\x80\x02h\x07.",  # a memo get of nothing
    b"\x80\x02(q\x00.",  # a memo put of the mark
])
def test_a_pickle_the_scan_cannot_follow_is_left_to_torch_load(tmp_path, data):
    path = tmp_path / "odd.pt"
    path.write_bytes(data)
    assert pickle_expansion_problem(path) is None
    with pytest.raises(ValueError) as err:  # torch.load says why
        load_torch_file(path)
    assert "repeating shared parts" not in str(err.value)


def five_million(tmp_path: Path, *, legacy: bool) -> Path:
    net = nn.Sequential(*[nn.Linear(500, 500) for _ in range(20)])  # 5,010,000 parameters
    path = tmp_path / ("legacy.pt" if legacy else "zip.pt")
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    return path


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_real_state_dict_passes(tmp_path, legacy):
    path = five_million(tmp_path, legacy=legacy)
    assert pickle_expansion_problem(path) is None
    assert len(load_torch_file(path)) == 40


def test_real_checkpoints_pass():
    """The golden authors' checkpoint (zip) and the LPIPS heads taco reads (legacy format), and
    within a hundredth of the bound: a real file's count grows with its opcodes."""
    lpips = pytest.importorskip("lpips")
    heads = sorted((Path(lpips.__file__).parent / "weights" / "v0.1").glob("*.pth"))
    assert heads
    for path in [GOLDEN, *heads]:
        assert pickle_expansion_problem(path) is None, path
        assert pickle_expansion_problem(path, limit=PICKLE_EXPANSION_LIMIT // 100) is None, path
        load_torch_file(path)


def test_a_hugging_face_pytorch_model_bin_passes(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=32)
    state = transformers.BertModel(config).state_dict()
    torch.save(state, tmp_path / "pytorch_model.bin")
    assert pickle_expansion_problem(tmp_path / "pytorch_model.bin") is None
    assert set(load_torch_file(tmp_path / "pytorch_model.bin", mmap=True)) == set(state)
