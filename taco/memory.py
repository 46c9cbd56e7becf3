"""What decoding costs in memory, the cap that follows, allocation failures as one line, and the
arithmetic of cutting an image into pieces computed with context (tiles, stripes).

No torch here: the CLI reads the cap for ``--help`` and reports an allocation failure of any
command without importing anything heavy (an import is the last thing to try when memory ran
out).

The memory model (docs/reliability.md, ``benchmarks/memory_model.py --parts cli``): peak RSS
of ``taco decompress`` in a fresh process <= :data:`DECODE_BASE_BYTES` (Python, torch,
CompressAI, a -small built-in model) + the synthesis activations and the allocator's share
(growing up to one tile, :data:`DECODE_TILE_BYTES`) + :data:`DECODE_BYTES_PER_PIXEL` x declared
pixels. The rANS stream is
decoded chunk by chunk (a few MB of padding at a time), the float64 entropy parameters are
computed in bands of latent rows, of which only each pass's table indexes and means are kept
(``taco.models.entropy.BAND_BYTES``; their convolutions in bands of their own,
``taco.models.conv_bands``), and the synthesis runs tile by tile into 8-bit pixels
(``taco.codec.synthesize``). What still grows with the image: the side parameters h_s(z_hat) in
float64 (2N or 2M channels), y_hat, one pass's indexes and means, and the 8-bit output.
"""

from __future__ import annotations

import errno
import os
import re

from .errors import TacoError

__all__ = [
    "DECODE_BASE_BYTES",
    "DECODE_BYTES_PER_PIXEL",
    "DECODE_LATENT_CHANNELS",
    "DECODE_TILE_BYTES",
    "DECODE_TILE_PIXELS",
    "MAX_DECODE_PIXELS",
    "MAX_ENCODE_PIXELS",
    "NO_CAP_HINT",
    "OutOfMemoryError",
    "allocation_failure",
    "decode_cap_problem",
    "decode_memory_estimate",
    "decode_memory_text",
    "latent_channels",
    "spans",
    "widen",
]

#: The memory model, fitted from above to the peak RSS of the command line, ``taco decompress
#: X.taco -o x.png`` in a fresh process (taco-minilm-small-q4, its default threads; the highest
#: of 2-6 runs: glibc's heap moves a peak by up to ~300 MiB between runs of one file), with at
#: least 5 % to spare at every size measured (docs/reliability.md, "Memory model"). Start-up
#: (Python, torch, CompressAI, a -small built-in model): 718 MiB at 451x300, 720 MiB at 512x384 ...
DECODE_BASE_BYTES = 780 * 2**20
#: ... plus the g_s activations of the synthesis and the heap they leave behind, which grow
#: with the image up to one tile of :data:`DECODE_TILE_PIXELS` (``taco.codec.SYNTHESIS_TILE_BUDGET``
#: over the -small models' N = 48) and then stay at :data:`DECODE_TILE_BYTES` (909 MiB at 1 MP,
#: 1,499 at 4.2 MP, 1,594 at 12 MP, 1,715 at 16.8 MP, 1,839 at 24 MP) ...
DECODE_TILE_BYTES = 970 * 2**20
DECODE_TILE_PIXELS = 2048 * 2048
#: ... and bytes per declared pixel, decoding with the -small built-ins (the float64 side
#: parameters, y_hat, a pass's indexes and means, the 8-bit output; 1,982 MiB at 48 MP, 1,860
#: at 64.1 MP).
DECODE_BYTES_PER_PIXEL = 8
#: The latent channels (M) of the -small built-ins the memory model is fitted to. The part of a
#: decode that grows with the image (side parameters of 2M channels in float64, y_hat, a pass's
#: tables) grows with M: a wider model's per-pixel bytes are taken as
#: :data:`DECODE_BYTES_PER_PIXEL` x M / this, so that a file naming a paper-size architecture
#: (M = 320, its untrained weights built from the header alone) is held to the memory the cap
#: keeps the built-ins under, not to the cap's pixels (a crafted 37.7 MP ``elic`` file peaked at
#: 2,332 MiB refusing its 28th chunk).
DECODE_LATENT_CHANNELS = 96
#: Default cap of the decoder (``taco.decompress(max_pixels=)``, ``taco decompress
#: --max-pixels``) on the pixels a file may declare: the most the memory model keeps under
#: 2 GiB (2,040 MiB at the cap; measured: 1,913 MiB at 7536x5040), so decoding any file at or
#: under it peaks under 2 GiB with the built-in models, and photos of cameras up to 36 MP
#: (7360x4912) decode without an option. It was 64 MP, fitted to ``taco.decompress`` in one
#: thread, where the command line peaked at up to 1,982 MiB at 48 MP.
MAX_DECODE_PIXELS = 38_000_000
#: Default cap of the encoder on width x height (100 MP): :func:`taco.images.load_image`'s
#: ``max_pixels`` (also :data:`taco.images.MAX_PIXELS`, the same number) and ``taco compress
#: --max-pixels``. Looser than the decoder's: encoding is of images the user has, not of
#: untrusted files; it still refuses a tiny file that declares a huge canvas (a decompression
#: bomb). Defined here, with no Pillow or NumPy imported, for ``taco compress --help``.
MAX_ENCODE_PIXELS = 100_000_000


