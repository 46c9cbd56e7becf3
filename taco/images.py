"""Image I/O shared by the codec, the CLI and the datasets.

- :func:`load_image` opens and fully decodes a file, turning every way it can fail (missing,
  empty, truncated, not an image, too large) into one typed :class:`ImageReadError`, and turns
  it upright as its EXIF orientation says (a phone photo would otherwise be coded sideways).
  What Pillow warns about a file it can still read (corrupt EXIF data) is an
  :class:`ImageFileWarning` naming the file.
- :func:`to_rgb` brings any Pillow mode to 8-bit RGB (what the model codes), with one
  :class:`ImageConversionWarning` line for what is lost or converted, and :func:`restore_mode`
  maps a decoded RGB image back to the source mode where that is sensible: both live in
  :mod:`taco.colour`, with the conversion warnings, and are exported here too.
- :func:`image_to_tensor` / :func:`tensor_to_image` convert between PIL RGB and (1, 3, H, W)
  float32 tensors in [0, 1].
- :func:`image_file_bytes` writes an image as ``taco decompress`` does (PNG for speed:
  :data:`PNG_SAVE_OPTIONS`).
"""

from __future__ import annotations

import io
import os
import stat
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .checks import positive_int_argument
from .colour import (
    ColourProfileConvertedWarning,
    ConversionNotes,
    ImageConversionWarning,
    PillowWarnings,
    conversion_warning,
    decoded_mode,
    restore_mode,
    to_rgb,
    watch_pillow,
)
from .errors import TacoError, TacoValueError
from .filekinds import HEIF_BRANDS, TACO_MAGIC
from .fileobjects import checked_path, read_file_object
from .locks import ForkSafeLock
from .memory import MAX_ENCODE_PIXELS, allocation_failure
from .messages import one_line, shown_path
from .suffixes import HEIF_SUFFIXES

if TYPE_CHECKING:  # torch is imported by the two functions that use it
    from torch import Tensor

__all__ = [
    "FOLDER_NOT_IMAGE",
    "FORMAT_MAX_SIDES",
    "FRAMES_COUNTED",
    "IMAGE_BYTES",
    "IMAGE_FILE_OBJECT",
    "LIFT_CAP_IN_PYTHON",
    "MAX_IMAGE_BYTES",
    "MAX_JPEG_SCANS",
    "MAX_PIXELS",
    "MAX_TIFF_TILE_PIXELS",
    "PIL_IMAGE",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "NORMALISED_RANGE",
    "PIXEL_OVERSHOOT",
    "PNG_SAVE_OPTIONS",
    "PNM_HEADER_BYTES",
    "REFUSED_FORMATS",
    "ConversionNotes",
    "ColourProfileConvertedWarning",
    "ImageConversionWarning",
    "ImageFileWarning",
    "ImageReadError",
    "cap_refusal",
    "decoded_mode",
    "header_upright_sizes",
    "image_file_bytes",
    "image_to_tensor",
    "load_image",
    "open_image",
    "pil_image_argument",
    "pillow_pixel_limit",
    "pixel_scale_hint",
    "read_image_stream",
    "restore_mode",
    "tensor_to_image",
    "to_rgb",
    "upright_size",
    "upright_sizes",
    "warn_pixels_clipped",
    "without_file",
]

MAX_PIXELS: int = MAX_ENCODE_PIXELS
"""Default cap on width × height (100 megapixels) in :func:`load_image`: the encoder's,
:data:`taco.memory.MAX_ENCODE_PIXELS` (this name is kept for compatibility).

Guards against decompression bombs: a tiny file that declares a huge canvas. Pass
``max_pixels=`` to :func:`load_image` to change it per call, or ``None`` to disable it: the cap
alone decides. Pillow's own check (an error over ``2 * PIL.Image.MAX_IMAGE_PIXELS``, ≈179 MP by
default) is moved above a larger cap, or lifted for None, while the file is read
(:func:`pillow_pixel_limit`).
"""

#: The most bytes taco reads of an image given as a stream (a file object, standard input): 1 GiB,
#: over any real file of :data:`MAX_PIXELS` pixels (an uncompressed 16-bit RGBA TIFF of 100 MP is
#: 800 MB). An endless or enormous stream is refused at that point, not read to its end.
MAX_IMAGE_BYTES: int = 1 << 30

#: The longest side a format (Pillow's name) holds where it is shorter than a .taco file's
#: (``MAX_SIDE``, 32,768): libwebp's 16,383. Pillow 13 refused a wider WebP only as it wrote
#: it; JPEG, GIF, BMP, TGA, PCX, AVIF, ... wrote 32768x1, 1x32768 and 32768x1159. ``taco
#: decompress`` checks its outputs against it, the classic codecs their inputs.
FORMAT_MAX_SIDES = {"WEBP": 16383}


#: How far float pixel values may stray outside [0, 1] (a resampled image overshoots a little;
#: clamped where it matters, with a warning past :data:`PIXEL_OVERSHOOT`); beyond it a tensor is
#: taken to be on another scale (0-255, [-1, 1]) and refused, by the codec and by the metrics.
PIXEL_SLACK = 0.5

#: How far float pixel values may stray outside [0, 1] and be clipped unsaid: a resampled image's
#: overshoot (bicubic or Lanczos ringing reaches 4-6 % on real photos: torchvision's bicubic resize
#: of a sample photo ran from -0.053 to 1.062). Further out, up to :data:`PIXEL_SLACK`, they are
#: clipped with an :class:`ImageConversionWarning` (:func:`warn_pixels_clipped`).
PIXEL_OVERSHOOT = 0.1


#: What messages call an image that is no file: the bytes of one, a file object without a name,
#: a PIL image made in memory (read :func:`without_file`).
IMAGE_BYTES, IMAGE_FILE_OBJECT, PIL_IMAGE = "image bytes", "image file object", "PIL image"


