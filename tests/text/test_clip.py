"""CLIP without transformers: the same tokens, bit for bit, as transformers' CLIPTextModel (where
it attends with sdpa, as taco does: see :data:`SDPA`) and CLIPTokenizer, from every folder
layout a CLIP comes in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pytest
import torch

from taco.text import (
    CaptionTruncatedWarning,
    CLIPTextEncoder,
    TextEncoderUnavailable,
    TinyCLIPTextEncoder,
)
from taco.text.clip import (
    CLIP_B_TEXT,
    TINY_CONFIG,
    ClipText,
    clip_tokenizer,
    clip_tokenizer_class,
    load_clip_text,
    seeded_clip_text,
)
from taco.text.clip_vocab import clip_bpe_folder

transformers = pytest.importorskip("transformers")

CAPTIONS = [
    "A tabby cat looking to the side.",
    "",
    "   ",
    "a",
    "Ünïcödé café naïve 東京タワー 🚀 don't stop: 123,456; it's 3.14!",
    "  spaces   and\ttabs\nnewlines, UPPER case ",
    "a literal <|endoftext|> and <|startoftext|> inside",
    "x " * 36,  # 36 words + start + end: exactly 38 tokens, no padding
    "x " * 37,  # one over: truncated
    "A red double-decker bus on a wet street at night. " * 6,
]


def sdpa_clip() -> bool:
    """Whether the installed transformers runs CLIP's attention with PyTorch's
    scaled_dot_product_attention (asked for; transformers 5 does so by default), as taco does."""
    try:
        transformers.CLIPTextModel(transformers.CLIPTextConfig(**TINY_CONFIG, attn_implementation="sdpa"))
    except (TypeError, ValueError):  # transformers 4.40 (the floor): "does not support ... yet"
        return False
    return True


#: Where transformers' CLIP attends with sdpa (as taco does), taco's tokens are its bit for bit.
#: transformers 4.40 (pyproject's floor) has no sdpa CLIP: its 'eager' attention (softmax(QK^T)V
#: by hand) rounds differently, by up to 9.5e-7 on the tiny CLIP and 3.3e-6 after CLIP-B's 12
#: layers (tokens of size ~1); there :func:`assert_same` allows :data:`EAGER_ATOL`, still far
#: below what a real mismatch (a mask, a weight, a layer) makes.
SDPA = sdpa_clip()
ATTENTION = {"attn_implementation": "sdpa"} if SDPA else {}
EAGER_ATOL = 1e-5


def assert_same(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """``ours`` is ``theirs`` bit for bit where the reference attends with sdpa (:data:`SDPA`),
    else within :data:`EAGER_ATOL` (transformers 4.40's 'eager' attention)."""
    if SDPA:
        assert torch.equal(ours, theirs)
    else:
        torch.testing.assert_close(ours, theirs, rtol=0, atol=EAGER_ATOL)


def hf_model(model: ClipText, config: dict) -> torch.nn.Module:
    """transformers' CLIPTextModel holding ``model``'s weights (attending with sdpa where the
    installed transformers can: :data:`SDPA`)."""
    reference = transformers.CLIPTextModel(transformers.CLIPTextConfig(**config, **ATTENTION)).eval()
    ours = model.state_dict()
    if not ours.keys() & reference.state_dict().keys():  # transformers 4 names them text_model.*
        ours = {f"text_model.{key}": value for key, value in ours.items()}
    missing, unexpected = reference.load_state_dict(ours, strict=False)  # its position_ids buffer
    assert not unexpected and all(key.endswith("position_ids") for key in missing), (missing, unexpected)
    return reference


def hf_tokenizer(folder):
    return clip_tokenizer_class().from_pretrained(folder, local_files_only=True)


def copy_vocab(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, folder / f.name)


@pytest.fixture(scope="module")
def tiny():
    return TinyCLIPTextEncoder()


def test_tokens_are_bit_identical_to_transformers_clip(tiny):
    reference = hf_model(tiny.model, TINY_CONFIG)
    tokenizer = hf_tokenizer(clip_bpe_folder())
    for captions in (CAPTIONS, CAPTIONS[:1], [CAPTIONS[7]], CAPTIONS[7:9]):  # padded or not
        batch = tokenizer(captions, padding="max_length", truncation=True, max_length=38,
                          return_tensors="pt")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", CaptionTruncatedWarning)
            expected = reference(**batch).last_hidden_state
            out = tiny._encode(captions)
        assert torch.equal(out.mask, batch["attention_mask"].bool())
        assert_same(out.tokens, expected)


def test_paper_sized_clip_is_bit_identical_too():
    model = seeded_clip_text(CLIP_B_TEXT, seed=3)
    reference = hf_model(model, CLIP_B_TEXT)
    ids = torch.randint(0, 49406, (3, 38))
    mask = torch.ones(3, 38, dtype=torch.bool)
    mask[1, 9:] = False
    with torch.no_grad():
        for m in (mask, torch.ones_like(mask)):
            expected = reference(input_ids=ids, attention_mask=m.long()).last_hidden_state
            assert_same(model(ids, m), expected)


@pytest.mark.parametrize("layout", ["vocab+merges", "tokenizer.json", "pad !"])
def test_tokenizer_ids_are_transformers(tmp_path, layout):
    folder = tmp_path / "tok"
    copy_vocab(folder)
    if layout == "tokenizer.json":  # transformers writes one from the vocabulary files
        hf_tokenizer(clip_bpe_folder()).save_pretrained(folder)
        (folder / "vocab.json").unlink()
        (folder / "merges.txt").unlink()
    if layout == "pad !":  # LAION's CLIPs pad with "!" (id 0), not <|endoftext|>
        config = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "tokenizer_config.json").write_text(json.dumps({**config, "pad_token": "!"}))
    ours, theirs = clip_tokenizer(folder), hf_tokenizer(folder)
    assert ours.vocab_size == len(theirs) == 49408
    assert ours.pad == theirs.pad_token_id == (0 if layout == "pad !" else 49407)
    assert ours(CAPTIONS) == theirs(CAPTIONS)["input_ids"]


