"""Compress and decompress images to and from ``.taco`` bytes.

The caption guides the encoder only: :func:`decompress` takes no caption and never loads a text
encoder. The encoder is one path: g_a is the model's own ``analysis``, handed the caption as a
future that a worker thread fills while g_a's first stages run (:func:`analysis_with_text_overlap`),
then :func:`code_latent` (:func:`entropy_code`, :func:`pack_image`); :mod:`taco.pipeline` batches
the same calls.
With ``max_bytes=`` (a variable-rate model) the one analysis is entropy-coded at the qualities a
bisection tries, and the highest that fits is kept (:func:`code_within`).
Above :data:`ANALYSIS_STRIPE_BUDGET` (~2 MP for the -small models) g_a runs in horizontal stripes,
so its memory follows the stripe, not the image (:func:`analysis_with_text_overlap`).
Inputs are padded (replicating the last row/column) to a multiple of 64 and cropped back.
Coding is deterministic: the same image, caption and model give the same bytes, and a file decodes
to the same latents on any machine: the entropy-parameter path (h_a, h_s, context and parameter
networks -> scales, means, CDF indexes) runs in float64 on the CPU
(:func:`taco.models.coding.coding_codec`), because float32 results differ in the last bits between
thread counts, BLAS paths and devices and a single scale crossing a table boundary turns the rest of
the image into garbage (docs/reliability.md).
Entropy coding goes through :mod:`taco.models.fast_codec` (one rANS stream per image, in chunks
of 2^16 symbols: ``.taco`` format version 3). Untrusted input never reaches CompressAI's rANS
decoder unchecked (:class:`taco.bitstream.rans.StreamDecoder` for the stream that
:func:`decompress` reads; :class:`taco.bitstream.rans.BoundedRansCoder` for CompressAI's own
methods on :func:`coding_codec`, which ``taco bench`` times), and decoding runs in memory bounded by
what the stream proves and by ``max_pixels`` (:mod:`taco.memory`): the stream chunk by chunk, the
synthesis tile by tile (:func:`synthesize`).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from .bitstream import (
    FORMAT_VERSION,
    MAX_SIDE,
    TacoFormatError,
    TacoHeader,
    TacoLike,
    bits_per_pixel,
    pack,
)
from .bitstream.container import (
    load_payload,
    padded_size as padded_size,  # the size coded: defined with the header's padding
)
from .bitstream.rans import (
    MAX_UNCHUNKED_SYMBOLS,
    SymbolRangeError,
    UnchunkedStream,
)
from .checks import as_int, positive_int_argument
from .draws import with_coding_defaults
from .errors import (  # the two errors live there, so that naming one imports no torch
    BackboneError,
    ImageSizeError as ImageSizeError,
    SizeBudgetError as SizeBudgetError,
    TacoError,
    TacoValueError,
)
from .fileobjects import file_object_name, is_file_object
from .images import (
    IMAGE_BYTES,
    IMAGE_FILE_OBJECT,
    PIL_IMAGE,
    PIXEL_SLACK,
    ImageReadError,
    load_image,
    pixel_scale_hint,
    read_image_stream,
    restore_mode,
    to_rgb,
    warn_pixels_clipped,
    without_file,
)
from .locks import ForkSafeLock
from .memory import (
    MAX_DECODE_PIXELS,
    OutOfMemoryError,
    allocation_failure,
    decode_memory_text,
    latent_channels,
    spans,
    widen,
)
from .messages import count, docs_ref, one_line
from .models import (
    PAD_MULTIPLE,
    CheckpointError,
    fast_codec,
    model_fingerprint,
)
from .models.checkpoint import check_has_data, wrapped_model_hint
from .models.coding import (  # both also importable from here, as scripts and tests do
    coding_codec as coding_codec,
    float64_copy as float64_copy,
)
from .models.elic import ELIC, check_configured, stripe_progress
from .models.rates import checked_quality, needs_variable_rate
from .models.registry import classify_model_spec, holds_checkpoint, registrations
from .models.taco import TACO
from .progress import Progress
from .resolve import PYTHON_MODEL, decode_problems, made_with_problem, resolve_model
from .text import model_text_encoder
from .text.base import TextEncoder, TextTokens, check_captions, normalize_caption
from .text.worker import encode_captions, encode_captions_async

ImageLike = (Image.Image | Tensor | np.ndarray[Any, Any] | str | os.PathLike[str] | bytes | bytearray
             | memoryview | IO[bytes])

#: The numpy images :func:`compress` takes (:func:`array_image`), for its docstring and messages.
ARRAY_KINDS = "(H, W, 3) uint8 or float in [0, 1], (H, W, 4) or (H, W) uint8, or (H, W) uint16"

#: What :func:`compress` takes, for messages.
IMAGE_TYPES = ("a PIL image, a (3, H, W) float tensor in [0, 1] or uint8 tensor, a numpy array "
               f"({ARRAY_KINDS}), a path, the bytes of an image file or a binary file object")


def check_image_size(height: int, width: int) -> None:
    """Raise :class:`ImageSizeError` unless both sides are in 1..:data:`MAX_SIDE`."""
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise ImageSizeError(f"a {width}x{height} image cannot be coded: the .taco format holds "
                             f"images of 1 to {MAX_SIDE:,} pixels a side (crop or resize it)")


@dataclass(frozen=True)
class CompressResult:
    """What :func:`compress_image` returns: the bytes and what a user wants to know about them."""

    data: bytes
    height: int
    width: int
    header_bytes: int
    quality: int = 0  # as in the header: 0 single-rate model, else the quality coded at (1..Q)

    @property
    def bpp(self) -> float:
        """Bits per pixel of the whole file (header included), from the bytes written."""
        return bits_per_pixel(len(self.data), self.height * self.width)

    def __repr__(self) -> str:  # the size of the bytes, not the bytes (a few MB of escapes)
        return (f"CompressResult(data=<{len(self.data)} bytes>, height={self.height}, "
                f"width={self.width}, header_bytes={self.header_bytes}, quality={self.quality})")


def pad_to_multiple(x: Tensor, multiple: int = PAD_MULTIPLE) -> Tensor:
    """Replicate-pad (B, C, H, W) at the bottom/right to multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    # replicate padding needs at least one pixel; sizes 1x1 work too
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


# --------------------------------------------------------------------------- inputs


def check_pixel_values(x: Tensor, what: str = "image tensor") -> None:
    """Refuse float pixels that are not finite or are on another scale than [0, 1] (0-255 values
    would code as a white image), saying how to bring them to it as their range suggests
    (:func:`~taco.images.pixel_scale_hint`: 0-255, [-1, 1], ImageNet-normalised); values within
    :data:`PIXEL_SLACK` of it are clamped later, with an
    :class:`~taco.images.ImageConversionWarning` for any more than
    :data:`~taco.images.PIXEL_OVERSHOOT` (0.1, a resampled image's overshoot) outside
    (:func:`warn_pixels_clipped`).
    ``what`` the caller passed, as the message names it: ``image tensor``, ``numpy array``."""
    low, high = float(x.min()), float(x.max())  # NaN propagates through both
    if not (math.isfinite(low) and math.isfinite(high)):
        raise TacoValueError(f"the {what} has NaN or infinite values")
    if low < -PIXEL_SLACK or high > 1 + PIXEL_SLACK:
        raise TacoValueError(f"the {what}'s values run from {low:g} to {high:g}: float {what}s "
                             f"take [0, 1] ({pixel_scale_hint(low, high)})")
    warn_pixels_clipped(low, high, what)


