"""Text encoders: shapes, caching, truncation, tokenizer parity, determinism, offline failures."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import warnings

import pytest
import torch
import torch.nn.functional as F

from taco.text import (
    TEXT_ENCODER_DIMS,
    CaptionTruncatedWarning,
    CLIPTextEncoder,
    TextEncoderUnavailable,
    build_text_encoder,
    get_text_encoder,
    text_encoder_dim,
)
from taco.text.base import TextEncoder, TextTokens
from taco.text.clip import TINY_CONFIG, clip_tokenizer
from taco.text.clip_vocab import clip_bpe_folder
from taco.text.hf import check_vocab

CAPTIONS = [
    "a photo of a cat",
    "A man riding a WAVE on top of a surfboard.",
    "don't stop: 123,456 people; it's 3.14!",
    "Café crème brûlée — 東京タワー 🚀",
    "naïve coöperation",
]
# sha256 of the seed-0 tiny CLIP's parameters (float32 bytes, in parameter-name order).
TINY_SEED0_SHA256 = "46e8924e0921ba125a8507e1b3c7f888e870a624634d7f3d20a7619f26082322"


@pytest.fixture(scope="module")
def tiny():
    return get_text_encoder("clip-tiny")


@pytest.fixture(scope="module")
def minilm():
    return get_text_encoder("minilm")


def weights_sha256(encoder) -> str:
    digest = hashlib.sha256()
    for _, p in sorted(encoder.model.named_parameters()):
        digest.update(p.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name", ["clip-tiny", "minilm"])
def test_shapes_and_dtypes(name):
    encoder = get_text_encoder(name)
    out = encoder.encode(["a photo of a cat", "two dogs"])
    d = TEXT_ENCODER_DIMS[name]
    assert (encoder.name, encoder.dim, encoder.max_tokens) == (name, d, 38)
    assert out.tokens.shape == (2, 38, d) and out.tokens.dtype == torch.float32
    assert out.mask.shape == (2, 38) and out.mask.dtype == torch.bool
    assert torch.isfinite(out.tokens).all()
    # [BOS] a photo of a cat [EOS]: the mask is a prefix of 7 real tokens.
    assert out.mask[0].tolist() == [True] * 7 + [False] * 31
    assert not out.tokens.requires_grad
    assert encoder.encode([]).tokens.shape == (0, 38, d)


def test_one_str_is_refused_not_encoded_letter_by_letter(tiny):
    """encode("a cat") encoded five one-letter captions; a str (bytes too) is a TypeError."""
    for one in ("a cat", b"a cat"):
        for encode in (tiny.encode, tiny.encode_noting):
            with pytest.raises(TypeError, match=r"^captions must be a sequence of captions, not one "
                                                r"(str|bytes): give a list of one, encoder.encode\(\[caption\]\)"):
                encode(one)
    assert tiny.encode(["a cat"]).tokens.shape[0] == 1


def test_max_tokens_option():
    encoder = build_text_encoder("clip-tiny", max_tokens=16)
    assert encoder.encode(["a cat"]).tokens.shape == (1, 16, TEXT_ENCODER_DIMS["clip-tiny"])
    for bad in (1, 78):  # CLIP has 77 positions
        with pytest.raises(ValueError, match="max_tokens"):
            build_text_encoder("clip-tiny", max_tokens=bad)


def test_frozen(tiny):
    assert not any(p.requires_grad for p in tiny.parameters())
    tiny.train()
    assert not tiny.training and not tiny.model.training


def test_cache_reuses_embeddings(monkeypatch):
    encoder = build_text_encoder("clip-tiny")
    calls: list[list[str]] = []
    original = encoder._encode

    def counting(captions):
        calls.append(list(captions))
        return original(captions)

    monkeypatch.setattr(encoder, "_encode", counting)
    first = encoder.encode(["a cat", "a dog", "a cat"])
    second = encoder.encode(["a  dog ", "a cat"])  # whitespace variants are the same caption
    assert calls == [["a cat", "a dog"]]
    assert torch.equal(first.tokens[0], first.tokens[2])
    assert torch.equal(second.tokens[0], first.tokens[1])
    assert torch.equal(second.mask[1], first.mask[0])
    encoder.encode(["a bird", "a cat"])
    assert calls[1] == ["a bird"]


class _BatchSensitive(TextEncoder):
    """Tokens whose last bits depend on the batch a caption was encoded in, as a backend's may
    (clip-tiny's did, at 64 captions on 3 and 16 CPU threads)."""

    name, dim, max_tokens = "batch-sensitive", 4, 3

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def _encode(self, captions: list[str]) -> TextTokens:
        self.calls.append(list(captions))
        tokens = torch.stack([torch.full((3, 4), float(len(c))) for c in captions])
        mask = torch.ones(len(captions), 3, dtype=torch.bool)
        return TextTokens(tokens + 1e-6 * (len(captions) - 1), mask)


def test_a_single_caption_gets_its_own_tokens_whatever_was_batched_before():
    """An image is coded with its caption encoded alone (taco.text.worker); the cache used to
    hand it tokens an earlier batched encode had computed, so its bytes depended on history."""
    alone = _BatchSensitive().encode(["a cat"]).tokens
    encoder = _BatchSensitive()
    batched = encoder.encode(["a cat", "a dog"]).tokens
    assert not torch.equal(batched[:1], alone)  # what this encoder does to a batch
    assert torch.equal(encoder.encode(["a cat"]).tokens, alone)
    assert torch.equal(encoder.encode(["a  cat", "a cat "]).tokens, alone.expand(2, -1, -1))
    assert torch.equal(encoder.encode(["a dog", "a cat"]).tokens[1:], alone)  # the batch reuses it
    assert encoder.calls == [["a cat", "a dog"], ["a cat"]]  # each caption alone at most once
    encoder.encode(["a bird", "a fish"])
    encoder.encode(["a bird", "a fish"])
    assert encoder.calls[2:] == [["a bird", "a fish"]]  # batches still reuse batched tokens


def test_get_text_encoder_is_shared():
    a = get_text_encoder("clip-tiny")
    assert get_text_encoder("clip-tiny", seed=0, max_tokens=38) is a
    assert get_text_encoder("clip-tiny", seed=1) is not a


def test_truncation_warns(tiny):
    long = "word " * 100  # "word" is one BPE token: 100 + [BOS] + [EOS] = 102 tokens
    with pytest.warns(CaptionTruncatedWarning, match="102 tokens.*64 dropped"):
        out = tiny.encode([long])
    assert out.mask.all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny.encode(["word " * 36])  # exactly 38 tokens: no warning


def test_empty_whitespace_and_non_ascii_captions(tiny, minilm):
    for encoder in (tiny, minilm):
        out = encoder.encode(["", " \t\n ", "Café 東京 🚀"])
        assert out.mask.sum(1).tolist()[:2] == [2, 2]  # start + end tokens only
        assert out.mask[2].sum() > 2
        assert torch.equal(out.tokens[0], out.tokens[1])
        assert torch.isfinite(out.tokens).all()


def test_tiny_tokenizer_matches_open_clip():
    open_clip = pytest.importorskip("open_clip")
    tokenizer = clip_tokenizer(clip_bpe_folder())
    assert tokenizer.vocab_size == 49408
    reference = open_clip.tokenize(CAPTIONS + ["word " * 100], context_length=38)
    for caption, ref, ids in zip(CAPTIONS + ["word " * 100], reference,
                                 tokenizer(CAPTIONS + ["word " * 100]), strict=True):
        n = int((ref != 0).sum())  # open_clip pads with 0 and cuts [..., end] as we do
        assert [*ids[: n - 1], tokenizer.end] == ref[:n].tolist(), caption


def test_tiny_clip_is_deterministic():
    rng = torch.get_rng_state()
    a, b = build_text_encoder("clip-tiny", seed=0), build_text_encoder("clip-tiny", seed=0)
    assert torch.equal(torch.get_rng_state(), rng)  # building does not consume the global RNG
    c = build_text_encoder("clip-tiny", seed=1)
    assert weights_sha256(a) == weights_sha256(b)
    ta, tb, tc = (e.encode(CAPTIONS).tokens for e in (a, b, c))
    assert torch.equal(ta, tb)
    assert not torch.allclose(ta, tc)


def test_tiny_clip_seed0_weights_are_pinned(seed0_bits_of_this_cpu_kind):
    assert weights_sha256(build_text_encoder("clip-tiny", seed=0)) == TINY_SEED0_SHA256


def test_tiny_vocab_tokenizer_is_refused(tmp_path):
    class TwoTokens:
        def __len__(self) -> int:
            return 2

    with pytest.raises(TextEncoderUnavailable, match="only 2 tokens"):
        check_vocab(TwoTokens(), "test")  # transformers' tokenizer, for the CLIP of the loss
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1}))
    (tmp_path / "merges.txt").write_text("#version: 0.2\n")
    with pytest.raises(TextEncoderUnavailable, match="only 2 tokens"):
        clip_tokenizer(tmp_path)


