"""MiniLM without transformers: the same tokens, bit for bit, as transformers' BertModel (where
it attends with sdpa, as taco does)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pytest
import torch

from taco.text import CaptionTruncatedWarning, TextEncoderUnavailable
from taco.text.minilm import FILES, MiniLMTextEncoder, minilm_path

CAPTIONS = [
    "A tabby cat looking to the side.",
    "",
    "a",
    "Ünïcödé café naïve 東京タワー 🚀 don't stop: 123,456; it's 3.14!",
    "  spaces   and\ttabs\nnewlines ",
    "word " * 36,  # 36 words + [CLS] + [SEP]: exactly 38 tokens, no padding
    "word " * 37,  # one over: truncated
    "A red double-decker bus on a wet street at night. " * 6,
    "x" * 400,
]


@pytest.fixture(scope="module")
def minilm():
    return MiniLMTextEncoder()


def test_tokens_are_bit_identical_to_transformers_bert(minilm):
    """Bit for bit where transformers' BERT attends with sdpa, as taco does (transformers 5).
    transformers 4.40 (pyproject's floor) has no sdpa BERT: its 'eager' attention (softmax(QK^T)V
    by hand) rounds differently (tokens of size ~1): a caption's tokens by up to 3.1e-6, the
    padding's (attending to the caption alone) by up to 6.5e-5. There they are compared within
    1e-5 and 1e-4, still far below what a real mismatch (a mask, a weight) makes."""
    transformers = pytest.importorskip("transformers")
    folder = minilm_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    try:
        reference = transformers.AutoModel.from_pretrained(folder, local_files_only=True,
                                                           attn_implementation="sdpa")
        sdpa = True
    except (TypeError, ValueError):  # transformers 4.40: "does not support ... yet"
        reference = transformers.AutoModel.from_pretrained(folder, local_files_only=True)
        sdpa = False
    reference.eval()
    for captions in (CAPTIONS, CAPTIONS[:1], [CAPTIONS[5]]):  # with padding, without any
        batch = tokenizer(captions, padding="max_length", truncation=True, max_length=38,
                          return_tensors="pt")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", CaptionTruncatedWarning)
            expected = reference(**batch).last_hidden_state
            out = minilm._encode(captions)
        assert torch.equal(out.mask, batch["attention_mask"].bool())
        if sdpa:
            assert torch.equal(out.tokens, expected)
        else:
            torch.testing.assert_close(out.tokens[out.mask], expected[out.mask], rtol=0, atol=1e-5)
            torch.testing.assert_close(out.tokens, expected, rtol=0, atol=1e-4)


def test_truncation_warns_once_per_caption(minilm):
    # that [SEP] is kept is in the bit-identity test above (CAPTIONS holds truncated captions)
    minilm.clear_cache()
    with pytest.warns(CaptionTruncatedWarning, match="caption has 39 tokens, truncated to 38 "
                                                      r"\(1 dropped\)") as record:
        out = minilm.encode([CAPTIONS[6]])
    assert bool(out.mask.all()) and len(record) == 1
    assert record[0].filename == __file__  # blames the caller of encode
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptionTruncatedWarning)
        assert bool(minilm.encode([CAPTIONS[5]]).mask.all())


def test_encoding_a_caption_imports_no_transformers():
    code = ("import sys; from taco.text import get_text_encoder; "
            "out = get_text_encoder('minilm').encode(['a cat']); "
            "print(tuple(out.tokens.shape), 'transformers' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["(1,", "38,", "384)", "False"]


def test_a_folder_missing_a_file_or_weights_is_a_clear_error(tmp_path):
    src = minilm_path()
    for missing in FILES:
        folder = tmp_path / missing
        folder.mkdir()
        for name in FILES:
            if name != missing:
                shutil.copy(f"{src}/{name}", folder / name)
        with pytest.raises(TextEncoderUnavailable, match=f"MiniLM: .*{missing}"):
            MiniLMTextEncoder(folder)

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "short"
    shutil.copytree(src, folder)
    weights = load_file(f"{src}/model.safetensors")
    del weights["encoder.layer.5.output.dense.weight"]
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(TextEncoderUnavailable, match="lacks or mis-shapes 1 weights"):
        MiniLMTextEncoder(folder)

    # sizes the weights do not have: refused from the headers, nothing built for them
    shutil.copy(f"{src}/model.safetensors", folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 38400,
                                                    "intermediate_size": 153600}))
    with pytest.raises(TextEncoderUnavailable, match="mis-shapes .* weights of a BERT model"):
        MiniLMTextEncoder(folder)
    for bad, message in (({"num_attention_heads": 5}, "not a multiple of num_attention_heads 5"),
                         ({"num_hidden_layers": 10**9}, "num_hidden_layers must be an integer")):
        (folder / "config.json").write_text(json.dumps({**config, **bad}))
        with pytest.raises(TextEncoderUnavailable, match=message):
            MiniLMTextEncoder(folder)
    (folder / "config.json").write_text(json.dumps(config))

    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(TextEncoderUnavailable, match="only BERT models with GELU"):
        MiniLMTextEncoder(folder)
