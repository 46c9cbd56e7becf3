"""CLIP text encoders: the paper's frozen ``openai/clip-vit-base-patch32`` and a tiny test twin.

TACO (Lee et al., ICML 2024, Sec. 3.2) feeds the adapter CLIP's ``last_hidden_state``
(B, m=38, d=512), captions padded / truncated to 38 tokens.

- :class:`CLIPTextEncoder` loads the real model from a local folder (``path_or_id``, or the
  ``TACO_CLIP_PATH`` environment variable) or from the Hugging Face cache / hub. It never waits
  on a dead network: offline or unreachable, it raises :class:`TextEncoderUnavailable` at once.
- :class:`TinyCLIPTextEncoder` ("clip-tiny") is a 2-layer, 32-wide CLIP text transformer with
  seed-determined weights and the real CLIP BPE tokenizer (vocabulary shipped in taco/assets/clip), for
  tests and tiny models. It needs no download.

Both run without transformers, as :mod:`taco.text.minilm` does: its import (~3.4 s) would be most
of a ``taco compress``'s start-up. :class:`ClipText` holds the weights under transformers'
``CLIPTextModel`` names (a ``CLIPModel``'s or ``CLIPTextModel``'s folder loads as it is) and
computes the same operations in the same order with its default attention
(``scaled_dot_product_attention``, causal, plus a boolean key mask when a caption is padded), and
:func:`clip_tokenizer` builds the tokenizer transformers' ``CLIPTokenizer`` builds, from the same
vocabulary and merges, in the ``tokenizers`` library. The tokens are bit-identical to
transformers' (tests/text/test_clip.py compares them), so are the files an encoder makes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..draws import private_draws
from ..filekinds import text_weights_problem
from ..fileobjects import read_file_within
from ..jsonfiles import read_json_object
from ..messages import one_line
from .base import (
    DEFAULT_MAX_TOKENS,
    TextEncoderUnavailable,
    TokenNetworkEncoder,
    special_token_id,
)
from .clip_vocab import BOS, EOS, clip_bpe_folder
from .hf import MIN_VOCAB, holds_other_model, is_hub_id, model_folder
from .weights import (
    CONFIG_MAX_BYTES,
    TOKENIZER_MAX_BYTES,
    WEIGHT_FILES,
    checked_config,
    empty_embedding,
    load_network,
    loading_out_of_memory,
    refuse_special_file,
    refuse_special_files,
)

DEFAULT_CLIP = "openai/clip-vit-base-patch32"
CLIP_PATH_ENV = "TACO_CLIP_PATH"


#: transformers' ``CLIPTextConfig`` defaults: openai/clip-vit-base-patch32's text tower. A
#: folder's config.json overrides them (a full ``CLIPModel``'s under its ``text_config``).
CLIP_B_TEXT: dict[str, Any] = dict(
    vocab_size=49408,
    hidden_size=512,
    intermediate_size=2048,
    num_hidden_layers=12,
    num_attention_heads=8,
    max_position_embeddings=77,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
)

#: The tiny test CLIP: real vocabulary and context length, everything else small. (The ids and
#: projection width are transformers config keys, for building its twin in tests.)
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

#: What the CLIP-style pre-tokenizer splits a normalised caption into (CLIP's own pattern).
_SPLIT = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"
          r"|[^\s\p{L}\p{N}]+")

_HOW_TO = (
    "To fix: give a local folder with the CLIP files (config.json, model.safetensors or "
    "pytorch_model.bin, vocab.json + merges.txt or tokenizer.json), e.g. a copy of "
    f"{DEFAULT_CLIP} made with `hf download {DEFAULT_CLIP} --local-dir DIR` on a machine with "
    f"network, in the {CLIP_PATH_ENV} environment variable (taco compress also takes it as "
    "--clip-path DIR); or run once with network access (HF_HUB_OFFLINE unset) to fill the "
    "Hugging Face cache."
)


class CLIPTextEncoder(TokenNetworkEncoder):
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
        folder = model_folder(source, what="CLIP", fix=_HOW_TO, error=TextEncoderUnavailable,
                              complete=_complete)
        try:
            check_clip_folder(folder)
            tokenizer = clip_tokenizer(folder)
            model = load_clip_text(folder)
        except TextEncoderUnavailable as e:  # the message names the folder
            cached = "" if folder == source else f" ({source!r} in the Hugging Face cache)"
            raise TextEncoderUnavailable(f"CLIP{cached}: {str(e).rstrip('.')}. {_HOW_TO}") from e
        super().__init__(tokenizer, model, max_tokens)
        self.source = source


class TinyCLIPTextEncoder(TokenNetworkEncoder):
    """A small CLIP text transformer (:data:`TINY_CONFIG`, d=32) for tests and tiny models.

    Weights are drawn by :func:`seeded_clip_text`, so every process builds byte-identical
    weights for a seed. The tokenizer is CLIP's real BPE (ids equal ``open_clip.tokenize``'s on
    the real tokens).
    """

    name = "clip-tiny"

    def __init__(self, seed: int = 0, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        super().__init__(clip_tokenizer(clip_bpe_folder()), seeded_clip_text(TINY_CONFIG, seed),
                         max_tokens)
        self.seed = seed


class ClipText(nn.Module):
    """CLIP's text transformer (pre-norm, causal, quick GELU) -> last hidden state (B, m, d).

    The module and parameter names are those of transformers' ``CLIPTextModel`` (which a
    ``CLIPModel`` stores under ``text_model.``), the operations and their order are its too.
    ``config``: a ``CLIPTextConfig``'s keys; missing ones take :data:`CLIP_B_TEXT`'s values.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        c = checked_config({**CLIP_B_TEXT, **config}, _SIZES)
        if not isinstance(c["hidden_act"], str) or c["hidden_act"] not in _ACTIVATIONS:
            raise ValueError(f"CLIP text models with hidden_act {c['hidden_act']!r} are not "
                             f"supported (only {', '.join(_ACTIVATIONS)})")
        d = self.hidden_size = int(c["hidden_size"])
        self.vocab_size = int(c["vocab_size"])
        self.max_positions = int(c["max_position_embeddings"])
        self.heads = int(c["num_attention_heads"])
        self.activation = _ACTIVATIONS[c["hidden_act"]]
        eps = float(c["layer_norm_eps"])
        self.embeddings = _Embeddings(self.vocab_size, self.max_positions, d)
        self.encoder = _Encoder([_Layer(d, int(c["intermediate_size"]), eps)
                                 for _ in range(int(c["num_hidden_layers"]))])
        self.final_layer_norm = nn.LayerNorm(d, eps=eps)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        """``ids`` (B, m) token ids, ``mask`` (B, m) True for real tokens -> (B, m, d)."""
        m = ids.shape[1]
        e = self.embeddings
        positions = torch.arange(m, device=ids.device)
        x = e.token_embedding(ids) + e.position_embedding(positions)[None]
        # transformers: causal attention alone when nothing is padded, else a (B, 1, m, m)
        # boolean mask, causal and over the real keys
        attn_mask = None
        if not bool(mask.all()):
            causal = positions[:, None] >= positions[None, :]
            attn_mask = causal[None, None] & mask[:, None, None, :]
        for layer in self.encoder.layers:
            x = layer(x, attn_mask, self.heads, self.activation)
        return self.final_layer_norm(x)


