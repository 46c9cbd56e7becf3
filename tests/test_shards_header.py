"""read_metadata and tensor_shapes read the safetensors header themselves (safetensors'
``safe_open`` imported NumPy for them): they give what it gives for a good file and refuse, as
``not a safetensors file``, each bad header it refuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors import safe_open

from taco import shards


def _file(tmp_path, header: dict, data: bytes, name: str = "x.safetensors"):  # noqa: ANN001, ANN202
    raw = json.dumps(header).encode()
    path = tmp_path / name
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data)
    return path


def test_a_good_file_reads_as_safetensors_reads_it(tmp_path):
    path = tmp_path / "good.safetensors"
    shards.save_sharded({"b": torch.zeros(2, 3), "a": torch.ones(5, dtype=torch.float16),
                         "e": torch.zeros(0, 4, dtype=torch.int64)}, path, {"k": "v"})
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
        shapes = {n: (tuple(f.get_slice(n).get_shape()), f.get_slice(n).get_dtype()) for n in f.keys()}
    assert shards.read_metadata(path) == meta == {"k": "v"}
    assert shards.tensor_shapes(path) == shapes
    assert list(shards.tensor_shapes(path)) == sorted(shapes)


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
BAD = {
    "a gap between tensors": ({"a": F32, "b": {"dtype": "F32", "shape": [1], "data_offsets": [9, 13]}}, 13),
    "overlapping tensors": ({"a": F32, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, 8),
    "offsets that do not fit the shape": ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, 8),
    "an unknown dtype": ({"a": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}}, 8),
    "a negative dimension": ({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, 8),
    "metadata that is not text": ({"__metadata__": {"k": 1}, "a": F32}, 8),
    "data past the last tensor": ({"a": F32}, 9),
    "no offsets": ({"a": {"dtype": "F32", "shape": [2]}}, 8),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_header_safetensors_refuses_is_not_a_safetensors_file(tmp_path, case):
    header, size = BAD[case]
    path = _file(tmp_path, header, b"\0" * size)
    with pytest.raises(Exception):  # noqa: B017, PT011 (safetensors raises several types)
        safe_open(str(path), framework="pt")
    for read in (shards.read_metadata, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError, match=r"not a safetensors file \("):
            read(path)


def test_reading_a_header_imports_no_numpy(tmp_path):
    path = tmp_path / "good.safetensors"
    shards.save_sharded({"a": torch.zeros(2, 3)}, path, {"k": "v"})
    code = ("import sys\nfrom taco import shards\n"
            "print(shards.read_metadata(sys.argv[1]), shards.tensor_shapes(sys.argv[1]), 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.split() == ["{'k':", "'v'}", "{'a':", "((2,", "3),", "'F32')}", "False"]
