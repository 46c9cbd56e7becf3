"""Hugging Face plumbing: detecting ``HF_HUB_OFFLINE`` and probing the hub in a few seconds, so a
missing model fails at once instead of after minutes of huggingface_hub retries; quieting
transformers' load reports; refusing a tokenizer built without its vocabulary.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .base import TextEncoderUnavailable

_TRUTHY = {"1", "on", "yes", "true"}
#: Below this many entries a tokenizer was built without its vocabulary files (transformers'
#: CLIPTokenizer then "works" with 2 tokens and maps every word to the same id).
MIN_VOCAB = 1000


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