def array_image(a: np.ndarray) -> Image.Image | Tensor:
    """A numpy image as :func:`coding_input` takes it (:data:`ARRAY_KINDS`): (H, W) or
    (H, W, 3|4) uint8 and (H, W) uint16 as a PIL image (L, RGB, RGBA, I;16), (H, W, 3) float in
    [0, 1] as a (3, H, W) tensor. Anything else is a TacoValueError that lists what is taken and, for
    the near misses (16-bit colour as OpenCV's IMREAD_UNCHANGED and tifffile give, float grey),
    says how to make one of them. Big-endian arrays (``>u2``, ``>f4``: FITS, raw files) are taken
    as their native-order twins, float types torch lacks (``np.longdouble``) as float64."""
    given = a.dtype  # as the refusal names it
    if not a.dtype.isnative:  # torch.from_numpy and the dtype checks here take native order only
        a = a.astype(a.dtype.newbyteorder("="))
    if (a.dtype == np.uint8 and (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4)))
            or (a.dtype == np.uint16 and a.ndim == 2)):
        return Image.fromarray(np.ascontiguousarray(a))
    floating = np.issubdtype(a.dtype, np.floating)
    if floating and a.ndim == 3 and a.shape[2] == 3:
        if a.dtype not in (np.float16, np.float32, np.float64):  # np.longdouble: no torch type
            a = a.astype(np.float64)
        return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)
    hint = ""
    if a.dtype == np.uint16 and a.ndim == 3 and a.shape[2] in (3, 4):
        rgb = "a" if a.shape[2] == 3 else "a[..., :3]"  # alpha dropped, as an RGBA image's is
        hint = (f" (for (H, W, {a.shape[2]}) uint16, pass {rgb} / 65535: a float array in [0, 1]; "
                "OpenCV's channels are BGR, reverse them first)")
    elif floating and a.ndim == 2:
        hint = " (for (H, W) float grey, pass np.dstack([a, a, a]): (H, W, 3) float in [0, 1])"
    raise TacoValueError(f"a numpy image must be {ARRAY_KINDS}; got {given} {a.shape}{hint}")


def tensor_dtype_hint(dtype: torch.dtype) -> str:
    """`` (how to make an image tensor of it)`` for an image tensor of integer or bool ``dtype``,
    which :func:`coding_input` refuses, by what the dtype holds: ``torch.uint16`` is 16-bit
    pixels (torchvision.io.decode_image of a 16-bit PNG), to divide by 65535 (not by 255, which
    leaves them over 1), other integers most often 0-255 values in a wider type, ``torch.bool``
    a mask; "" for a dtype no pixels come in (complex)."""
    if dtype == torch.bool:
        return " (for a black-and-white mask, pass x.float(): False black, True white)"
    if dtype == torch.uint16:
        return " (for 16-bit pixels, pass x.float() / 65535: a float tensor in [0, 1])"
    if not dtype.is_complex:
        return " (for 0-255 values, pass x.to(torch.uint8); for 16-bit ones, x.float() / 65535)"
    return ""


def check_tensor_storage(image: Tensor) -> None:
    """Refuse an image tensor whose values cannot be read as pixels: a ``meta`` tensor (shapes
    without values: ``Tensor.item()`` failed on it deep in the coder, a RuntimeError) or a sparse
    or other non-strided one (a NotImplementedError), with a :class:`TacoValueError` saying how to
    make a dense one."""
    if image.is_meta:
        raise TacoValueError(f"the image tensor {tuple(image.shape)} is on the meta device: it has "
                             "a shape but no values to code; pass one with its pixels")
    if image.layout != torch.strided:
        raise TacoValueError(f"image tensors must be dense, not {image.layout} (pass x.to_dense())")


def closed_before_loading(image: Image.Image) -> bool:
    """Whether ``image`` is a file's image closed (``with Image.open(p) as im: ...`` left) before
    its pixels were read: Pillow reads them on first use, from a file it has now let go of, and
    fails with a bare AssertionError. An image still open, or loaded before closing, is not."""
    return getattr(image, "fp", False) is None and bool(getattr(image, "tile", None))


def coding_input(image: ImageLike) -> tuple[Tensor, int, int, str]:
    """Any supported input -> (the (1, 3, H', W') float32 tensor in [0, 1] that g_a codes, H, W,
    the original PIL mode): replicate-padded at the bottom and right to multiples of
    :data:`PAD_MULTIPLE` (:func:`pad_to_multiple`). An image the format cannot hold is refused
    first (:func:`check_image_size`).

    From a PIL image (or a path) the 8-bit pixels are padded, then converted: 15 bytes per pixel
    at the peak, not the 27 of a float copy and then a padded one. Replicate padding commutes
    with the conversion, so the values and the layout (g_a's kernels depend on it, and the files
    on g_a) are those of padding the float image.
    """
    given = "numpy array" if isinstance(image, np.ndarray) else "image tensor"  # as errors name it
    if isinstance(image, np.ndarray):
        image = array_image(image)
    if isinstance(image, Tensor):
        check_tensor_storage(image)
        x = image if image.dim() == 4 else image.unsqueeze(0)
        if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
            raise TacoValueError(f"expected a (3, H, W) or (1, 3, H, W) tensor, got {tuple(image.shape)}")
        if x.dtype == torch.uint8:  # 0-255, as torchvision.io.decode_image gives
            check_image_size(x.shape[2], x.shape[3])
            return pad_to_multiple(x.cpu()).float().div_(255.0), x.shape[2], x.shape[3], "RGB"
        if not torch.is_floating_point(x):
            raise TacoValueError(f"image tensors must be float in [0, 1] or uint8, not {x.dtype}"
                                 f"{tensor_dtype_hint(x.dtype)}")
        check_image_size(x.shape[2], x.shape[3])
        check_pixel_values(x, given)
        return pad_to_multiple(x.float().clamp(0, 1)), x.shape[2], x.shape[3], "RGB"
    source = None  # what the image's warnings name: its path, if it has one
    if is_file_object(image) and not isinstance(image, Image.Image):  # open(..., "rb"), BytesIO
        named = file_object_name(image, "")
        source = named or IMAGE_FILE_OBJECT
        # Python names a stream that has no path in brackets: <stdin>, <fdopen> (a file may be
        # named so too: one that exists is a file)
        no_file = named.startswith("<") and named.endswith(">") and not os.path.exists(named)
        with without_file(not named or no_file):
            image = load_image(source, data=read_image_stream(image, source))  # EXIF orientation applied
    elif isinstance(image, bytes | bytearray | memoryview):  # an encoded file: an upload, say
        source = IMAGE_BYTES
        with without_file():
            image = load_image(IMAGE_BYTES, data=bytes(image))  # EXIF orientation applied
    elif isinstance(image, str | os.PathLike):
        source = os.fspath(image)
        image = load_image(image)  # EXIF orientation applied
    elif not isinstance(image, Image.Image):
        raise TypeError(f"image must be {IMAGE_TYPES}, not {type(image).__name__}")
    check_image_size(image.height, image.width)  # a caller's PIL image: from its header
    filename = getattr(image, "filename", "")
    with without_file(not filename):
        if closed_before_loading(image):
            raise ImageReadError(filename or PIL_IMAGE,
                                 "the image was closed before its pixels were loaded: pass the "
                                 "path, or call im.load() inside the with block")
        try:  # a caller's PIL image (coded as it is: no EXIF rotation) is decoded now; a no-op else
            image.load()
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
            raise ImageReadError(filename or PIL_IMAGE,
                                 f"cannot decode it ({type(exc).__name__}: {exc})") from exc
    rgb, mode = to_rgb(image, source or filename or None)
    w, h = rgb.size
    pixels = pad_to_multiple(torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).unsqueeze(0))
    return pixels.float().div_(255.0), h, w, mode


# --------------------------------------------------------------------------- encoder


def encode_text(model: ELIC, captions: list[str], text_encoder: TextEncoder | None = None) -> TextTokens | None:
    """Caption strings -> text tokens (B captions: tokens (B, m, d), mask (B, m)) with
    ``text_encoder``, else the model's own (:func:`taco.text.model_text_encoder`); None for a
    model that reads no text. ``captions`` is a list even for one caption:
    ``encode_text(model, ["a cat"])``; one str is a ``TypeError``, for every model (it is not
    read as a list of one-letter captions)."""
    check_captions(captions)
    if not model.uses_text:
        return None
    encoder = text_encoder or model_text_encoder(model)
    assert encoder is not None
    return encoder.encode(captions)


