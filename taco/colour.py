"""Colour and mode conversion of decoded images, and the warnings that say what it changes.

- :func:`to_rgb` brings any Pillow mode to 8-bit RGB (what the model codes), with one
  :class:`ImageConversionWarning` line for what is lost or converted (alpha, 16-bit depth, CMYK
  without a colour profile, a palette, the YCbCr, HSV and LAB colour spaces), and colours
  described by a colour profile other than sRGB (an ICC profile, RGB or grey; a PNG gamma; an
  EXIF Adobe RGB mark) converted to sRGB (:class:`ColourProfileConvertedWarning`); :func:`restore_mode` maps a decoded RGB image back
  to the source mode where that is sensible (:func:`decoded_mode`).
- :func:`conversion_warning` gives such a warning, or keeps it for a caller inside
  :class:`ConversionNotes` (:mod:`taco.images` gives its file warnings through it too).

Reading files is :mod:`taco.images`' (which still exports these names).
"""

from __future__ import annotations

import collections
import hashlib
import io
import re
import sys
import threading
import warnings
from typing import Any

import numpy as np
from PIL import Image

from .errors import TacoWarning, warn_at_caller
from .locks import ForkSafeLock
from .messages import one_line, shown_path

__all__ = [
    "ColourProfileConvertedWarning",
    "ConversionNotes",
    "ImageConversionWarning",
    "conversion_warning",
    "decoded_mode",
    "restore_mode",
    "to_rgb",
]


class ImageConversionWarning(TacoWarning):
    """Information is lost while loading or converting an image (alpha, animation frames, 16-bit
    depth, CMYK, a palette), or its colour space is converted (YCbCr, HSV, LAB: it decodes as
    RGB). The message is one line meant for a person."""


class ColourProfileConvertedWarning(ImageConversionWarning):
    """An image's colours are converted from its colour profile to sRGB (an ICC profile other
    than sRGB: Display P3 from a phone, Adobe RGB, a CMYK profile, a grey one; a HEIC/AVIF
    photo's nclx primaries; a PNG gamma, ``PNG gamma 1.00``; a camera JPEG's EXIF Adobe RGB
    mark): it decodes as sRGB. :attr:`profile` names the profile; :attr:`alpha_dropped`
    says whether the message also says its alpha channel is dropped."""

    @property
    def profile(self) -> str:
        """The profile's name, as the message gives it (``Display P3``)."""
        found = _CONVERTED.search(str(self))
        return "" if found is None else found["icc"] or found["nclx"]

    @property
    def alpha_dropped(self) -> bool:
        """Whether the message says the image's alpha channel is dropped too."""
        return str(self).endswith(_ALPHA_DROPPED + ")")


#: What :class:`ColourProfileConvertedWarning` says: the ICC profile's name or the nclx primaries'.
_CONVERTED = re.compile(r"colours converted from its (?:'(?P<icc>.*)' profile|(?P<nclx>.*) primaries) "
                        r"to sRGB \(it decodes as sRGB")
_ALPHA_DROPPED = "; the alpha channel is dropped"


class ConversionNotes:
    """Inside it, the conversion warnings this thread would give (:func:`conversion_warning`:
    :class:`ImageConversionWarning`, :class:`taco.images.ImageFileWarning`) are kept instead, as
    (text, category) pairs in the list ``with`` gives, for a caller that says them its own way
    (:class:`taco.data.CaptionedImages`: once per file). Only this thread's, and the warnings
    filter is left as it is (not ``catch_warnings``, whose filters are the whole process's)."""

    def __enter__(self) -> list[tuple[str, type[Warning]]]:
        self._outer = getattr(_NOTES, "notes", None)
        notes: list[tuple[str, type[Warning]]] = []
        _NOTES.notes = notes
        return notes

    def __exit__(self, *exc: Any) -> None:
        _NOTES.notes = self._outer


#: The :class:`ConversionNotes` block a thread is in: ``notes``, where its conversion warnings go.
_NOTES = threading.local()


def conversion_warning(message: str, category: type[Warning]) -> None:
    """A conversion warning, given at the caller's line (:func:`warn_at_caller`), or kept by the
    thread's :class:`ConversionNotes` block."""
    notes = getattr(_NOTES, "notes", None)
    if notes is not None:
        notes.append((message, category))
    else:
        warn_at_caller(message, category)


