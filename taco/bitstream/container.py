"""The ``.taco`` container: a small header, then one entropy-coded stream.

Layout, format version 3 (all integers unsigned; "varint" = LEB128 in its shortest form, at most
5 bytes; the full specification, decoding included: docs/format.md)::

    magic        4 bytes   b"TACO"
    version      1 byte    FORMAT_VERSION (3)
    model        1 byte    0: no model id; 1..254: BUILTIN_MODEL_IDS[code - 1];
                           0xFF: followed by 1 length byte (1..255) + the UTF-8 model id
    quality      1 byte    0: a single-rate model; 1..255: quality index of a variable-rate model
    fingerprint  8 bytes   SHA-256[:8] of the model config and weights (taco.models.model_fingerprint)
    height       varint    original image height, 1..MAX_SIDE
    width        varint    original image width, 1..MAX_SIDE
    mode/padding 1 byte    low 5 bits: original PIL mode (index into MODES);
                           high 3 bits: padding scheme (1 = replicate to a multiple of 64, bottom/right)
    crc32        4 bytes   CRC-32 (big endian) of every byte before it and of the payload
    payload      the rest  one rANS stream (z, then each channel group's anchor and non-anchor pass)
                           in chunks of 2^16 symbols (taco.bitstream.rans: the chunk framing)

A built-in model on a photo of 128..16,383 px a side: 4 + 1 + 1 + 1 + 8 + 2 + 2 + 1 + 4 = 24
header bytes. Version 2 is the same without the quality byte (read as quality 0) and with the
stream in one rANS string.

Every parse failure raises :class:`TacoFormatError` with a message meant for a person.
Declared sizes are capped (:data:`MAX_SIDE`) before anything is allocated from them. The CRC
covers the whole file, so a flipped bit anywhere (header included) is an error, never a picture.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from ..errors import TacoError, TacoValueError
from ..filekinds import TACO_MAGIC, image_kind
from ..fileobjects import (
    READ_PIECE_BYTES,
    ZIP_MAGIC,
    checked_path,
    is_file_object,
    read_at_most,
    read_file_object,
)
from ..memory import NO_CAP_HINT, decode_cap_problem
from ..messages import shown_path

#: b"TACO", defined in :mod:`taco.filekinds` (which names a .taco file given as a checkpoint).
MAGIC = TACO_MAGIC
FORMAT_VERSION = 3
#: Older versions :func:`unpack` still reads (their payloads are decoded as they were written).
READABLE_VERSIONS = (2, 3)
#: Largest image side a .taco file may declare (pixels). Caps allocations driven by the header.
MAX_SIDE = 1 << 15
#: The padding scheme of the header's high 3 bits: replicate the image's last row and column
#: (bottom/right) to a multiple of 64 a side, the total down-sampling of g_a times h_a.
PAD_REPLICATE_64 = 1
#: Padding scheme -> the multiple each side is padded to: the one definition of it
#: (:data:`taco.models.PAD_MULTIPLE` is this scheme's, what taco's models code with).
PAD_MULTIPLES = {PAD_REPLICATE_64: 64}
#: The longest header: magic, version, an inline model id of 255 bytes (1 + 1 + 255), quality,
#: fingerprint, two 5-byte varints, mode/padding, crc32.
MAX_HEADER_BYTES = 4 + 1 + 257 + 1 + 8 + 5 + 5 + 1 + 4
#: The most bits per pixel (of the image padded to multiples of 64) a payload may take: a file
#: longer than :func:`max_file_bytes` is refused before the rest of it is read. A symbol costs at
#: most 48 bits (the escape at 16-bit precision, 1 count group and 7 value groups of 4 bits for
#: |symbol| <= 2**24, rans.MAX_SYMBOL), and a model codes M/256 + N/4096 symbols a pixel: 1.3 for
#: the paper's M = 320, N = 192 (62.3 bits), the most of taco's own architectures (a
#: registered backbone's stream beyond the bound is refused when packed). Real files
#: take under 2 bits a pixel.
MAX_PAYLOAD_BITS_PER_PIXEL = 64
#: PIL modes an original image may have had; decoded images are restored to these where sensible.
#: Stored in 5 bits: at most 32 entries, append-only.
MODES = ("RGB", "L", "LA", "RGBA", "P", "PA", "I;16", "I;16B", "I;16L", "I;16N", "I", "F", "1", "CMYK",
         "YCbCr", "LAB", "HSV", "RGBX", "La", "RGBa")
#: Model ids stored as one byte (code = index + 1): the trained built-ins (taco.models.PRETRAINED),
#: the architecture names (taco.models.MODEL_CONFIGS) and "custom" (models without a name).
#: APPEND-ONLY: entries are never reordered or removed (files name their model by position);
#: new names go at the end (at most 254 entries; tests check every registry name is here).
BUILTIN_MODEL_IDS = (
    "taco-minilm-small-q4", "taco-minilm-small-q3", "elic-small-q4", "elic-small-q3",
    "taco", "taco-minilm", "elic", "taco-minilm-small", "elic-small", "taco-tiny",
    "taco-minilm-tiny", "taco-tgic", "taco-tgic-minilm-small", "taco-tgic-tiny", "elic-tiny",
    "custom", "taco-minilm-vr", "elic-vr",
)
MODEL_NONE, MODEL_INLINE = 0x00, 0xFF
_MODE_BITS = 5


class TacoFormatError(TacoError, ValueError):
    """A ``.taco`` file is malformed, truncated, corrupted, or made for another model; or, given
    by its path, cannot be read (:class:`TacoFileUnreadable`: missing, a folder, not permitted;
    the message names the path, as :class:`taco.images.ImageReadError` does for an image); or,
    being packed, would be longer than the format allows (:func:`pack`)."""


class TacoFileUnreadable(TacoFormatError, OSError):
    """A ``.taco`` file given by its path cannot be read. Also an ``OSError`` with the ``errno``,
    ``strerror`` and ``filename`` of the one reading it raised, so ``except OSError`` catches it
    as it catches any file that cannot be read (a missing file is a :class:`TacoFileNotFound`,
    also a ``FileNotFoundError``; a folder or a file not permitted is caught as an ``OSError``,
    not as its ``IsADirectoryError`` or ``PermissionError``); the message is taco's one line
    naming the path (as :func:`taco.messages.shown_path` shows it). It pickles (an error
    crossing a process pool)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, errno: int | None = None,
                 strerror: str | None = None) -> None:
        super().__init__(f"cannot read .taco file '{shown_path(path)}': {reason}")
        self.reason = reason
        self.errno, self.strerror, self.filename = errno, strerror, os.fspath(path)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.filename, self.reason, self.errno, self.strerror)


