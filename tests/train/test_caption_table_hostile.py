"""A caption-embeddings file (``text_embeddings:``) that is not what :meth:`CaptionTable.save`
writes is a ConfigError naming the file, read through taco.shards' checked readers; ``taco
train`` says it in one line (exit status 2), not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from taco.cli import main as taco_main
from taco.errors import TacoError
from taco.shards import SAFETENSORS_HEADER_MAX_BYTES
from taco.train.caption_embeddings import FORMAT, VERSION, CaptionTable
from taco.train.config import ConfigError

CAPTIONS = ["a cat on a sofa", "a red bicycle"]
META_KEY = "taco_caption_embeddings"  # the safetensors metadata key the file format fixes


def _tensors(k: int = 2, m: int = 4, d: int = 8) -> dict[str, torch.Tensor]:
    return {"tokens": torch.randn(k, m, d), "mask": torch.ones(k, m, dtype=torch.bool)}


def _meta(**changes: object) -> str:
    meta = {"format": FORMAT, "version": VERSION, "encoder": {"name": "clip-tiny"}, "captions": CAPTIONS}
    meta.update(changes)
    return json.dumps({k: v for k, v in meta.items() if v is not None})


def _write(path: Path, raw: str | None, tensors: dict[str, torch.Tensor] | None = None) -> Path:
    save_file(_tensors() if tensors is None else tensors, str(path),
              metadata=None if raw is None else {META_KEY: raw})  # fmt: skip
    return path


def test_a_valid_table_round_trips(tmp_path):
    table = CaptionTable(CAPTIONS, *_tensors().values(), {"name": "clip-tiny"})
    path = table.save(tmp_path / "emb.safetensors")
    loaded = CaptionTable.load(path)
    assert loaded.captions == CAPTIONS and loaded.encoder == {"name": "clip-tiny"}
    assert loaded.tokens.dtype == torch.float16 and torch.equal(loaded.mask, table.mask)
    got = loaded.lookup(["a red bicycle"]).tokens
    assert torch.allclose(got, table.tokens[1:], rtol=1e-3, atol=1e-3)


HOSTILE = {
    "a JSON list": ("[1]", None, "corrupt taco_caption_embeddings metadata (not a JSON object)"),
    "no captions": (json.dumps({"format": FORMAT, "version": VERSION}), None,
                    "captions must be a non-empty list of strings"),
    "bad JSON": ("{", None, "corrupt taco_caption_embeddings metadata ("),
    "no metadata": (None, None, f"no {META_KEY} metadata"),
    "another format": (_meta(format="taco-shards"), None, "not a taco caption-embeddings file"),
    "a future version": (_meta(version=2), None, "version 2 is not supported (this taco reads version 1)"),
    "repeated captions": (_meta(captions=["a", "a"]), None, "captions must not repeat"),
    "encoder not an object": (_meta(encoder="clip-tiny"), None, "encoder must be a JSON object"),
    "no mask": (_meta(), {"tokens": torch.randn(2, 4, 8)}, "must hold the tensors tokens and mask"),
    "2-D tokens": (_meta(), {"tokens": torch.randn(2, 4), "mask": torch.ones(2, 4, dtype=torch.bool)},
                   "tokens must be float (K, m, d)"),
    "too few rows": (_meta(), _tensors(k=1), "2 captions, but tokens for 1"),
    "mask of another shape": (_meta(), {"tokens": torch.randn(2, 4, 8), "mask": torch.ones(2, 3, dtype=torch.bool)},
                              "mask must be bool [2, 4]"),
    "float mask": (_meta(), {"tokens": torch.randn(2, 4, 8), "mask": torch.ones(2, 4)},
                   "mask must be bool [2, 4]"),
    "NaN tokens": (_meta(), {"tokens": torch.full((2, 4, 8), float("nan")),
                             "mask": torch.ones(2, 4, dtype=torch.bool)}, "NaN or infinite"),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_file_is_a_config_error_naming_it(tmp_path, case):
    raw, tensors, expected = HOSTILE[case]
    path = _write(tmp_path / "emb.safetensors", raw, tensors)
    with pytest.raises(ConfigError) as info:
        CaptionTable.load(path)
    assert isinstance(info.value, TacoError)
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value), str(info.value)


def test_a_truncated_file_is_a_config_error(tmp_path):
    path = CaptionTable(CAPTIONS, *_tensors().values(), {"name": "clip-tiny"}).save(tmp_path / "emb.safetensors")
    data = path.read_bytes()
    for size in (0, 5, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(ConfigError, match="not a safetensors file"):
            CaptionTable.load(path)


def test_a_huge_header_is_refused_before_safetensors_reads_it(tmp_path):
    path = tmp_path / "emb.safetensors"
    size = SAFETENSORS_HEADER_MAX_BYTES + 1
    path.write_bytes(size.to_bytes(8, "little") + b" " * size)
    with pytest.raises(ConfigError, match="safetensors header of 4,194,305 bytes"):
        CaptionTable.load(path)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        CaptionTable.load(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("raw", ["[1]", json.dumps({"format": FORMAT, "version": VERSION}), "{"])
def test_taco_train_with_a_hostile_file_says_one_line(tmp_path, tiny, capsys, raw):
    emb = _write(tmp_path / "emb.safetensors", raw)
    out = tmp_path / "run"
    argv = ["train", "--set", *tiny(out), f"text_embeddings={emb}", "--max-steps", "1"]
    assert taco_main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"text_embeddings: {emb}: " in lines[0], lines[0]