class _ThreadWarnings:
    """What Pillow's modules call ``warnings`` (:func:`watch_pillow`): ``warn`` gives a warning
    to the :class:`PillowWarnings` block the calling thread is in, and is :func:`warnings.warn`
    itself (the same line blamed, the same filters) in any other thread or outside a block;
    everything else is the ``warnings`` module's. Not ``catch_warnings``: the filters and what
    it records are the whole process's, so a ``catch_warnings`` around one thread's Pillow took
    what Pillow warned in another (naming the wrong file), changed the filters of every thread
    while it lasted, and two of them on two threads could each restore the filters the other had
    saved (an "ignore" left in place for good)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(warnings, name)

    @staticmethod
    def warn(message: Any, category: type[Warning] | None = None, stacklevel: int = 1,
             source: Any = None, **kwargs: Any) -> None:
        caught = getattr(_BLOCK, "caught", None)
        kind = type(message) if isinstance(message, Warning) else category or UserWarning
        if caught is not None and issubclass(kind, Image.DecompressionBombWarning):
            return  # taco's own cap decides
        if caught is not None and issubclass(kind, UserWarning):
            caught.append(str(message))
        else:
            # stacklevel + 1: the line blamed is Pillow's, as without the stand-in
            warnings.warn(message, category, stacklevel + 1, source, **kwargs)


#: The :class:`PillowWarnings` block a thread is in: ``caught``, where its Pillow warnings go.
_BLOCK = threading.local()
_THREAD_WARNINGS = _ThreadWarnings()
#: ``len(sys.modules)`` when :func:`watch_pillow` last looked at Pillow's modules.
_watched_at = 0


def watch_pillow() -> None:
    """Have every Pillow module imported so far warn through :class:`_ThreadWarnings`, its
    plugins imported first (``Image.init``, about 45 ms once: ``Image.open`` imports a plugin it
    needs the first time, within the block that would have to catch its warnings)."""
    global _watched_at
    if len(sys.modules) == _watched_at:
        return
    Image.init()
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] == "PIL" and getattr(module, "warnings", None) is warnings:
            module.warnings = _THREAD_WARNINGS  # type: ignore[attr-defined]
    _watched_at = len(sys.modules)


class PillowWarnings:
    """Inside it, what Pillow warns in this thread (its user warnings: "Corrupt EXIF data",
    "Tag data larger than file") is kept, as texts in the list ``with`` gives (also
    :attr:`caught`), instead of warned; its DecompressionBombWarning is dropped (taco's own pixel
    cap decides). Pillow's warnings are taken before any filter sees them (:class:`_ThreadWarnings`),
    and only this thread's: the warnings filter is left as it is, and other warnings pass as they
    come. :func:`exif_adobe_rgb` reads the EXIF block inside one, and
    :mod:`taco.images` gives what it keeps of a file as one line naming the file."""

    def __enter__(self) -> list[str]:
        watch_pillow()
        self._outer = getattr(_BLOCK, "caught", None)
        self.caught: list[str] = []
        _BLOCK.caught = self.caught
        return self.caught

    def __exit__(self, *exc: Any) -> None:
        _BLOCK.caught = self._outer


# Modes holding 16-bit (or wider) integer samples; their values are read as 0..65535.
_WIDE_INT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
# Modes with an alpha channel that to_rgb drops ("PA" goes through RGBA first).
_ALPHA_MODES = ("LA", "La", "RGBA", "RGBa", "PA")
# Modes whose colours an RGB ICC profile describes (to_rgb converts them to sRGB through it).
_RGB_MODES = ("RGB", "RGBA", "RGBa", "RGBX", "P", "PA")
# What to_rgb tells the user it loses, by source mode (alpha modes: see to_rgb).
_LOSSES = {
    **dict.fromkeys(("I;16", "I;16L", "I;16B", "I;16N"),  # restore_mode: each decodes as I;16
                    "16-bit grey samples are coded with 8-bit precision (decoded as 16-bit grey, "
                    "8 significant bits)"),
    "I": "32-bit integer samples are clipped to 0..65535 and coded with 8-bit precision "
         "(decoded as 16-bit grey, 8 significant bits)",
    "F": "float samples are clamped to 0..255 and coded as 8-bit integers (decoded as 8-bit grey, L)",
    "CMYK": "CMYK is converted to RGB without colour management (it has no CMYK colour "
            "profile); it decodes as RGB",
    "P": "the palette is not kept: the image is coded, and decodes, as RGB",
    "YCbCr": "YCbCr is converted to RGB (JPEG's full-range BT.601 matrix); it decodes as RGB",
    "HSV": "HSV is converted to RGB; it decodes as RGB",
    "LAB": "LAB is converted to sRGB (colour-managed, from CIELAB D50; colours outside sRGB's "
           "gamut are clipped); it decodes as RGB",
}


def _wide_int_to_l(image: Image.Image) -> Image.Image:
    # 0..65535 -> 0..255 by scaling (v / 257, rounded): Pillow's own convert("L") clips instead.
    arr = np.asarray(image).astype(np.float64)
    arr = np.rint(np.clip(arr, 0, 65535) / 257.0)
    return Image.fromarray(arr.astype(np.uint8))


def _float_loss(image: Image.Image) -> str:
    """What :func:`to_rgb` says of an ``F`` image: its samples are read as 0..255 (Pillow's
    convention for float images), clamped and rounded; said plainly when every finite sample lies
    within 0..1 (some above 0: a 0..1 float TIFF, which decodes near black), and how many samples
    are NaN or infinite (NaN and -inf are coded as 0, +inf as 255)."""
    arr = np.asarray(image)
    finite = np.isfinite(arr)
    low = float(np.min(arr, where=finite, initial=np.inf))
    high = float(np.max(arr, where=finite, initial=-np.inf))
    if 0.0 <= low and 0.0 < high <= 1.0:
        lost = ("float samples all lie within 0..1 but are read as 0..255, as Pillow reads float "
                "images: the image decodes near black (scale them to 0..255 first); they are coded "
                "as 8-bit integers (decoded as 8-bit grey, L)")
    else:
        lost = _LOSSES["F"]
    if not finite.all():
        counts = ((np.count_nonzero(np.isnan(arr)), "NaN", 0), (np.count_nonzero(arr == -np.inf), "-inf", 0),
                  (np.count_nonzero(arr == np.inf), "+inf", 255))
        lost += "; NaN and infinite samples are coded as 0 or 255: " + ", ".join(
            f"{int(n):,} {kind} ({value})" for n, kind, value in counts if n)
    return lost


def to_rgb(image: Image.Image, source: str | None = None) -> tuple[Image.Image, str]:
    """Convert ``image`` to 8-bit RGB; return it with the original mode (for :func:`restore_mode`).

    - ``RGB`` is returned unchanged; ``L``, ``1`` (decodes as ``L``) and ``RGBX`` go through
      Pillow's conversion silently (nothing a viewer would miss is lost).
    - ``YCbCr`` (JPEG's full-range BT.601) and ``HSV`` go through Pillow's conversion, exact to
      within a level, with a warning that the colour space is converted (they decode as RGB).
    - ``LAB`` (CIELAB, D50, as Pillow and TIFF hold it) is converted to sRGB, relative
      colorimetric (:func:`_lab_to_srgb`), with a warning: colours outside sRGB's gamut are
      clipped, and it decodes as RGB.
    - An RGB colour profile other than sRGB (Adobe RGB, Display P3 from a phone) is applied:
      the colours are converted to sRGB, relative colorimetric, as a colour-managed viewer shows
      them, with a warning naming the profile; otherwise the decoded image, which is sRGB, would
      show the profile's numbers as sRGB (duller or shifted colours). Whether a profile is sRGB
      is told by what it does to a set of colours, not by its name (a linear profile named
      ``sRGB-elle-V2-g10`` is converted); sRGB ones are left alone, silently.
    - A grey image (``L``, ``LA``, ``I;16``...) with a grey ICC profile other than sRGB's curve
      (Gray Gamma 1.8, a linear one) has its levels converted to sRGB's the same way, in its own
      mode (it decodes as sRGB grey), with a warning naming the profile. A profile of another
      kind than the image (an RGB profile on a grey image, a grey one on a colour image) is
      ignored with a warning, as viewers ignore it.
    - Without an ICC profile: a PNG gamma (gAMA) outside 2.0..2.4 (as an exponent; 1/0.45455 is
      sRGB's 2.2) without an sRGB chunk is applied, as browsers apply it (RGB, grey, 16-bit grey
      in its own mode, palette modes; a bilevel ``1`` image, which no gamma changes, silently;
      another mode gets a warning that it is not), and a camera JPEG whose EXIF
      marks it Adobe RGB (ColorSpace uncalibrated, interoperability index ``R03``,
      :func:`exif_adobe_rgb`, what Pillow warns of a broken block dropped) is converted from
      Adobe RGB (1998), each to sRGB with a warning.
    - A HEIC/AVIF photo whose colours are described by code points (an ``nclx_profile`` from
      pillow-heif) rather than an ICC profile, with other primaries than sRGB's (Display P3,
      BT.2020) and the sRGB transfer curve, is converted to sRGB the same way (a matrix in
      linear light, clipped to the sRGB gamut), with a warning; with an HDR transfer (PQ, HLG)
      its values are coded as they are, with a warning that they are not tone-mapped.
    - ``CMYK`` with a CMYK colour profile (as print and stock photos carry: SWOP, FOGRA) is
      converted to sRGB through it, relative colorimetric, with a warning naming it; without
      one, naively (Pillow's ``convert``), with a warning that it is not colour-managed (which
      also says that an RGB or grey profile it carries is ignored).
    - ``LA``/``RGBA``/``PA``: the alpha channel is dropped (not composited) with a warning;
      colours under transparent pixels are kept as stored. A fully opaque alpha channel loses
      nothing: it is dropped without a warning.
    - ``RGB``, ``L``, ``1``, ``I;16`` with a transparent colour (a PNG's tRNS key,
      ``info["transparency"]``): the key is dropped, with a warning that says so ("its
      transparent colour (tRNS) is dropped") where some pixel has that colour (none does:
      nothing is said).
    - ``P``: expanded through the palette (it decodes as RGB) with a warning; a transparency
      entry is dropped ("its palette's transparency"), both said in one warning.
    - ``I;16``/``I;16B``/``I;16L``/``I;16N``/``I``: 16-bit samples scaled 0..65535 → 0..255
      (``v / 257``, rounded), so 65535 → 255 and 257 → 1, with a warning: the file decodes to
      ``I;16`` again but with 8 significant bits. ``I`` (32-bit) is clipped to 0..65535 first,
      since Pillow uses it for 16-bit data from some formats, and decodes as ``I;16`` too.
    - ``F``: float samples read as 0..255 (Pillow's convention: a float TIFF holding 0..1 is
      not rescaled, it decodes near black, which the warning then says), clamped and rounded,
      with a warning that also counts NaN samples (coded as 0) and infinite ones (-inf as 0,
      +inf as 255); it decodes as ``L``.
    - A 16-bit colour file (PNG, TIFF, PPM), which Pillow reads as 8-bit ``RGB``/``RGBA``, and a
      16-bit grey PNG with alpha, which :func:`taco.images.load_image` reads as 8-bit ``LA`` (it
      decodes as ``L``), get a warning that their precision is 8 bits (``load_image`` marks them
      with ``info["source_bits"]``).

    Every warning is one line meant for a person, starting with ``source:`` when it is given
    (the image's name; the command line's compress names the file itself). The returned image
    carries none of the ``info`` a warning was about (a profile ignored, ``source_bits``, an
    ``nclx_profile`` warned about, a ``transparency`` colour key, a PNG ``gamma`` applied or not), so converting it again (:func:`taco.images.image_to_tensor` does) says
    nothing more; an ``RGB`` image with such info is returned as a copy without it (an sRGB one,
    with nothing said, is returned itself).
    """
    mode = image.mode
    about = f"{shown_path(source)}: " if source else ""
    said: list[str] = []  # the info keys warned about, which the returned image does not carry
    if image.info.get("source_bits") == 16 and mode in ("RGB", "RGBA", "LA"):
        samples, read, decodes = (("grey", "grey with alpha", "8-bit grey (L)") if mode == "LA"
                                  else ("colour", "RGB", "8-bit RGB"))
        conversion_warning(f"{about}its 16-bit {samples} samples are read with 8-bit precision (Pillow "
                           f"reads 16-bit {read} as 8-bit); it decodes as {decodes}", ImageConversionWarning)
        said.append("source_bits")
    if _transparent_colour(image) is not None:  # dropped (said below, where a pixel has it)
        said.append("transparency")
    tagged = bool(image.info.get("icc_profile"))  # a profile wins over a PNG gamma, an EXIF colour space
    profile, ignored, unused = _colour_profile(image, about)
    if profile is not None and mode in _GREY_MODES:  # its grey levels to sRGB's, in its own mode
        grey = _grey_to_srgb(image, profile, about)
        if grey is None:
            said.append("icc_profile")
        else:
            image, profile = grey, None
    converted = None if profile is None else _to_srgb(image, profile, about)
    if ignored or (profile is not None and converted is None):  # ignored, with a warning
        said.append("icc_profile")
    if (converted is None and mode in ("RGB", "RGBA")
            and ("icc_profile" in said or not image.info.get("icc_profile"))):
        converted, warned = _nclx_to_srgb(image, about)
        if converted is None and warned:  # an sRGB one, unsaid, stays: no copy of the image
            said.append("nclx_profile")
    if converted is None and not tagged and "nclx_profile" not in said:
        converted, key = _untagged_to_srgb(image, about)
        if key:
            said.append(key)
        if converted is not None and converted.mode != "RGB":  # 16-bit grey, in its own mode: on below
            image, converted = converted, None
    if converted is not None:
        for key in said:
            converted.info.pop(key, None)
        return converted, mode
    alpha = _has_alpha(image)
    alpha_lost = alpha and _alpha_matters(image)  # before a colour key leaves the image's info
    image = _without_info(image, said)
    lost = _float_loss(image) if mode == "F" else _LOSSES.get(mode)
    if alpha_lost and mode in ("P", "PA"):  # a P image's transparency is its info's, no channel
        what = "the alpha channel of this palette image" if mode == "PA" else "its palette's transparency"
        lost = (f"{what} is dropped and its palette is not kept (TACO codes RGB only): the image is "
                "coded, and decodes, as RGB")
    elif alpha_lost:
        what = ("its transparent colour (tRNS)" if "transparency" in said  # a colour key, no channel
                else f"the alpha channel of this {mode} image")
        dropped = f"{what} is dropped (TACO codes RGB only)"
        lost = f"{lost}; {dropped}" if lost else dropped  # a 16-bit grey with a colour key: both
    if mode == "CMYK" and profile is not None:  # _to_srgb said why it could not be used
        lost = ("CMYK is converted to RGB without colour management (its CMYK colour profile "
                "could not be used); it decodes as RGB")
    elif unused:  # a CMYK image's unreadable, RGB or grey profile: said on the same line
        lost = f"{lost}; {unused}"
    if lost:
        conversion_warning(about + lost, ImageConversionWarning)
    if mode == "RGB":
        return image, mode
    if mode in _ALPHA_MODES or (alpha and mode == "P"):
        if mode in ("P", "PA"):
            image = image.convert("RGBA")
        elif mode == "La":  # Pillow converts premultiplied La to LA only
            image = image.convert("LA")
        return image.convert("RGB"), mode
    if mode in _WIDE_INT_MODES:
        return _wide_int_to_l(image).convert("RGB"), mode
    if mode == "F":
        arr = np.rint(np.clip(np.nan_to_num(np.asarray(image)), 0.0, 255.0))
        return Image.fromarray(arr.astype(np.uint8)).convert("RGB"), mode
    if mode == "LAB":
        return _lab_to_srgb(image), mode
    try:
        return image.convert("RGB"), mode
    except ValueError as e:
        raise ValueError(f"cannot convert a {mode} image to RGB: {e}") from e


def _lab_to_srgb(image: Image.Image) -> Image.Image:
    """A ``LAB`` image (CIELAB with a D50 white, as Pillow and TIFF hold it: L 0..255 for 0..100,
    a and b signed bytes) -> 8-bit sRGB, relative colorimetric through LittleCMS, each pixel
    computed. Pillow's ``convert("RGB")`` goes through LittleCMS too, but through the 8-bit
    table it precalculates, which is off by up to 16 levels near the gamut's edge (kodak-i03
    in LAB, decoded: max 16, mean 0.31 levels from the CIE formulas); computed per pixel it is
    within 1 level (max 1, mean 0.004), in about three times the time (2 s for 12 MP)."""
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, flags=ImageCms.Flags.NOOPTIMIZE)
    return transform.apply(image)


def _has_alpha(image: Image.Image) -> bool:
    """An alpha channel, a palette's transparency entry, or a transparent colour
    (:func:`_transparent_colour`): what to_rgb drops."""
    return (image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)
            or _transparent_colour(image) is not None)


def _transparent_colour(image: Image.Image) -> int | tuple[int, ...] | None:
    """The colour key of a grey or RGB image (a PNG's tRNS chunk, Pillow's
    ``info["transparency"]``: pixels of that value are transparent), in its pixels' scale
    (:func:`taco.images.load_image` rescales a 2-, 4- or 16-bit file's); None without one."""
    key = image.info.get("transparency")
    if image.mode == "RGB":
        keyed = isinstance(key, tuple) and len(key) == 3 and all(isinstance(v, int) for v in key)
    else:
        keyed = image.mode in ("1", "L", *_WIDE_INT_MODES) and isinstance(key, int)
    return key if keyed else None


def _alpha_matters(image: Image.Image) -> bool:
    """Whether dropping ``image``'s alpha (:func:`_has_alpha`) loses anything: some pixel is not
    fully opaque, or has the transparent colour. An opaque RGBA screenshot, a palette whose
    transparent entry no pixel uses, or an RGB image none of whose pixels has its colour key
    codes exactly as its RGB would, so it gets no alpha warning."""
    key = _transparent_colour(image)
    if key is not None:
        pixels = np.asarray(image.convert("L") if image.mode == "1" else image)
        same = pixels == np.asarray(key)
        return bool((same.all(axis=-1) if pixels.ndim == 3 else same).any())
    with_alpha = image.convert("RGBA") if image.mode in ("P", "PA") else image
    low = with_alpha.getchannel(with_alpha.getbands()[-1]).getextrema()[0]  # one band: an int
    return bool(isinstance(low, int) and low < 255)


def _without_info(image: Image.Image, keys: list[str]) -> Image.Image:
    """``image`` itself when its ``info`` has none of ``keys``, else a copy without them (the
    caller's image is never changed)."""
    if not any(key in image.info for key in keys):
        return image
    copy = image.copy()
    for key in keys:
        copy.info.pop(key, None)
    return copy


def _colour_profile(image: Image.Image, about: str) -> tuple[Any, bool, str]:
    """The image's ICC profile (an ``ImageCms.ImageCmsProfile``) when colours must be converted
    from it: an RGB profile that is not sRGB (RGB modes), a grey one whose levels are not sRGB's
    (grey modes: :data:`_GREY_MODES`), a CMYK profile (CMYK); None otherwise. Whether a profile
    is sRGB is told by what it does, not its name (:func:`_profile_facts`). The flag is True when
    a profile is ignored, with a warning, as viewers ignore it: one that cannot be read, or one
    of another colour space than the image's (an RGB profile on a grey image). The text: what to
    say of a CMYK image's profile that cannot be read or is of another kind (an RGB one), which
    the caller adds to its line saying CMYK is not colour-managed ("" otherwise: anything else
    is said here)."""
    icc = image.info.get("icc_profile")
    mode = image.mode
    if not icc or not isinstance(icc, bytes) or mode not in (*_RGB_MODES, *_GREY_MODES, "CMYK"):
        return None, False, ""
    space, name, srgb, error = _profile_facts(icc)
    if error is not None:
        unreadable = f"its colour profile cannot be read and is ignored ({error})"
        if mode == "CMYK":  # said on the CMYK line
            return None, True, unreadable
        conversion_warning(about + unreadable, ImageConversionWarning)
        return None, True, ""
    wanted = "CMYK" if mode == "CMYK" else "GRAY" if mode in _GREY_MODES else "RGB"
    if wanted == "GRAY" and space == "RGB" and srgb:  # sRGB's own grey levels: nothing to say or do
        return None, False, ""
    if space != wanted:
        kind = _SPACE_KINDS.get(space, f"a {space}")
        image_kind = {"GRAY": "grey", "RGB": "colour"}.get(wanted, wanted)
        unused = (f"its colour profile '{one_line(name) or 'unnamed'}' is {kind} profile, not one for a "
                  f"{image_kind} image: it is ignored, as viewers ignore it")
        if mode == "CMYK":
            return None, True, unused
        conversion_warning(about + unused, ImageConversionWarning)
        return None, True, ""
    return (None if srgb else _open_profile(icc)), False, ""


#: How a warning calls a profile of an ICC colour space (the article as it is read aloud).
_SPACE_KINDS = {"GRAY": "a grey", "RGB": "an RGB", "CMYK": "a CMYK", "XYZ": "an XYZ", "HSV": "an HSV",
                "HLS": "an HLS", "CMY": "a CMY"}


def _open_profile(icc: bytes) -> Any:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


#: :func:`_profile_facts` of the last :data:`_FACTS_KEPT` profiles, by their bytes' SHA-256: the
#: facts only, never the profile (keyed by its bytes, 16 profiles of 40 MB each were 640 MB held).
_FACTS: collections.OrderedDict[bytes, tuple[str, str, bool, str | None]] = collections.OrderedDict()
_FACTS_KEPT = 16
_FACTS_LOCK = ForkSafeLock()


def _profile_facts(icc: bytes) -> tuple[str, str, bool, str | None]:
    """An ICC profile's colour space (``RGB``, ``GRAY``, ``CMYK``), its description, whether it
    is sRGB in effect, and why it cannot be read (None: it can). sRGB in effect: an RGB profile
    that maps grey, red, green and blue ramps and a grid of colours to sRGB (relative
    colorimetric) within :data:`_SRGB_TOLERANCE` levels of themselves, or a grey one that maps
    a grey ramp so; its name does not count (Elle Stone's linear ``sRGB-elle-V2-g10`` is not
    sRGB). Kept for the last :data:`_FACTS_KEPT` profiles by their SHA-256 (:data:`_FACTS`): a
    batch of photos with one profile checks it once, and no profile's bytes are held."""
    key = hashlib.sha256(icc).digest()
    with _FACTS_LOCK:
        facts = _FACTS.get(key)
        if facts is not None:
            _FACTS.move_to_end(key)
            return facts
    facts = _read_profile_facts(icc)
    with _FACTS_LOCK:
        _FACTS[key] = facts
        _FACTS.move_to_end(key)
        while len(_FACTS) > _FACTS_KEPT:
            _FACTS.popitem(last=False)
    return facts


#: The longest profile description :func:`_profile_facts` keeps (a warning shows at most 80 characters).
_NAME_KEPT = 1000


def _read_profile_facts(icc: bytes) -> tuple[str, str, bool, str | None]:
    """:func:`_profile_facts`, worked out (not kept)."""
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = profile.profile.xcolor_space.strip()
        name = (profile.profile.profile_description or "").strip()[:_NAME_KEPT]
    except Exception as e:  # Pillow raises OSError, PyCMSError, TypeError for broken profiles
        return "", "", False, one_line(str(e), 200)
    if space not in ("RGB", "GRAY"):
        return space, name, False, None
    ramp = np.arange(256, dtype=np.uint8)
    if space == "GRAY":
        probe, expected = Image.fromarray(ramp[None]), np.repeat(ramp[None, :, None], 3, axis=2)
    else:
        zero = np.zeros(256, np.uint8)
        levels = np.linspace(0, 255, 6).astype(np.uint8)
        grid = np.array(np.meshgrid(levels, levels, levels)).reshape(3, -1)
        rows = [np.stack([ramp, ramp, ramp]), np.stack([ramp, zero, zero]), np.stack([zero, ramp, zero]),
                np.stack([zero, zero, ramp]), grid]
        expected = np.ascontiguousarray(np.concatenate(rows, axis=1).T[None])
        probe = Image.fromarray(expected)
    try:
        out = _through_to_srgb(probe, profile)
    except ImageCms.PyCMSError:  # _to_srgb or _grey_to_srgb says so, when it is used
        return space, name, False, None
    srgb = int(np.abs(np.asarray(out, dtype=np.int16) - expected).max()) <= _SRGB_TOLERANCE
    return space, name, srgb, None


#: How many levels (of 255) a profile may move a colour and still be sRGB (:func:`_profile_facts`):
#: the sRGB IEC61966-2.1 profile photos carry maps within 1 of LittleCMS's own sRGB.
_SRGB_TOLERANCE = 2
#: Grey modes whose levels a grey ICC profile describes (to_rgb converts them to sRGB's).
_GREY_MODES = ("L", "LA", "I;16", "I;16L", "I;16B", "I;16N")


def _grey_to_srgb(image: Image.Image, profile: Any, about: str) -> Image.Image | None:
    """A grey ``image`` (:data:`_GREY_MODES`) with its levels converted from its grey ICC
    ``profile`` to sRGB's (relative colorimetric, as viewers show it), in its own mode (16-bit
    samples through their 8 significant bits, which is what is coded), without the profile in
    its info, with one warning naming it; None, with a warning, when LittleCMS cannot use it."""

    name = one_line(profile.profile.profile_description or "") or "unnamed"
    mode = image.mode
    grey = _wide_int_to_l(image) if mode in _WIDE_INT_MODES else image.getchannel(0)
    out = _used_to_srgb(grey, profile, name, about)
    if out is None:
        return None
    level = out.getchannel(1)  # a neutral grey: R, G and B alike (G, the closest to luminance)
    if mode in _WIDE_INT_MODES:
        result = Image.fromarray((np.asarray(level).astype(np.uint16) * 257).astype("<u2"))
    elif mode == "LA":
        result = Image.merge("LA", (level, image.getchannel(1)))
    else:
        result = level
    result.info = {k: v for k, v in image.info.items() if k != "icc_profile"}
    conversion_warning(f"{about}colours converted from its '{name}' profile to sRGB (it decodes as "
                       "sRGB grey)", ColourProfileConvertedWarning)
    return result


#: Adobe RGB (1998)'s primaries and white (x, y), for a camera JPEG its EXIF marks so.
_ADOBE_RGB_XY = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06), (0.3127, 0.3290))
#: Adobe RGB (1998)'s transfer exponent (563/256).
_ADOBE_RGB_GAMMA = 563 / 256
#: PNG gamma (gAMA) exponents read as sRGB's (2.2 and near: 1/0.45455), as viewers do.
_SRGB_LIKE_GAMMAS = (2.0, 2.4)
#: Modes whose samples _untagged_to_srgb converts (8-bit RGB or grey, with or without alpha, palettes).
_UNTAGGED_MODES = ("RGB", "RGBA", "L", "LA", "P", "PA")


