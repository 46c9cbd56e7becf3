"""Shared body of the transformers-backed encoders: tokenizer + frozen model -> last hidden state.

Also the offline plumbing: detecting ``HF_HUB_OFFLINE`` and probing the hub in a few seconds, so a
missing encoder fails at once instead of after minutes of huggingface_hub retries.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from .base import TextEncoder, TextEncoderUnavailable, TextTokens, warn_truncated

_TRUTHY = {"1", "on", "yes", "true"}
#: Below this many entries a tokenizer was built without its vocabulary files (transformers'
#: CLIPTokenizer then "works" with 2 tokens and maps every word to the same id).
MIN_VOCAB = 1000


class HFTextEncoder(TextEncoder):
    """captions -> ``model(**tokenizer(captions)).last_hidden_state`` (B, m, d), frozen.

    Captions are padded to exactly ``max_tokens`` (m) and truncated beyond it (keeping the
    end-of-text / [SEP] token), with a :class:`CaptionTruncatedWarning` saying how many tokens
    were dropped. The mask is the tokenizer's attention mask.
    """

    def __init__(self, tokenizer: Any, model: torch.nn.Module, max_tokens: int) -> None:
        super().__init__()
        config: Any = model.config
        limit = config.max_position_embeddings
        if not 2 <= max_tokens <= limit:
            raise ValueError(f"max_tokens must be in [2, {limit}] for this model, got {max_tokens}")
        check_vocab(tokenizer, "tokenizer")
        if len(tokenizer) > config.vocab_size:
            raise TextEncoderUnavailable(
                f"tokenizer has {len(tokenizer)} tokens but the model only embeds "
                f"{config.vocab_size}: they do not belong together"
            )
        self.tokenizer = tokenizer
        self.model = model.eval().requires_grad_(False)
        self.dim = int(config.hidden_size)
        self.max_tokens = max_tokens

    def _encode(self, captions: list[str]) -> TextTokens:
        self._warn_truncated(captions)
        batch = self.tokenizer(
            captions,
            padding="max_length",
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        )
        device = self.device
        out = self.model(**{k: v.to(device) for k, v in batch.items()})
        # tokens (B, m, d), mask (B, m)
        return TextTokens(out.last_hidden_state, batch["attention_mask"].bool())

    def _warn_truncated(self, captions: list[str]) -> None:
        # verbose=False: no "sequence longer than model_max_length" log line, we warn ourselves.
        ids = self.tokenizer(captions, truncation=False, verbose=False)
        for caption, seq in zip(captions, ids["input_ids"], strict=True):
            if len(seq) > self.max_tokens:
                warn_truncated(self.name, caption, len(seq), self.max_tokens)


def load_pretrained_model(cls: Any, source: str, local_files_only: bool) -> torch.nn.Module:
    """``cls.from_pretrained(source)`` in float32, refusing a checkpoint that lacks some weights.

    transformers would silently initialise missing weights at random; the keys a text model does
    not use (a full CLIPModel's vision half) are fine and not reported.
    """
    with quiet_transformers():
        model, info = cls.from_pretrained(
            source, local_files_only=local_files_only, output_loading_info=True
        )
    bad = sorted(info["missing_keys"]) + sorted(str(k) for k in info["mismatched_keys"])
    if bad:
        raise TextEncoderUnavailable(
            f"{source}: the checkpoint lacks or mis-shapes {len(bad)} weights of "
            f"{cls.__name__} ({', '.join(bad[:3])}, ...)"
        )
    return model.float()


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars for a moment, then restore them."""
    from transformers.utils import logging

    verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(verbosity)
        if bars:
            logging.enable_progress_bar()


def check_vocab(tokenizer: Any, source: str) -> None:
    """Refuse a tokenizer built without its vocabulary (see :data:`MIN_VOCAB`)."""
    if len(tokenizer) < MIN_VOCAB:
        raise TextEncoderUnavailable(
            f"the tokenizer from {source} has only {len(tokenizer)} tokens: its vocabulary files "
            "(vocab.json + merges.txt, or tokenizer.json) are missing"
        )


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set (read now, not at import)."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUTHY
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hugging Face hub cannot be reached, or None if it answers within ``timeout`` s.

    huggingface_hub retries a dead connection for minutes; one HEAD request in a daemon thread
    (DNS lookups ignore socket timeouts) bounds the wait. Proxies from the environment apply.
    """
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(
                urllib.request.Request(endpoint, method="HEAD"), timeout=timeout
            ).close()
        except urllib.error.HTTPError:
            pass  # the server answered, with whatever status
        except Exception as e:  # any other failure means unreachable
            failure.append(e)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    if thread.is_alive():
        return f"{endpoint} did not answer within {timeout:.0f} s"
    if failure:
        return f"{endpoint} is unreachable ({failure[0]})"
    return None
