"""The one small interface every text encoder implements.

captions (list of B strings) -> :class:`TextTokens` with ``tokens`` (B, m, d) and ``mask`` (B, m).
The encoders are frozen: they only ever run under ``torch.no_grad()`` and are never part of a
checkpoint's weights. Only the *encoder* (``compress``) side of taco ever builds one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from ..draws import reduced_precision_settings, with_coding_defaults_no_warning
from ..errors import (  # defined there, so that naming one in an except clause imports no torch
    CaptionTextError as CaptionTextError,
    CaptionTooLongError as CaptionTooLongError,
    CaptionTruncatedWarning as CaptionTruncatedWarning,
    TacoValueError,
    TextEncoderUnavailable as TextEncoderUnavailable,
    warn_at_caller,
)
from ..locks import ForkSafeLock
from ..messages import locale_hint, lone_surrogate

#: Tokens per caption (m in the paper) of every built-in text encoder not given ``max_tokens``.
DEFAULT_MAX_TOKENS = 38

#: The longest caption taco takes, in characters (whitespace included): a longer one is a
#: :class:`CaptionTooLongError` (:func:`normalize_caption`). The encoders read a caption's first
#: 38 tokens, about 30 words; everything after them was tokenized, only to be cut (a 1 MB
#: caption took 1.5 s and 122 MiB, on the one thread every caption is encoded on).
MAX_CAPTION_CHARS = 10_000


def fit_tokens(encoder: str, captions: list[str], seqs: list[list[int]], max_tokens: int,
               end: int, pad: int) -> tuple[Tensor, Tensor]:
    """Each caption's token ids -> ``(ids (B, m), mask (B, m))``, m = ``max_tokens``, as
    transformers' tokenizers give them with ``padding="max_length", truncation=True``.

    A longer sequence is cut and ends with ``end`` (the [SEP] / end-of-text token), and
    :func:`note_truncated` says so; a shorter one is padded with ``pad``. ``mask`` is True for
    real tokens.
    """
    ids = torch.full((len(seqs), max_tokens), pad, dtype=torch.long)
    mask = torch.zeros(len(seqs), max_tokens, dtype=torch.bool)
    for i, (caption, seq) in enumerate(zip(captions, seqs, strict=True)):
        if len(seq) > max_tokens:
            note_truncated(encoder, caption, len(seq), max_tokens)
            seq = [*seq[: max_tokens - 1], end]
        ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[i, : len(seq)] = True
    return ids, mask


# caption -> its truncation note, for the TextEncoder.encode_noting running in this thread
_cut_notes: ContextVar[dict[str, str] | None] = ContextVar("taco_cut_notes", default=None)


def note_truncated(encoder: str, caption: str, tokens: int, max_tokens: int) -> None:
    """Say that ``caption`` (``tokens`` tokens) was cut to ``max_tokens``: to the
    :meth:`TextEncoder.encode_noting` running in this thread, which hands the note to its
    caller, or else at once as a :class:`CaptionTruncatedWarning` (:func:`warn_truncated`)."""
    short = caption if len(caption) <= 60 else caption[:57] + "..."
    note = (f"{encoder}: caption has {tokens} tokens, truncated to {max_tokens} "
            f"({tokens - max_tokens} dropped): {short!r}")
    notes = _cut_notes.get()
    if notes is None:
        warn_truncated([note])
    else:
        notes[caption] = note


def warn_truncated(notes: Iterable[str]) -> None:
    """Raise a :class:`CaptionTruncatedWarning` for each note (:func:`note_truncated`), in this
    thread, blamed on the nearest caller outside taco and torch: the line that called
    ``taco.compress`` or ``encoder.encode``, whatever path inside taco led here."""
    for note in notes:
        warn_at_caller(note, CaptionTruncatedWarning)


@dataclass(frozen=True)
class TextTokens:
    """Text tokens handed to the text adapter.

    tokens: (B, m, d) float, the encoder's last hidden state (padded positions included).
    mask:   (B, m) bool, True where a token is real, False where it is padding.
    """

    tokens: Tensor
    mask: Tensor

    def to(self, device: torch.device | str) -> TextTokens:
        return TextTokens(self.tokens.to(device), self.mask.to(device))

    def __len__(self) -> int:
        return self.tokens.shape[0]


class TextEncoder(torch.nn.Module):
    """Base class: frozen captions -> tokens encoder with a bounded per-process cache.

    Subclasses set ``name``, ``dim`` (d) and ``max_tokens`` (m) and implement :meth:`_encode`
    (calling :func:`note_truncated` for each caption they cut).
    """

    name: str = "base"
    dim: int
    max_tokens: int
    #: The most captions the cache keeps, the least recently used going first: a long-running
    #: service codes endless distinct captions (unbounded, 3,000 took 346 MiB). An entry holds
    #: 58 KB of tokens with MiniLM (78 KB with CLIP) and cost about 115 KB of RSS: ~120 MiB for
    #: 1024. Set it on an instance to change it (0: no cache). Training with more captions than
    #: this keeps them in a table of its own (``data_on_device``, ``text_embeddings``).
    cache_entries: int = 1024

    def __init__(self) -> None:
        super().__init__()
        # caption -> (tokens, mask, whether it was encoded on its own, its truncation note),
        # least recently used first; taken under _cache_lock, which no encode holds
        self._cache: OrderedDict[str, tuple[Tensor, Tensor, bool, str | None]] = OrderedDict()
        self._cache_lock = ForkSafeLock()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and deep-copied without the lock and the cache (spawned workers,
        ``copy.deepcopy`` of a module holding one)."""
        state = self.__dict__.copy()
        state.pop("_cache_lock", None)
        state["_cache"] = OrderedDict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cache_lock = ForkSafeLock()

    def _encode(self, captions: list[str]) -> TextTokens:  # pragma: no cover - abstract
        raise NotImplementedError

    def train(self, mode: bool = True) -> TextEncoder:
        # Frozen encoder: stays in eval mode (no dropout) whatever a parent module asks for.
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def encode(self, captions: Sequence[str]) -> TextTokens:
        """Encode captions, reusing embeddings of captions seen recently in this process (not
        those computed while a process-wide setting lowered float32 precision: :meth:`encode_noting`).

        The captions not cached are encoded as one batch. One caption (however often repeated)
        gets the tokens of that caption encoded on its own, never ones cached from a batch: a
        backend may give a caption in a batch other last bits (clip-tiny did on a multi-threaded
        CPU), and the bytes one image is coded into (:mod:`taco.text.worker`) must not depend on
        what was encoded before it in the process. A caption cut to ``max_tokens`` gets a
        :class:`CaptionTruncatedWarning` (each time), blamed on the caller; one over
        :data:`MAX_CAPTION_CHARS` characters is a :class:`CaptionTooLongError`, one with a lone
        surrogate a :class:`CaptionTextError`. ``captions`` is a sequence: one str is a
        ``TypeError`` (:func:`check_captions`), not its characters encoded as captions.
        """
        out, notes = self.encode_noting(captions)
        warn_truncated(notes)
        return out

    @torch.no_grad()
    @with_coding_defaults_no_warning
    def encode_noting(self, captions: Sequence[str]) -> tuple[TextTokens, list[str]]:
        """:meth:`encode` without warning: the tokens, and the texts of the
        :class:`CaptionTruncatedWarning` it would raise (one per distinct caption cut), for a
        caller that raises them elsewhere (:func:`warn_truncated` on another thread).

        Computed under :func:`taco.draws.coding_defaults`, whatever autocast the calling thread
        set: the tokens are cached for the whole process, and ``taco.compress`` would reuse ones
        computed in bfloat16 and write other bytes. For the same reason tokens computed while a
        process-wide setting lowered float32 precision
        (:func:`taco.draws.reduced_precision_settings`: ``torch.set_float32_matmul_precision
        ("medium")``, ...) are not cached: once it was set back, every thread reused them with
        no warning and wrote other bytes than a fresh process, until they were evicted."""
        check_captions(captions)
        captions = [normalize_caption(c) for c in captions]
        if not captions:
            empty = torch.empty(0, self.max_tokens, self.dim)
            return TextTokens(empty, torch.empty(0, self.max_tokens, dtype=torch.bool)), []
        one = len(set(captions)) == 1
        found: dict[str, tuple[Tensor, Tensor, bool, str | None]] = {}
        with self._cache_lock:
            for c in dict.fromkeys(captions):
                entry = self._cache.get(c)
                if entry is not None and (entry[2] or not one):
                    self._cache.move_to_end(c)
                    found[c] = entry
        missing = sorted(set(captions) - found.keys())
        if missing:
            cut: dict[str, str] = {}
            context = _cut_notes.set(cut)
            reduced = bool(reduced_precision_settings())
            try:
                out = self._encode(missing)
            finally:
                _cut_notes.reset(context)
            reduced = reduced or bool(reduced_precision_settings())  # or set meanwhile
            tokens, masks = out.tokens.detach().cpu(), out.mask.detach().cpu()
            for i, c in enumerate(missing):
                # a row of a batch on the CPU is a view: cloned, it frees with its own entry
                alone = len(missing) == 1
                row = (tokens[i], masks[i]) if alone else (tokens[i].clone(), masks[i].clone())
                found[c] = (*row, alone, cut.get(c))
            with self._cache_lock:
                if not reduced:
                    for c in missing:
                        self._cache[c] = found[c]
                        self._cache.move_to_end(c)
                while len(self._cache) > max(0, self.cache_entries):
                    self._cache.popitem(last=False)
        tokens = torch.stack([found[c][0] for c in captions])
        mask = torch.stack([found[c][1] for c in captions])
        notes = [note for c in dict.fromkeys(captions) if (note := found[c][3]) is not None]
        return TextTokens(tokens, mask), notes

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