def _untagged_to_srgb(image: Image.Image, about: str) -> tuple[Image.Image | None, str | None]:
    """``image``, without an ICC profile, converted to 8-bit sRGB where it says in another way
    that its colours are not sRGB, as colour-managed viewers convert it: a camera JPEG's EXIF
    marking it Adobe RGB (ColorSpace uncalibrated, interoperability index ``R03``), or a PNG
    gamma (gAMA) far from sRGB's 2.2 without an sRGB chunk; with one warning (16-bit grey:
    converted in its own mode, through its 8 significant bits). None otherwise (or, for a mode
    it does not convert, with a warning that the gamma is not applied; a bilevel image, which no
    gamma changes, silently); the info key warned about or dropped (``gamma``, or None)."""
    mode = image.mode
    gamma = image.info.get("gamma")
    if isinstance(gamma, (int, float)) and gamma > 0 and "srgb" not in image.info:
        exponent = 1.0 / float(gamma)
        if _SRGB_LIKE_GAMMAS[0] <= exponent <= _SRGB_LIKE_GAMMAS[1]:
            return None, None
        if mode == "1":  # black and white: no gamma moves 0 or 255
            return None, "gamma"
        decode = (np.arange(256, dtype=np.float64) / 255.0) ** exponent
        if mode in _WIDE_INT_MODES:  # through its 8 significant bits, in its own mode, as a grey profile
            level = _primaries_to_srgb(_wide_int_to_l(image), _SRGB_XY, decode.astype(np.float32)).getchannel(1)
            grey = Image.fromarray((np.asarray(level).astype(np.uint16) * 257).astype("<u2"))
            grey.info = {k: v for k, v in image.info.items() if k != "gamma"}
            conversion_warning(f"{about}its PNG gamma (gAMA, no colour profile) is not sRGB's: colours converted "
                               f"from its 'PNG gamma {exponent:.2f}' profile to sRGB (it decodes as sRGB grey)",
                               ColourProfileConvertedWarning)
            return grey, "gamma"
        if mode not in _UNTAGGED_MODES:
            conversion_warning(f"{about}its PNG gamma {exponent:.2f} (gAMA) is not applied: its values "
                               "are coded as they are, as sRGB", ImageConversionWarning)
            return None, "gamma"
        rgb = _primaries_to_srgb(image, _SRGB_XY, decode.astype(np.float32))
        lost = _ALPHA_DROPPED if _has_alpha(image) and _alpha_matters(image) else ""
        conversion_warning(f"{about}its PNG gamma (gAMA, no colour profile) is not sRGB's: colours converted "
                           f"from its 'PNG gamma {exponent:.2f}' profile to sRGB (it decodes as sRGB{lost})",
                           ColourProfileConvertedWarning)
        return rgb, "gamma"
    if mode in ("RGB", "RGBA") and exif_adobe_rgb(image):
        decode = (np.arange(256, dtype=np.float64) / 255.0) ** _ADOBE_RGB_GAMMA
        rgb = _primaries_to_srgb(image, _ADOBE_RGB_XY, decode.astype(np.float32))
        lost = _ALPHA_DROPPED if _has_alpha(image) and _alpha_matters(image) else ""
        conversion_warning(f"{about}its EXIF marks it Adobe RGB (no colour profile): colours converted from "
                           f"its Adobe RGB primaries to sRGB (it decodes as sRGB{lost})",
                           ColourProfileConvertedWarning)
        return rgb, None
    return None, None


