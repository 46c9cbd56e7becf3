"""taco.shards reads safetensors headers itself (safetensors' ``safe_open`` imported NumPy):
the same metadata, shapes and dtypes as safetensors gives, and what safetensors refuses on open
is still one ShardedFileError ``FILE: not a safetensors file (why)`` (review SU, session 37)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

import taco
from taco import shards
from taco.models.registry import PRETRAINED
from taco.resolve import DEFAULT_MODEL

BUILT_IN = Path(taco.__file__).parent / "assets" / "models" / PRETRAINED[DEFAULT_MODEL].file


def _as_safetensors_reads(path: Path) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {}), {
            k: (tuple(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in f.keys()}  # noqa: SIM118


def test_same_headers_as_safetensors(tmp_path: Path) -> None:
    mine = tmp_path / "m.safetensors"
    shards.save_sharded({"a": torch.zeros(3, 0, 2), "b": torch.ones(5, dtype=torch.float16),
                         "c": torch.zeros((), dtype=torch.int64), "d": torch.zeros(2, dtype=torch.bool)},
                        mine, {"k": "v"})
    for path in (mine, BUILT_IN):
        assert (shards.read_metadata(path), shards.tensor_shapes(path)) == _as_safetensors_reads(path)


def _file(tmp_path: Path, name: str, header: bytes, data: bytes = b"") -> Path:
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def _header(**tensors: object) -> bytes:
    return json.dumps(tensors).encode()


@pytest.mark.parametrize(("name", "header", "data", "why"), [
    ("not_json", b'{"a": ', b"", "bad header: Expecting value"),
    ("a_list", b"[]", b"", "bad header: it does not start with {"),
    ("not_utf8", b'{"\xff": 1}', b"", "bad header: not UTF-8 text"),
    ("metadata_not_strings", _header(__metadata__={"k": 1}), b"", "__metadata__ does not map"),
    ("unknown_dtype", _header(a={"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}), b"\0" * 16,
     "has no valid dtype, shape and data_offsets"),
    ("wrong_size", _header(a={"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}), b"\0" * 4,
     "data_offsets do not fit its dtype and shape"),
    ("gap", _header(a={"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}), b"\0" * 2,
     "overlap another's or leave a gap"),
    ("data_left_over", _header(a={"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}), b"\0" * 2,
     "its tensors hold 1 bytes and the file 2 after the header"),
    ("header_past_end", b"{}", b"", None),
])
def test_what_safetensors_refuses_is_one_error(tmp_path: Path, name: str, header: bytes, data: bytes,
                                               why: str | None) -> None:
    path = _file(tmp_path, name, header, data)
    if why is None:  # the length says more bytes than the file has
        path.write_bytes(struct.pack("<Q", 100) + header)
        why = "a header of 100 bytes declared, past the end of the file: truncated"
    with pytest.raises(Exception):  # noqa: B017, PT011 - safetensors raises its own type
        _as_safetensors_reads(path)
    for read in (shards.read_metadata, shards.tensor_shapes):
        with pytest.raises(shards.ShardedFileError) as err:
            read(path)
        assert str(err.value).startswith(f"{path}: not a safetensors file (") and why in str(err.value)


def test_reading_headers_imports_no_numpy() -> None:
    code = ("import sys; from taco import shards; "
            f"shards.tensor_shapes({str(BUILT_IN)!r}); shards.read_metadata({str(BUILT_IN)!r}); "
            "print('numpy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


def _safetensors(tmp_path: Path, header: bytes, data: bytes = b"") -> Path:
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_a_file_shorter_than_the_length_field_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    path.write_bytes(b"\x02\0\0\0\0\0\0")  # 7 bytes
    with pytest.raises(shards.ShardedFileError, match="7 bytes, too short for the 8"):
        shards.read_metadata(path)


@pytest.mark.parametrize(("tensors", "data", "why"), [
    # three data_offsets
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 1]}}, b"\0", "no valid dtype, shape"),
    # negative dimensions whose product is positive
    ({"a": {"dtype": "U8", "shape": [-1, -4], "data_offsets": [0, 4]}}, b"\0" * 4, "no valid dtype, shape"),
    # JSON true and false are no offsets (safetensors reads whole numbers only)
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [False, True]}}, b"\0", "no valid dtype, shape"),
    # a 4-bit tensor of one element is no whole byte
    ({"a": {"dtype": "F4", "shape": [1], "data_offsets": [0, 0]}}, b"", "do not fit its dtype and shape"),
    # b's bytes overlap a's
    ({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
      "b": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}, b"\0" * 2, "overlap another's"),
])
def test_more_of_what_safetensors_refuses(tmp_path: Path, tensors: dict, data: bytes, why: str) -> None:
    path = _safetensors(tmp_path, json.dumps(tensors).encode(), data)
    with pytest.raises(shards.ShardedFileError, match="not a safetensors file") as err:
        shards.tensor_shapes(path)
    assert why in str(err.value)