def test_truncation_keeps_the_end_token_and_warns(tiny):
    tiny.clear_cache()
    with pytest.warns(CaptionTruncatedWarning,
                      match=r"39 tokens, truncated to 38 \(1 dropped\)") as record:
        out = tiny.encode([CAPTIONS[8]])
    assert bool(out.mask.all()) and record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaptionTruncatedWarning)
        tiny.encode([CAPTIONS[7]])


def test_every_folder_layout_loads_the_same_weights(tmp_path, tiny):
    expected = tiny.encode(CAPTIONS[:3]).tokens
    reference = hf_model(tiny.model, TINY_CONFIG)
    state = tiny.model.state_dict()
    layouts = {}
    # transformers 5's CLIPTextModel (bare names), and the same in fp16
    layouts["text"] = tmp_path / "text"
    reference.save_pretrained(layouts["text"])
    layouts["fp16"] = tmp_path / "fp16"
    hf_model(tiny.model, TINY_CONFIG).half().save_pretrained(layouts["fp16"])
    # a full CLIPModel: text_model.*, the vision tower, projections, logit scale
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                  num_attention_heads=2, image_size=32, patch_size=16)
    full = transformers.CLIPModel(transformers.CLIPConfig(text_config=TINY_CONFIG,
                                                          vision_config=vision, projection_dim=32))
    full.text_model.load_state_dict(state, strict=False)
    layouts["full"] = tmp_path / "full"
    full.save_pretrained(layouts["full"])
    # the older layout: text_model.* in a torch pickle, and sharded safetensors
    layouts["bin"] = tmp_path / "bin"
    layouts["bin"].mkdir()
    shutil.copy(layouts["text"] / "config.json", layouts["bin"])
    torch.save({f"text_model.{k}": v for k, v in state.items()},
               layouts["bin"] / "pytorch_model.bin")
    layouts["sharded"] = tmp_path / "sharded"
    reference.save_pretrained(layouts["sharded"], max_shard_size="100KB")
    assert (layouts["sharded"] / "model.safetensors.index.json").is_file()
    for name, folder in layouts.items():
        copy_vocab(folder)
        loaded = CLIPTextEncoder(folder).encode(CAPTIONS[:3]).tokens
        if name == "fp16":  # as transformers' from_pretrained(...).float()
            fp16 = transformers.CLIPTextModel.from_pretrained(folder, **ATTENTION).float().eval()
            batch = hf_tokenizer(folder)(CAPTIONS[:3], padding="max_length", truncation=True,
                                         max_length=38, return_tensors="pt")
            with torch.no_grad():
                assert_same(loaded, fp16(**batch).last_hidden_state)
        else:
            assert torch.equal(loaded, expected), name