_SIZES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
          "num_attention_heads", "max_position_embeddings")


def _quick_gelu(x: Tensor) -> Tensor:
    return x * torch.sigmoid(1.702 * x)


_ACTIVATIONS = {"quick_gelu": _quick_gelu, "gelu": F.gelu}


class _Embeddings(nn.Module):
    def __init__(self, vocab: int, positions: int, d: int) -> None:
        super().__init__()
        self.token_embedding = empty_embedding(vocab, d)
        self.position_embedding = empty_embedding(positions, d)


class _Encoder(nn.Module):
    def __init__(self, layers: list[_Layer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class _Attention(nn.Module):  # CLIPAttention's parameters
    def __init__(self, d: int) -> None:
        super().__init__()
        self.k_proj, self.v_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.q_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)


class _MLP(nn.Module):  # CLIPMLP's parameters
    def __init__(self, d: int, inner: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, inner), nn.Linear(inner, d)


class _Layer(nn.Module):
    def __init__(self, d: int, inner: int, eps: float) -> None:
        super().__init__()
        self.self_attn = _Attention(d)
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.mlp = _MLP(d, inner)
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, x: Tensor, attn_mask: Tensor | None, heads: int, activation: Any) -> Tensor:
        a = self.self_attn
        h = self.layer_norm1(x)
        shape = (*x.shape[:-1], heads, x.shape[-1] // heads)
        q, k, v = (lin(h).view(shape).transpose(1, 2) for lin in (a.q_proj, a.k_proj, a.v_proj))
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=0.0,
                                           scale=shape[-1] ** -0.5, is_causal=attn_mask is None)
        h = h.transpose(1, 2).contiguous().reshape(*x.shape[:-1], -1).contiguous()
        x = x + a.out_proj(h)
        return x + self.mlp.fc2(activation(self.mlp.fc1(self.layer_norm2(x))))