class Tokenizer(Protocol):
    """Captions -> each one's token ids with its special tokens, uncut; ``vocab_size`` (added
    tokens included), ``end`` (the token a cut sequence ends with) and ``pad`` ids."""

    vocab_size: int
    end: int
    pad: int

    def __call__(self, captions: list[str]) -> list[list[int]]: ...


class TokenNetworkEncoder(TextEncoder):
    """A tokenizer and a frozen transformer ``model(ids (B, m), mask (B, m)) -> (B, m, d)``
    (with ``hidden_size``, ``vocab_size`` and ``max_positions``): what both MiniLM and CLIP are.

    Captions are padded to exactly ``max_tokens`` (m) and truncated beyond it, keeping the end
    token (:func:`fit_tokens`).
    """

    def __init__(self, tokenizer: Tokenizer, model: torch.nn.Module, max_tokens: int) -> None:
        super().__init__()
        network: Any = model  # Bert, ClipText: their sizes as attributes
        limit, vocab = int(network.max_positions), int(network.vocab_size)
        if not 2 <= max_tokens <= limit:
            raise TacoValueError(f"max_tokens must be in [2, {limit}] for this model, got {max_tokens}")
        if tokenizer.vocab_size > vocab:
            raise TextEncoderUnavailable(
                f"tokenizer has {tokenizer.vocab_size} tokens but the model only embeds {vocab}: "
                "they do not belong together")
        self.tokenizer = tokenizer
        self.model = model.eval().requires_grad_(False)
        self.dim = int(network.hidden_size)
        self.max_tokens = max_tokens

    def _encode(self, captions: list[str]) -> TextTokens:
        t = self.tokenizer
        ids, mask = fit_tokens(self.name, captions, t(captions), self.max_tokens, t.end, t.pad)
        device = self.device
        return TextTokens(self.model(ids.to(device), mask.to(device)), mask)