def test_clip_from_local_folder(tmp_path, monkeypatch, tiny):
    from safetensors.torch import save_file

    (tmp_path / "config.json").write_text(json.dumps(TINY_CONFIG))
    save_file(tiny.model.state_dict(), tmp_path / "model.safetensors")
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, tmp_path / f.name)
    expected = tiny.encode(CAPTIONS)
    assert torch.equal(CLIPTextEncoder(tmp_path).encode(CAPTIONS).tokens, expected.tokens)
    assert text_encoder_dim("clip", path=tmp_path) == TEXT_ENCODER_DIMS["clip-tiny"]
    monkeypatch.setenv("TACO_CLIP_PATH", str(tmp_path))
    from_env = build_text_encoder("clip")
    assert from_env.source == str(tmp_path)
    assert torch.equal(from_env.encode(CAPTIONS).tokens, expected.tokens)


@pytest.mark.parametrize("offline", ["1", "0"])
def test_clip_not_cached_fails_fast(monkeypatch, offline):
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", offline)
    monkeypatch.delenv("TACO_CLIP_PATH", raising=False)
    start = time.perf_counter()
    with pytest.raises(TextEncoderUnavailable) as info:
        CLIPTextEncoder("taco-tests/no-such-clip")
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "--clip-path" in message and "TACO_CLIP_PATH" in message