class ClipTokenizer:
    """CLIP's byte-level BPE with lower-casing, as transformers' ``CLIPTokenizer`` builds it.

    Calling it gives each caption's ids with the start- and end-of-text tokens, untruncated
    (a :class:`~taco.text.base.Tokenizer`). ``bos``, ``end``, ``pad``: the ids of the
    start-of-text, end-of-text and padding tokens.
    """

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]],
                 special: dict[str, str]) -> None:
        from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
        from tokenizers.models import BPE

        tokenizer = Tokenizer(BPE(vocab=vocab, merges=merges, dropout=None,
                                  continuing_subword_prefix="", end_of_word_suffix="</w>",
                                  fuse_unk=False, unk_token=special["unk"]))
        tokenizer.normalizer = normalizers.Sequence(
            [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()])
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ])
        # transformers registers its special tokens in this order (new ones get the next ids)
        tokenizer.add_special_tokens([special[k] for k in ("bos", "eos", "unk", "pad")])
        self._tokenizer = tokenizer
        self.bos, self.end, self.pad = (special_token_id(tokenizer, special[k])
                                        for k in ("bos", "eos", "pad"))
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)

    def __call__(self, captions: list[str]) -> list[list[int]]:
        return [[self.bos, *enc.ids, self.end]
                for enc in self._tokenizer.encode_batch(captions, add_special_tokens=False)]


def clip_tokenizer(folder: str | os.PathLike[str]) -> ClipTokenizer:
    """The tokenizer of a CLIP folder: its vocabulary and merges from ``tokenizer.json``, else
    from ``vocab.json`` + ``merges.txt`` (transformers reads them in this order), its special
    tokens from ``tokenizer_config.json`` / ``special_tokens_map.json`` (default: CLIP's). The
    files are read in Python (so a folder whose path is not UTF-8 is read too), within
    :data:`taco.text.weights.TOKENIZER_MAX_BYTES` (tokenizer.json, vocab.json, merges.txt) and
    :data:`taco.text.weights.CONFIG_MAX_BYTES` (the others)."""
    root = Path(folder)
    try:
        if (root / "tokenizer.json").is_file():
            model = _tokenizer_json(root / "tokenizer.json", TOKENIZER_MAX_BYTES).get("model")
            if not isinstance(model, dict) or model.get("type", "BPE") != "BPE":  # WordPiece: a BERT's
                kind = model.get("type") if isinstance(model, dict) else None
                raise ValueError("not a BPE vocabulary with merges"
                                 + (f" (a {one_line(str(kind), 40)} one)" if kind else ""))
            vocab, merges = model.get("vocab"), model.get("merges")
            if not isinstance(merges, list):
                raise ValueError("not a BPE vocabulary with merges")
        elif (root / "vocab.json").is_file() and (root / "merges.txt").is_file():
            # read here, not by tokenizers' BPE.read_file: its Rust side refuses a path that is
            # not UTF-8 (a home named in Latin-1: "surrogates not allowed")
            vocab = _tokenizer_json(root / "vocab.json", TOKENIZER_MAX_BYTES)
            merges = _merges_txt(root / "merges.txt")
        else:
            raise TextEncoderUnavailable(
                f"{os.fspath(root)!r} has no tokenizer.json, nor vocab.json + merges.txt")
        pairs = [tuple(m.split(" ") if isinstance(m, str) else m) for m in merges]
        if not isinstance(vocab, dict) or any(len(p) != 2 for p in pairs):
            raise ValueError("not a BPE vocabulary with merges")
        special = {"bos": BOS, "eos": EOS, "unk": EOS, "pad": EOS}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the second wins
            if (root / name).is_file():
                config = _tokenizer_json(root / name, CONFIG_MAX_BYTES)
                for key in special:
                    value = config.get(f"{key}_token")
                    value = value.get("content") if isinstance(value, dict) else value
                    if isinstance(value, str):
                        special[key] = value
        tokenizer = ClipTokenizer(vocab, pairs, special)  # type: ignore[arg-type]
    except TextEncoderUnavailable:
        raise
    except Exception as e:  # out of memory is not the files' fault: said as such
        if oom := loading_out_of_memory(e, f"the tokenizer of {os.fspath(root)!r}"):
            raise oom from None
        raise TextEncoderUnavailable(
            f"the tokenizer files in {os.fspath(root)!r} cannot be read: {e}") from e
    if tokenizer.vocab_size < MIN_VOCAB:
        raise TextEncoderUnavailable(
            f"the tokenizer in {os.fspath(root)!r} has only {tokenizer.vocab_size} tokens: its "
            "vocabulary files (vocab.json + merges.txt, or tokenizer.json) are incomplete")
    return tokenizer


