"""Captions encoded one at a time, here or on a background thread (off the encoder's critical path).

TACO's g_a first needs the text at CA1, after two conv stages (paper Fig. 4), so
:func:`encode_captions_async` starts the caption on a worker thread and hands back a
:class:`~concurrent.futures.Future` that :meth:`taco.models.TACO.analysis` waits on only there:

    main thread:  stage1 -> stage2 ----------> CA1 -> stage3 -> ... -> entropy coding
    text worker:  tokenize -> text encoder -> |

Torch releases the GIL inside its ops, so on a CPU the two really run side by side; a text encoder
on a GPU runs on its own CUDA stream. The tokens are those of :func:`encode_captions` on this
thread, so the bytes a model writes do not depend on which path encoded its caption.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from .base import TextEncoder, TextTokens, normalize_caption, warn_truncated

__all__ = ["CaptionFuture", "encode_captions", "encode_captions_async"]

_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()
_side_streams: dict[torch.device, torch.cuda.Stream] = {}  # used by the worker thread only


def _text_worker() -> ThreadPoolExecutor:
    """One process-wide worker thread: caption encodes run one at a time."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taco-text")
        return _worker


def _after_fork() -> None:
    """A forked child (gunicorn --preload, multiprocessing's fork) has none of its parent's
    threads: the parent's executor, believing its thread idle, would start none and leave every
    caption future pending. The child makes its own worker on first use."""
    global _worker, _worker_lock
    _worker, _worker_lock = None, threading.Lock()
    _side_streams.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _encode_each(encoder: TextEncoder, captions: list[str]) -> tuple[TextTokens, list[str]]:
    """:func:`encode_captions` without warning: the tokens and the truncation notes."""
    parts = [encoder.encode_noting([c]) for c in captions]
    notes = list(dict.fromkeys(note for _, cut in parts for note in cut))
    tokens = torch.cat([p.tokens for p, _ in parts])
    return TextTokens(tokens, torch.cat([p.mask for p, _ in parts])), notes


def encode_captions(encoder: TextEncoder, captions: list[str]) -> TextTokens:
    """Each caption on its own (as one image is coded), then stacked: (B, m, d) tokens.

    One caption per forward keeps the tokens bit-identical to single-image coding whatever the
    backend does with a batch; the encoder's per-caption cache makes repeats free. A caption cut
    to the encoder's ``max_tokens`` gets a :class:`~taco.text.CaptionTruncatedWarning`, blamed
    on the caller outside taco.
    """
    tokens, notes = _encode_each(encoder, captions)
    warn_truncated(notes)
    return tokens


class CaptionFuture(Future[TextTokens]):
    """The tokens of :func:`encode_captions_async`. The first :meth:`result` that returns them
    raises their truncation warnings (:class:`~taco.text.CaptionTruncatedWarning`), in the
    thread that asked (raised on the worker thread, they were blamed on taco's worker module,
    whoever called taco)."""

    def __init__(self) -> None:
        super().__init__()
        self._notes: list[str] = []
        self._notes_lock = threading.Lock()

    def result(self, timeout: float | None = None) -> TextTokens:
        tokens = super().result(timeout)
        with self._notes_lock:
            notes, self._notes = self._notes, []
        warn_truncated(notes)
        return tokens


def encode_captions_async(encoder: TextEncoder, captions: list[str]) -> CaptionFuture:
    """Start :func:`encode_captions` on the worker thread; a CUDA encoder gets a side stream.

    A caption that is not a str, or is too long, is refused here, at once. The future re-raises
    the encoder's exception, if any, in the thread that waits on it.
    """
    captions = [normalize_caption(c) for c in captions]
    device = encoder.device
    future = CaptionFuture()

    def encode() -> tuple[TextTokens, list[str]]:
        if device.type == "cuda":
            # The main thread keeps queueing g_a on its stream; the text kernels go on another.
            # encode() returns CPU tensors (its cache lives on the CPU), which synchronises
            # this side stream only.
            if device not in _side_streams:
                _side_streams[device] = torch.cuda.Stream(device=device)
            with torch.cuda.stream(_side_streams[device]):
                return _encode_each(encoder, captions)
        return _encode_each(encoder, captions)

    _text_worker().submit(_complete, future, encode)
    return future


def _complete(future: CaptionFuture, encode: Callable[[], tuple[TextTokens, list[str]]]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        tokens, notes = encode()
    except BaseException as exc:
        future.set_exception(exc)
    else:
        future._notes = notes
        future.set_result(tokens)