def exif_adobe_rgb(image: Image.Image) -> bool:
    """Whether ``image``'s EXIF marks it Adobe RGB, as cameras do (DCF): ColorSpace (0xA001)
    uncalibrated (0xFFFF) and the interoperability index (0x0001) ``R03``; False without EXIF
    or with a broken EXIF block (viewers read it as sRGB). What Pillow warns while it reads the
    block's sub-IFDs (a tag cut short: "Tag data larger than file") is dropped
    (:class:`PillowWarnings`), since such a block reads as sRGB and no tag taco keeps is lost."""
    if "exif" not in image.info:
        return False
    try:
        with PillowWarnings():
            exif = image.getexif()
            if exif.get_ifd(0x8769).get(0xA001) != 0xFFFF:
                return False
            index = exif.get_ifd(0xA005).get(0x0001)
    except Exception:  # a broken EXIF block: viewers read it as sRGB
        return False
    if isinstance(index, bytes):
        index = index.decode("latin-1")
    return isinstance(index, str) and index.strip("\x00 ") == "R03"


def _through_to_srgb(image: Image.Image, profile: Any) -> Image.Image:
    """``image`` through its ICC ``profile`` to 8-bit sRGB, relative colorimetric (what viewers
    show); PyCMSError when LittleCMS cannot build the transform."""
    from PIL import ImageCms

    out = ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"),
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB")
    assert out is not None
    return out


