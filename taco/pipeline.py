"""The encoder pipeline: the caption step off the critical path, and batches of images.

TACO's g_a first uses the text tokens at CA1, after two conv stages at H/2 and H/4 (paper Fig. 4).
:func:`encode_with_text_overlap` encodes the caption on a worker thread (on its own CUDA stream
when the text encoder is on a GPU) while the main thread runs those two stages, then joins:

    main thread:  stage1 -> stage2 ----------> CA1 -> stage3 -> ... -> entropy coding
    text worker:  tokenize -> text encoder -> |

The text encoder caches each caption's tokens, so a repeated caption costs a dict lookup. Torch
releases the GIL inside its ops, so on a CPU the two branches really run side by side. The bytes
are exactly those of the sequential path (``encoder.encode([caption])``, then g_a, then the same
entropy coding): the same modules see the same inputs, only the order of independent work changes.

:func:`compress_batch` runs g_a on a batch of same-size images, then entropy-codes each image on
its own (batch 1, as the decoder will), so each file decodes on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .models import fast_codec
from .models.elic import ELIC
from .text import get_text_encoder
from .text.base import TextEncoder, TextTokens

if TYPE_CHECKING:
    from .codec import CompressResult, ImageLike

__all__ = [
    "analysis_with_text_overlap",
    "coding_codec",
    "compress_batch",
    "encode_with_text_overlap",
    "model_text_encoder",
]

_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def _text_worker() -> ThreadPoolExecutor:
    """One process-wide worker thread: caption encodes run one at a time (the caches are dicts)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taco-text")
        return _worker


def model_text_encoder(model: ELIC) -> TextEncoder | None:
    """The (process-wide, cached) text encoder named by the model's config; None for ELIC."""
    if not model.uses_text:
        return None
    spec = dict(model.config.text_encoder)  # type: ignore[attr-defined]
    return get_text_encoder(spec.pop("name"), **spec)


def _encode_captions(encoder: TextEncoder, captions: list[str]) -> TextTokens:
    """Each caption on its own (as :func:`taco.codec.compress_image` does), then stacked.

    One caption per forward keeps the tokens bit-identical to single-image coding whatever the
    backend does with a batch; the per-caption cache makes repeats free.
    """
    parts = [encoder.encode([c]) for c in captions]
    return TextTokens(torch.cat([p.tokens for p in parts]), torch.cat([p.mask for p in parts]))


_side_streams: dict[torch.device, torch.cuda.Stream] = {}  # used by the worker thread only


def _encode_async(encoder: TextEncoder, captions: list[str]) -> Future[TextTokens]:
    """Start encoding ``captions`` on the worker thread; a CUDA encoder gets a side stream."""
    device = encoder.device

    def job() -> TextTokens:
        if device.type == "cuda":
            # The main thread keeps queueing g_a on its stream; the text kernels go on another.
            # encode() returns CPU tensors (its cache lives on the CPU), which synchronises
            # this side stream only.
            if device not in _side_streams:
                _side_streams[device] = torch.cuda.Stream(device=device)
            with torch.cuda.stream(_side_streams[device]):
                return _encode_captions(encoder, captions)
        return _encode_captions(encoder, captions)

    return _text_worker().submit(job)


# The text-free front of TACO's g_a and the rest. TextGuidedAnalysis.forward is
# back(front(x), text, mask); a g_a that defines front/back itself is used as is.


def _front(g_a: Any, x: Tensor) -> Tensor:
    if hasattr(g_a, "front"):
        return g_a.front(x)
    g = g_a.base
    return g.stage2(g.stage1(x))  # (B, N, H/4, W/4)


def _back(g_a: Any, v: Tensor, text: Tensor, mask: Tensor | None) -> Tensor:
    if hasattr(g_a, "back"):
        return g_a.back(v, text, mask)
    g, a = g_a.base, g_a.adapter
    ca1, ca2, ca3 = (getattr(a, k, None) for k in ("ca1", "ca2", "ca3"))
    if ca1 is not None:
        v = ca1(v, text, mask)
    v = g.stage4(g.stage3(v))  # (B, N, H/8, W/8)
    if ca2 is not None:
        text = ca2(v, text)  # (B, m, d): text updated by the image
    if ca3 is not None:
        v = ca3(v, text, mask)
    return g.stage5(v)  # (B, M, H/16, W/16)


def _text_inputs(model: ELIC, text: TextTokens, like: Tensor) -> tuple[Tensor, Tensor]:
    # as TACO.analysis: check the width, move to the image's device and dtype
    text_dim = model.text_dim  # type: ignore[attr-defined]
    if text.tokens.shape[-1] != text_dim:
        raise ValueError(
            f"text tokens have width {text.tokens.shape[-1]}, this model's adapter expects "
            f"{text_dim}: the text encoder does not match the checkpoint"
        )
    return text.tokens.to(device=like.device, dtype=like.dtype), text.mask.to(like.device)