class ImageReadError(TacoError, ValueError):
    """An image file cannot be read: missing, empty, truncated, not an image, or too large.

    The message names the file (as :func:`taco.messages.shown_path` shows it: a name with a
    line break or an escape code stays on one line) and the reason; ``path`` and ``reason`` hold
    them separately (an empty path is named ``''`` in the message, not as ``Path("")``'s ``.``).
    ``path`` is None for an image that has no file (bytes, a file object without a path, a PIL
    image made in memory: :func:`without_file`); the message still names it.
    It pickles (an error crossing a process pool), with its message as it is then: one that
    :func:`taco.compress_batch` started with the image's index keeps it.

    An image refused for its size by :func:`load_image` has ``size`` (width, height) and
    ``max_pixels`` (the cap it is over) set, for a caller that words the refusal its own way
    (``taco compress`` names its ``--max-pixels``: :func:`cap_refusal`); both are None for any
    other failure.
    """

    size: tuple[int, int] | None = None
    max_pixels: int | None = None

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path: Path | None = Path(path)
        self.reason = reason
        self._named = str(self.path) if os.fspath(path) else ""
        super().__init__(f"cannot read image '{shown_path(self._named)}': {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self._named, self.reason), {**vars(self), "args": self.args}


@contextmanager
def without_file(reading_no_file: bool = True) -> Iterator[None]:
    """An image read that is no file (bytes, a file object without a path, a PIL image made in
    memory; ``reading_no_file`` False: a file): an :class:`ImageReadError` raised inside has
    ``path`` None, its message the name the image was read under (:data:`IMAGE_BYTES`, ...)."""
    try:
        yield
    except ImageReadError as error:
        if reading_no_file:
            error.path = None
        raise


class ImageFileWarning(ImageConversionWarning):
    """Pillow found a flaw in an image file it can still read ("Corrupt EXIF data", "Tag data
    larger than file"): the flawed part (a metadata tag) is skipped. One line, ``NAME: Pillow:
    its words``, given for what Pillow warns while :func:`load_image` reads the file (headers,
    frames, metadata, pixels) or :func:`open_image` opens it, in the thread doing so: images are
    read in parallel threads, and each file's words are its own. What Pillow warns of an image
    it has read (``Image.convert``) stays Pillow's own ``UserWarning``."""


#: EXIF tag 0x0112 (Orientation): 1 is upright; 2..8 are mirrorings and rotations.
EXIF_ORIENTATION = 0x0112


#: The per-channel mean and standard deviation of ImageNet-normalised pixels (torchvision's
#: ``Normalize`` in most pretrained models' preprocessing), and the range such pixels run in:
#: -2.12 to 2.64.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NORMALISED_RANGE = (min(-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)),
                    max((1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD, strict=True)))


def pixel_scale_hint(low: float, high: float) -> str:
    """How to bring float pixels running from ``low`` to ``high``, more than
    :data:`PIXEL_SLACK` outside [0, 1], to [0, 1], guessed from the range, for a refusal's
    message (:func:`taco.codec.check_pixel_values`, :mod:`taco.metrics`): ``divide 0-255 values
    by 255`` for values from 0 (a resampled image's overshoot allowed) up to 255, ``by 65535``
    up to 65535, ``map [-1, 1] values with (x + 1) / 2``, undoing a mean/std normalisation for
    values in :data:`NORMALISED_RANGE` (both for values from 0 to under 3, which either may
    be), and ``rescale them to [0, 1] first`` for any other range. One hint for every range
    misled: [-1, 1] or normalised values divided by 255 are within [0, 1], and code a flat
    grey image. Needs no torch."""
    normalised_low, normalised_high = NORMALISED_RANGE
    normalised = ("undo the mean/std normalisation: x * std + mean per channel (ImageNet's: mean "
                  f"{IMAGENET_MEAN}, std {IMAGENET_STD})")
    if low >= -PIXEL_SLACK or high > normalised_high + PIXEL_SLACK:  # a scale above 1
        if low >= -max(PIXEL_SLACK, PIXEL_OVERSHOOT * high):  # from 0, give or take an overshoot
            if high <= normalised_high + PIXEL_SLACK:
                return f"divide 0-255 values by 255, or {normalised}"
            if high <= 255 * (1 + PIXEL_OVERSHOOT):
                return "divide 0-255 values by 255"
            if high <= 65535 * (1 + PIXEL_OVERSHOOT):
                return "divide 0-65535 (16-bit) values by 65535"
    elif low >= -1 - PIXEL_SLACK and high <= 1 + PIXEL_SLACK:
        return "map [-1, 1] values with (x + 1) / 2"
    elif low >= normalised_low - PIXEL_SLACK:
        return normalised
    return "rescale them to [0, 1] first"


def warn_pixels_clipped(low: float, high: float, what: str) -> None:
    """The :class:`ImageConversionWarning` (at the caller's line) for float pixels from ``low``
    to ``high`` clipped to [0, 1], if any is more than :data:`PIXEL_OVERSHOOT` outside it;
    ``what`` the caller passed: ``image tensor``, ``numpy array``."""
    if low < -PIXEL_OVERSHOOT or high > 1 + PIXEL_OVERSHOOT:
        conversion_warning(f"the {what}'s values run from {low:g} to {high:g}: clipped to "
                           "[0, 1], which float images take", ImageConversionWarning)


class _PillowWarnings(PillowWarnings):
    """What Pillow warns in this thread inside the block (:class:`taco.colour.PillowWarnings`:
    not its DecompressionBombWarning, since taco's own cap, :data:`MAX_PIXELS`, decides) given again
    at its end as one :class:`ImageFileWarning` line naming ``name`` (what it says of a file would
    otherwise reach a user as ``UserWarning: Corrupt EXIF data`` with no file named), each text
    once (a TIFF's tag is read more than once). When the block raises, its error says what is
    wrong and Pillow's warnings are dropped. A class, not a ``contextmanager``:
    :func:`taco.errors.warn_at_caller` then blames the caller's line, not contextlib's."""

    def __init__(self, name: object) -> None:
        self.name = name

    def __exit__(self, kind: type[BaseException] | None, *exc: Any) -> None:
        super().__exit__(kind, *exc)
        if kind is not None:
            return
        shown = shown_path(self.name)
        for text in dict.fromkeys(f"{shown}: Pillow: {one_line(m, 300)}" for m in self.caught):
            conversion_warning(text, ImageFileWarning)


#: :func:`pillow_pixel_limit`'s state: how many are inside it (all threads), Pillow's
#: ``Image.MAX_IMAGE_PIXELS`` to give back when the last one leaves, and ``depth``: how many
#: blocks this thread is inside (a forked child keeps the forking thread's)
_limit_lock = ForkSafeLock()
_limit_inside = 0
_limit_before: int | None = None
_limit_depth = threading.local()


def _limit_after_fork() -> None:
    """In a forked child only the forking thread is left: the count is its depth (it leaves its
    blocks in the child too), and Pillow's limit is given back now where it is inside none."""
    global _limit_inside
    depth = getattr(_limit_depth, "depth", 0)
    if _limit_inside and not depth:
        Image.MAX_IMAGE_PIXELS = _limit_before
    _limit_inside = depth


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_limit_after_fork)


@contextmanager
def pillow_pixel_limit(max_pixels: int | None) -> Iterator[None]:
    """Inside it, Pillow's own decompression-bomb check (an error over twice
    ``PIL.Image.MAX_IMAGE_PIXELS``, ≈179 MP by default) lets through every image of up to
    ``max_pixels`` pixels (None: any size), so that taco's cap alone decides; a cap Pillow lets
    through already leaves Pillow's value as it is (taco's 100 MP default does). Pillow keeps its
    limit in a module global, not per thread: it is raised (never lowered) as threads enter, to
    the highest cap in force, and Pillow's value is given back when the last one leaves, so that
    no thread's read sees it lowered under it; meanwhile other threads' reads are let through up
    to it too. ``max_pixels`` must be a positive integer or None (a TypeError or
    :class:`taco.errors.TacoValueError` naming it otherwise, before anything changes)."""
    global _limit_inside, _limit_before
    if max_pixels is not None:
        max_pixels = positive_int_argument("max_pixels", max_pixels, "or None (no cap)")
    with _limit_lock:
        now = Image.MAX_IMAGE_PIXELS
        if _limit_inside == 0:
            _limit_before = now
        if now is not None and (max_pixels is None or max_pixels > 2 * now):
            Image.MAX_IMAGE_PIXELS = max_pixels
        _limit_inside += 1
        _limit_depth.depth = getattr(_limit_depth, "depth", 0) + 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_depth.depth -= 1
            _limit_inside -= 1
            if _limit_inside == 0:
                Image.MAX_IMAGE_PIXELS = _limit_before