def _used_to_srgb(image: Image.Image, profile: Any, name: str, about: str) -> Image.Image | None:
    """:func:`_through_to_srgb`, or None with a warning that the profile ``name`` cannot be used
    and is ignored (as a viewer ignores it)."""
    from PIL import ImageCms

    try:
        return _through_to_srgb(image, profile)
    except ImageCms.PyCMSError as e:
        conversion_warning(f"{about}its colour profile '{name}' cannot be used and is ignored ({one_line(str(e), 200)})",
                           ImageConversionWarning)
        return None


def _to_srgb(image: Image.Image, profile: Any, about: str) -> Image.Image | None:
    """``image`` (an RGB, RGB-with-alpha, palette or CMYK mode) -> 8-bit sRGB through its ICC
    ``profile``, relative colorimetric (what viewers show), with one warning naming it; None,
    with a warning, when LittleCMS cannot build a transform from the profile (it is then
    ignored, as a viewer ignores it)."""

    name = one_line(profile.profile.profile_description or "") or "unnamed"
    mode = image.mode
    alpha = _has_alpha(image)
    if mode == "CMYK":
        rgb = image
    elif mode in ("P", "PA", "RGBa"):
        rgb = image.convert("RGBA").convert("RGB")
    else:
        rgb = image.convert("RGB")
    out = _used_to_srgb(rgb, profile, name, about)
    if out is None:
        return None
    lost = _ALPHA_DROPPED if alpha and _alpha_matters(image) else ""
    conversion_warning(f"{about}colours converted from its '{name}' profile to sRGB (it decodes as "
                       f"sRGB{lost})", ColourProfileConvertedWarning)
    out.info.pop("icc_profile", None)
    return out


