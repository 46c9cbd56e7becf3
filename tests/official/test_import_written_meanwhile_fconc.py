"""Two ``taco import-checkpoint ... -o o.safetensors`` at once (review CONC2): each checked the
output when it started, then replaced it, so both exit 0, and the first printed the fingerprint
of the other's model as its own (it reads the file back). Without --force the checkpoint is now
published only if its name is free, as ``taco compress`` publishes: the import that finds it
written meanwhile says so, exits 2 and reads nothing back. Real races are flaky: the file
appears while the checkpoint is converted (a stand-in of the converter writes it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taco.cli import main
from taco.models import save_checkpoint
from taco.official import checkpoint as official

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"
THEIRS = b"another import's checkpoint"


def _appearing(monkeypatch, out):
    real = official.import_checkpoint

    def import_checkpoint(*args, **kwargs):
        model = real(*args, **kwargs)
        out.write_bytes(THEIRS)
        return model

    monkeypatch.setattr(official, "import_checkpoint", import_checkpoint)


def test_a_checkpoint_written_meanwhile_is_left_and_refused(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ic" / "o.safetensors"
    out.parent.mkdir()
    _appearing(monkeypatch, out)
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        f"taco import-checkpoint: error: {out} exists (written meanwhile, by another process?): "
        "--force replaces it")
    assert "fingerprint" not in captured.out
    assert out.read_bytes() == THEIRS
    assert os.listdir(out.parent) == ["o.safetensors"]  # no temporary left


def test_with_force_it_replaces_one_written_meanwhile(tmp_path, monkeypatch, capsys):
    out = tmp_path / "o.safetensors"
    _appearing(monkeypatch, out)
    assert main(["import-checkpoint", str(GOLDEN), "-o", str(out), "--text-encoder", "clip-tiny",
                 "--force"]) == 0
    assert out.read_bytes() != THEIRS and "fingerprint" in capsys.readouterr().out


def test_save_checkpoint_without_replace(tmp_path):
    model = official.import_checkpoint(GOLDEN, "clip-tiny")
    out = tmp_path / "m.safetensors"
    out.write_bytes(THEIRS)
    with pytest.raises(FileExistsError) as e:
        save_checkpoint(model, out, replace=False)
    assert e.value.filename == str(out) and out.read_bytes() == THEIRS
    out.unlink()
    index = tmp_path / "m.safetensors.index.json"
    index.write_text("{}")
    with pytest.raises(FileExistsError) as e:  # a sharded set: its index is there
        save_checkpoint(model, out, replace=False, max_shard_bytes=1 << 16)
    assert e.value.filename == str(index)
    assert os.listdir(tmp_path) == ["m.safetensors.index.json"]  # no shard written
    new = tmp_path / "new.safetensors"
    assert save_checkpoint(model, new, replace=False) == new and new.stat().st_size > 0