def test_damaged_folders_are_clear_errors(tmp_path, tiny):
    folder = tmp_path / "clip"
    hf_model(tiny.model, TINY_CONFIG).save_pretrained(folder)
    with pytest.raises(TextEncoderUnavailable, match="no tokenizer.json, nor vocab.json"):
        CLIPTextEncoder(folder)
    copy_vocab(folder)
    from safetensors.torch import load_file, save_file

    weights = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in weights.items() if "layers.1." not in k},
              folder / "model.safetensors")
    with pytest.raises(TextEncoderUnavailable, match="lacks or mis-shapes 16 weights"):
        CLIPTextEncoder(folder)
    # a config far larger than its weights (a 26 GB network): refused from the headers alone
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 32768}))
    with pytest.raises(TextEncoderUnavailable, match="mis-shapes .* weights of CLIPTextModel"):
        load_clip_text(folder)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(b"\x00\x01 not safetensors")  # binary: not text
    with pytest.raises(TextEncoderUnavailable, match="cannot read the weights"):
        load_clip_text(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(TextEncoderUnavailable, match="holds no weights"):
        load_clip_text(folder)
    (folder / "config.json").write_text(json.dumps({"hidden_act": "relu"}))
    with pytest.raises(TextEncoderUnavailable, match="hidden_act 'relu'"):
        load_clip_text(folder)
    (folder / "vocab.json").write_text("{}")
    with pytest.raises(TextEncoderUnavailable, match="--clip-path"):
        CLIPTextEncoder(folder)


def test_a_weights_header_over_the_bound_is_refused_before_safetensors(tmp_path, tiny, monkeypatch):
    """A text encoder's model.safetensors goes through the same 8-byte header-length check as a
    checkpoint: safetensors would read (and parse) up to 100 MB of header itself."""
    import safetensors

    from taco.shards import SAFETENSORS_HEADER_MAX_BYTES

    folder = tmp_path / "clip"
    hf_model(tiny.model, TINY_CONFIG).save_pretrained(folder)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    n = int.from_bytes(data[:8], "little")
    size = SAFETENSORS_HEADER_MAX_BYTES + 1
    weights.write_bytes(size.to_bytes(8, "little") + data[8 : 8 + n] + b" " * (size - n) + data[8 + n :])
    monkeypatch.setattr(safetensors, "safe_open", lambda *a, **k: pytest.fail("safetensors was called"))
    with pytest.raises(TextEncoderUnavailable, match=f"a safetensors header of {size:,} bytes, over"):
        load_clip_text(folder)


def test_a_hub_id_loads_from_the_hugging_face_cache(tmp_path, monkeypatch, tiny):
    from huggingface_hub import constants

    snapshot = tmp_path / "models--someone--tiny-clip" / "snapshots" / ("0" * 40)
    hf_model(tiny.model, TINY_CONFIG).save_pretrained(snapshot)
    copy_vocab(snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0" * 40)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = CLIPTextEncoder("someone/tiny-clip")
    assert torch.equal(encoder.encode(["a cat"]).tokens, tiny.encode(["a cat"]).tokens)
    (snapshot / "model.safetensors").unlink()  # a partial snapshot is not used
    with pytest.raises(TextEncoderUnavailable, match="not \\(completely\\) in the Hugging Face"):
        CLIPTextEncoder("someone/tiny-clip")


def test_encoding_with_clip_imports_no_transformers(tmp_path, tiny):
    hf_model(tiny.model, TINY_CONFIG).save_pretrained(tmp_path)
    copy_vocab(tmp_path)
    code = ("import sys; from taco.text import build_text_encoder; "
            f"out = build_text_encoder('clip', path={str(tmp_path)!r}).encode(['a cat']); "
            "print(tuple(out.tokens.shape), [m for m in ('transformers', 'sympy', 'torch._dynamo') "
            "if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "(1, 38, 32) []"  # loading on the meta device imports no sympy


def test_an_older_clip_config_s_text_config_dict_wins(tmp_path, tiny):
    hf_model(tiny.model, TINY_CONFIG).save_pretrained(tmp_path)
    copy_vocab(tmp_path)
    stale = {**TINY_CONFIG, "hidden_size": 512, "num_hidden_layers": 12}  # what transformers ignores
    (tmp_path / "config.json").write_text(json.dumps({"text_config": stale,
                                                      "text_config_dict": TINY_CONFIG}))
    assert torch.equal(CLIPTextEncoder(tmp_path).encode(["a cat"]).tokens,
                       tiny.encode(["a cat"]).tokens)


def test_hostile_configs_are_refused_or_load(tmp_path):
    """Seeded mutations of a CLIP folder's config.json (sizes of any type and magnitude, a
    billion layers, heads not dividing the width, ...): each is refused with
    TextEncoderUnavailable in bounded time, or loads and runs; nothing else."""
    import random

    from safetensors.torch import save_file

    save_file(seeded_clip_text(TINY_CONFIG, 0).state_dict(), tmp_path / "model.safetensors")
    rng = random.Random(0)
    values = [0, -1, 1, 3, 7, 32, 64, 77, 2**31, 2**63, 1.5, 32.0, "32", None, [], {}, True,
              float("nan"), float("inf"), 1e-30]
    keys = [*TINY_CONFIG, "layer_norm_eps", "hidden_act", "text_config"]
    outcomes = {"refused": 0, "ran": 0}
    ids = torch.randint(0, 49408, (2, 38))
    mask = torch.ones(2, 38, dtype=torch.bool)
    mask[1, 5:] = False
    for _ in range(150):
        config = dict(TINY_CONFIG)
        for _ in range(rng.randint(1, 3)):
            config[rng.choice(keys)] = rng.choice(values)
        (tmp_path / "config.json").write_text(json.dumps(config))
        try:
            model = load_clip_text(tmp_path)
        except TextEncoderUnavailable:
            outcomes["refused"] += 1
            continue
        with torch.no_grad():
            assert model(ids, mask).shape == (2, 38, 32)
        outcomes["ran"] += 1
    assert outcomes["refused"] > 100 and outcomes["ran"] > 10, outcomes
    config = {**TINY_CONFIG, "num_attention_heads": 3}  # the weights cannot tell: the config can
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(TextEncoderUnavailable, match="not a multiple of num_attention_heads 3"):
        load_clip_text(tmp_path)
