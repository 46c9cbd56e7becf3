"""taco.text.clip.clip_tokenizer on a folder's tokenizer.json: a WordPiece one named as such, a
model without a type read as BPE, merges that are not a list refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.text import TextEncoderUnavailable
from taco.text.clip import clip_tokenizer
from taco.text.clip_vocab import clip_bpe_folder


def test_a_wordpiece_tokenizer_json_is_named_as_such(tmp_path: Path) -> None:
    model = {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": model}))
    with pytest.raises(TextEncoderUnavailable, match=r"not a BPE vocabulary with merges \(a WordPiece one\)"):
        clip_tokenizer(tmp_path)


def test_a_tokenizer_json_whose_model_names_no_type_is_read_as_bpe(tmp_path: Path) -> None:
    # "type" is optional in tokenizer.json: a model with vocab and merges is a BPE
    src = clip_bpe_folder()
    vocab = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (src / "merges.txt").read_text(encoding="utf-8").splitlines()[1:] if line]
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"vocab": vocab, "merges": merges}}))
    assert clip_tokenizer(tmp_path) is not None


def test_merges_that_are_not_a_list_are_no_bpe(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {}, "merges": "a b"}}))
    with pytest.raises(TextEncoderUnavailable, match="not a BPE vocabulary with merges"):
        clip_tokenizer(tmp_path)