def coding_quality(model: ELIC, quality: int | None) -> int | None:
    """The quality to code at: ``quality`` (1..Q) for a variable-rate model, its middle one
    (:attr:`~taco.models.ELIC.default_quality`) when None, as a Python int (NumPy integers are
    taken); None for a single-rate model, which refuses one. A TypeError for a quality that is no
    integer (a ``bool``, ``2.0``, ``"2"``), for every model, a TacoValueError (a sentence for a
    person) for an integer the model does not have. The rule is
    :func:`taco.models.rates.checked_quality`'s, which the CLI applies before a model loads."""
    return checked_quality(model.qualities, model.model_id, quality)


def check_max_bytes(model: ELIC, max_bytes: object, quality: object) -> int | None:
    """``max_bytes`` as an int (NumPy integers taken), or None when not given; checked before any
    work: a TypeError or TacoValueError naming the argument unless it is a positive integer, given
    without ``quality`` (one or the other), to a variable-rate model (a single-rate model codes at
    one rate: it has nothing to choose from)."""
    if max_bytes is None:
        return None
    budget = positive_int_argument("max_bytes", max_bytes, "(bytes of the whole .taco file)")
    if quality is not None:
        raise TacoValueError(f"give quality= or max_bytes=, not both (got quality={quality!r}, "
                             f"max_bytes={max_bytes!r})")
    if model.qualities is None:
        raise TacoValueError(needs_variable_rate("max_bytes=", model.model_id))
    return budget


#: Input pixels per analysis stripe (halo included) times the model's width
#: (:attr:`~taco.models.ELIC.tiling_width`: N), and the most
#: that g_a computes at once per image: a (padded) image whose pixels x N fit is analysed whole,
#: exactly as before stripes existed; a bigger one in horizontal stripes
#: (:func:`analysis_stripe_rows`). ~2 MP for the -small models (N = 48; 1920x1080 is still
#: analysed whole), 0.5 MP at the paper's N = 192. Measured on a 12 MP photo with the default
#: model, g_a added 795 MiB to the converted image's RSS with ~4 MP stripes, 414 with ~2 MP and
#: 297 with ~1 MP, against 1,958 whole: at ~2 MP it stays under entropy coding's peak, for the
#: same CPU time (docs/performance.md).
ANALYSIS_STRIPE_BUDGET = 48 * 2048 * 1024


def check_coding_options(
    *, text_encoder: object = None, progress: object = None,
    stripe_budget: object = ANALYSIS_STRIPE_BUDGET,
) -> None:
    """A TypeError or TacoValueError naming the argument unless each keyword is what the encoders
    (:func:`compress`, :func:`compress_image`, :func:`taco.pipeline.compress_batch`) take:
    ``text_encoder`` a loaded :class:`~taco.text.base.TextEncoder` or None, ``progress`` a
    function ``progress(stage, done, total)`` or None, ``stripe_budget`` a positive integer.
    Checked before any work: ``text_encoder="minilm"`` failed in the caption worker with an
    AttributeError, ``progress=True`` with "'bool' object is not callable"."""
    if text_encoder is not None and not isinstance(text_encoder, TextEncoder):
        hint = (f" (load one with taco.text.get_text_encoder({text_encoder!r}), or give None for "
                "the model's own)" if isinstance(text_encoder, str) else "")
        raise TypeError(f"text_encoder must be a loaded text encoder or None, not "
                        f"{type(text_encoder).__name__}{hint}")
    check_progress(progress)
    positive_int_argument("stripe_budget", stripe_budget,
                          f"(pixels x the model's width; default {ANALYSIS_STRIPE_BUDGET:,})")