@torch.no_grad()
def analysis_with_text_overlap(
    model: ELIC,
    x: Tensor,
    captions: Sequence[str],
    encoder: TextEncoder | None = None,
    *,
    overlap: bool | None = None,
) -> Tensor:
    """g_a of a (B, 3, H, W) batch with one caption per image -> y (B, M, H/16, W/16).

    ``overlap=False`` encodes the captions first, on this thread (the sequential reference);
    ``None`` (default) overlaps on a CPU only: on an H100 the worker thread made cold-caption
    encodes slower (median 129.7 vs 110.9 ms, docs/performance.md), the text encoder taking longer
    than the stages it hides behind and two threads contending to launch kernels.
    """
    if not model.uses_text:
        return model.analysis(x)
    if len(captions) != x.shape[0]:
        raise ValueError(f"{x.shape[0]} images but {len(captions)} captions")
    encoder = encoder or model_text_encoder(model)
    assert encoder is not None
    captions = list(captions)
    if overlap is None:
        overlap = x.device.type == "cpu"
    if not overlap:
        text = _encode_captions(encoder, captions)
        v = _front(model.g_a, x)
    else:
        pending = _encode_async(encoder, captions)
        v = _front(model.g_a, x)  # should this raise, the caption job just finishes unused
        text = pending.result()  # re-raises the worker's exception, if any
    return _back(model.g_a, v, *_text_inputs(model, text, x))


def coding_codec(model: ELIC) -> Any:
    """The latent codec :mod:`taco.codec` entropy-codes with (a float64 CPU copy, when it has one)."""
    from . import codec

    make = getattr(codec, "coding_codec", None)
    return make(model) if make is not None else model.latent_codec


def _code(model: ELIC, y: Tensor) -> dict[str, Any]:
    latent_codec = coding_codec(model)
    device = next(latent_codec.parameters()).device
    return fast_codec.compress_latent(latent_codec, y.to(device))


@torch.no_grad()
def encode_with_text_overlap(
    model: ELIC,
    x: Tensor,
    caption: str | None,
    encoder: TextEncoder | None = None,
    *,
    overlap: bool | None = None,
) -> dict[str, Any]:
    """Encode one image with the caption encoded alongside g_a; entropy-code as taco.codec does.

    x: (1, 3, H, W), H and W multiples of 64 -> ``{"strings": [[stream]], "shape"}``, byte-identical
    to the sequential path; ``stream`` is the ``.taco`` payload (one rANS stream). ELIC (no text)
    ignores ``caption``. Entropy coding uses the codec :mod:`taco.codec` codes with
    (:func:`coding_codec`) through :mod:`taco.models.fast_codec` (CompressAI's symbols).
    """
    if model.uses_text and caption is None:
        raise ValueError("this model is text-guided: give a caption (use '' for none)")
    y = analysis_with_text_overlap(model, x, [caption or ""], encoder, overlap=overlap)
    out = _code(model, y)
    return {"strings": out["strings"], "shape": out["shape"]}


@torch.no_grad()
def compress_batch(
    images: Sequence[ImageLike],
    captions: Sequence[str | None] | None,
    model: ELIC,
    *,
    text_encoder: TextEncoder | None = None,
    batch_size: int = 8,
    progress: Callable[[int], None] | None = None,
) -> list[CompressResult]:
    """Compress many images, ``batch_size`` at a time through g_a; one result per image.

    Consecutive images of the same padded size share a batch (others start a new one). Each
    image is then entropy-coded on its own at batch size 1, exactly as the decoder recomputes
    its parameters, so every file decodes on its own. The bytes equal :func:`taco.compress`'s
    wherever the backend's convolutions give the same floats at batch B as at batch 1 (true for
    the models tested on CPU, see tests/test_pipeline.py); where they do not, a latent that
    sits on a rounding boundary may round the other way: an equally valid file.
    ``progress(n)`` is called after each batch with the number of images done.
    """
    from .bitstream import TacoHeader, pack
    from .codec import CompressResult, _as_rgb_tensor, pad_to_multiple
    from .models import model_fingerprint

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    caps: list[str | None] = list(captions) if captions is not None else [None] * len(images)
    if len(caps) != len(images):
        raise ValueError(f"{len(images)} images but {len(caps)} captions")
    if model.uses_text and any(c is None for c in caps):
        raise ValueError("this model is text-guided: give a caption per image (use '' for none)")
    device = next(model.parameters()).device
    fingerprint = model_fingerprint(model)
    model_id = getattr(model, "model_id", "custom")

    results: list[CompressResult] = []
    batch: list[tuple[Tensor, str, int, int]] = []  # (padded x, mode, h, w)
    batch_caps: list[str] = []

    def flush() -> None:
        if not batch:
            return
        x = torch.cat([b[0] for b in batch]).to(device)
        y = analysis_with_text_overlap(model, x, batch_caps, text_encoder)
        for i, (_, mode, h, w) in enumerate(batch):
            stream = _code(model, y[i : i + 1])["strings"][0][0]
            header = TacoHeader(model_id=model_id, fingerprint=fingerprint, height=h, width=w, mode=mode)
            data = pack(header, stream)
            results.append(CompressResult(data, h, w, len(data) - len(stream)))
        batch.clear()
        batch_caps.clear()
        if progress is not None:
            progress(len(results))

    for image, caption in zip(images, caps, strict=True):
        x, mode = _as_rgb_tensor(image)
        h, w = x.shape[-2:]
        x = pad_to_multiple(x)
        if batch and (x.shape != batch[0][0].shape or len(batch) == batch_size):
            flush()
        batch.append((x, mode, h, w))
        batch_caps.append(caption or "")
    flush()
    return results
