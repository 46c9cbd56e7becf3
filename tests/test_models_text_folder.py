"""``taco models FILE`` on a checkpoint trained with ``text_encoder: {name: minilm, path: DIR}``
(any BERT folder, docs/training.md) said "model: TACO + MiniLM", the packaged MiniLM, and the
text view never showed DIR (only ``--json``'s config did) (review EXT2). It says ``TACO + BERT
folder`` and shows the folder on a ``text encoder`` line; a CLIP folder is shown too."""

from __future__ import annotations

import taco.cli


def _shown(monkeypatch, capsys, *args: str) -> dict[str, str]:
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.cli.models",))
    assert taco.cli.main(["models", *args]) == 0
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in capsys.readouterr().out.splitlines())}


def test_a_bert_folder_is_named_with_its_folder(tmp_path, with_text_encoder, monkeypatch, capsys):
    bert = tmp_path / "my-bert"
    path = with_text_encoder(tmp_path, {"name": "minilm", "path": str(bert)})
    shown = _shown(monkeypatch, capsys, str(path))
    assert shown["model"] == "TACO + BERT folder"
    assert shown["text encoder"].startswith(f"{bert} (a BERT folder read as minilm; unpinned")


def test_a_clip_folder_is_shown_too(tmp_path, with_text_encoder, monkeypatch, capsys):
    clip = tmp_path / "clip-vit"
    path = with_text_encoder(tmp_path, {"name": "clip", "path": str(clip)})
    shown = _shown(monkeypatch, capsys, str(path))
    assert shown["model"] == "TACO + CLIP"
    assert shown["text encoder"].startswith(f"{clip} (a CLIP folder; TACO_CLIP_PATH")


def test_the_packaged_minilm_has_no_folder_line(monkeypatch, capsys):
    shown = _shown(monkeypatch, capsys, "taco-minilm-small-q4")
    assert shown["model"] == "TACO + MiniLM" and "text encoder" not in shown


def test_a_clip_hub_id_is_not_called_a_folder(tmp_path, with_text_encoder, monkeypatch, capsys):
    path = with_text_encoder(tmp_path, {"name": "clip", "path": "someone/their-clip"})  # no such folder
    shown = _shown(monkeypatch, capsys, str(path))
    assert shown["text encoder"].startswith(
        "someone/their-clip (a Hugging Face Hub id (downloaded from huggingface.co on first use unless "
        "cached); TACO_CLIP_PATH")