def check_progress(progress: object) -> None:
    """A TypeError unless ``progress`` is None or a function ``progress(stage, done, total)``
    (:data:`taco.progress.Progress`)."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a function progress(stage, done, total) or None, not "
                        f"{type(progress).__name__}")


def check_max_pixels(max_pixels: object) -> None:
    """A TypeError or TacoValueError naming ``max_pixels`` unless it is a positive integer (NumPy's
    taken) or None (no cap): a cap of 0, -1 or 1.5 refused every file with a message about the
    file, and ``"64000000"`` failed inside a comparison."""
    if max_pixels is not None:
        positive_int_argument("max_pixels", max_pixels, "or None (no cap)")


def analysis_stripe_rows(
    model: ELIC, height: int, width: int, budget: int = ANALYSIS_STRIPE_BUDGET
) -> int | None:
    """Rows of g_a's striped map (at H/``model.analysis_stripe_scale``: H/8 for ELIC) per stripe
    (``model.analysis(stripe_rows=)``) for a (padded) height x width image: None (whole) if
    ``height * width * model.tiling_width`` fits ``budget``, else the most rows whose haloed
    stripe (``model.analysis_halo`` rows above and below) fits, and at least twice the halo, so
    that at most half of what a stripe computes is halo (on wide images with a wide model the
    stripe then takes more than the budget: 1.1 MP at 3840 px and N = 192). Per image: a batch
    of B images takes B stripes' memory, and each image is striped as it would be alone (so a
    batch codes the bytes one image does)."""
    n, halo, scale = model.tiling_width, model.analysis_halo, model.analysis_stripe_scale
    if height * width * n <= budget:
        return None
    return max(2 * halo, budget // (n * scale * width) - 2 * halo)


def takes_pending_caption(model: ELIC) -> bool:
    """Whether ``model.analysis`` may be handed a caption still being encoded (a
    :class:`~taco.text.worker.CaptionFuture`): only when it is TACO's own analysis, looked up as
    the call looks it up (on the instance, then its class). A TACO subclass, or an instance, that
    overrides ``analysis`` is given the TextTokens, as every other text-guided backbone is
    (docs/models.md, "Adding a backbone"): its code may read ``text.tokens``."""
    return getattr(model.analysis, "__func__", None) is TACO.analysis


@torch.no_grad()
def analysis_with_text_overlap(
    model: ELIC,
    x: Tensor,
    captions: Sequence[str],
    text_encoder: TextEncoder | None = None,
    *,
    overlap: bool | None = None,
    stripe_budget: int = ANALYSIS_STRIPE_BUDGET,
    progress: Progress | None = None,
) -> Tensor:
    """g_a (``model.analysis``) of a (B, 3, H, W) batch, one caption per image -> y (B, M, H/16, W/16).

    With ``overlap`` the captions are encoded on a worker thread while g_a runs its first stages
    (:mod:`taco.text.worker`); g_a waits for them at CA1. ``False`` encodes them first, on this
    thread, as for every model whose analysis is not TACO's own: only TACO's analysis takes a
    caption still being encoded (a Future, :func:`takes_pending_caption`); another text-guided
    backbone's, or a TACO subclass's that overrides ``analysis``, is given the TextTokens
    (docs/models.md, "Adding a backbone"). The bytes are the same either way: the same modules
    see the same inputs. ``None`` (default) overlaps on a CPU only: on an H100 the worker
    thread made cold-caption encodes slower (median 129.7 vs 110.9 ms, docs/performance.md),
    the text encoder taking longer than the stages it hides behind and two threads contending
    to launch kernels.

    Images over ``stripe_budget`` (pixels x the model's width N, ``model.tiling_width``, default
    :data:`ANALYSIS_STRIPE_BUDGET`: ~2 MP for the -small models) are analysed in horizontal
    stripes (:func:`analysis_stripe_rows`), so g_a's memory follows the stripe: y then equals
    the whole image's up to float rounding, an equally valid file that the unchanged decoder
    reads. At or under it, g_a runs whole and the bytes are those of every earlier release.

    ``progress(stage, done, total)`` is told ("analysis", 0, n) as g_a starts and ("analysis",
    i, n) as the i-th of its n stripes is done, as synthesis reports its tiles; unstriped, only
    ("analysis", 0, 1).
    """
    rows = analysis_stripe_rows(model, x.shape[-2], x.shape[-1], stripe_budget)
    if progress is not None:
        stripes = 1 if rows is None else len(spans(x.shape[-2] // model.analysis_stripe_scale, rows))
        progress("analysis", 0, stripes)
    told = nullcontext() if progress is None else stripe_progress(partial(progress, "analysis"))
    if not model.uses_text:
        with told:
            return model.analysis(x, stripe_rows=rows)
    if len(captions) != x.shape[0]:
        raise TacoValueError(f"{x.shape[0]} images but {len(captions)} captions")
    encoder = text_encoder or model_text_encoder(model)
    assert encoder is not None
    if overlap is None:
        overlap = x.device.type == "cpu"
    encode = encode_captions_async if overlap and takes_pending_caption(model) else encode_captions
    with told:
        return model.analysis(x, encode(encoder, list(captions)), stripe_rows=rows)


def check_latent_shape(
    model: ELIC, y: Tensor, height: int, width: int, quality: int | None
) -> dict[str, Any]:
    """``model.latent_shapes(height, width, quality)``, the shapes the decoder reads the stream
    with, after a :class:`~taco.errors.BackboneError` (a TypeError) naming ``model``'s class and
    both shapes unless ``y`` (B, M, h, w), its analysis of a padded ``height x width`` input, has
    its y shape: a backbone whose g_a down-samples by other than its ``latent_scale`` would write
    files no taco decodes ("corrupt .taco file") (docs/models.md, "Adding a backbone", item 2); a
    y of the right height and width but other channels than M is told so, with its count.
    Checked before y is coded; the shapes the coder then returns are checked against them by
    :func:`check_coded_shape`."""
    declared_shapes = model.latent_shapes(height, width, quality)
    groups = declared_shapes["y"]
    declared = (sum(int(c) for c, _, _ in groups), *(int(n) for n in groups[0][1:]))
    analysed = tuple(int(n) for n in y.shape[1:])
    if analysed[0] != declared[0] and analysed[1:] == declared[1:]:
        name = type(model).__name__
        raise BackboneError(
            f"{name}'s g_a gives y {analysed[0]} channels, but its M (the sum of its groups, "
            f"latent_shapes' y channels) is {declared[0]}, the channels the decoder reads: make "
            f"g_a's last layer give M channels, or build the model with M={analysed[0]} "
            f"({docs_ref('models.md', 'Adding a backbone')})")
    if analysed != declared:
        name = type(model).__name__
        raise BackboneError(
            f"{name} analyses a {width}x{height} (padded) image into y of shape {analysed}, but its "
            f"latent_shapes({height}, {width}) declares {declared}, the shape the decoder reads: "
            f"its g_a down-samples by other than {name}.latent_scale ({model.latent_scale}); set "
            f"latent_scale to the real factor, or override latent_shapes "
            f"({docs_ref('models.md', 'Adding a backbone')})")
    return declared_shapes


def is_size(value: object, length: int) -> bool:
    """Whether ``value`` is a tuple, list or torch.Size of ``length`` integers (0-d integer
    tensors included): a shape ``int(n)`` reads."""
    return (isinstance(value, (tuple, list)) and len(value) == length
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                    or isinstance(n, Tensor) and n.ndim == 0 and not n.is_floating_point()
                    for n in value))


def coded_shape_form(coded: object) -> bool:
    """Whether ``coded`` has the form of :meth:`ELIC.latent_shapes`: a dict whose ``"y"`` is a
    non-empty list (or tuple) of (c, h, w) and whose ``"hyper"`` is (h, w)."""
    if not isinstance(coded, dict):
        return False
    groups, hyper = coded.get("y"), coded.get("hyper")
    return (isinstance(groups, (list, tuple)) and len(groups) > 0
            and all(is_size(s, 3) for s in groups) and is_size(hyper, 2))


def check_coded_shape(model: ELIC, coded: dict[str, Any], declared: dict[str, Any]) -> None:
    """:class:`~taco.errors.BackboneError` (a TypeError) naming ``model``'s class unless the
    ``shape`` its latent codec returned (:func:`entropy_code`) has the y groups and hyper-latent
    size (hz, wz) of ``declared`` (:func:`check_latent_shape`'s ``latent_shapes``), which the
    decoder reads the stream with: a codec that codes z at y / 2 under the inherited
    ``latent_shapes`` (z at y / 4) wrote files no taco decodes ("corrupt .taco file")
    (docs/models.md, "Adding a backbone", item 2). A ``shape`` of another form (CompressAI's
    usual ``z.size()[-2:]``, or a ``"y"`` that is one shape rather than a list of them) is
    refused the same way, saying what it is and the form taco reads."""
    name = type(model).__name__
    if not coded_shape_form(coded):
        raise BackboneError(
            f"{name}: its latent codec's compress returns shape {one_line(repr(coded), 120)}, but taco "
            f"reads {{'y': [(c, h, w) per y group], 'hyper': (h, w)}}, the form of latent_shapes: "
            f"return that, with the hyper-latent's (h, w) under 'hyper' "
            f"({docs_ref('models.md', 'Adding a backbone')})")
    coded_y, declared_y = ([tuple(int(n) for n in s) for s in shapes["y"]] for shapes in (coded, declared))
    if coded_y != declared_y:
        raise BackboneError(f"{name}: its latent codec codes y as {coded_y} but latent_shapes "
                            f"declares {declared_y}, the shapes the decoder reads: override "
                            f"latent_shapes ({docs_ref('models.md', 'Adding a backbone')})")
    coded_z, declared_z = (tuple(int(n) for n in shapes["hyper"]) for shapes in (coded, declared))
    if coded_z != declared_z:
        raise BackboneError(f"{name}: its latent codec codes z at {coded_z} but latent_shapes "
                            f"declares {declared_z}, the size the decoder reads: override "
                            f"latent_shapes ({docs_ref('models.md', 'Adding a backbone')})")


def entropy_code(
    model: ELIC, y: Tensor, quality: int | None = None, *, fingerprint: bytes | None = None
) -> dict[str, Any]:
    """y (B, M, h, w) -> ``{"strings": [[stream], ...], "shape", "y_hat"}``: one rANS stream per
    image, with the float64 coding copy of the latent codec (:func:`coding_codec`, given
    ``fingerprint`` when the caller has it), at ``quality`` for a variable-rate model
    (:func:`coding_quality`).

    Latents the coder refuses (not finite, or beyond ±2^24: :func:`taco.bitstream.rans.check_symbols`)
    come from broken weights (finite but absurd ones: a checkpoint's NaN is refused when it is
    loaded), as the image is checked to be in [0, 1]: a :class:`CheckpointError` naming the
    model, which the CLI reports in one line."""
    try:
        return fast_codec.compress_latent(coding_codec(model, fingerprint=fingerprint), y.cpu(), quality)
    except SymbolRangeError as exc:
        raise CheckpointError(f"model {model.model_id!r} cannot code this image: {exc}") from None


def pack_image(
    model: ELIC, stream: bytes, height: int, width: int, mode: str, quality: int | None = None,
    *, fingerprint: bytes | None = None,
) -> CompressResult:
    """A ``.taco`` file: the header naming ``model`` (and its ``fingerprint``: None computes
    :func:`model_fingerprint`), the image and the quality coded at (None: a single-rate model, 0
    in the header), then ``stream``."""
    header = TacoHeader(
        model_id=model.model_id,
        fingerprint=model_fingerprint(model) if fingerprint is None else fingerprint,
        height=height,
        width=width,
        mode=mode,
        quality=quality or 0,
    )
    data = pack(header, stream)
    return CompressResult(data, height, width, len(data) - len(stream), quality or 0)


def coded_stream(
    model: ELIC, y: Tensor, quality: int | None, declared: dict[str, Any], fingerprint: bytes,
) -> bytes:
    """The rANS stream of one analysis y (1, M, h, w) at ``quality`` (:func:`entropy_code`, with
    the model's ``fingerprint``), after :func:`check_coded_shape` against ``declared``, the
    shapes the decoder will read."""
    out = entropy_code(model, y, quality, fingerprint=fingerprint)
    check_coded_shape(model, out["shape"], declared)
    return out["strings"][0][0]


def _bpp_up(nbytes: int, pixels: int) -> float:
    """:func:`bits_per_pixel` of ``nbytes`` over ``pixels`` rounded up to 4 decimals, exactly: a
    figure to print that ``--target-bpp`` reaches (floor(B x pixels / 8) >= ``nbytes``), where
    rounding to nearest gave 0.4570 for 234 bytes of 64x64 (0.45703), 233 bytes back."""
    return -(-8 * nbytes * 10_000 // pixels) / 10_000


def code_within(
    model: ELIC, y: Tensor, height: int, width: int, mode: str, max_bytes: int,
    declared: dict[str, Any], fingerprint: bytes, progress: Progress | None = None,
) -> CompressResult:
    """The ``.taco`` file of one analysis y (1, M, h, w) of a variable-rate ``model`` at the
    highest quality whose whole file (header included) is at most ``max_bytes``, found by
    bisection over 1..Q: ``Q.bit_length()`` entropy codings of the same y (3 for Q = 7), no
    second analysis (each coding checked against ``declared``: :func:`coded_stream`; one
    ``fingerprint``, the model's, for all of them). Every size is measured, none assumed: the
    file returned fits, and the quality above it was coded and did not (or it is Q). Sizes grow with quality in trained
    models, but nothing forces it; where they do not, a higher quality that also fits may be
    passed over, never one that does not fit returned. :class:`SizeBudgetError` when quality 1's
    file is over ``max_bytes``, saying its size. ``progress`` is told ("entropy coding", try,
    most tries) before each coding. The encoders check ``model`` and ``max_bytes`` first
    (:func:`check_max_bytes`)."""
    qualities = model.qualities
    assert qualities is not None, "check_max_bytes refuses single-rate models"
    y = y.cpu()
    tries = len(qualities).bit_length()
    lo, hi = 0, len(qualities) + 1  # quality lo fits (0: none found yet), hi does not (Q + 1)
    best: CompressResult | None = None
    lowest = 0  # bytes of quality 1's file, once it was coded and did not fit
    step = 0
    while hi - lo > 1:  # halves hi - lo (Q + 1 at the start): ``tries`` times at most
        mid = (lo + hi) // 2
        if progress is not None:
            progress("entropy coding", step, tries)
        step += 1
        stream = coded_stream(model, y, mid, declared, fingerprint)
        result = pack_image(model, stream, height, width, mode, mid, fingerprint=fingerprint)
        if len(result.data) <= max_bytes:
            lo, best = mid, result
        else:
            hi, lowest = mid, len(result.data)
    if best is None:  # hi came down to 1: quality 1 was coded and is over
        raise SizeBudgetError(
            f"a {width}x{height} image does not fit in {count(max_bytes, 'byte')} with model "
            f"{model.model_id!r}: its smallest file (quality 1) is "
            f"{lowest:,} bytes ({_bpp_up(lowest, height * width):.4f} bpp)")
    return best


def code_latent(
    model: ELIC, y: Tensor, height: int, width: int, mode: str, quality: int | None,
    max_bytes: int | None, progress: Progress | None = None, *, fingerprint: bytes | None = None,
) -> CompressResult:
    """The ``.taco`` file of one analysis y (1, M, h, w) of a ``height x width`` image: coded at
    ``quality`` (:func:`entropy_code`, :func:`pack_image`), or with ``max_bytes`` at the highest
    quality that fits (:func:`code_within`), as :func:`compress_image` and
    :func:`taco.pipeline.compress_batch` code each image. ``progress`` is told when entropy
    coding starts (each try, with ``max_bytes``). y's shape is checked first
    (:func:`check_latent_shape`: a TypeError for a backbone that declares another), and the
    shapes its latent codec codes after (:func:`check_coded_shape`). The model is hashed once
    (:func:`model_fingerprint`, for the coding copy and the header; each hash walks its ~400
    tensors), or not at all when the caller gives ``fingerprint`` (a batch: once per call)."""
    declared = check_latent_shape(model, y, *padded_size(height, width), quality)
    if fingerprint is None:
        fingerprint = model_fingerprint(model)
    if max_bytes is not None:
        return code_within(model, y, height, width, mode, max_bytes, declared, fingerprint, progress)
    if progress is not None:
        progress("entropy coding", 0, 1)
    stream = coded_stream(model, y, quality, declared, fingerprint)
    return pack_image(model, stream, height, width, mode, quality, fingerprint=fingerprint)


def check_caption(caption: object) -> None:
    """A TypeError unless ``caption`` is a str or None, for every model (a text-free one reads
    none, but a caption of another type is a mistake all the same: ``taco.compress(image, model,
    "a cat")``, with the arguments swapped, is named so)."""
    if isinstance(caption, ELIC):
        raise TypeError("caption is a taco model: the arguments are (image, caption, model)")
    if not (isinstance(caption, str) or caption is None):
        raise TypeError(f"caption must be a str, got {type(caption).__name__}")


def coding_captions(model: ELIC, captions: Sequence[str | None], *, batch: bool = False) -> list[str]:
    """The captions g_a reads, one per image: each as given, '' for None. A TypeError for a
    caption neither a str nor None (:func:`check_caption`, with the image's index for several),
    a TacoValueError for a None given to a text-guided model (``model.uses_text``), which needs
    a caption for every image ('' for none); a text-free model reads none. A text-guided
    model's captions are then checked as its encoder will check them
    (:func:`taco.text.base.normalize_caption`: a :class:`~taco.text.base.CaptionTooLongError` or
    :class:`~taco.text.base.CaptionTextError`, with the image's index for several or a
    ``batch``), so a caption the encoder would refuse fails before any image is read or coded."""
    for index, caption in enumerate(captions):
        try:
            check_caption(caption)
        except TypeError as exc:
            if len(captions) > 1:
                exc.args = (f"image {index} (counting from 0): {exc}",)
            raise
    missing = [i for i, caption in enumerate(captions) if caption is None]
    if model.uses_text and missing:
        if len(captions) == 1:
            raise TacoValueError("this model is text-guided: give a caption (use '' for none)")
        raise TacoValueError(f"this model is text-guided: give a caption per image (use '' for "
                             f"none); image {missing[0]} (counting from 0) has none")
    given = ["" if caption is None else caption for caption in captions]
    for index, caption in enumerate(given if model.uses_text else ()):
        try:
            normalize_caption(caption)
        except TacoError as exc:  # too long, a lone surrogate
            if batch or len(captions) > 1:
                exc.args = (f"image {index} (counting from 0): {exc}",)
            raise
    return given


def encoding_out_of_memory(exc: BaseException, coded: str, batch: bool = False) -> OutOfMemoryError | None:
    """The :class:`OutOfMemoryError` to raise for ``exc`` when it is an allocation failure
    (:func:`taco.memory.allocation_failure`) while encoding ``coded`` (``a 4000x3000 image
    (12,000,000 pixels)``), saying what lowers the peak (``batch``: ``batch_size=`` too); None
    for any other error. One of taco's own (loading the model's text encoder inside the encoding:
    ``out of memory loading the text encoder's weights in ...``) is ``exc`` itself, unchanged:
    it says already what ran out, and the stripes do not lower it."""
    if isinstance(exc, OutOfMemoryError):
        return exc
    what = allocation_failure(exc)
    if what is None:
        return None
    return OutOfMemoryError(f"out of memory encoding {coded}: {what}; a smaller "
                            f"{'batch_size= or ' if batch else ''}stripe_budget= lowers the "
                            f"analysis peak; see {docs_ref('performance.md')}")


@torch.no_grad()
@with_coding_defaults
def compress_image(
    image: ImageLike,
    caption: str | None,
    model: ELIC,
    *,
    text_encoder: TextEncoder | None = None,
    quality: int | None = None,
    progress: Progress | None = None,
    stripe_budget: int = ANALYSIS_STRIPE_BUDGET,
    max_bytes: int | None = None,
) -> CompressResult:
    """Encode one image guided by ``caption`` into a ``.taco`` file (see :func:`compress`).

    ``progress(stage, done, total)`` is told when each stage starts (:mod:`taco.progress`);
    ``stripe_budget`` as :func:`analysis_with_text_overlap`; ``max_bytes`` (instead of
    ``quality``) as :func:`compress`: the result's ``quality`` is the one chosen.
    """
    check_caption(caption)  # before the model: taco.compress(image, model, "a cat")
    check_model(model)
    check_coding_options(text_encoder=text_encoder, progress=progress, stripe_budget=stripe_budget)
    budget = check_max_bytes(model, max_bytes, quality)
    captions = coding_captions(model, [caption])
    quality = coding_quality(model, quality)
    report = progress or _no_progress
    report("converting", 0, 1)
    x, h, w, mode = coding_input(image)
    try:
        weight = next(model.parameters())
        x = x.to(weight.device, weight.dtype)
        # (1, M, H/16, W/16) float32, on the model's device; the caption is encoded alongside the
        # first stages of g_a (same bytes as encoding it first)
        y = analysis_with_text_overlap(model, x, captions, text_encoder, stripe_budget=stripe_budget,
                                       progress=report)
        del x  # 12 bytes per pixel that entropy coding has no use for
        return code_latent(model, y, h, w, mode, quality, budget, report)
    except (MemoryError, RuntimeError) as exc:
        oom = encoding_out_of_memory(exc, f"a {w}x{h} image ({w * h:,} pixels)")
        if oom is None:
            raise
        raise oom from None


def compress(
    image: ImageLike, caption: str | None, model: ELIC, *, text_encoder: TextEncoder | None = None,
    quality: int | None = None, stripe_budget: int = ANALYSIS_STRIPE_BUDGET,
    progress: Progress | None = None, max_bytes: int | None = None,
) -> bytes:
    """Compress ``image`` guided by ``caption`` (a text-free model, ``model.uses_text`` False,
    reads none: ``caption`` is not used, but must be a str or None all the same): a PIL image (coded as it is), a (3, H, W) float
    tensor in [0, 1] (0-255 float values and NaN refused; values up to 0.5 outside clipped, with
    an :class:`~taco.images.ImageConversionWarning` past 0.1) or uint8 tensor (0-255, as
    ``torchvision.io.decode_image`` gives), a numpy array (:data:`ARRAY_KINDS`: (H, W, 3) uint8
    or float in [0, 1], (H, W, 4) or (H, W) uint8, or (H, W) uint16), a path or the bytes of an
    image file (both read by :func:`taco.images.load_image`: EXIF orientation applied), or
    a binary file object (``open(path, "rb")``, ``io.BytesIO``: read to its end, at most
    :data:`taco.images.MAX_IMAGE_BYTES`, then the same).

    Any size from 1x1 up (a path, bytes or file object of over :data:`taco.images.MAX_PIXELS`
    pixels is an :class:`~taco.images.ImageReadError`, a decompression-bomb guard: to code a
    trusted one, read it with ``taco.images.load_image(path, max_pixels=None)`` and pass that
    image); modes RGB, L, LA, RGBA (alpha dropped with an
    :class:`~taco.images.ImageConversionWarning` at the caller's line, naming the path), P, I;16, ... are
    converted to RGB for coding and the original mode is recorded in the file. ``quality``: 1..Q
    for a variable-rate model (default: its middle one; recorded in the file, so decoding needs
    nothing else), None for a single-rate model. Images over ``stripe_budget`` (pixels x the
    model's width; default ~2 MP for the -small built-ins) are analysed in stripes, in memory
    that follows the stripe (:func:`analysis_with_text_overlap`). ``text_encoder``: a loaded
    text encoder to use instead of the model's own; ``progress(stage, done, total)`` is told when
    each stage starts (:mod:`taco.progress`).

    ``max_bytes`` (instead of ``quality``; a variable-rate model only): the highest quality whose
    whole file, header included, is at most that many bytes, as ``cwebp -size`` does. The analysis
    runs once and the entropy coder tries qualities by bisection (:func:`code_within`: 3 codings
    for Q = 7); the file records the quality, so decoding is unchanged.

    Raises :class:`taco.images.ImageReadError` for an image that cannot be read,
    :class:`ImageSizeError`, :class:`taco.text.base.CaptionTooLongError` or
    :class:`taco.text.base.CaptionTextError` (a text-guided model's caption, checked before the
    image is read: :func:`coding_captions`), :class:`SizeBudgetError` (even quality 1 is over ``max_bytes``),
    :class:`taco.errors.TacoValueError` (a ``ValueError``) for other bad values, ``TypeError``
    for wrong types (each naming the argument), :class:`taco.memory.OutOfMemoryError`.
    """
    return compress_image(image, caption, model, text_encoder=text_encoder, quality=quality,
                          stripe_budget=stripe_budget, progress=progress, max_bytes=max_bytes).data


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def model_hint(model: object) -> str:
    """How to get a model from ``model``, given where one goes, as the registry reads its text
    (:func:`~taco.models.registry.classify_model_spec`: a name taco knows before a file or folder
    of that name): ``taco.load`` for a trained model's name or a checkpoint, ``taco.create_model``
    for an architecture's name; nothing for other text (a caption given in the model's place, a
    file that is no taco checkpoint, such as an output path given in the model's place, a folder
    without a checkpoint, a retired name, a path that cannot be looked at) or other objects."""
    if not isinstance(model, str | os.PathLike):
        return ""
    text = os.fspath(model)
    try:  # the hint's call takes the text as a str, so the text is what is classified
        spec = classify_model_spec(text)
        kind = spec.kind
        if kind == "checkpoint" and not (spec.checkpoint and holds_checkpoint(spec.checkpoint)):
            return ""  # cat.png: taco.load would refuse it
    except (TacoError, OSError):  # a hint never raises
        return ""
    if kind in ("pretrained", "checkpoint"):
        return f"; load it first: model = taco.load({text!r})"
    if kind == "architecture":
        return f"; create it first (random weights): model = taco.create_model({text!r})"
    return ""


def check_model(model: object) -> None:
    """A TypeError unless ``model`` is a loaded float32 model (a name or path is loaded with
    taco.load; a ``torch.compile`` or ``DataParallel`` wrapper is told to pass the model it
    wraps). A model moved to the meta device (no data) is refused before any work. A model
    converted with ``.half()``, ``.double()`` or ``.to(torch.bfloat16)`` is
    refused: its fingerprint is over the converted weights and its decoder would not take the
    encoder's float32 latents, so the files it wrote could be decoded by nothing."""
    if not isinstance(model, ELIC):
        raise TypeError(f"model must be a loaded taco model, not {type(model).__name__}"
                        f"{model_hint(model)}{wrapped_model_hint(model)}")
    check_configured(model)  # a bare ELIC(...)/TACO(...): no config to code with
    check_has_data(model)  # .to("meta"): shapes only, it would fail in torch after the analysis
    dtypes = {t.dtype for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()}
    if dtypes - {torch.float32}:
        other = ", ".join(sorted(str(d).removeprefix("torch.") for d in dtypes - {torch.float32}))
        raise TypeError(f"this model's weights are {other}: taco codes with float32 weights only "
                        "(a file coded in another precision could not be decoded); convert it back "
                        "with model.float()")


def model_for_file(header: TacoHeader, model: ELIC | None,
                   max_pixels: int | None = MAX_DECODE_PIXELS) -> ELIC:
    """The model to decode the file with ``header`` with, checked: the given one, or the model
    the file names (a built-in trained model, or an architecture's seed-0 weights), kept loaded
    for the next files (:data:`NAMED_MODELS_KEPT`, :func:`named_model`). A TacoFormatError when
    it is not here, or did not make the file, or is one the file names that is too wide for its
    image under ``max_pixels`` (:func:`taco.resolve.decode_problems`, the check ``taco
    decompress`` makes before a batch decodes)."""
    if model is not None:
        check_model(model)
        given: str | None = model.model_id
    else:
        given = None
        with _named_models_lock:
            built = _named_prints.get((header.model_id, registrations()))
        problem = built and made_with_problem(header.model_id, header.fingerprint, built,
                                              given=None, cli=False)
        if problem:  # other weights than the name builds here: refused without building it again
            raise TacoFormatError(problem)
        try:
            model = named_model(header)
        except CheckpointError as exc:  # a model not here is the file's failure
            said = str(exc)
            raise TacoFormatError(said if said.startswith("this file") else
                                  f"this file was made with model {header.model_id!r}: {said}") from None
    made_with, too_big = decode_problems(header, model, given=given, cli=False, max_pixels=max_pixels)
    if made_with or too_big:
        raise TacoFormatError(made_with or too_big)
    return model


#: How many models :func:`named_model` keeps loaded (a -small built-in: ~12 MB each).
NAMED_MODELS_KEPT = 4
_named_models: OrderedDict[tuple[str, bytes], ELIC] = OrderedDict()
#: The fingerprint of the seed-0 weights each architecture name :func:`named_model` built has
#: here, by name and :func:`~taco.models.registry.registrations` (a name builds the same weights
#: until a backbone is registered again): a file naming it with other weights is refused without
#: a build (a 229-byte file naming a paper-size architecture built 38 M parameters at every
#: decode). A built-in trained model's name is not kept: its file is small and read again.
_named_prints: dict[tuple[str, int], bytes] = {}
_named_models_lock = ForkSafeLock()
_named_builds_lock = ForkSafeLock()  # held while a model not kept is loaded or built


def clear_named_models() -> None:
    """Forget the models :func:`named_model` keeps (their memory is freed with the last use)."""
    with _named_models_lock:
        _named_models.clear()
        _named_prints.clear()


def named_model(header: TacoHeader) -> ELIC:
    """The model a ``.taco`` file's header names (:func:`taco.resolve.resolve_model` by name,
    never a path), kept for the next files when its weights are the file's (a loop of
    ``taco.decompress(data)`` loaded, hashed and built it at every call: 14x the decode time of a
    small image). Only models that made a file are kept, at most :data:`NAMED_MODELS_KEPT`, least
    recently used out first, so files naming other weights cannot fill memory; the fingerprint
    each name built is remembered, so :func:`model_for_file` refuses such files without a build."""
    key = (header.model_id, header.fingerprint)
    model = kept_model(key)
    if model is not None:
        return model
    with _named_builds_lock:  # threads decoding the same new file share one build
        model = kept_model(key)
        if model is not None:
            return model
        resolved = resolve_model(header.model_id, names_only=True, use=PYTHON_MODEL)
        model, built = resolved.model, model_fingerprint(resolved.model)
        if not resolved.trained:  # an architecture's seed-0 weights (a built-in: a small file)
            with _named_models_lock:
                _named_prints[header.model_id, registrations()] = built
        if built == header.fingerprint:
            with _named_models_lock:
                _named_models[key] = model
                while len(_named_models) > NAMED_MODELS_KEPT:
                    _named_models.popitem(last=False)
        return model


def kept_model(key: tuple[str, bytes]) -> ELIC | None:
    """The model :func:`named_model` keeps for ``key`` (model id, fingerprint), else None."""
    with _named_models_lock:
        if key in _named_models:
            _named_models.move_to_end(key)
            return _named_models[key]
    return None


# --------------------------------------------------------------------------- decoding


def file_quality(model: ELIC, header: TacoHeader) -> int | None:
    """The quality a file was coded at, checked against the model that decodes it (None: a
    single-rate model's file); TacoFormatError when they do not fit."""
    qualities = model.qualities
    name = model.model_id
    if qualities is None:
        if header.quality != 0:
            raise TacoFormatError(
                f"this file was coded at quality index {header.quality} of a variable-rate model; "
                f"{name!r} is a single-rate model"
            )
        return None
    if not 1 <= header.quality <= len(qualities):
        raise TacoFormatError(
            f"this file says quality {header.quality}, but model {name!r} has qualities "
            f"1..{len(qualities)}" + (" (0: a single-rate model's file)" if header.quality == 0 else "")
        )
    return header.quality


#: Output pixels per synthesis tile (halo included) times the model's width
#: (:attr:`~taco.models.ELIC.tiling_width`: N): the tile size
#: follows from it (~4 MP for the -small models, N = 48, 1 MP at the paper's N = 192; a tile
#: peaks at ~0.7 GB of activations: docs/reliability.md). An image whose synthesis fits in one
#: such tile is synthesised whole, exactly as before tiling existed.
SYNTHESIS_TILE_BUDGET = 48 * 2048 * 2048

def _decode_failed(exc: BaseException, hdr: TacoHeader, channels: int) -> OutOfMemoryError | None:
    if isinstance(exc, OutOfMemoryError):  # taco's own says already what ran out: as it is
        return exc
    what = allocation_failure(exc)
    if what is None:
        return None
    pixels = hdr.height * hdr.width
    return OutOfMemoryError(
        f"out of memory decoding a {hdr.width}x{hdr.height} image ({pixels:,} pixels): {what}; "
        f"decoding this size takes {decode_memory_text(pixels, channels)}; see {docs_ref('reliability.md')}"
    )


def synthesis_tiles(model: ELIC, h: int, w: int) -> list[tuple[slice, slice]]:
    """Core areas (latent rows, latent columns) tiling an h x w latent of ``model``: one tile if
    the whole synthesis (``model.latent_scale`` pixels a latent on a side, times
    ``model.tiling_width``) fits :data:`SYNTHESIS_TILE_BUDGET`, else squares whose synthesis
    with ``model.synthesis_halo`` latents around them does."""
    n, scale = model.tiling_width, model.latent_scale
    if (scale * h) * (scale * w) * n <= SYNTHESIS_TILE_BUDGET:
        return [(slice(0, h), slice(0, w))]
    side = max(8, int((SYNTHESIS_TILE_BUDGET / n) ** 0.5) // scale - 2 * model.synthesis_halo)
    return [(rows, cols) for rows in spans(h, side) for cols in spans(w, side)]


def check_synthesis_shape(model: ELIC, x: object, batch: int, rows: slice, cols: slice) -> None:
    """:class:`~taco.errors.BackboneError` (a TypeError) naming ``model``'s class and its
    ``latent_scale`` s unless ``x``, what its g_s gave for ``rows`` x ``cols`` latent positions
    of ``batch`` images, is (batch, 3, s x rows, s x cols): :func:`synthesize` keeps pixels by
    those offsets, so a g_s that up-samples by 2s gave the top-left crop of a 2x image (exit
    status 0), one by s/2 a RuntimeError about expanded sizes, a 1-channel one grey pixels.
    A compare of sizes per tile, nothing more."""
    s = model.latent_scale
    h, w = rows.stop - rows.start, cols.stop - cols.start
    needed = (batch, 3, s * h, s * w)
    got = tuple(x.shape) if isinstance(x, Tensor) else None
    if got == needed:
        return
    name = type(model).__name__
    guide = docs_ref("models.md", "Adding a backbone")
    if got is not None and len(got) == 4 and got[1] != 3 and (got[0], *got[2:]) == (batch, *needed[2:]):
        raise BackboneError(f"{name}'s g_s gives {count(got[1], 'channel')}, but taco reads 3 (RGB): "
                            f"make g_s's last layer give 3 channels ({guide})")
    what = f"shape {got}" if got is not None else f"a {type(x).__name__}, no tensor"
    factor = ""
    if got is not None and len(got) == 4 and got[2] % h == got[3] % w == 0 and got[2] // h == got[3] // w:
        factor = f" (it up-samples by {got[2] // h})"
    raise BackboneError(
        f"{name}'s g_s synthesises {w}x{h} latent positions into {what}{factor}, but taco reads "
        f"{needed}: 3 channels (RGB) at {name}.latent_scale ({s}) pixels per latent position on a "
        f"side, the factor its g_a down-samples by; make g_s up-sample by latent_scale ({guide})")


@torch.no_grad()
def synthesize(
    model: ELIC, y_hat: Tensor, height: int, width: int, out: Tensor,
    progress: Progress | None = None,
) -> None:
    """g_s over y_hat (1, M, h, w), tile by tile (:func:`synthesis_tiles`), into ``out``: the
    top-left ``height x width`` pixels, either (1, 3, height, width) float in [0, 1] or
    (height, width, 3) uint8 (rounded as :func:`taco.images.tensor_to_image` rounds).

    Each tile is synthesised with ``model.synthesis_halo`` latents of context around it and only
    its own pixels are kept, so peak memory follows the tile, not the image, and the pixels are
    those of one whole-image synthesis up to float rounding (at most one grey level). Each
    tile's g_s output is checked to be RGB at ``model.latent_scale`` pixels per latent
    (:func:`check_synthesis_shape`: a :class:`~taco.errors.BackboneError` otherwise).
    """
    device = next(model.parameters()).device
    _, _, h, w = y_hat.shape
    tiles = synthesis_tiles(model, h, w)
    halo = model.synthesis_halo if len(tiles) > 1 else 0
    s = model.latent_scale
    if progress is not None:
        progress("synthesis", 0, len(tiles))
    for i, (rows, cols) in enumerate(tiles):
        read_rows, read_cols = widen(rows, halo, h), widen(cols, halo, w)
        r0, c0 = read_rows.start, read_cols.start
        x = model.g_s(y_hat[:, :, read_rows, read_cols].to(device))  # (1, 3, s x rows read, s x cols read)
        check_synthesis_shape(model, x, y_hat.shape[0], read_rows, read_cols)
        top, left = s * rows.start, s * cols.start
        bottom, right = min(height, s * rows.stop), min(width, s * cols.stop)
        if top < bottom and left < right:
            x = x[..., top - s * r0 : bottom - s * r0, left - s * c0 : right - s * c0]
            x = torch.nan_to_num(x.clamp_(0, 1), nan=0.0).cpu()
            if out.dtype == torch.uint8:
                out[top:bottom, left:right] = x[0].mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0)
            else:
                out[..., top:bottom, left:right] = x
        del x
        if progress is not None:
            progress("synthesis", i + 1, len(tiles))


def _decode(
    data: TacoLike, model: ELIC | None, max_pixels: int | None, out_dtype: torch.dtype,
    progress: Progress | None,
) -> tuple[Tensor, str]:
    """Decode ``data`` into float32 (1, 3, H, W) or uint8 (H, W, 3) pixels; the checks first, in
    order of cost: cap, model, quality, version, then (inside the stream decoder) the chunks."""
    check_max_pixels(max_pixels)
    check_progress(progress)
    # the cap before the payload is read; a view of the payload, not a copy (docs/reliability.md)
    hdr, payload = load_payload(data, max_pixels=max_pixels)
    model = model_for_file(hdr, model, max_pixels)
    ph, pw = padded_size(hdr.height, hdr.width)
    shape = model.latent_shapes(ph, pw, file_quality(model, hdr))
    codec = coding_codec(model, fingerprint=hdr.fingerprint)  # the model's: model_for_file checked
    stream: memoryview | UnchunkedStream = payload
    if hdr.version == 2:
        symbols = fast_codec.num_symbols(codec, shape)
        if symbols > MAX_UNCHUNKED_SYMBOLS:
            raise TacoFormatError(
                f"this .taco file has format version 2 (one rANS string), which this taco decodes "
                f"up to {MAX_UNCHUNKED_SYMBOLS:,} coded symbols; its {hdr.width}x{hdr.height} image "
                f"has {symbols:,}: re-encode the original image with model {model.model_id!r} "
                f"(this taco writes version {FORMAT_VERSION})"
            )
        stream = UnchunkedStream(payload)
    try:
        if progress is not None:
            progress("entropy decoding", 0, 1)
        y_hat = fast_codec.decompress_latent(codec, [[stream]], shape)["y_hat"]  # (1, M, h, w)
        del payload, stream  # a file read here from its path is freed before the synthesis
        if progress is not None:
            progress("entropy decoding", 1, 1)
        if out_dtype == torch.uint8:
            out = torch.empty((hdr.height, hdr.width, 3), dtype=torch.uint8)
        else:
            out = torch.empty((1, 3, hdr.height, hdr.width), dtype=out_dtype)
        synthesize(model, y_hat, hdr.height, hdr.width, out, progress)
    except (MemoryError, RuntimeError) as exc:
        oom = _decode_failed(exc, hdr, latent_channels(model))
        if oom is None:
            raise
        raise oom from None
    return out, hdr.mode


@torch.no_grad()
@with_coding_defaults
def decompress_tensor(
    data: TacoLike, model: ELIC | None = None, *, max_pixels: int | None = MAX_DECODE_PIXELS,
    progress: Progress | None = None,
) -> tuple[Tensor, str]:
    """Decode a ``.taco`` file (its bytes, its path or a binary file object, read from where it
    stands) -> ((1, 3, H, W) float in [0, 1], original mode). No caption.

    A file declaring more than ``max_pixels`` pixels is refused before anything is allocated
    for it (``None``: no cap; the container caps each side at 32768). Big images are
    synthesised tile by tile (:func:`synthesize`); ``progress`` reports the stages.
    """
    return _decode(data, model, max_pixels, torch.float32, progress)


@torch.no_grad()
@with_coding_defaults
def decompress(
    data: TacoLike, model: ELIC | None = None, *, restore: bool = True,
    max_pixels: int | None = MAX_DECODE_PIXELS, progress: Progress | None = None,
) -> Image.Image:
    """Decode a ``.taco`` file to a PIL image: its bytes, its path, or a binary file object
    (``open(path, "rb")``, ``io.BytesIO``, an upload's stream: read from where it stands, within
    the size its header allows). Needs no caption and loads no text encoder.

    ``model`` may be omitted when the file was made by a built-in trained model (or by an
    architecture's seed-0 weights, as ``taco decompress`` finds them). With
    ``restore`` the image is converted back to its original mode where sensible (L, I;16, ...).
    Every malformed, corrupted or oversized (``max_pixels``, default :data:`MAX_DECODE_PIXELS`)
    file, and a path that cannot be read, raises :class:`TacoFormatError`; running out of memory raises
    :class:`OutOfMemoryError` (one line). The pixels are written tile by tile straight into
    8-bit RGB (3 bytes per pixel), and ``progress(stage, done, total)`` reports the stages.
    """
    if not (isinstance(restore, bool | np.bool_) or as_int(restore) in (0, 1)):
        # "no" or "False" from a config would restore (a non-empty string is true)
        raise TypeError(f"restore must be True or False, not {restore!r:.40}")
    pixels, mode = _decode(data, model, max_pixels, torch.uint8, progress)
    image = Image.fromarray(pixels.numpy())
    del pixels
    if restore and mode != "RGB":
        image = restore_mode(image, mode)  # warns of nothing (and catch_warnings is not thread-safe)
    return image