def test_clip_missing_folder():
    with pytest.raises(TextEncoderUnavailable, match="not a folder"):
        CLIPTextEncoder("./no/such/clip/folder")


@pytest.mark.slow
def test_default_clip_offline_fails_fast_in_fresh_process(tmp_path):
    # A fresh process reads HF_HUB_OFFLINE at import, with an empty cache (HF_HOME).
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    env.pop("TACO_CLIP_PATH", None)
    code = (
        "from taco.text import build_text_encoder, TextEncoderUnavailable\n"
        "try:\n    build_text_encoder('clip')\nexcept TextEncoderUnavailable as e:\n"
        "    print('UNAVAILABLE', e)\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert time.perf_counter() - start < 20  # includes importing torch + transformers
    assert "UNAVAILABLE" in out.stdout and "TACO_CLIP_PATH" in out.stdout, out.stderr


def test_unknown_names_and_options():
    with pytest.raises(ValueError, match="clip, clip-tiny, minilm"):
        build_text_encoder("nope")
    with pytest.raises(ValueError, match="known"):
        text_encoder_dim("nope")
    with pytest.raises(ValueError, match="seed"):
        build_text_encoder("clip", seed=3)


def test_dims_need_no_transformers():
    code = (
        "import sys\nfrom taco.text import text_encoder_dim\n"
        "print([text_encoder_dim(n) for n in ('clip', 'clip-tiny', 'minilm')],"
        " 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    dims = [TEXT_ENCODER_DIMS[n] for n in ("clip", "clip-tiny", "minilm")]
    assert out.stdout.strip() == f"{dims} False"
    assert dims[0] == 512 and dims[2] == 384


def test_minilm_embeddings_are_semantic(minilm):
    out = minilm.encode(
        [
            "a dog running on the beach",
            "a puppy playing in the sand by the sea",
            "quarterly tax figures in a spreadsheet",
        ]
    )
    mask = out.mask.unsqueeze(-1).float()
    pooled = (out.tokens * mask).sum(1) / mask.sum(1)  # (3, 384)
    similar = F.cosine_similarity(pooled[0], pooled[1], dim=0)
    unrelated = F.cosine_similarity(pooled[0], pooled[2], dim=0)
    assert similar > unrelated + 0.2
