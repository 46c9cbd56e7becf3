"""A folder of the wrong kind given as a text encoder is named as such (Review ML-A #2, #3)."""

import json

import pytest

from taco.errors import TacoError
from taco.text import TextEncoderUnavailable, build_text_encoder, text_encoder_dim
from taco.text.clip import clip_tokenizer


def test_clip_tokenizer_json_that_is_wordpiece_is_said_to_be_no_bpe(tmp_path):
    from tokenizers import Tokenizer
    from tokenizers.models import WordPiece

    Tokenizer(WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]")).save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(TextEncoderUnavailable, match="not a BPE vocabulary with merges") as e:
        clip_tokenizer(tmp_path)
    assert "'merges'" not in str(e.value)


def test_clip_tokenizer_json_without_a_model_is_said_to_be_no_bpe(tmp_path):
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {}}}))
    with pytest.raises(TextEncoderUnavailable, match="not a BPE vocabulary with merges"):
        clip_tokenizer(tmp_path)


@pytest.mark.parametrize("model_type", ["clip_text_model", "blip"])
def test_minilm_given_another_model_folder_names_its_kind(tmp_path, model_type):
    # no tokenizer.json, no hidden_size: what the encoder and the width reader used to stop on
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type}))
    want = f"holds a {model_type} model, not a BERT"
    with pytest.raises(TextEncoderUnavailable, match=want):
        build_text_encoder("minilm", path=tmp_path)
    with pytest.raises(TacoError, match=want):
        text_encoder_dim("minilm", path=tmp_path)
