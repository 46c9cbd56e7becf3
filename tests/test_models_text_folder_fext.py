"""``taco models FILE`` on a checkpoint trained with ``text_encoder: {name: minilm, path: DIR}``
(any BERT folder, docs/training.md) said "model: TACO + MiniLM", the packaged MiniLM, and the
text view never showed DIR (only ``--json``'s config did) (review EXT2). It says ``TACO + BERT
folder`` and shows the folder on a ``text encoder`` line; a CLIP folder is shown too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import taco.cli


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory, tiny_taco) -> tuple[dict, dict]:
    from safetensors import safe_open
    from safetensors.torch import load_file

    from taco.models import save_checkpoint

    path = save_checkpoint(tiny_taco, tmp_path_factory.mktemp("fext") / "tiny.safetensors")
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    return load_file(str(path)), meta


def _with_encoder(tiny_file, folder: Path, spec: dict) -> Path:
    from safetensors.torch import save_file

    tensors, meta = tiny_file
    header = json.loads(meta["taco"])
    header["config"]["text_encoder"] = spec
    path = folder / "model.safetensors"
    save_file(tensors, str(path), {**meta, "taco": json.dumps(header)})
    return path


def _shown(monkeypatch, capsys, *args: str) -> dict[str, str]:
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.cli.models",))
    assert taco.cli.main(["models", *args]) == 0
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in capsys.readouterr().out.splitlines())}


def test_a_bert_folder_is_named_with_its_folder(tmp_path, tiny_file, monkeypatch, capsys):
    bert = tmp_path / "my-bert"
    path = _with_encoder(tiny_file, tmp_path, {"name": "minilm", "path": str(bert)})
    shown = _shown(monkeypatch, capsys, str(path))
    assert shown["model"] == "TACO + BERT folder"
    assert shown["text encoder"].startswith(f"{bert} (a BERT folder read as minilm; unpinned")


def test_a_clip_folder_is_shown_too(tmp_path, tiny_file, monkeypatch, capsys):
    clip = tmp_path / "clip-vit"
    path = _with_encoder(tiny_file, tmp_path, {"name": "clip", "path": str(clip)})
    shown = _shown(monkeypatch, capsys, str(path))
    assert shown["model"] == "TACO + CLIP"
    assert shown["text encoder"].startswith(f"{clip} (a CLIP folder; TACO_CLIP_PATH")


def test_the_packaged_minilm_has_no_folder_line(monkeypatch, capsys):
    shown = _shown(monkeypatch, capsys, "taco-minilm-small-q4")
    assert shown["model"] == "TACO + MiniLM" and "text encoder" not in shown