#: The formats taco refuses to read (Pillow's names), by content whatever the file's name: their
#: opener or load does work that taco's size cap, read from the header, cannot bound, or runs
#: another program. ICO's opener decodes its largest icon (an embedded PNG: 900 MB for a 109 KB
#: file); ICNS's load decodes an embedded PNG or JPEG 2000 of any size under the one its header
#: declares; IPTC's load opens the image it wraps, in any format (an EPS too); EPS's load runs
#: Ghostscript. Every other format Pillow reads is read (TGA, JPEG 2000, QOI, PCX, SGI, DDS, ...),
#: HEIF once pillow-heif's opener is registered (:func:`_open_header` does it for a HEIC).
REFUSED_FORMATS = ("EPS", "ICNS", "ICO", "IPTC")


def _open_formats() -> tuple[str, ...]:
    """The formats Pillow has an opener for now, in its order, less :data:`REFUSED_FORMATS`
    (``Image.open`` fails on a name in ``Image.ID`` with no opener in ``Image.OPEN``)."""
    watch_pillow()  # Image.init: every plugin's opener registered
    return tuple(f for f in Image.ID if f in Image.OPEN and f not in REFUSED_FORMATS)


def _refused_format(f: IO[bytes]) -> str | None:
    """The format of :data:`REFUSED_FORMATS` that Pillow identifies the file ``f`` as, or None:
    its own opener reads the header (EPS's, ICNS's and IPTC's decode nothing and run nothing at
    open), but for ICO only its directory is parsed (``IcoFile``; its opener decodes an icon), and
    it must list an icon. A signature alone names nothing: CUR's matches an uncompressed TGA."""
    from PIL import IcoImagePlugin

    for name in REFUSED_FORMATS:
        f.seek(0)
        try:
            if name == "ICO":
                if IcoImagePlugin.IcoFile(f).entry:
                    return name
                continue
            with Image.open(f, formats=[name]):
                return name
        except Image.DecompressionBombError:  # Pillow's check of the size its opener read
            return name
        except Exception:  # not this format
            continue
    return None


@contextmanager
def _from_start(source: Path | IO[bytes]) -> Iterator[IO[bytes]]:
    """``source`` to read from its first byte: a path opened (and closed after), a stream moved
    to its start (left open)."""
    with source.open("rb") if isinstance(source, Path) else nullcontext(source) as f:
        f.seek(0)
        yield f


def _declared_size(source: Path | IO[bytes]) -> tuple[int, int] | None:
    """The size the header of ``source`` declares, read by its format's Pillow opener (of
    :func:`_open_formats`, which decode nothing at open) without Pillow's decompression-bomb check,
    for a refusal that names it; None if it cannot be read. The openers that run that check
    themselves (WebP's, as its decoder allocates the canvas at open; GIF's, for a first frame
    outside the screen) are not run without it: the size is read from the header
    (:func:`_bomb_size`)."""
    try:
        with _from_start(source) as f:
            head = f.read(16)
            for name in _open_formats():
                factory, accept = Image.OPEN[name]
                try:
                    if accept is None or accept(head) is not True:
                        continue
                    f.seek(0)
                    return factory(f, "").size  # type: ignore[no-any-return]
                except Image.DecompressionBombError:
                    f.seek(0)
                    return _bomb_size(f, name)
                except Exception:  # not this format after all
                    continue
    except OSError:
        return None
    return None