class TacoFileNotFound(TacoFileUnreadable, FileNotFoundError):
    """A ``.taco`` file given by its path does not exist."""


def bits_per_pixel(nbytes: float, pixels: float) -> float:
    """Bits per pixel: 8 × ``nbytes`` / ``pixels`` (a file's bytes over its image's pixels, or
    sums of both for a pooled bpp). Written in this one order so every caller's float is the same."""
    return 8 * nbytes / pixels


@dataclass(frozen=True)
class TacoHeader:
    model_id: str
    fingerprint: bytes
    height: int
    width: int
    mode: str
    padding: int = PAD_REPLICATE_64
    version: int = FORMAT_VERSION  # what unpack read; pack always writes FORMAT_VERSION
    quality: int = 0  # 0: single-rate model; 1..255: quality index of a variable-rate model


@dataclass(frozen=True)
class TacoFile:
    """A parsed ``.taco`` file, as :func:`info` (``taco.info``) and :func:`unpack` return it: its
    ``header`` (:class:`TacoHeader`), the entropy-coded ``payload``, the bytes before it
    (``header_bytes``) and the checksum; ``total_bytes`` and ``bpp`` count the whole file."""

    header: TacoHeader
    payload: bytes  # the rANS stream (version 3: chunked; version 2: one string)
    header_bytes: int  # everything before the payload, CRC included
    crc32: int = 0  # the file's checksum (checked by unpack)

    @property
    def payload_bytes(self) -> int:
        return len(self.payload)

    @property
    def total_bytes(self) -> int:
        """The file's size: header and payload."""
        return self.header_bytes + len(self.payload)

    @property
    def bpp(self) -> float:
        """Bits per pixel of the original image, counting every byte of the file."""
        return bits_per_pixel(self.total_bytes, self.header.width * self.header.height)

    def __repr__(self) -> str:  # the payload's size, not its bytes (a few MB of escapes)
        return (f"TacoFile(header={self.header!r}, payload=<{len(self.payload)} bytes>, "
                f"header_bytes={self.header_bytes}, crc32=0x{self.crc32:08x})")