#: sRGB's primaries and white point (x, y): red, green, blue, white (D65).
_SRGB_XY = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))
#: nclx transfer characteristics (ITU-T H.273) read as the sRGB curve: unspecified, sRGB.
_SRGB_TRANSFERS = {2, 13}
#: Names of the nclx colour primaries (H.273) a photo may carry, for the warnings.
_PRIMARIES_NAMES = {9: "BT.2020", 11: "DCI-P3", 12: "Display P3"}
_TRANSFER_NAMES = {16: "PQ (HDR)", 18: "HLG (HDR)"}
#: Bradford's cone response matrix (white-point adaptation, as LittleCMS does it).
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _rgb_to_xyz(xy: Any) -> np.ndarray:
    """The RGB -> XYZ matrix of primaries and white ``((xr, yr), (xg, yg), (xb, yb), (xw, yw))``."""
    prim = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in xy[:3]]).T
    xw, yw = xy[3]
    white = np.array([xw / yw, 1.0, (1 - xw - yw) / yw])
    return prim * np.linalg.solve(prim, white)


def _srgb_decoding_table() -> np.ndarray:
    """8-bit sRGB value -> linear light (float32), the IEC 61966-2-1 curve."""
    v = np.arange(256, dtype=np.float64) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb_matrix(xy: Any) -> np.ndarray:
    """The linear-light matrix from RGB of primaries and white ``xy`` to sRGB (Bradford-adapted
    to D65); LinAlgError for degenerate primaries."""
    to_xyz = _rgb_to_xyz(xy)
    srgb_to_xyz = _rgb_to_xyz(_SRGB_XY)
    src_white, dst_white = to_xyz.sum(axis=1), srgb_to_xyz.sum(axis=1)
    adapt = np.linalg.solve(_BRADFORD, np.diag((_BRADFORD @ dst_white) / (_BRADFORD @ src_white)) @ _BRADFORD)
    return np.linalg.solve(srgb_to_xyz, adapt @ to_xyz)