def decode_memory_estimate(pixels: int, latent_channels: int = DECODE_LATENT_CHANNELS) -> int:
    """Peak RSS (bytes) of decoding a file that declares ``pixels`` pixels, with a -small
    built-in model, in a fresh process (the memory model above); with a model of more
    ``latent_channels`` (M), its per-pixel part scaled by them (:data:`DECODE_LATENT_CHANNELS`)."""
    tile = DECODE_TILE_BYTES * min(1.0, pixels / DECODE_TILE_PIXELS)
    per_pixel = DECODE_BYTES_PER_PIXEL * max(latent_channels, DECODE_LATENT_CHANNELS) / DECODE_LATENT_CHANNELS
    return int(DECODE_BASE_BYTES + tile + per_pixel * pixels)


#: How a Python caller lifts the decoder's cap: the end of the refusal of an image over it
#: (:func:`decode_cap_problem`; ``taco decompress`` says ``--max-pixels 0``).
NO_CAP_HINT = "max_pixels=None"


def decode_cap_problem(width: int, height: int, max_pixels: int | None,
                       no_cap: str = NO_CAP_HINT,
                       latent_channels: int = DECODE_LATENT_CHANNELS) -> str | None:
    """Why a file declaring a ``width`` x ``height`` image is refused under the decoder's cap
    ``max_pixels`` (None: no cap), in one line; None when it is within it. ``no_cap``: how the
    caller lifts the cap, the hint the line ends with (``taco decompress`` gives its
    ``--max-pixels 0``). ``latent_channels``: those (M) of the model the decoder takes from the
    file's header when none is given (an architecture's untrained weights, built from the name
    alone): one wider than the built-ins is held to the memory the cap allows them
    (:data:`DECODE_LATENT_CHANNELS`), so fewer pixels. A model the caller gives is the caller's
    choice of memory: its files are held to the pixels alone."""
    pixels = width * height
    if max_pixels is None:
        return None
    if pixels > max_pixels:
        return (f"this file declares a {width}x{height} image ({pixels:,} pixels), over the "
                f"decoder's cap of {max_pixels:,}; decoding it would take "
                f"{decode_memory_text(pixels, latent_channels)}: pass {no_cap} to decode it anyway")
    needs, allowed = decode_memory_estimate(pixels, latent_channels), decode_memory_estimate(max_pixels)
    if needs <= allowed:
        return None
    digits = 0  # as many decimals as tell the two apart (it said "783 MiB ... over the 783 MiB")
    while digits < 3 and f"{needs / 2**20:.{digits}f}" == f"{allowed / 2**20:.{digits}f}":
        digits += 1
    return (f"this file declares a {width}x{height} image ({pixels:,} pixels) for the model of "
            f"{latent_channels} latent channels it names (the built-in models have "
            f"{DECODE_LATENT_CHANNELS}), which would take about {needs / 2**20:,.{digits}f} MiB to "
            f"decode, over the {allowed / 2**20:,.{digits}f} MiB the decoder's cap of "
            f"{max_pixels:,} pixels allows: pass the model to decode with, or {no_cap} to decode it "
            f"anyway")


def latent_channels(model: object) -> int:
    """``model``'s latent channels (M) for the memory model: a backbone that does not say (M is
    not required of one) counts as the built-ins' :data:`DECODE_LATENT_CHANNELS`."""
    m = getattr(model, "M", None)
    return m if isinstance(m, int) and m > 0 else DECODE_LATENT_CHANNELS