def _bomb_size(f: IO[bytes], name: str) -> tuple[int, int] | None:
    """The size Pillow's ``name`` opener gives the file ``f`` (at its start), read from the
    header where that opener refuses it as a decompression bomb: WebP's canvas (VP8X) or image
    (VP8, VP8L) size, or GIF's screen widened to hold its first frame; None for another format
    or a header cut short."""
    head = f.read(30)
    if name == "WEBP" and len(head) >= 30:
        chunk = head[12:16]
        if chunk == b"VP8X":
            return (int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
        if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
            return (int.from_bytes(head[26:28], "little") & 0x3FFF,
                    int.from_bytes(head[28:30], "little") & 0x3FFF)
        if chunk == b"VP8L" and head[20] == 0x2F:
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if name != "GIF" or len(head) < 13:
        return None
    width, height = int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    f.seek(13 + (3 << ((head[10] & 7) + 1) if head[10] & 128 else 0))
    while (kind := f.read(1)) == b"!":  # an extension: its label, then sub-blocks up to an empty one
        f.read(1)
        while (length := f.read(1)) not in (b"", b"\0"):
            f.seek(length[0], io.SEEK_CUR)
    if kind != b",":  # no frame: the screen
        return width, height
    frame = f.read(8)
    if len(frame) < 8:
        return None
    x0, y0, w, h = (int.from_bytes(frame[i:i + 2], "little") for i in range(0, 8, 2))
    return max(width, x0 + w), max(height, y0 + h)


#: How :func:`cap_refusal` says the cap is lifted in Python: :func:`load_image` takes
#: ``max_pixels=None`` and :func:`taco.compress` takes the PIL image it gives.
LIFT_CAP_IN_PYTHON = ("to code it anyway, if the file is trusted, read it with "
                      "taco.images.load_image(path, max_pixels=None) and pass that image to taco.compress")


def cap_refusal(width: int, height: int, cap: int, lift: str = LIFT_CAP_IN_PYTHON) -> str:
    """Why a ``width`` x ``height`` image is refused under a cap of ``cap`` pixels, in one line
    (numbers with thousands separators), ending with ``lift``: how to lift the cap. The default
    names the Python way (:data:`LIFT_CAP_IN_PYTHON`), as :func:`load_image` says it; ``taco
    compress`` names its ``--max-pixels``; ``""`` says no way (``taco demo`` and ``bench``, which
    have no option for the cap, and whose users cannot apply the Python way)."""
    refusal = f"a {width}x{height} image ({width * height:,} pixels), over the cap of {cap:,}"
    return f"{refusal}: {lift}" if lift else refusal


def _too_large(name: str | os.PathLike[str], size: tuple[int, int] | Image.Image,
               max_pixels: int) -> ImageReadError:
    """The refusal of an image over ``max_pixels``, with its size and the cap on it
    (:class:`ImageReadError`): ``size``, or of an opened image its upright size
    (:func:`upright_size`), so a file and the same bytes piped in are refused in the same words
    (:func:`cap_refusal`)."""
    width, height = upright_size(size) if isinstance(size, Image.Image) else size
    error = ImageReadError(name, cap_refusal(width, height, max_pixels))
    error.size, error.max_pixels = (width, height), max_pixels
    return error


def _rereadable(source: Path | IO[bytes], name: str | os.PathLike[str]) -> Path | IO[bytes]:
    """``source``, or where it cannot be read twice (a named pipe such as bash's ``<(cat x)``,
    ``/dev/stdin``, a stream that cannot seek) its bytes, read once (:func:`read_image_stream`)
    into a BytesIO: what Pillow's ``Image.open`` does with such a stream itself, done here so
    :func:`_open_header` can read it again where Pillow does not identify it."""
    if isinstance(source, Path):
        try:
            regular = stat.S_ISREG(source.stat().st_mode)
        except OSError:  # Image.open says what is wrong
            return source
        if regular:
            return source
        with source.open("rb") as f:
            return io.BytesIO(read_image_stream(f, str(name)))
    seekable = getattr(source, "seekable", None)
    return source if seekable is not None and seekable() else io.BytesIO(read_image_stream(source, str(name)))


def _open_capped(source: Path | IO[bytes], name: str | os.PathLike[str], max_pixels: int | None,
                 formats: tuple[str, ...] | None = None) -> ImageFile.ImageFile:
    """``Image.open(source)`` of ``formats`` (None: :func:`_open_formats`) inside
    :func:`pillow_pixel_limit` ``(max_pixels)``: Pillow's own check stays in force for a cap within it, and its error is
    taco's refusal of the size (:func:`_too_large`)."""
    try:
        with pillow_pixel_limit(max_pixels):
            return Image.open(source, formats=_open_formats() if formats is None else formats)
    except Image.DecompressionBombError as e:  # over twice Pillow's limit, so over max_pixels
        size = _declared_size(source)
        if size is None or max_pixels is None:
            raise ImageReadError(name, f"image too large (decompression bomb check): {e}") from None
        raise _too_large(name, size, max_pixels) from None


#: The most bytes a PNM (PBM, PGM, PPM, PFM) header may take, comments and blanks included:
#: Pillow reads them a byte at a time (a 5 MB comment took 3 s to open, 50 MB 49 s), and real
#: headers take a few dozen bytes (a line or two of comment from the program that wrote them).
PNM_HEADER_BYTES = 16384


def _pnm(head: bytes) -> bool:
    """Whether ``head``, a file's first bytes, starts as a file Pillow's PPM opener takes: P1..P6
    or Pf (PBM, PGM, PPM, PFM), or Pillow's own P0 and Py kinds (``P0CMYK``, ``PyRGBA``)."""
    return head[:1] == b"P" and head[1:2] != b"" and head[1:2] in b"0123456fy"


def _refuse_long_pnm_header(head: bytes, name: str | os.PathLike[str]) -> None:
    """An :class:`ImageReadError` where ``head``, a file's first :data:`PNM_HEADER_BYTES` + 1
    bytes, starts as a PNM (P1..P6 or Pf, then a blank) whose header (width, height and, but for
    P1 and P4, maxval or scale, each after blanks and ``#`` comments) does not end within
    :data:`PNM_HEADER_BYTES`; nothing for another file, or one that ends sooner (Pillow says what
    is wrong with it)."""
    blanks = b" \t\n\v\f\r"
    if len(head) <= PNM_HEADER_BYTES or not _pnm(head):
        return
    at, tokens = 2, 2 if head[:2] in (b"P1", b"P4") else 3
    while at < len(head) and head[at] not in blanks:  # the rest of a P0/Py magic word (P0CMYK)
        at += 1
    while tokens and at < PNM_HEADER_BYTES:
        if head[at] in blanks:
            at += 1
        elif head[at] == ord("#"):  # a comment, to the end of its line
            ends = [i for i in (head.find(b"\n", at), head.find(b"\r", at)) if i >= 0]
            at = min(ends) + 1 if ends else len(head)
        else:
            while at < len(head) and head[at] not in blanks and head[at] != ord("#"):
                at += 1
            tokens -= 1
    if tokens or at >= PNM_HEADER_BYTES:
        raise ImageReadError(name, f"its PNM header does not end within {PNM_HEADER_BYTES:,} bytes "
                                   "(a long comment or run of blanks): not read")


def _open_header(source: Path | IO[bytes], name: str | os.PathLike[str],
                 max_pixels: int | None) -> ImageFile.ImageFile:
    """``Image.open(source)`` (``name`` names it), the one way taco opens an image's header, of
    the formats Pillow reads less :data:`REFUSED_FORMATS` (:func:`_open_capped`: Pillow's own
    size check moved to ``max_pixels``; the whole process's limit is moved only for None or a cap
    above Pillow's). A regular file is opened once. Only where Pillow does not identify it is it
    read again: a format of :data:`REFUSED_FORMATS` is an :class:`ImageReadError` naming it; a
    HEIC (by ``name``'s suffix or its bytes) is opened again with pillow-heif's opener registered
    (:func:`_register_heif`: an ImageReadError saying it is needed where it is not installed);
    another is Pillow's UnidentifiedImageError. A source that cannot be read twice (a pipe) is
    read into memory first (:func:`_rereadable`). PNM (Pillow's PPM) is tried only where no other
    format is, once its header is known to end within :data:`PNM_HEADER_BYTES`
    (:func:`_refuse_long_pnm_header`): Pillow reads it a byte at a time."""
    watch_pillow()
    source = _rereadable(source, name)
    try:
        return _open_capped(source, name, max_pixels, tuple(f for f in _open_formats() if f != "PPM"))
    except UnidentifiedImageError:
        with _from_start(source) as f:
            refused = _refused_format(f)
            f.seek(0)
            head = f.read(PNM_HEADER_BYTES + 1)
            # bytes without a name (piped in) are told by ftyp and a major brand
            heif = Path(name).suffix.lower() in HEIF_SUFFIXES or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS)
        if refused is not None:
            raise ImageReadError(name, f"not an image format taco reads (it is {refused})") from None
        if _pnm(head):
            _refuse_long_pnm_header(head, name)
            return _open_capped(source, name, max_pixels)
        if not heif:
            raise
        tried = "HEIF" in Image.OPEN  # pillow-heif's opener already refused it
        _register_heif(name)
        if tried:
            raise
    return _open_capped(source, name, max_pixels)


def open_image(source: str | os.PathLike[str] | IO[bytes], *,
               max_pixels: int | None = MAX_PIXELS) -> ImageFile.ImageFile:
    """``PIL.Image.open(source)``, what Pillow warns of the file an :class:`ImageFileWarning`
    naming it, and without Pillow's DecompressionBombWarning (:class:`_PillowWarnings`). Only
    the header is read (:func:`_open_header`): a format of :data:`REFUSED_FORMATS` is an
    :class:`ImageReadError` naming it, a HEIC without pillow-heif one saying so, a file Pillow does
    not identify its ``UnidentifiedImageError``; a named pipe, ``/dev/stdin`` or a file object that
    cannot seek is read into memory first (as Pillow does), to at most :data:`MAX_IMAGE_BYTES`.
    ``max_pixels`` is not checked here (``im.size`` says it), but
    Pillow's own check is moved above it while the file opens, or lifted for None
    (:func:`pillow_pixel_limit`); an image that check refuses (over twice Pillow's limit, which a
    cap within it is under) is an :class:`ImageReadError` with ``size`` and ``max_pixels``."""
    if isinstance(source, (str, os.PathLike)):
        with _PillowWarnings(source):
            return _open_header(Path(source), source, max_pixels)
    with _PillowWarnings(IMAGE_BYTES), without_file():
        return _open_header(source, IMAGE_BYTES, max_pixels)