def _matrix_to_srgb(image: Image.Image, matrix: np.ndarray, decode: np.ndarray) -> Image.Image:
    """``image``'s RGB (alpha dropped, a palette expanded) -> 8-bit sRGB: each value to linear
    light through the table ``decode`` (256 float32), through the linear ``matrix``, clipped to
    the sRGB gamut, sRGB-encoded and rounded."""
    src = np.asarray(image.convert("RGBA").convert("RGB") if image.mode in ("P", "PA") else image.convert("RGB"))
    dst = np.empty_like(src)
    m = matrix.T.astype(np.float32)
    for top in range(0, src.shape[0], 256):  # bands of rows: a few MB of float32 at a time
        linear = decode[src[top:top + 256]] @ m
        np.clip(linear, 0.0, 1.0, out=linear)
        encoded = np.where(linear <= 0.0031308, 12.92 * linear,
                           1.055 * np.power(linear, 1 / 2.4, dtype=np.float32) - 0.055)
        dst[top:top + 256] = np.rint(encoded * 255.0)
    return Image.fromarray(dst)


def _primaries_to_srgb(image: Image.Image, xy: Any, decode: np.ndarray) -> Image.Image:
    """:func:`_matrix_to_srgb` from primaries and white ``xy`` (sRGB's: only the curve changes)."""
    matrix = np.eye(3) if xy == _SRGB_XY else _to_srgb_matrix(xy)
    return _matrix_to_srgb(image, matrix, decode)