def special_token_id(tokenizer: Any, token: str) -> int:
    """The id of ``token`` in a ``tokenizers.Tokenizer``; TextEncoderUnavailable if it has none."""
    i = tokenizer.token_to_id(token)
    if i is None:
        raise TextEncoderUnavailable(f"the tokenizer has no {token} token")
    return int(i)


def check_captions(captions: object) -> None:
    """Refuse one caption given where a sequence of them is taken, with a ``TypeError`` (a
    mistake in the calling code): a str is a sequence of its characters, and ``encode("a cat")``
    encoded five one-letter captions, which a model then paired with five images or refused as
    "1 image(s) but 5 caption(s)". ``bytes`` likewise (a sequence of ints)."""
    if isinstance(captions, str | bytes | bytearray):
        kind = type(captions).__name__
        raise TypeError(f"captions must be a sequence of captions, not one {kind}: give a list of "
                        "one, encoder.encode([caption]) or taco.codec.encode_text(model, [caption])")


def normalize_caption(caption: str) -> str:
    """Collapse whitespace. An empty caption is allowed (it encodes as the empty string); one
    over :data:`MAX_CAPTION_CHARS` characters is a :class:`CaptionTooLongError`, one with a lone
    surrogate (:func:`taco.messages.lone_surrogate`) a :class:`CaptionTextError` (both
    ValueErrors).

    Every caption an encoder reads passes here first (:meth:`TextEncoder.encode`, the caption
    worker, training's caption table), so compress, the CLI and training all refuse it.
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")
    if len(caption) > MAX_CAPTION_CHARS:
        start = " ".join(caption[:200].split())[:40]
        raise CaptionTooLongError(
            f"caption {start + '...'!r} has {len(caption):,} characters, more than the "
            f"{MAX_CAPTION_CHARS:,} taco takes: a text encoder reads only a caption's first "
            f"tokens (its max_tokens: {DEFAULT_MAX_TOKENS}, about 30 words, unless set); shorten it")
    bad = lone_surrogate(caption)
    if bad is not None:
        shown = repr(caption)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise CaptionTextError(f"caption {shown} holds {bad}, which UTF-8 cannot encode and no text "
                               f"encoder can read; fix its text{_locale_hint(caption)}")
    return " ".join(caption.split())


def _locale_hint(text: str) -> str:
    """`` (if it was given on the command line: <taco.messages.locale_hint>)`` where that says how the locale could read
    ``text``'s bytes as UTF-8, else ""."""
    hint = locale_hint(text)
    return f" (if it was given on the command line: {hint})" if hint else ""