def upright_sizes(path: str | os.PathLike[str], max_pixels: int | None = MAX_PIXELS) -> list[tuple[int, int]]:
    """The width and height :func:`load_image` gives the image at ``path`` (upright: EXIF
    orientation 5..8 swaps the sides), from its header alone: both orders where its orientation
    is not read without decoding (a PNG whose EXIF comes after the pixels); none where Pillow
    cannot open it (HEIC without its plugin, a broken EXIF block, a format taco refuses, an
    image Pillow's own check refuses under ``max_pixels``: :func:`open_image`). What Pillow warns
    of the file is dropped: reading it whole says it."""
    try:
        with PillowWarnings(), _open_header(Path(path), path, max_pixels) as im:
            return header_upright_sizes(im)
    except Exception:  # Pillow raises several types for a file it cannot read
        return []


def header_upright_sizes(im: Image.Image) -> list[tuple[int, int]]:
    """:func:`upright_sizes` of an image opened, not yet decoded (:func:`open_image`): the width
    and height :func:`load_image` gives it, both orders where its orientation is not read without
    decoding. A broken EXIF block raises (Pillow's own types)."""
    orientation = _header_orientation(im)
    width, height = _coded_size(im)
    if orientation is None:
        return [(width, height), (height, width)]
    return [(height, width)] if orientation in (5, 6, 7, 8) else [(width, height)]


def upright_size(im: Image.Image) -> tuple[int, int]:
    """The width and height :func:`load_image` gives an image opened, not yet decoded
    (:func:`header_upright_sizes`' first), or its stored size where its EXIF block is broken
    (load_image ignores such a block too): how a refusal over a pixel cap words its size."""
    try:
        return header_upright_sizes(im)[0]
    except Exception:  # Pillow raises several types for a broken EXIF block
        return im.size


def _header_orientation(im: Image.Image) -> int | None:
    """The EXIF orientation of an opened, not yet decoded image (1 where it has none), or None
    where it is not known without decoding (a PNG whose EXIF comes after the pixels: its
    ``getexif`` would decode it). Read before the decode: Pillow's TIFF reader turns the image
    itself as it decodes and removes the tag. A broken EXIF block raises (Pillow's own types)."""
    if im.format == "PNG" and "exif" not in im.info:
        return None
    orientation = im.getexif().get(EXIF_ORIENTATION, 1)
    return orientation if orientation in range(1, 9) else 1


def _coded_size(im: Image.Image) -> tuple[int, int]:
    """The width and height of an opened, not yet decoded image as its file stores the pixels,
    before any orientation is applied. Mostly ``im.size``; but Pillow's TIFF reader (since
    Pillow 11.0) gives the size already turned upright at open, and decodes into a raster of the
    stored shape that it turns as it loads (Pillow 6.2 to 10 gave the stored size, then changed
    it on load): the pieces it decodes (``im.tile``) then reach outside ``im.size``, which is
    what says the sides were swapped (no reader decodes outside the size it allocates)."""
    width, height = im.size
    tiles = getattr(im, "tile", None) or []
    right = max((t[1][2] for t in tiles), default=0)
    bottom = max((t[1][3] for t in tiles), default=0)
    return (height, width) if right > width or bottom > height else (width, height)


