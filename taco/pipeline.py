"""Batches of images, and the encoder's latent without the container (for benchmarks).

Both go down the one encoder path of :mod:`taco.codec`: the captions checked
(:func:`taco.codec.coding_captions`), g_a is ``model.analysis`` with the caption encoded alongside
its first stages (:func:`taco.codec.analysis_with_text_overlap`), then
:func:`taco.codec.entropy_code` (and the container, :func:`taco.codec.code_latent`, for batches).

:func:`compress_batch` runs g_a on a batch of same-size images, then entropy-codes each image on
its own (batch 1, as the decoder will), so each file decodes on its own (its bytes may differ
from :func:`taco.compress`'s in a few rounded latents unless ``batch_size=1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .checks import positive_int_argument
from .codec import (
    ANALYSIS_STRIPE_BUDGET,
    CompressResult,
    ImageLike,
    SizeBudgetError,
    analysis_with_text_overlap,
    check_coding_options,
    check_max_bytes,
    check_model,
    code_latent,
    coding_captions,
    coding_input,
    coding_quality,
    encoding_out_of_memory,
    entropy_code,
)
from .draws import with_coding_defaults
from .errors import TacoError, TacoValueError
from .models import model_fingerprint
from .models.elic import ELIC
from .progress import Progress
from .text.base import TextEncoder

__all__ = ["compress_batch", "encode_with_text_overlap"]


@torch.no_grad()
@with_coding_defaults
def encode_with_text_overlap(
    model: ELIC,
    x: Tensor,
    caption: str | None,
    text_encoder: TextEncoder | None = None,
    *,
    overlap: bool | None = None,
    quality: int | None = None,
) -> dict[str, Any]:
    """Encode one image as :func:`taco.compress` does, without the container.

    x: (1, 3, H, W), H and W multiples of 64 -> ``{"strings": [[stream]], "shape"}``; ``stream``
    is the ``.taco`` payload (one rANS stream). ELIC (no text) ignores ``caption``. ``overlap``
    as :func:`taco.codec.analysis_with_text_overlap`; ``quality`` as :func:`taco.compress`.
    """
    captions = coding_captions(model, [caption])
    quality = coding_quality(model, quality)
    y = analysis_with_text_overlap(model, x, captions, text_encoder, overlap=overlap)
    out = entropy_code(model, y, quality)
    return {"strings": out["strings"], "shape": out["shape"]}


def _one_value(images: object) -> str:
    """What ``images`` is, for the refusal: ``generator``, ``ndarray of 3 dimensions``."""
    ndim = getattr(images, "ndim", None)
    kind = type(images).__name__
    return kind if ndim is None else f"one {kind} of {ndim} dimensions"


@torch.no_grad()
@with_coding_defaults
def compress_batch(
    images: Sequence[ImageLike],
    captions: Sequence[str | None] | None,
    model: ELIC,
    *,
    text_encoder: TextEncoder | None = None,
    batch_size: int = 8,
    progress: Progress | None = None,
    quality: int | None = None,
    max_bytes: int | None = None,
    stripe_budget: int = ANALYSIS_STRIPE_BUDGET,
) -> list[CompressResult]:
    """Compress many images, ``batch_size`` at a time through g_a; one result per image.

    Consecutive images of the same padded size share a batch (others start a new one). Each
    image is then entropy-coded on its own at batch size 1, exactly as the decoder recomputes
    its parameters, so every file is valid and decodes on its own to its image's size. The bytes
    usually equal :func:`taco.compress`'s but are not guaranteed to: g_a's float32 convolutions
    may give other last bits at batch B than at batch 1 (CPU kernels too: with
    ``taco-minilm-small-q4`` a stage-3 convolution of a 768x576 photo differed by ~1e-6, and
    with a batch of two 5,871 of its pixels decoded differently, by up to 9 levels), and a
    latent on a rounding boundary then rounds the other way: an equally valid file.
    ``batch_size=1`` gives :func:`taco.compress`'s bytes exactly.
    ``progress("images", done, total)`` (:data:`taco.progress.Progress`) is told after each
    batch how many images are done; ``quality`` as :func:`taco.compress` (every image at the
    same one). ``max_bytes`` (instead of ``quality``) as :func:`taco.compress`, for each image on
    its own: each result's ``quality`` is the one chosen for it. An image that does not fit even
    at quality 1 fails the whole call with :class:`taco.codec.SizeBudgetError`, naming its index,
    as does an image that cannot be read or taken (:class:`taco.images.ImageReadError`,
    :class:`taco.codec.ImageSizeError`, :class:`taco.errors.TacoValueError`, ``TypeError``: the
    errors :func:`taco.compress` raises for it, their message starting ``image 3 (counting
    from 0): ``) or whose caption a text-guided model refuses
    (:class:`taco.text.base.CaptionTooLongError`, :class:`taco.text.base.CaptionTextError`,
    ``TypeError``: every caption is checked before any image is coded).
    ``stripe_budget`` as :func:`taco.compress`, per image; running out of memory raises
    :class:`taco.memory.OutOfMemoryError` naming the batch (each image is coded as
    :func:`taco.codec.code_latent` codes it for :func:`taco.compress`).
    """
    check_model(model)
    check_coding_options(text_encoder=text_encoder, progress=progress, stripe_budget=stripe_budget)
    budget = check_max_bytes(model, max_bytes, quality)
    quality = coding_quality(model, quality)
    if (isinstance(images, str | bytes) or not hasattr(images, "__len__")  # not a generator
            or getattr(images, "ndim", 1) in (2, 3)):  # one image's array: a batch of rows
        raise TypeError(f"images must be a sequence of images (a list or tuple, or a 4-D batch "
                        f"tensor or array), not {_one_value(images)}")
    if isinstance(captions, str):
        raise TypeError("captions must be a sequence of one caption per image, not one str")
    batch_size = positive_int_argument("batch_size", batch_size, "(images per batch through g_a)")
    given: list[str | None] = list(captions) if captions is not None else [None] * len(images)
    if len(given) != len(images):
        raise TacoValueError(f"{len(images)} images but {len(given)} captions")
    caps = coding_captions(model, given, batch=True)  # every caption checked before any image
    weight = next(model.parameters())

    results: list[CompressResult] = []
    batch: list[tuple[Tensor, str, int, int]] = []  # (padded x, mode, h, w)
    batch_caps: list[str] = []

    def flush() -> None:
        if not batch:
            return
        first, (padded_h, padded_w) = len(results), batch[0][0].shape[-2:]
        # once a batch: the weights that code it (``progress``, called between batches, may
        # change them: a file must name the weights that made it)
        fingerprint = model_fingerprint(model)
        try:
            x = torch.cat([b[0] for b in batch]).to(weight.device, weight.dtype)
            y = analysis_with_text_overlap(model, x, batch_caps, text_encoder,
                                           stripe_budget=stripe_budget)
            del x
            for i, (_, mode, h, w) in enumerate(batch):
                try:
                    results.append(code_latent(model, y[i : i + 1], h, w, mode, quality, budget,
                                               fingerprint=fingerprint))
                except SizeBudgetError as exc:
                    raise SizeBudgetError(f"image {len(results)} (counting from 0): {exc}") from None
        except (MemoryError, RuntimeError) as exc:
            which = f"image {first}" if len(batch) == 1 else f"images {first} to {first + len(batch) - 1}"
            oom = encoding_out_of_memory(exc, f"{which} (counting from 0) in one batch, padded to "
                                         f"{padded_w}x{padded_h}", batch=True)
            if oom is None:
                raise
            raise oom from None
        batch.clear()
        batch_caps.clear()
        if progress is not None:
            progress("images", len(results), len(images))

    for index, (image, caption) in enumerate(zip(images, caps, strict=True)):
        try:
            x, h, w, mode = coding_input(image)
        except (TacoError, TypeError) as exc:  # an image that cannot be read, sized or converted
            # the same error, saying which image (as SizeBudgetError does): "image bytes" or a
            # numpy array's shape does not tell one image of a batch from another
            exc.args = (f"image {index} (counting from 0): {exc}",)
            raise
        if batch and (x.shape != batch[0][0].shape or len(batch) == batch_size):
            flush()
        batch.append((x, mode, h, w))
        batch_caps.append(caption)
    flush()
    return results
