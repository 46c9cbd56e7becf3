"""What the caption-cache tests compare with: a caption's tokens and a crop's bytes encoded at
full precision, each from a cleared cache, by the small MiniLM model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from PIL import Image

import taco
from taco.samples import SAMPLES_DIR
from taco.text import model_text_encoder


@dataclass
class CleanRun:
    model: Any
    encoder: Any  # the model's shared text encoder, its cache cleared
    image: Image.Image  # the coffee photo's top-left crop
    tokens: torch.Tensor  # the caption's tokens
    data: bytes  # taco.compress(image, caption, model)


@pytest.fixture
def clean_run() -> Callable[[str, int], CleanRun]:
    """``clean_run(caption, side)``: the :class:`CleanRun` of ``caption`` and a ``side`` px crop."""

    def make(caption: str, side: int) -> CleanRun:
        model = taco.load("taco-minilm-small-q4")
        encoder = model_text_encoder(model)
        image = Image.open(SAMPLES_DIR / "skimage-coffee.png").convert("RGB").crop((0, 0, side, side))
        encoder.clear_cache()
        tokens = encoder.encode([caption]).tokens
        data = taco.compress(image, caption, model)
        encoder.clear_cache()
        return CleanRun(model, encoder, image, tokens, data)

    return make


@pytest.fixture(scope="session")
def make_bert() -> Callable[..., Any]:
    """A function (folder, width=24, seed=0) -> ``folder``: a tiny BERT folder as transformers
    saves it, with a WordPiece tokenizer.json; its weights drawn from ``seed``."""
    def make(folder, width: int = 24, seed: int = 0):
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
        from transformers import BertConfig, BertModel

        words = "a the cat dog on sofa red blue rocket in sky".split()
        vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
        tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
        torch.manual_seed(seed)
        config = BertConfig(vocab_size=len(vocab), hidden_size=width, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=2 * width,
                            max_position_embeddings=64)
        BertModel(config, add_pooling_layer=False).save_pretrained(folder)
        tok.save(str(folder / "tokenizer.json"))
        return folder

    return make