def decode_memory_text(pixels: int, latent_channels: int = DECODE_LATENT_CHANNELS) -> str:
    """What decoding a ``pixels``-pixel image takes, for a message: ``about 1.3 GiB with the
    built-in models`` (:func:`decode_memory_estimate`), or ``with this model`` for one of more
    ``latent_channels``."""
    which = "the built-in models" if latent_channels <= DECODE_LATENT_CHANNELS else "this model"
    return f"about {decode_memory_estimate(pixels, latent_channels) / 2**30:.1f} GiB with {which}"


class OutOfMemoryError(TacoError, MemoryError):
    """Coding an image needed more memory than the machine would allocate. The message says
    what was being coded and how much was asked for, in one line."""


#: A shared library the dynamic loader could not map (the address space or memory ran out), as
#: glibc says it: without a reason, or with ENOMEM's.
_UNMAPPED_LIBRARY = re.compile(r"failed to map segment from shared object(?:: Cannot allocate memory)?\s*$")
#: A file torch could not map for want of memory (safetensors' ``safe_open`` with ``"pt"``,
#: ``torch.load(mmap=True)``), as it says it, a RuntimeError: "unable to mmap 90868376 bytes from
#: file <...>: Cannot allocate memory (12)" (another reason, "Invalid argument (22)", is not one).
_UNMAPPED_FILE = re.compile(r"unable to mmap (\d+) bytes.*"
                            + re.escape(f"{os.strerror(errno.ENOMEM)} ({errno.ENOMEM})"))


def allocation_failure(exc: BaseException) -> str | None:
    """What an allocation failure says, for a person ("could not allocate 11.4 GiB", or "an
    allocation failed" when it does not say how much); None if ``exc`` is not one. Python's and
    numpy's ``MemoryError``, CompressAI's ``std::bad_alloc`` (a ``MemoryError``), torch's
    "can't allocate memory" / "out of memory" ``RuntimeError``, an ``OSError`` with ENOMEM (a
    failed ``mmap``), safetensors' error for a mapping that failed so ("Cannot allocate memory
    (os error 12)", an exception of its own type), torch's for a file it could not map so
    ("unable to mmap 90868376 bytes from file <...>: Cannot allocate memory (12)": "could not map
    86.7 MiB"), and the ``ImportError`` (or ctypes' ``OSError``) of a shared library that could
    not be mapped when torch or its libraries load (``libtorch_cpu.so: failed to map segment from
    shared object``, under ``ulimit -v``; one that names another reason, a ``noexec`` mount's
    "Operation not permitted", is not one)."""
    text = str(exc)
    if isinstance(exc, OutOfMemoryError):
        return text
    if not (isinstance(exc, MemoryError)
            or (isinstance(exc, RuntimeError)
                and any(k in text for k in ("can't allocate memory", "out of memory", "bad_alloc")))
            or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)
            or f"(os error {errno.ENOMEM})" in text
            or _UNMAPPED_FILE.search(text)
            or (isinstance(exc, (ImportError, OSError)) and _UNMAPPED_LIBRARY.search(text))):
        return None
    if unmapped := _UNMAPPED_FILE.search(text):
        return f"could not map {_in_units(int(unmapped.group(1)))}"
    m = re.search(r"allocate (\d+) bytes", text)
    if m:
        return f"could not allocate {_in_units(int(m.group(1)))}"
    m = re.search(r"(?:allocate|Tried to allocate) ([\d.]+ ?[KMGT]i?B)", text)
    return f"could not allocate {m.group(1)}" if m else "an allocation failed"


def _in_units(nbytes: int) -> str:
    """``nbytes`` for a person: in GiB, MiB or KiB to one decimal (the largest unit it reaches),
    or in bytes under 1 KiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << shift:
            return f"{nbytes / 2**shift:.1f} {unit}"
    return f"{nbytes} bytes"


def spans(length: int, size: int) -> list[slice]:
    """``range(length)`` cut into consecutive slices of ``size`` (the last may be shorter): the
    cores of the pieces an image is computed in (the decoder's synthesis tiles, the encoder's
    analysis stripes), each computed over :func:`widen` of itself and cropped back."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    return [slice(a, min(length, a + size)) for a in range(0, length, size)]


def widen(core: slice, halo: int, length: int) -> slice:
    """``core`` with ``halo`` more on each side, clipped to ``[0, length)``: what a piece reads so
    that its core comes out as the whole image's would, when ``halo`` covers the receptive field
    (zero padding at the window's edge then reaches only the halo, which is cropped away)."""
    return slice(max(0, core.start - halo), min(length, core.stop + halo))