@dataclass(frozen=True)
class TacoSummary:
    """What :func:`summarize` says of a ``.taco`` file: a :class:`TacoFile` without the payload,
    whose checksum was computed piece by piece as it was read (``taco info``)."""

    header: TacoHeader
    header_bytes: int  # everything before the payload, CRC included
    payload_bytes: int
    crc32: int

    @property
    def total_bytes(self) -> int:
        """The file's size: header and payload."""
        return self.header_bytes + self.payload_bytes

    @property
    def bpp(self) -> float:
        """Bits per pixel of the original image, counting every byte of the file."""
        return bits_per_pixel(self.total_bytes, self.header.width * self.header.height)


def varint(n: int) -> bytes:
    """``n`` as an unsigned LEB128 varint (the header's sizes, the stream's chunk lengths)."""
    if n < 0:
        raise TacoValueError("varint must be non-negative")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def model_id_problem(model_id: object) -> str | None:
    """Why ``model_id`` cannot name a model in a ``.taco`` file (which carries it and shows it to
    people: printable text of 1 to 255 UTF-8 bytes), or None when it can. Checkpoints are held
    to it too (:func:`taco.models.header.header_model_id`): their files carry their id."""
    if not isinstance(model_id, str) or not model_id:
        return "it must be a non-empty string"
    if not model_id.isprintable():
        return "it has unprintable characters (line breaks, control or escape codes)"
    if len(model_id.encode("utf-8")) > 255:
        return "it is longer than 255 bytes"
    return None


