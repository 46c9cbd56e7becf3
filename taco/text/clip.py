"""CLIP text encoders: the paper's frozen ``openai/clip-vit-base-patch32`` and a tiny test twin.

TACO (Lee et al., ICML 2024, Sec. 3.2) feeds the adapter CLIP's ``last_hidden_state``
(B, m=38, d=512), captions padded / truncated to 38 tokens.

- :class:`CLIPTextEncoder` loads the real model from a local folder (``path_or_id``, or the
  ``TACO_CLIP_PATH`` environment variable) or from the Hugging Face cache / hub. It never waits
  on a dead network: offline or unreachable, it raises :class:`TextEncoderUnavailable` at once.
- :class:`TinyCLIPTextEncoder` ("clip-tiny") is a 2-layer, 32-wide CLIP text transformer with
  seed-determined weights and the real CLIP BPE tokenizer (vocabulary from ``open_clip``), for
  tests and tiny models. It needs no download.

transformers is imported inside functions so ``import taco`` stays light.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch

from .base import TextEncoderUnavailable
from .hf import (
    HFTextEncoder,
    check_vocab,
    hub_offline,
    hub_unreachable,
    load_pretrained_model,
    quiet_transformers,
)

DEFAULT_CLIP = "openai/clip-vit-base-patch32"
CLIP_PATH_ENV = "TACO_CLIP_PATH"
DEFAULT_MAX_TOKENS = 38  # m in the paper

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"

#: The tiny test CLIP: real vocabulary and context length, everything else small.
TINY_CONFIG: dict[str, Any] = dict(
    vocab_size=49408,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    max_position_embeddings=77,
    projection_dim=32,
    hidden_act="quick_gelu",
    pad_token_id=1,
    bos_token_id=49406,
    eos_token_id=49407,
)
TINY_DIM: int = TINY_CONFIG["hidden_size"]

_HOW_TO = (
    "To fix: give a local folder with the CLIP files (config.json, model.safetensors or "
    "pytorch_model.bin, vocab.json + merges.txt or tokenizer.json), e.g. a copy of "
    f"{DEFAULT_CLIP} made with `hf download {DEFAULT_CLIP} --local-dir DIR` on a machine with "
    f"network, via --clip-path DIR or the {CLIP_PATH_ENV} environment variable; or run once with "
    "network access (HF_HUB_OFFLINE unset) to fill the Hugging Face cache."
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class CLIPTextEncoder(HFTextEncoder):
    """Frozen CLIP text transformer: captions -> ``last_hidden_state`` (B, m, 512) + mask (B, m).

    ``path_or_id``: a local folder or a Hugging Face model id; default ``$TACO_CLIP_PATH``, else
    ``openai/clip-vit-base-patch32``. The folder may hold a full ``CLIPModel`` (its text half
    is used) or a ``CLIPTextModel``.
    """

    name = "clip"

    def __init__(
        self, path_or_id: str | os.PathLike[str] | None = None, max_tokens: int = DEFAULT_MAX_TOKENS
    ) -> None:
        source = resolve_clip_source(path_or_id)
        tokenizer, model = _load_clip(source)
        super().__init__(tokenizer, model, max_tokens)
        self.source = source

    @classmethod
    def tiny(cls, seed: int = 0, max_tokens: int = DEFAULT_MAX_TOKENS) -> TinyCLIPTextEncoder:
        """The tiny test CLIP ("clip-tiny"), see :class:`TinyCLIPTextEncoder`."""
        return TinyCLIPTextEncoder(seed=seed, max_tokens=max_tokens)


class TinyCLIPTextEncoder(HFTextEncoder):
    """A small CLIP text transformer (:data:`TINY_CONFIG`, d=32) for tests and tiny models.

    Weights are drawn from ``torch.Generator().manual_seed(seed)`` in parameter-name order, so
    every process (and transformers version) builds byte-identical weights for a seed. The
    tokenizer is CLIP's real BPE (ids equal ``open_clip.tokenize``'s on the real tokens).
    """

    name = "clip-tiny"

    def __init__(self, seed: int = 0, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        super().__init__(clip_bpe_tokenizer(), tiny_clip_text_model(seed), max_tokens)
        self.seed = seed


def resolve_clip_source(path_or_id: str | os.PathLike[str] | None) -> str:
    """The folder or hub id to load: the argument, else ``$TACO_CLIP_PATH``, else the default id."""
    if path_or_id is None:
        path_or_id = os.environ.get(CLIP_PATH_ENV) or DEFAULT_CLIP
    source = os.path.expanduser(os.fspath(path_or_id))
    if os.path.isdir(source):
        return source
    if not _HUB_ID.match(source) or os.path.exists(source):
        raise TextEncoderUnavailable(f"CLIP: {source!r} is not a folder. {_HOW_TO}")
    return source


def _load_clip(source: str) -> tuple[Any, torch.nn.Module]:
    """(tokenizer, CLIPTextModel) from a folder, the HF cache, or (online only) the hub."""
    if os.path.isdir(source):
        try:
            return _from_pretrained(source, local_files_only=True)
        except Exception as e:
            raise TextEncoderUnavailable(f"CLIP: cannot load {source!r}: {e}\n{_HOW_TO}") from e
    try:
        return _from_pretrained(source, local_files_only=True)
    except Exception as e:
        cache_error = e
    from huggingface_hub import constants

    where = f"{source!r} is not (completely) in the Hugging Face cache {constants.HF_HUB_CACHE}"
    if hub_offline():
        raise TextEncoderUnavailable(
            f"CLIP: {where} and HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set.\n{_HOW_TO}"
        ) from cache_error
    reason = hub_unreachable()
    if reason is not None:
        raise TextEncoderUnavailable(f"CLIP: {where} and {reason}.\n{_HOW_TO}") from cache_error
    try:
        return _from_pretrained(source, local_files_only=False)
    except Exception as e:
        raise TextEncoderUnavailable(f"CLIP: cannot download {source!r}: {e}\n{_HOW_TO}") from e


def _from_pretrained(source: str, local_files_only: bool) -> tuple[Any, torch.nn.Module]:
    from transformers import CLIPTextModel

    tokenizer = clip_tokenizer_class().from_pretrained(source, local_files_only=local_files_only)
    check_vocab(tokenizer, repr(source))  # before fetching weights for nothing
    return tokenizer, load_pretrained_model(CLIPTextModel, source, local_files_only)


def tiny_clip_text_model(seed: int) -> torch.nn.Module:
    """A :data:`TINY_CONFIG` ``CLIPTextModel`` with weights determined by ``seed`` alone."""
    from transformers import CLIPTextConfig, CLIPTextModel

    # transformers' own (discarded) initialisation must not advance the caller's RNG.
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        model = CLIPTextModel(CLIPTextConfig(**TINY_CONFIG))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:  # LayerNorm gain
                p.fill_(1.0)
            else:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.02)
    return model.eval()


@functools.lru_cache(maxsize=1)
def clip_bpe_tokenizer() -> Any:
    """A transformers CLIP tokenizer built from the BPE vocabulary shipped with ``open_clip``.

    vocab.json / merges.txt are derived exactly as CLIP's ``SimpleTokenizer`` does and written
    once to ``$TACO_CACHE_DIR/clip-bpe`` (default ``~/.cache/taco/clip-bpe``).
    """
    folder = _write_clip_bpe(_find_bpe_file())
    with quiet_transformers():
        tokenizer = clip_tokenizer_class().from_pretrained(folder, local_files_only=True)
    check_vocab(tokenizer, str(folder))
    return tokenizer


def clip_tokenizer_class() -> Any:
    """transformers' CLIP tokenizer class (also what :mod:`taco.losses` loads CLIP's with)."""
    import transformers

    # transformers 5 has one (Rust-backed) CLIPTokenizer; 4.x names that one CLIPTokenizerFast.
    return getattr(transformers, "CLIPTokenizerFast", None) or transformers.CLIPTokenizer


def _find_bpe_file() -> Path:
    # find_spec locates a package without importing it (importing open_clip takes seconds).
    for package in ("open_clip", "clip"):  # open-clip-torch, clip-anytorch
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            path = Path(location) / BPE_FILE
            if path.is_file():
                return path
    raise TextEncoderUnavailable(
        f"the tiny CLIP needs CLIP's BPE vocabulary ({BPE_FILE}), shipped with open_clip: "
        "pip install open-clip-torch"
    )


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP/GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def _write_clip_bpe(bpe_file: Path) -> Path:
    """Write vocab.json, merges.txt and tokenizer_config.json for ``bpe_file``; return the folder."""
    lines = gzip.open(bpe_file).read().decode("utf-8").split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]  # as SimpleTokenizer: skip the header, 48894 merges
    byte_chars = list(_bytes_to_unicode().values())
    tokens = [
        *byte_chars,
        *(c + "</w>" for c in byte_chars),
        *("".join(m.split()) for m in merges),
        BOS,
        EOS,
    ]
    files = {
        "vocab.json": json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False),
        "merges.txt": "#version: 0.2\n" + "\n".join(merges) + "\n",
        "tokenizer_config.json": json.dumps(
            {
                "tokenizer_class": "CLIPTokenizer",
                "bos_token": BOS,
                "eos_token": EOS,
                "unk_token": EOS,
                "pad_token": EOS,
                "model_max_length": 77,
                "do_lower_case": True,
            }
        ),
    }
    root = os.environ.get("TACO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "taco"
    )
    folder = Path(root) / "clip-bpe"
    try:
        _write_files(folder, files)
    except OSError:  # read-only home: a private temporary folder will do
        folder = Path(tempfile.mkdtemp(prefix="taco-clip-bpe-"))
        _write_files(folder, files)
    return folder


def _write_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = folder / name
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        # Write-then-rename: a concurrent process never reads a half-written file.
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