def read_image_stream(stream: Any, name: str) -> bytes:
    """The bytes of an image from binary ``stream`` (a file object, standard input), from where it
    stands, read in pieces to at most :data:`MAX_IMAGE_BYTES`; more is an :class:`ImageReadError`
    naming ``name``, raised once one byte past the bound is read (memory follows the bytes read).
    A text-mode stream is a TypeError (:func:`taco.fileobjects.read_file_object`)."""
    data = read_file_object(stream, "an image", lambda reason: ImageReadError(name, reason),
                            limit=MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageReadError(name, f"over {MAX_IMAGE_BYTES:,} bytes, more than taco reads of an "
                                   "image stream (a pipe or a device is read whole first, a "
                                   "regular file is not: name one)")
    return data


#: What :func:`load_image` says of a folder given as an image (``taco bench --images`` too).
FOLDER_NOT_IMAGE = "is a directory, not a file"


def load_image(
    path: str | os.PathLike[str], *, max_pixels: int | None = MAX_PIXELS, orient: bool = True,
    data: bytes | None = None,
) -> Image.Image:
    """Open ``path`` and decode it completely, in its own mode (use :func:`to_rgb` next). With
    ``data``, decode those bytes instead (an image piped in); ``path`` names it in messages. A
    ``path`` that is a pipe or a device, not a regular file (bash's ``<(cat x.png)``), is read
    as a stream, at most :data:`MAX_IMAGE_BYTES` (:func:`read_image_stream`).

    The full decode (``Image.load``) happens here so a truncated file fails now with a clear
    :class:`ImageReadError`, not later deep inside a transform. Animated images (GIF, APNG,
    WebP, multi-page TIFF) give their first frame, with an :class:`ImageConversionWarning` that
    says how many there are (a TIFF's pages counted up to :data:`FRAMES_COUNTED`), or that a
    later frame cannot be read (a page pointer past the file's end, a bad tag): only the first
    frame has to be readable. A phone's multi-picture JPEG (MPO) gives its photo, unsaid: its
    preview or depth image is no frame (a panorama's other shots are). What Pillow warns while it reads the file (its headers, frames,
    EXIF block and pixels: "Corrupt EXIF data") is an :class:`ImageFileWarning` naming ``path``.

    With ``orient`` (the default) an EXIF orientation other than 1 is applied, so the image is
    the way viewers show it, and recorded as ``image.info["exif_orientation"]`` (the tag itself is
    removed from the image's EXIF).

    Grey files that Pillow opens in a colour or 32-bit mode come in their own mode: a 16-bit
    grey PNG with alpha (Pillow: 8-bit ``RGBA``) as 8-bit ``LA``, a PGM of maxval over 255
    (Pillow: ``I``) as ``I;16``. A file of 16-bit samples read as 8-bit (colour PNG, TIFF, PPM;
    grey PNG with alpha) is marked ``image.info["source_bits"] = 16``, for :func:`to_rgb`'s
    warning. A PNG's transparent colour
    (``info["transparency"]``, a tRNS key) is given in the decoded pixels' scale (a 2- or 4-bit
    grey key scaled to 0..255, a 16-bit colour key to its high bytes), as :func:`to_rgb` compares
    it with them.

    The file's format (Pillow's name: ``"PNG"``, ``"JPEG"``) and size in bytes are kept as
    ``image.info["source_format"]`` and ``image.info["source_bytes"]``, for a caller that reports
    them: a pipe cannot be opened again, and its ``stat`` says 0 bytes. The keywords of a PNG's
    text chunks (tEXt, zTXt, iTXt: ``Author``, ``Copyright``, ``Description``), which Pillow
    mixes into ``info`` with its own keys, are kept as ``image.info["source_text"]`` (a tuple;
    absent when there are none), for a caller that says they are not kept.

    Raises :class:`ImageReadError` for an empty path or one with a null byte
    (:func:`taco.fileobjects.checked_path`), a path the system refuses (too long, not
    permitted), a missing or zero-byte file, a file Pillow cannot identify, a truncated or
    corrupt file, and an image over ``max_pixels`` (see :data:`MAX_PIXELS`).
    A ``max_pixels`` that is not a positive integer or None is a TypeError or
    :class:`taco.errors.TacoValueError` naming it, before anything is read.
    """
    if max_pixels is not None:
        max_pixels = positive_int_argument("max_pixels", max_pixels, "or None (no cap)")
    if data is None:
        path = checked_path(path, ImageReadError)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise ImageReadError(path, "file not found") from None
        except OSError as e:
            raise ImageReadError(path, e.strerror or str(e)) from e
        if stat.S_ISDIR(st.st_mode):
            raise ImageReadError(path, FOLDER_NOT_IMAGE)
        if not stat.S_ISREG(st.st_mode):  # a pipe (<(cat x.png)), a device: its size says nothing
            try:
                with path.open("rb") as f:
                    data = read_image_stream(f, str(path))
            except OSError as e:
                raise ImageReadError(path, e.strerror or str(e)) from e
    else:
        path = Path(path)  # names the bytes in messages
    size = st.st_size if data is None else len(data)
    if size == 0:
        raise ImageReadError(path, "file is empty (0 bytes)")

    # what Pillow warns of the file while it is read: given as ImageFileWarning naming it;
    # Pillow's own size check moved above max_pixels, which decides (_open checks it)
    with (_PillowWarnings(path), _open(path, path if data is None else io.BytesIO(data), max_pixels) as im,
          pillow_pixel_limit(max_pixels)):
        frames = _count_frames(im, path if data is None else io.BytesIO(data))
        wide = _sixteen_bit(im)
        key_scale = _key_scale(im, wide)  # before load, which clears im.tile
        try:
            stated = _header_orientation(im)
        except Exception:  # a broken EXIF block is ignored, as viewers do
            stated = None
        try:
            im.seek(0)
            im.load()
        except Image.DecompressionBombError as e:  # some formats check frame sizes on load
            raise ImageReadError(path, f"image too large (decompression bomb check): {e}") from e
        except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
            raise ImageReadError(path, _read_failure("file is truncated or corrupt", e)) from e
        if frames.several:
            conversion_warning(f"{shown_path(path)}: it {frames}; using the first one", ImageConversionWarning)
        # A multi-frame file gives a plain single-frame copy, detached from the (closed) file;
        # 16-bit grey that Pillow opens in another mode, the file's own (a converted copy).
        image: Image.Image = (im.convert(wide) if wide in ("LA", "I;16")
                              else im.copy() if frames.several else im)
        image = _upright(image, path, stated) if orient else image
        if wide in ("RGB", "RGBA", "LA"):
            image.info["source_bits"] = 16  # for to_rgb's warning
        if key_scale != 1 and image.mode in ("L", "RGB") and "transparency" in image.info:
            image.info["transparency"] = _scaled_key(image.info["transparency"], key_scale)
        image.info["source_format"] = im.format  # a turned or first-frame copy's .format is None
        image.info["source_bytes"] = size  # a pipe's stat says 0
        text = getattr(im, "text", None) if im.format == "PNG" else None  # its chunks, read by load
        if text:
            image.info["source_text"] = tuple(text)
        return image


def _raw_mode(im: ImageFile.ImageFile) -> str:
    """How the file stores the samples of its first piece, as its decoder is told (Pillow's raw
    mode of ``im.tile``: ``"LA;16B"``, ``"RGB;16B"``, ``"L;2"``); "" when it does not say."""
    args = im.tile[0][3] if im.tile and len(im.tile[0]) > 3 else None
    return str(args[0] if isinstance(args, tuple) and args else args or "")


def _sixteen_bit(im: ImageFile.ImageFile) -> str | None:
    """The mode :func:`load_image` gives a 16-bit file that Pillow opens at another depth (the
    decoder's raw mode says so, a PPM's maxval): ``"RGB"`` or ``"RGBA"`` for 16-bit colour (PNG,
    TIFF, PPM: Pillow reads it as 8-bit, and so does taco), ``"LA"`` for a 16-bit grey PNG with
    alpha (Pillow opens it as 8-bit RGBA: it is grey), ``"I;16"`` for a PGM of maxval over 255
    (Pillow opens it as 32-bit ``I``); None for every other file."""
    raw = _raw_mode(im)
    if im.mode == "RGBA" and raw.startswith("LA;16"):
        return "LA"
    if im.format == "PPM" and im.mode == "I":  # Pillow's mode for every PGM of maxval over 255
        return "I;16"
    if im.format == "PPM" and im.mode == "RGB":  # its raw mode and maxval, where not 255
        args = im.tile[0][3] if im.tile and len(im.tile[0]) > 3 else None
        maxval = args[-1] if isinstance(args, tuple) and args else None
        return "RGB" if isinstance(maxval, int) and maxval > 255 else None
    wide = im.mode in ("RGB", "RGBA") and any(len(t) > 3 and ";16" in str(t[3]) for t in im.tile)
    return im.mode if wide else None


def _key_scale(im: ImageFile.ImageFile, wide: str | None) -> float:
    """What a PNG's tRNS colour key (Pillow's ``info["transparency"]``: the file's raw sample
    values) is multiplied by to be in the scale of the pixels Pillow decodes, which
    :func:`taco.colour.to_rgb` compares with it: 85 and 17 for 2- and 4-bit grey (read as
    0..255), 1/256 for 16-bit colour (``wide``, :func:`_sixteen_bit`: read as its high bytes); 1
    for every other file."""
    if wide == "RGB":
        return 1 / 256
    return {"L;2": 85, "L;4": 17}.get(_raw_mode(im), 1)


def _scaled_key(key: Any, scale: float) -> Any:
    """A tRNS colour ``key`` (a sample value, or a tuple of them) times ``scale``, as integers."""
    if isinstance(key, tuple):
        return tuple(_scaled_key(v, scale) for v in key)
    return int(key * scale) if isinstance(key, int) else key


def _starts_with(source: Path | io.BytesIO, magic: bytes) -> bool:
    """Whether the file or bytes ``source`` starts with ``magic``."""
    if isinstance(source, io.BytesIO):
        return source.getvalue().startswith(magic)
    try:
        with source.open("rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False


def _open(path: Path, source: Path | io.BytesIO, max_pixels: int | None) -> ImageFile.ImageFile:
    """``Image.open(source)`` of the formats taco reads (:func:`_open_header`; ``path`` names it),
    every way it fails an :class:`ImageReadError`, an image over ``max_pixels`` (None: no cap)
    too, with its ``size`` and ``max_pixels`` on the error; a TIFF or JPEG whose header asks for
    far more work than its pixels need is refused too (:func:`_header_problem`)."""
    try:
        im = _open_header(source, path, max_pixels)
    except UnidentifiedImageError:
        if _starts_with(source, TACO_MAGIC):  # given by content (stdin, bytes, another name)
            raise ImageReadError(path, "it is a .taco file, not an image: decompress it (taco "
                                 "decompress, taco.decompress)") from None
        raise ImageReadError(path, "not an image file Pillow can identify") from None
    except ImageReadError:
        raise
    except OSError as e:  # strerror: the system's (permissions, I/O); else Pillow's parser
        raise ImageReadError(path, _read_failure(e.strerror or "file is corrupt or truncated", e)) from e
    except Exception as e:  # e.g. SyntaxError from a plugin parsing a broken header
        raise ImageReadError(path, _read_failure("file is corrupt", e)) from e
    width, height = im.size
    problem = (_too_large(path, im, max_pixels) if max_pixels is not None and width * height > max_pixels
               else _header_problem(im, source, path))
    if problem is not None:
        im.close()
        raise problem
    return im


def _read_failure(what: str, e: Exception) -> str:
    """Why reading an image failed with ``e``, for :class:`ImageReadError`: ``what (its words)``
    (the system's words alone where ``what`` is its ``strerror``), but an allocation failure
    (:func:`taco.memory.allocation_failure`: not the file's fault) said as such, and a PNG whose
    metadata (text, XMP, an ICC profile) is over Pillow's bounds on it, which says nothing of its
    pixels, named so."""
    memory = allocation_failure(e)
    if memory is not None:
        return f"out of memory reading it ({memory})"
    if isinstance(e, ValueError) and ("MAX_TEXT_CHUNK" in str(e) or "MAX_TEXT_MEMORY" in str(e)):
        from PIL import PngImagePlugin

        over = (f"a PNG metadata chunk (text, XMP or an ICC profile) decompresses to over Pillow's "
                f"limit of {PngImagePlugin.MAX_TEXT_CHUNK:,} bytes (PngImagePlugin.MAX_TEXT_CHUNK)"
                if "MAX_TEXT_CHUNK" in str(e) else
                f"its PNG text chunks hold over Pillow's limit of {PngImagePlugin.MAX_TEXT_MEMORY:,} "
                "bytes in all (PngImagePlugin.MAX_TEXT_MEMORY)")
        return f"{over}: metadata, not pixels, so a copy without it can be read"
    return what if isinstance(e, OSError) and what == e.strerror else f"{what} ({e})"


#: The largest TIFF tile :func:`load_image` reads where it is larger than the image (libtiff
#: allocates a tile whole, whatever of it the image covers): 16 MP, a 4096x4096 tile. A 64x64
#: TIFF of 153 bytes declaring 32768x32768 tiles made libtiff allocate 1 GiB (16-bit RGB: 6 GiB).
MAX_TIFF_TILE_PIXELS = 1 << 24
#: The most scans :func:`load_image` reads of a progressive JPEG (libjpeg's default progression
#: has 10): each scan is a pass over the whole image, so a 14 KB file of 1,000 empty scans that
#: declares 10000x10000 took 8.6 s to decode, 56 KB of 4,000 scans 35 s.
MAX_JPEG_SCANS = 1000


def _header_problem(im: ImageFile.ImageFile, source: Path | io.BytesIO, path: Path) -> ImageReadError | None:
    """Why an opened image whose size is within the cap is still refused before its decode: a
    TIFF tile over :data:`MAX_TIFF_TILE_PIXELS` and over the image, a progressive JPEG of more
    than :data:`MAX_JPEG_SCANS` scans; None for every other image."""
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", {})
        across, down = tags.get(322), tags.get(323)  # TileWidth, TileLength
        if isinstance(across, int) and isinstance(down, int):
            pixels = across * down
            if pixels > max(MAX_TIFF_TILE_PIXELS, im.width * im.height):
                return ImageReadError(path, f"its TIFF tiles are {across}x{down} ({pixels:,} pixels "
                                            f"each) for a {im.width}x{im.height} image: refused "
                                            "before decoding (libtiff allocates a tile whole)")
    if im.format in ("JPEG", "MPO") and im.info.get("progressive"):
        scans = _jpeg_scans(source)
        if scans > MAX_JPEG_SCANS:
            return ImageReadError(path, f"a progressive JPEG of {scans:,} scans (over {MAX_JPEG_SCANS:,}; "
                                        "each is a pass over the whole image): refused before decoding")
    return None


def _jpeg_scans(source: Path | io.BytesIO) -> int:
    """How many scans (start-of-scan markers, FF DA) a JPEG file holds: exact, as its entropy-coded
    data stuffs every FF byte with a 00. Read in pieces of 1 MiB (a 12 MP photo: a few ms)."""
    scans, last = 0, 0
    with _from_start(source) as f:
        while piece := f.read(1 << 20):
            scans += piece.count(b"\xff\xda") + (last == 0xFF and piece[0] == 0xDA)
            last = piece[-1]
    return scans


#: The most frames :func:`load_image` counts in a TIFF (it codes the first one; the count is for
#: its warning): Pillow counts a TIFF's pages by visiting each one and comparing where it lies
#: with every page before it, which grows with the square of the pages: 20,000 pages of 114
#: bytes took 3.1 s, 200,000 (a 23 MB file) 269 s. Visiting 100 of them takes 40 ms.
FRAMES_COUNTED = 100


class _Frames(NamedTuple):
    """How many frames an image file has, as :func:`_count_frames` found; ``str()`` says it."""

    #: frames that could be read, the first included (at most :data:`FRAMES_COUNTED`)
    counted: int
    #: counting stopped at :data:`FRAMES_COUNTED` with more frames to come
    more: bool = False
    #: why the frames after ``counted`` cannot be read or counted ("" when they can)
    unreadable: str = ""
    #: whether ``unreadable`` is about frame ``counted + 1`` (a TIFF's page), not the count as a whole
    next_frame: bool = False

    @property
    def several(self) -> bool:
        """Whether there is more than the first frame, or may be (its count failed)."""
        return self.counted > 1 or self.more or bool(self.unreadable)

    def __str__(self) -> str:
        if self.unreadable and not self.next_frame:
            return f"cannot have its frames after the first counted ({self.unreadable})"
        if self.unreadable:
            counted = "more than one frame" if self.counted == 1 else f"at least {self.counted + 1} frames"
            return f"has {counted}, and frame {self.counted + 1} cannot be read ({self.unreadable})"
        return f"has more than {self.counted} frames" if self.more else f"has {self.counted} frames"


# The kinds of image (Pillow's words for the CIPA DC-007 MP Type) an MPO file holds beside its
# photo that are parts of one picture with it: a panorama's or a multi-angle series' other shots,
# and a stereo picture's other view ("Disparity" is the type 3D cameras give each view). Its other
# kinds (a large thumbnail, undefined: a phone's depth map or preview) are not frames of the photo.
_MPO_FRAME_TYPES = ("Multi-Frame Image (Panorama)", "Multi-Frame Image: (Disparity)",
                    "Multi-Frame Image: (Multi-Angle)")


def _mpo_frames(im: Image.Image) -> int:
    """How many frames an MPO (multi-picture JPEG, as phones and stereo cameras write) image
    ``im`` has: 1, its first image (the photo), plus the other images of a panorama or a
    multi-angle series (``_MPO_FRAME_TYPES``) in its MP Index; a phone's preview or depth
    image is not a frame."""
    entries = getattr(im, "mpinfo", {}).get(0xB002, [])
    return 1 + sum(1 for entry in entries[1:] if entry.get("Attribute", {}).get("MPType") in _MPO_FRAME_TYPES)


def _count_frames(im: ImageFile.ImageFile, source: Path | io.BytesIO) -> _Frames:
    """How many frames the image ``im`` (just opened from ``source``) has. Where Pillow finds
    the count by walking the frames (TIFF, GIF), the walk is done on a second image opened from
    ``source``, so that a frame that cannot be read (a page pointer past the file's end, a bad
    tag) leaves ``im`` as it was: Pillow's walk changes the image's state, and stopped part-way
    it can leave the image on a page it could not set up. A TIFF's pages are counted up to
    :data:`FRAMES_COUNTED` (Pillow's own count takes minutes for 200,000 pages); a GIF's count
    grows with its size (200,000 frames, 5 MB: 1.1 s). Pillow's warnings about the frames after
    the first are dropped: those frames are not coded (a frame that cannot be read is said)."""
    if im.format == "MPO":
        return _Frames(_mpo_frames(im))
    if not isinstance(getattr(type(im), "n_frames", None), property):
        return _Frames(getattr(im, "n_frames", 1))  # read from the header (PNG, WebP, ...), or 1
    count, walked_tiff = 1, False
    try:
        with PillowWarnings(), Image.open(source, formats=_open_formats()) as walked:
            if walked.format != "TIFF":
                return _Frames(walked.n_frames)
            walked_tiff = True
            while count <= FRAMES_COUNTED:
                walked.seek(count)
                count += 1
            return _Frames(FRAMES_COUNTED, more=True)
    except EOFError:  # Pillow's "no more frames"
        return _Frames(count)
    except Exception as e:  # TypeError "Missing dimensions", SyntaxError, OSError, ValueError, ...
        return _Frames(count, unreadable=one_line(str(e), 200) or type(e).__name__,
                       next_frame=walked_tiff)


def _register_heif(path: str | os.PathLike[str]) -> None:
    """Let Pillow open HEIC/HEIF files (``pillow-heif``), or say how to get it."""
    try:
        import pillow_heif
    except ImportError:
        raise ImageReadError(path, "HEIC/HEIF photos need the pillow-heif package: pip install "
                                   "pillow-heif (or taco's 'heif' extra)") from None
    if "HEIF" not in Image.OPEN:
        pillow_heif.register_heif_opener()


def _upright(image: Image.Image, path: Path, stated: int | None) -> Image.Image:
    """``image`` (decoded) turned as its EXIF orientation says, the orientation recorded as
    ``info["exif_orientation"]``; ``stated`` is the orientation read before the decode
    (:func:`_header_orientation`), for a reader that turns the image itself as it decodes."""
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block is ignored, as viewers do
        return image
    turned_by_reader = image.info.get("original_orientation")  # pillow-heif turns HEIC itself
    if orientation == 1 and stated in range(2, 9):  # Pillow's TIFF reader: turned, tag removed
        turned_by_reader = stated
    if orientation == 1 and turned_by_reader in range(2, 9):
        image.info["exif_orientation"] = turned_by_reader
        return image
    if orientation not in range(2, 9):
        return image
    try:
        turned = ImageOps.exif_transpose(image)
    except Exception as e:  # Pillow raises several types on malformed EXIF
        raise ImageReadError(path, f"cannot apply its EXIF orientation ({e})") from e
    turned.info["exif_orientation"] = orientation
    return turned


#: How taco writes PNG (:func:`image_file_bytes`, ``taco decompress``): zlib level 1 with its
#: run-length strategy (``Z_RLE``, Pillow's ``compress_type``). After PNG's row filters a decoded
#: photo leaves few repeated strings for Pillow's default (level 6) to search for, and RLE still
#: keeps the runs of flat areas. A 4000x3000 decoded photo: 0.90 s of CPU and 20.74 MB, against
#: 2.24 s and 20.76 MB at the default and 1.13 s and 23.34 MB at level 1 alone; eight decoded
#: validation photos 0.1 % smaller in all, a decoded flat white image 23 % bigger
#: (docs/performance.md). The pixels are the same whatever the options.
PNG_SAVE_OPTIONS: dict[str, int] = {"compress_level": 1, "compress_type": zlib.Z_RLE}


def image_file_bytes(image: Image.Image, fmt: str) -> bytes:
    """``image`` as the bytes of a ``fmt`` file (a Pillow format name: ``PNG``, ``TIFF``, ...): PNG
    with :data:`PNG_SAVE_OPTIONS`, any other format with Pillow's defaults."""
    buf = io.BytesIO()  # getvalue() hands over its buffer, no copy (CPython)
    image.save(buf, format=fmt, **(PNG_SAVE_OPTIONS if fmt == "PNG" else {}))
    return buf.getvalue()


def pil_image_argument(taker: str, image: object) -> Image.Image:
    """``image``, the argument of ``taker`` (a function that takes a PIL image), where it is one;
    anything else a ``TypeError`` saying how to make a PIL image of it: ``image_to_tensor takes a
    PIL image, not ndarray (for an (H, W, 3) uint8 array, pass Image.fromarray(a))``, a path told
    :func:`load_image`."""
    if isinstance(image, Image.Image):
        return image
    how = ""
    if isinstance(image, np.ndarray):
        how = " (for an (H, W, 3) uint8 array, pass Image.fromarray(a))"
    elif isinstance(image, str | os.PathLike):
        how = " (for a file, pass taco.images.load_image(path))"
    raise TypeError(f"{taker} takes a PIL image, not {type(image).__name__}{how}")


def image_to_tensor(img: Image.Image) -> Tensor:
    """PIL image → (1, 3, H, W) float32 in [0, 1], through :func:`to_rgb` (other modes, an RGB
    colour profile other than sRGB). Anything else is a ``TypeError`` saying how to make a PIL
    image of it (:func:`pil_image_argument`)."""
    img, _ = to_rgb(pil_image_argument("image_to_tensor", img))
    import torch

    arr = np.array(img, dtype=np.uint8)  # (H, W, 3), a writable copy for torch.from_numpy
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def tensor_to_image(t: Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] → PIL RGB (clamped, then rounded; NaN → 0).
    Another shape is a :class:`~taco.errors.TacoValueError` (an (H, W, 3) one says to permute
    it), anything but a tensor a ``TypeError``."""
    import torch

    if not isinstance(t, torch.Tensor):
        raise TypeError(f"tensor_to_image takes a torch tensor (3, H, W) or (1, 3, H, W) in [0, 1], "
                        f"not {type(t).__name__}")
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise TacoValueError(f"expected a batch of one image, got shape {tuple(t.shape)}: pass "
                                 "each image, t[i]")
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        hint = ": channels last? pass t.permute(2, 0, 1)" if t.dim() == 3 and t.shape[2] == 3 else ""
        raise TacoValueError(f"expected (1, 3, H, W) or (3, H, W), got shape {tuple(t.shape)}{hint}")

    t = torch.nan_to_num(t.detach().to("cpu", torch.float32), nan=0.0)
    arr = t.clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return Image.fromarray(np.ascontiguousarray(arr))