def model_code(model_id: str) -> bytes:
    """The model field of the header for ``model_id``: 1 byte, or 0xFF + length + UTF-8."""
    if not model_id:
        return bytes([MODEL_NONE])
    if model_id in BUILTIN_MODEL_IDS:
        return bytes([BUILTIN_MODEL_IDS.index(model_id) + 1])
    problem = model_id_problem(model_id)
    if problem:
        raise TacoValueError(f"model id {model_id!r}: {problem}")
    raw = model_id.encode("utf-8")
    return bytes([MODEL_INLINE, len(raw)]) + raw


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise TacoFormatError(
                f"truncated .taco file: it ends inside the {what} "
                f"(needs {self.pos + n} bytes, has {len(self.data)})"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def varint(self, what: str, limit: int) -> int:
        value, shift = 0, 0
        for _ in range(5):
            b = self.u8(what)
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and shift:  # a final zero byte adds nothing: taco never writes one
                    raise TacoFormatError(f"corrupt .taco file: {what} is a varint with a "
                                          "redundant zero byte")
                if value > limit:
                    raise TacoFormatError(f"corrupt .taco file: {what} {value} exceeds {limit}")
                return value
            shift += 7
        raise TacoFormatError(f"corrupt .taco file: {what} is not a valid varint")


def other_file_kind(head: bytes) -> str | None:
    """What a file that is no ``.taco`` file is, by ``head`` (its first bytes, up to
    :data:`MAX_HEADER_BYTES`), with what to do with it, when it is a file taco knows: an image
    (:func:`taco.filekinds.image_kind`), a safetensors file (8 bytes of header length, little
    endian, then its JSON header), the index of a sharded checkpoint (JSON whose ``format`` is
    :data:`taco.shards.INDEX_FORMAT`), a ``torch.save`` zip (its first record
    ``NAME/data.pkl``), another zip archive, a tar archive or a compressed file
    (:data:`PACKED_KINDS`: a ``.taco.gz`` sent on), which hold the ``.taco`` to decode; None for
    anything else."""
    image = image_kind(head[:16])
    if image:
        return f"{image} image (compress it to make one)"
    if head[8:9] == b"{" and int.from_bytes(head[:8], "little") >= 2:
        return "a safetensors file (for a model checkpoint: taco models FILE)"
    from ..shards import INDEX_FORMAT  # only for a refusal: not on every import of taco.bitstream

    if head.lstrip().startswith(b"{") and f'"{INDEX_FORMAT}"'.encode() in head:
        return ("the index of a sharded safetensors checkpoint (for a model checkpoint: "
                "taco models FILE)")
    if head.startswith(ZIP_MAGIC):
        name = head[30:30 + int.from_bytes(head[26:28], "little")]  # the first record's
        if name == b"data.pkl" or name.endswith(b"/data.pkl"):
            return "a PyTorch checkpoint (torch.save; taco models FILE says how to import it)"
        return f"a zip archive {EXTRACT_HINT}"
    if head[257:262] == b"ustar":  # POSIX and GNU tar alike
        return f"a tar archive {EXTRACT_HINT}"
    for magic, kind in PACKED_KINDS:
        if head.startswith(magic):
            return f"{kind} {EXTRACT_HINT}"
    return None


#: What :func:`other_file_kind` advises for an archive or a compressed file.
EXTRACT_HINT = "(extract it, then decode the .taco inside)"

#: Compressed files by their magic bytes (:func:`other_file_kind`); bzip2's with its block size
#: digit, so that a file merely starting "BZh" is not taken for one.
PACKED_KINDS = (
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    *((b"BZh" + bytes([digit]), "a bzip2-compressed file") for digit in b"123456789"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
)


def pack(header: TacoHeader, payload: bytes) -> bytes:
    """Serialise a header and the entropy-coded stream into ``.taco`` bytes (format version
    :data:`FORMAT_VERSION`, whatever ``header.version`` says). A stream longer than the format
    allows for the image (:func:`max_file_bytes`: a model with a very large M) is a
    :class:`TacoFormatError`, so taco never writes a file it refuses to read; a header field the
    format cannot hold, a :class:`~taco.errors.TacoValueError`."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"payload must be bytes (one rANS stream), got {type(payload).__name__}")
    if len(header.fingerprint) != 8:
        raise TacoValueError("fingerprint must be 8 bytes")
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise TacoValueError(f"image sides must be in 1..{MAX_SIDE}, got {header.height}x{header.width}")
    if header.mode not in MODES:
        raise TacoValueError(f"unsupported original mode {header.mode!r}")
    if not 0 <= header.padding < 1 << (8 - _MODE_BITS):
        raise TacoValueError(f"padding code {header.padding} does not fit in 3 bits")
    if not 0 <= header.quality <= 255:
        raise TacoValueError(f"quality index {header.quality} does not fit in one byte")
    head = b"".join([
        MAGIC,
        bytes([FORMAT_VERSION]),
        model_code(header.model_id),
        bytes([header.quality]),
        header.fingerprint,
        varint(header.height),
        varint(header.width),
        bytes([MODES.index(header.mode) | header.padding << _MODE_BITS]),
    ])
    payload = bytes(payload)
    most = max_file_bytes(len(head) + 4, header.height, header.width)
    if len(head) + 4 + len(payload) > most:  # unpack would refuse the file as corrupt
        raise TacoFormatError(
            f"the stream of model {header.model_id!r} exceeds the .taco format's "
            f"{MAX_PAYLOAD_BITS_PER_PIXEL} bits a pixel: {len(payload):,} bytes for a "
            f"{header.width}x{header.height} image (at most {most - len(head) - 4:,}); a model "
            "with fewer latent channels (M) would fit")
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + crc.to_bytes(4, "big") + payload


#: What a version, model code, mode code or padding scheme this taco does not know says of the file.
_NEWER = ": a file from a newer or forked taco"
#: A regular file over the decoder's cap is read into its checksum first (a bit flipped in its
#: height is a corrupt file, not a large one) when it is at most this long: a real file, as
#: large as its image, is megabytes; a longer one, most likely hostile, is refused from its
#: header, unread.
CHECKSUM_FIRST_BYTES = 64 << 20


@dataclass(frozen=True)
class _Head:
    """A parsed header before the checksum is checked (``model_id`` None: a code past the table;
    ``mode_index`` and ``padding`` as read, checked with the checksum)."""

    model_id: str | None
    code: int
    quality: int
    fingerprint: bytes
    height: int
    width: int
    mode_index: int
    padding: int
    version: int
    crc_at: int  # where the checksum starts
    crc: int
    header_bytes: int  # the checksum's end: where the payload starts


def _parse_head(data: bytes) -> _Head:
    """The header at the start of ``data`` (the whole file, or its first MAX_HEADER_BYTES):
    :class:`TacoFormatError` for anything malformed in it."""
    r = _Reader(data)
    if not data:
        raise TacoFormatError("not a .taco file (it is empty: 0 bytes)")
    if len(data) < len(MAGIC) and MAGIC.startswith(data):  # the file's first 1-3 bytes
        raise TacoFormatError(f"truncated .taco file: it ends inside the magic bytes "
                              f"(needs {len(MAGIC)} bytes, has {len(data)})")
    if data[: len(MAGIC)] != MAGIC:
        kind = other_file_kind(data[:MAX_HEADER_BYTES])  # the head a path or stream reader gives it
        raise TacoFormatError(f"not a .taco file: it is {kind}" if kind else "not a .taco file (wrong magic bytes)")
    r.pos = len(MAGIC)
    version = r.u8("format version")
    if version == 1:
        raise TacoFormatError(
            "this .taco file has format version 1 (an unreleased development version of taco), "
            f"which this taco does not read: re-encode the image (this taco writes version {FORMAT_VERSION})"
        )
    if version not in READABLE_VERSIONS:
        raise TacoFormatError(
            f"unsupported .taco format version {version}{_NEWER if version > FORMAT_VERSION else ''}; "
            "this taco reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    code = r.u8("model code")
    model_id: str | None = None  # None: a code past the table, said once the checksum holds
    if code == MODEL_NONE:
        model_id = ""
    elif code == MODEL_INLINE:
        id_len = r.u8("model id length")
        if not id_len:  # taco writes no id as code 0
            raise TacoFormatError("corrupt .taco file: an inline model id of 0 bytes")
        try:
            model_id = r.take(id_len, "model id").decode("utf-8")
        except UnicodeDecodeError:
            raise TacoFormatError("corrupt .taco file: model id is not valid UTF-8") from None
        if not model_id.isprintable():  # it is shown to people: no line breaks or escape codes
            raise TacoFormatError("corrupt .taco file: model id has unprintable characters") from None
    elif code <= len(BUILTIN_MODEL_IDS):
        model_id = BUILTIN_MODEL_IDS[code - 1]
    quality = r.u8("quality index") if version >= 3 else 0
    fingerprint = r.take(8, "model fingerprint")
    height = r.varint("image height", MAX_SIDE)
    width = r.varint("image width", MAX_SIDE)
    if height == 0 or width == 0:
        raise TacoFormatError(f"corrupt .taco file: image size {height}x{width}")
    packed = r.u8("image mode and padding")
    mode_index, padding = packed & ((1 << _MODE_BITS) - 1), packed >> _MODE_BITS
    crc_at = r.pos
    crc = int.from_bytes(r.take(4, "checksum"), "big")
    return _Head(model_id, code, quality, fingerprint, height, width, mode_index, padding, version,
                 crc_at, crc, r.pos)


def padded_size(height: int, width: int, padding: int = PAD_REPLICATE_64) -> tuple[int, int]:
    """(height, width) rounded up to multiples of the ``padding`` scheme's
    (:data:`PAD_MULTIPLES`: 64): the size coded."""
    multiple = PAD_MULTIPLES[padding]
    return -(-height // multiple) * multiple, -(-width // multiple) * multiple


def max_file_bytes(header_bytes: int, height: int, width: int) -> int:
    """The longest ``.taco`` file with a header of ``header_bytes`` for a ``height`` x ``width``
    image: :data:`MAX_PAYLOAD_BITS_PER_PIXEL` bits for every pixel of the image padded to
    multiples of 64 (:func:`padded_size`; 2 MiB for 512 x 512, ~290 MiB for the decoder's
    default cap of 38 M pixels)."""
    padded_height, padded_width = padded_size(height, width)
    return header_bytes + padded_height * padded_width * MAX_PAYLOAD_BITS_PER_PIXEL // 8


def _too_long(size: int | None, head: _Head) -> TacoFormatError:
    """The error for a file longer than its header allows (``size`` None: a stream, not read
    to its end)."""
    most = max_file_bytes(head.header_bytes, head.height, head.width)
    has = f"{size:,} bytes, more" if size is not None else "more bytes"
    return TacoFormatError(
        f"corrupt .taco file: {has} than a file of a {head.width}x{head.height} image can have "
        f"({most:,}: the header and {MAX_PAYLOAD_BITS_PER_PIXEL} bits a pixel): something was appended to it, "
        "or its header is corrupt"
    )


def _checked_header(head: _Head, crc: int) -> TacoHeader:
    """The header of a file parsed as ``head`` whose bytes but the checksum's give ``crc``; a
    :class:`TacoFormatError` for a checksum mismatch, then for a model code, mode code or padding
    scheme this taco does not know (an intact file from a newer or forked taco, not a corrupt one)."""
    if crc != head.crc:
        raise TacoFormatError(
            "corrupt or truncated .taco file: checksum mismatch (the file was altered, cut short "
            "or extended)"
        )
    if head.model_id is None:
        raise TacoFormatError(f"unknown built-in model code {head.code}{_NEWER}")
    if head.mode_index >= len(MODES):
        raise TacoFormatError(f"unknown image mode code {head.mode_index}{_NEWER}")
    if head.padding not in PAD_MULTIPLES:
        raise TacoFormatError(f"unknown padding scheme {head.padding}{_NEWER}")
    return TacoHeader(head.model_id, head.fingerprint, head.height, head.width,
                      MODES[head.mode_index], head.padding, head.version, head.quality)


def _check_cap(head: _Head, max_pixels: int | None, no_cap: str) -> None:
    """The decoder's cap (:func:`taco.memory.decode_cap_problem`) on the image ``head`` declares,
    as a :class:`TacoFormatError`: checked once the checksum holds (a bit flipped in the height
    or width is a corrupt file, not a large one)."""
    too_big = decode_cap_problem(head.width, head.height, max_pixels, no_cap)
    if too_big:
        raise TacoFormatError(too_big)


def _parse_bytes(data: bytes, max_pixels: int | None, no_cap: str) -> tuple[_Head, TacoHeader]:
    """The header of the whole file ``data`` and the header its checksum confirms; its length
    bound checked first, the cap last."""
    head = _parse_head(data)
    if len(data) > max_file_bytes(head.header_bytes, head.height, head.width):
        raise _too_long(len(data), head)
    view = memoryview(data)  # no copy of the payload for its checksum
    header = _checked_header(head, zlib.crc32(view[head.header_bytes:], zlib.crc32(view[:head.crc_at])))
    _check_cap(head, max_pixels, no_cap)
    return head, header


def unpack(data: bytes) -> TacoFile:
    """Parse ``.taco`` bytes. Raises :class:`TacoFormatError` on anything malformed, a file longer
    than its image size allows (:func:`max_file_bytes`) included."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    head, header = _parse_bytes(data, None, "")
    return TacoFile(header, data[head.header_bytes:], head.header_bytes, head.crc)


def _open_stream(stream: IO[bytes], max_pixels: int | None,
                 no_cap: str) -> tuple[bytes, _Head, Iterator[bytes]]:
    """The header bytes of the ``.taco`` file ``stream`` holds from where it stands (read first,
    with at most :data:`MAX_HEADER_BYTES` in all), the header they hold, and the payload as it is
    read (:func:`_payload`). Refused before the payload is read: a regular file longer than the
    bound the header sets (:func:`max_file_bytes`; its size from the file system). An image over
    ``max_pixels`` (None: no cap) is refused before the payload is kept: the rest of a regular
    file of at most :data:`CHECKSUM_FIRST_BYTES` is read first, piece by piece into the checksum
    and not kept, so that a corrupt file (a bit flipped in its height) is refused as corrupt, not
    as too large, as bytes are; a longer file or any other stream (a pipe, a ``BytesIO``) is
    refused from its header, unread (the checksum covers the payload too: a pipe would be
    drained up to the bound)."""
    start = read_file_object(stream, "a .taco file", TacoFormatError, limit=MAX_HEADER_BYTES)
    head = _parse_head(start)
    most = max_file_bytes(head.header_bytes, head.height, head.width)
    try:  # a regular file says its size: its extra bytes are refused unread
        st = os.fstat(stream.fileno())
        size = st.st_size - stream.tell() + len(start) if stat.S_ISREG(st.st_mode) else None
    except (AttributeError, OSError, ValueError):  # a BytesIO, a pipe: read one byte past the bound
        size = None
    if size is not None and size > most:
        raise _too_long(size, head)
    # one byte past the bound, or past a regular file's size if less (a 126-byte file declaring
    # 32768x32768 is not asked for its 8 GiB bound)
    left = max(0, (most if size is None else min(most, size)) + 1 - len(start))
    payload = _payload(stream, start[head.header_bytes:], left, head)
    if (size is not None and size <= CHECKSUM_FIRST_BYTES
            and decode_cap_problem(head.width, head.height, max_pixels, no_cap)):
        crc = zlib.crc32(start[:head.crc_at])
        for part in payload:  # the checksum before the cap, as for bytes: nothing kept
            crc = zlib.crc32(part, crc)
        _checked_header(head, crc)
    _check_cap(head, max_pixels, no_cap)
    return start[:head.header_bytes], head, payload


def _payload(stream: IO[bytes], first: bytes, left: int, head: _Head) -> Iterator[bytes]:
    """The payload of a file of header ``head``: ``first`` (read with the header), then up to
    ``left`` more bytes of ``stream`` as they are read, in pieces of at most
    :data:`taco.fileobjects.READ_PIECE_BYTES`, so memory follows what is kept of them. Past the
    last piece, a file longer than its header allows is a :class:`TacoFormatError`."""
    total = head.header_bytes + len(first)
    yield first
    while left > 0:
        part = read_at_most(stream, min(left, READ_PIECE_BYTES), "a .taco file")
        if not part:
            break
        left -= len(part)
        total += len(part)
        yield part
    if total > max_file_bytes(head.header_bytes, head.height, head.width):
        raise _too_long(None, head)


def _joined(pieces: Iterable[bytes]) -> bytes:
    """``pieces`` in one buffer that grows in place (``getvalue()`` hands over its bytes without a
    copy; ``b"".join`` would hold every piece and the whole at once)."""
    buffer = io.BytesIO()
    for part in pieces:
        buffer.write(part)
    return buffer.getvalue()


def _read_stream(stream: IO[bytes], max_pixels: int | None, no_cap: str) -> TacoFile:
    """The :class:`TacoFile` of ``stream`` (:func:`_open_stream`): the payload read into one
    buffer, its checksum computed there."""
    header_bytes, head, payload = _open_stream(stream, max_pixels, no_cap)
    data = _joined(payload)
    header = _checked_header(head, zlib.crc32(data, zlib.crc32(header_bytes[:head.crc_at])))
    return TacoFile(header, data, head.header_bytes, head.crc)


def _summarize_stream(stream: IO[bytes], max_pixels: int | None, no_cap: str) -> TacoSummary:
    """The :class:`TacoSummary` of ``stream`` (:func:`_open_stream`): its checksum computed
    piece by piece, nothing kept."""
    header_bytes, head, payload = _open_stream(stream, max_pixels, no_cap)
    crc, payload_bytes = zlib.crc32(header_bytes[:head.crc_at]), 0
    for part in payload:
        crc = zlib.crc32(part, crc)
        payload_bytes += len(part)
    return TacoSummary(_checked_header(head, crc), head.header_bytes, payload_bytes, head.crc)


def read_taco_stream(stream: IO[bytes], *, max_pixels: int | None = None,
                     no_cap: str = NO_CAP_HINT) -> bytes:
    """The bytes of a ``.taco`` file from a binary ``stream`` (an open file, a pipe, standard
    input), from where it stands, read within the bound its header sets: the header first (at
    most :data:`MAX_HEADER_BYTES`), then at most :func:`max_file_bytes` in all. A longer file is
    a :class:`TacoFormatError`: a regular file's size is taken from the file system before the
    rest is read (then read to one byte past that size at most), any other stream is read one
    byte past the bound; both in pieces of :data:`taco.fileobjects.READ_PIECE_BYTES` into one
    buffer, so memory follows the bytes read, not the bound. An image over ``max_pixels`` (the
    decoder's cap, :func:`taco.memory.decode_cap_problem`; ``no_cap`` says how to lift it) is
    refused before the rest is kept: a regular file's of at most :data:`CHECKSUM_FIRST_BYTES`
    once the rest, read piece by piece into the checksum, shows the file intact (a corrupt one is
    refused as :func:`unpack` refuses it), a longer one's or any other stream's from its header,
    unread. A malformed header is the error :func:`unpack`
    gives for it; the checksum of a file within the cap is not checked here (:func:`unpack`
    does)."""
    header_bytes, _, payload = _open_stream(stream, max_pixels, no_cap)
    return _joined(itertools.chain((header_bytes,), payload))


#: What :func:`info` (and :func:`taco.decompress`) take: the bytes of a ``.taco`` file, its path,
#: or a binary file object (``IO[bytes]``: ``open(path, "rb")``, ``io.BytesIO``, what
#: ``zipfile.ZipFile.open``, ``tarfile`` and ``subprocess`` give, a ``SpooledTemporaryFile``).
TacoLike = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes]

_T = TypeVar("_T")


def _not_found(shown: str, reason: str) -> TacoFileNotFound:
    """A missing ``.taco`` path refused by :func:`taco.fileobjects.checked_path` (a ``str`` of
    base64 data naming no file): a :class:`TacoFileNotFound`, as any missing file is."""
    return TacoFileNotFound(shown, reason, errno.ENOENT, os.strerror(errno.ENOENT))


def _from_source(data: str | os.PathLike[str] | IO[bytes], read: Callable[[IO[bytes]], _T]) -> _T:
    """``read`` of the file at path ``data`` (a path that cannot be read is a
    :class:`TacoFileUnreadable` naming it, a missing one a :class:`TacoFileNotFound`) or of the
    binary file object ``data``."""
    if isinstance(data, str | os.PathLike):
        path = checked_path(data, TacoFileUnreadable, not_found=_not_found)
        try:
            with path.open("rb") as f:
                return read(f)
        except FileNotFoundError as e:
            raise TacoFileNotFound(path, "file not found", e.errno, e.strerror) from None
        except IsADirectoryError as e:
            raise TacoFileUnreadable(path, "is a directory, not a file", e.errno, e.strerror) from None
        except OSError as e:
            raise TacoFileUnreadable(path, e.strerror or str(e), e.errno, e.strerror) from e
    if not is_file_object(data):
        raise TypeError(f"expected the bytes of a .taco file, its path or a binary file object, "
                        f"not {type(data).__name__}")
    return read(data)  # open(path, "rb"), io.BytesIO, a pipe


def taco_bytes(data: TacoLike) -> bytes:
    """The bytes of a ``.taco`` file given as bytes, as its path or as a binary file object (from
    where it stands); a path or a file object is read within the bound its header sets
    (:func:`read_taco_stream`: a longer file is a :class:`TacoFormatError`, its extra bytes
    unread). A path that cannot be read is a :class:`TacoFileUnreadable` naming it (a
    :class:`TacoFormatError` and an ``OSError``), an empty one or one with a null byte too
    (:func:`taco.fileobjects.checked_path`)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return _from_source(data, read_taco_stream)


def load_taco(data: TacoLike, *, max_pixels: int | None = None,
              no_cap: str = NO_CAP_HINT) -> TacoFile:
    """The :class:`TacoFile` of a ``.taco`` file given as bytes, as its path or as a binary file
    object (read from where it stands), checked as :func:`unpack` checks it. A path or a file
    object is read header first: a file longer than its header allows (a regular file by its
    size, unread) is refused before the payload is read, and an image over ``max_pixels`` (the
    decoder's cap, None: none; ``no_cap`` ends the message with how to lift it) before it is
    kept (the checksum of a regular file of at most :data:`CHECKSUM_FIRST_BYTES` checked first,
    so a corrupt one is refused as corrupt, as bytes are; a longer one's or a pipe's not:
    :func:`read_taco_stream`); the payload is read into one buffer of
    its own: memory follows the file's bytes, within what its header
    allows (``taco.decompress``). A path that cannot be read: as :func:`taco_bytes` says."""
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        head, header = _parse_bytes(data, max_pixels, no_cap)
        return TacoFile(header, data[head.header_bytes:], head.header_bytes, head.crc)
    return _from_source(data, lambda stream: _read_stream(stream, max_pixels, no_cap))


def load_payload(data: TacoLike, *, max_pixels: int | None = None,
                 no_cap: str = NO_CAP_HINT) -> tuple[TacoHeader, memoryview]:
    """What the decoder reads of a ``.taco`` file: the header of :func:`load_taco`, with the same
    checks, and a read-only view of the payload instead of a copy, so that the decoder holds the
    file's bytes once (a file at the decoder's cap may be 92 MiB for the built-in models;
    docs/reliability.md). Bytes given are viewed where they are (a ``bytearray`` or a
    ``memoryview`` is copied once, as :func:`load_taco` copies it); a path or a file object is
    read into one buffer that only the view holds."""
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        head, header = _parse_bytes(data, max_pixels, no_cap)
        return header, memoryview(data)[head.header_bytes:]
    f = _from_source(data, lambda stream: _read_stream(stream, max_pixels, no_cap))
    return f.header, memoryview(f.payload)


def summarize(data: TacoLike, *, max_pixels: int | None = None,
              no_cap: str = NO_CAP_HINT) -> TacoSummary:
    """What :func:`load_taco` checks of a ``.taco`` file, without keeping its payload: a path or
    a file object is read piece by piece (:data:`taco.fileobjects.READ_PIECE_BYTES`) into the
    checksum, so memory stays flat whatever the file's size (``taco info``)."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        head, header = _parse_bytes(raw, max_pixels, no_cap)
        return TacoSummary(header, head.header_bytes, len(raw) - head.header_bytes, head.crc)
    return _from_source(data, lambda stream: _summarize_stream(stream, max_pixels, no_cap))


def info(data: TacoLike) -> TacoFile:
    """What a ``.taco`` file (its bytes, its path, or a binary file object, read from where it
    stands within the size its header allows) says, without decoding it: a :class:`TacoFile`
    (``taco.TacoFile``) with ``.header`` (model, fingerprint, quality, size, original mode,
    padding), ``.crc32``, ``.total_bytes``, ``.bpp``.
    Needs no model and no torch. A path that cannot be read, a malformed header or a checksum
    mismatch raises :class:`TacoFormatError`; the stream is not read, so a file that passes may still fail to
    decode (another model, a quality it lacks, a stream altered behind a recomputed checksum).
    The payload is read into one buffer of its own (:func:`load_taco`); :func:`summarize` keeps
    none of it."""
    return load_taco(data)