def _merges_txt(file: Path) -> list[tuple[str, str]]:
    """The merges in ``file`` (a merges.txt) as tokenizers' ``BPE.read_file`` reads them: a line
    each, two tokens split by a space, lines starting ``#version`` skipped; read within
    :data:`taco.text.weights.TOKENIZER_MAX_BYTES`, as UTF-8. A ValueError naming the file and saying why otherwise."""
    data, size = read_file_within(file, TOKENIZER_MAX_BYTES)
    if size > TOKENIZER_MAX_BYTES:
        raise ValueError(f"{file.name}: {size:,} bytes, over the {TOKENIZER_MAX_BYTES:,} read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{file.name}: not UTF-8 text") from None
    lines = text.split("\n")
    if lines[-1] == "":  # the newline that ends the last line
        lines.pop()
    merges: list[tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\r")
        if line.startswith("#version"):
            continue
        pair = line.split(" ")
        if len(pair) != 2:
            raise ValueError(f"{file.name}: line {number} is not two tokens split by a space")
        merges.append((pair[0], pair[1]))
    return merges


def _tokenizer_json(file: Path, limit: int) -> dict[str, Any]:
    """The JSON object in the tokenizer file ``file``, read within ``limit`` bytes; a ValueError
    naming the file and saying why otherwise."""
    try:
        return read_json_object(file, limit)
    except ValueError as e:
        raise ValueError(f"{file.name}: {e}") from None


def load_clip_text(folder: str | os.PathLike[str]) -> ClipText:
    """The CLIP text transformer of a folder holding a ``CLIPModel`` or a ``CLIPTextModel``
    (config.json + weights, :func:`taco.text.weights.load_network`: its sizes are checked against
    the weights before anything is allocated; only the text tower's tensors are read), float32.

    Raises :class:`TextEncoderUnavailable` when a file is missing or unreadable (the config:
    :func:`clip_text_config`), or when the weights lack or mis-shape some of the model's tensors;
    :class:`taco.OutOfMemoryError` when memory runs out reading them.
    """
    root = Path(folder)
    config = clip_text_config(root)
    model = load_network(lambda: ClipText(config), root,
                         lambda key: key.removeprefix("text_model."), "CLIPTextModel")
    assert isinstance(model, ClipText)
    return model


def clip_text_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The text tower's settings in ``folder``'s config.json, as :class:`ClipText` builds it:
    :data:`CLIP_B_TEXT` updated with a ``CLIPTextModel``'s object, or with a ``CLIPModel``'s
    ``text_config`` and then its ``text_config_dict`` (older configs hold both, and transformers
    takes the latter's values first), the sizes checked
    (:func:`taco.text.weights.checked_config`). The one reader of a CLIP's config.json, for the
    encoder (:func:`load_clip_text`) and for the width its adapter is built for
    (:func:`taco.text.text_encoder_dim`) alike, so the two cannot disagree.

    Raises :class:`TextEncoderUnavailable` naming the file when it is not a regular file (a named
    pipe: refused unopened), cannot be read, is over
    :data:`taco.text.weights.CONFIG_MAX_BYTES` (read no further), is not a UTF-8 JSON object,
    has a section that is not one, or names a size out of bounds.
    """
    file = Path(folder) / "config.json"
    refuse_special_file(file)  # (a named pipe: its read waited for ever)
    try:
        config = read_json_object(file, CONFIG_MAX_BYTES)
        if "text_config" in config or "text_config_dict" in config:  # a CLIPModel's config
            sections = [config.get(key) or {} for key in ("text_config", "text_config_dict")]
            if not all(isinstance(section, dict) for section in sections):
                raise ValueError("its text_config or text_config_dict is not a JSON object")
            config = {**sections[0], **sections[1]}
        return checked_config({**CLIP_B_TEXT, **config}, _SIZES)
    except (OSError, ValueError) as e:
        raise TextEncoderUnavailable(f"{os.fspath(file)!r}: not a usable CLIP config ({e})") from None


def seeded_clip_text(config: dict[str, Any], seed: int) -> ClipText:
    """A :class:`ClipText` whose weights ``seed`` alone determines: drawn from
    ``torch.Generator().manual_seed(seed)`` in parameter-name order (biases 0, norm gains 1,
    the rest N(0, 0.02)); the caller's random state is left alone."""
    with private_draws():  # thrown away: the weights are drawn below
        model = ClipText(config)
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


def requested_clip_source(path_or_id: str | os.PathLike[str] | None) -> str:
    """The CLIP asked for, unchecked: the argument, else ``$TACO_CLIP_PATH``, else the default id,
    with ``~`` expanded. The one place that decides it, for the text encoder and the training
    loss (:meth:`taco.losses.ClipTowers.load`) alike."""
    if path_or_id is None:
        path_or_id = os.environ.get(CLIP_PATH_ENV) or DEFAULT_CLIP
    return os.path.expanduser(os.fspath(path_or_id))


def resolve_clip_source(path_or_id: str | os.PathLike[str] | None) -> str:
    """The folder or hub id to load (:func:`requested_clip_source`); raises
    :class:`TextEncoderUnavailable` when it is neither a folder nor shaped like a hub id."""
    source = requested_clip_source(path_or_id)
    if os.path.isdir(source):
        return source
    if not is_hub_id(source):
        raise TextEncoderUnavailable(f"CLIP: {source!r} is not a folder. {_HOW_TO}")
    return source


#: The ``model_type`` of a CLIP's config.json: a full ``CLIPModel``'s, a ``CLIPTextModel``'s.
CLIP_MODEL_TYPES = ("clip", "clip_text_model")


def clip_folder_lacks(folder: str | os.PathLike[str]) -> list[str]:
    """What ``folder`` lacks of a CLIP's files, each said as ``no FILE``: config.json, weights
    (:data:`taco.text.weights.WEIGHT_FILES`), tokenizer.json or vocab.json + merges.txt; empty
    when it has them all."""
    root = Path(folder)
    has = {p.name for p in root.iterdir()} if root.is_dir() else set()
    lacks = [] if "config.json" in has else ["no config.json"]
    if not has & set(WEIGHT_FILES):
        lacks.append(f"no weights ({', '.join(WEIGHT_FILES)})")
    if "tokenizer.json" not in has and not {"vocab.json", "merges.txt"} <= has:
        only = [f" (only {f})" for f in ("vocab.json", "merges.txt") if f in has]
        lacks.append("no tokenizer.json, nor vocab.json + merges.txt" + "".join(only))
    return lacks


def check_clip_folder(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`TextEncoderUnavailable` naming what is wrong with ``folder`` as a CLIP,
    before any loader reads it: a file the loaders read that is a named pipe, a device or a
    socket (:func:`taco.text.weights.refuse_special_files`), the model its config.json names when that is not a CLIP
    (:data:`CLIP_MODEL_TYPES`), the files it lacks (:func:`clip_folder_lacks`), a weight file that
    is text (a Git LFS pointer: :func:`taco.filekinds.text_weights_problem`). The one check for
    the text encoder (:class:`CLIPTextEncoder`) and the training loss's CLIP
    (:meth:`taco.losses.ClipTowers.load`) alike; the loaders' own errors stand for the rest."""
    root = Path(folder)
    refuse_special_files(root)  # before any is opened: a named pipe's open waited for ever
    try:
        model_type = read_json_object(root / "config.json", CONFIG_MAX_BYTES).get("model_type")
    except (OSError, ValueError):
        model_type = None  # missing: said below; unreadable: the config reader says why
    if isinstance(model_type, str) and model_type not in CLIP_MODEL_TYPES:
        raise TextEncoderUnavailable(f"{os.fspath(root)!r} {holds_other_model(model_type, 'a CLIP')}")
    if lacks := clip_folder_lacks(root):
        raise TextEncoderUnavailable(f"{os.fspath(root)!r} has {'; '.join(lacks)}")
    if problem := text_weights_problem(root):  # the weight files a loader reads, shards too
        raise TextEncoderUnavailable(f"{os.fspath(root)!r}: {problem}")


def _complete(folder: Path) -> bool:
    """Whether ``folder`` holds what :class:`CLIPTextEncoder` reads: config, weights, tokenizer."""
    return not clip_folder_lacks(folder)


def clip_tokenizer_class() -> Any:
    """transformers' CLIP tokenizer class, for the CLIP of the training loss (:mod:`taco.losses`)."""
    import transformers

    # transformers 5 has one (Rust-backed) CLIPTokenizer; 4.x names that one CLIPTokenizerFast.
    return getattr(transformers, "CLIPTokenizerFast", None) or transformers.CLIPTokenizer