def _nclx_to_srgb(image: Image.Image, about: str) -> tuple[Image.Image | None, bool]:
    """``image`` (RGB or RGBA) -> 8-bit sRGB when its ``nclx_profile`` (pillow-heif's code points)
    has other primaries than sRGB's; None when there is nothing to convert, or nothing it can
    convert (an HDR or unusual transfer: a warning says the values are coded as they are). The
    flag: whether it warned."""
    nclx: Any = image.info.get("nclx_profile")
    try:
        xy = tuple((float(nclx[f"color_primary_{c}_x"]), float(nclx[f"color_primary_{c}_y"]))
                   for c in ("red", "green", "blue", "white"))
        primaries, transfer = int(nclx["color_primaries"]), int(nclx["transfer_characteristics"])
    except (TypeError, KeyError, ValueError, OverflowError):
        return None, False  # no nclx profile, or not one pillow-heif wrote: nothing to say
    if np.allclose(xy, _SRGB_XY, atol=2e-3) or not all(0 < y <= 1 and 0 <= x <= 1 for x, y in xy):
        hdr = _TRANSFER_NAMES.get(transfer)
        if hdr:
            conversion_warning(f"{about}its {hdr} transfer is not tone-mapped: its values are coded as "
                               "they are (it looks flat in sRGB)", ImageConversionWarning)
        return None, bool(hdr)
    name = _PRIMARIES_NAMES.get(primaries, f"nclx primaries {primaries}")
    if transfer not in _SRGB_TRANSFERS:
        how = _TRANSFER_NAMES.get(transfer, f"nclx transfer {transfer}")
        conversion_warning(f"{about}its {name} colours with a {how} transfer are not converted: its "
                           "values are coded as they are, as sRGB", ImageConversionWarning)
        return None, True
    try:
        matrix = _to_srgb_matrix(xy)
    except np.linalg.LinAlgError:
        return None, False  # degenerate primaries: nothing a viewer could show either
    alpha = _has_alpha(image)
    rgb = _matrix_to_srgb(image, matrix, _srgb_decoding_table())
    lost = _ALPHA_DROPPED if alpha and _alpha_matters(image) else ""
    conversion_warning(f"{about}colours converted from its {name} primaries to sRGB (it decodes as "
                       f"sRGB{lost})", ColourProfileConvertedWarning)
    return rgb, True


def decoded_mode(mode: str) -> str:
    """The mode an image of ``mode`` decodes to (what :func:`restore_mode` makes of the decoded
    RGB): ``L`` for grey, bilevel and float ones (alpha dropped; floats were coded as 0..255
    integers), ``I;16`` for 16- and 32-bit integer ones (32-bit ones were clipped to 16 bits),
    ``RGB`` for every other (alpha, palette, CMYK, ...). PNG holds each of them."""
    if mode in ("L", "LA", "La", "1", "F"):
        return "L"
    return "I;16" if mode in _WIDE_INT_MODES else "RGB"


def restore_mode(rgb_image: Image.Image, mode: str) -> Image.Image:
    """Map a decoded RGB image back towards the mode returned by :func:`to_rgb`, i.e. to
    :func:`decoded_mode` of it.

    | source mode                   | result                                              |
    |-------------------------------|-----------------------------------------------------|
    | ``L``, ``LA``, ``La``         | ``L`` (alpha was dropped on encode)                 |
    | ``1``                         | ``L`` (no re-binarisation: that would add error)    |
    | ``I;16``, ``I;16B/L/N``, ``I``| ``I;16``, values ×257 (255 → 65535)                 |
    | ``F``                         | ``L`` (coded as 0..255 integers)                    |
    | anything else (``RGBA``, ``P``, ``CMYK``, ``YCbCr``, ``HSV``, ...) | ``RGB``    |

    Alpha and palettes are not recovered: the codec never saw them.
    """
    if rgb_image.mode != "RGB":
        rgb_image = rgb_image.convert("RGB")
    target = decoded_mode(mode)
    if target == "L":
        return rgb_image.convert("L")
    if target == "I;16":
        return Image.fromarray((np.asarray(rgb_image.convert("L")).astype(np.uint16) * 257).astype("<u2"))
    return rgb_image
