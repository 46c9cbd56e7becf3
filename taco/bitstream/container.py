"""The ``.taco`` container: a small header, then the entropy-coded strings.

Layout (all integers unsigned; "varint" = LEB128, at most 5 bytes)::

    magic        4 bytes   b"TACO"
    version      1 byte    FORMAT_VERSION
    model id     1 byte length + UTF-8 (registry name, e.g. "taco-minilm-q1"; may be empty)
    fingerprint  8 bytes   SHA-256[:8] of the model config and weights (taco.models.model_fingerprint)
    height       varint    original image height, 1..MAX_SIDE
    width        varint    original image width, 1..MAX_SIDE
    mode         1 byte    original PIL mode (index into MODES)
    padding      1 byte    padding scheme; 1 = replicate to a multiple of 64, bottom/right
    n strings    1 byte    number of entropy-coded strings
    lengths      n varints byte length of each string
    crc32        4 bytes   CRC-32 (big endian) of the payload
    payload      the strings, concatenated

Every parse failure raises :class:`TacoFormatError` with a message meant for a person.
Declared sizes are capped (:data:`MAX_SIDE`) before anything is allocated from them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

MAGIC = b"TACO"
FORMAT_VERSION = 1
#: Largest image side a .taco file may declare (pixels). Caps allocations driven by the header.
MAX_SIDE = 1 << 15
PAD_REPLICATE_64 = 1
#: PIL modes an original image may have had; decoded images are restored to these where sensible.
MODES = ("RGB", "L", "LA", "RGBA", "P", "PA", "I;16", "I;16B", "I;16L", "I;16N", "I", "F", "1", "CMYK",
         "YCbCr", "LAB", "HSV", "RGBX", "La", "RGBa")
_MAX_STRINGS = 255


class TacoFormatError(ValueError):
    """A ``.taco`` file is malformed, truncated, corrupted, or made for another model."""


@dataclass(frozen=True)
class TacoHeader:
    model_id: str
    fingerprint: bytes
    height: int
    width: int
    mode: str
    padding: int = PAD_REPLICATE_64
    version: int = FORMAT_VERSION


@dataclass(frozen=True)
class TacoFile:
    header: TacoHeader
    strings: list[bytes]
    header_bytes: int

    @property
    def payload_bytes(self) -> int:
        return sum(len(s) for s in self.strings)


def _varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


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
                if value > limit:
                    raise TacoFormatError(f"corrupt .taco file: {what} {value} exceeds {limit}")
                return value
            shift += 7
        raise TacoFormatError(f"corrupt .taco file: {what} is not a valid varint")


def pack(header: TacoHeader, strings: list[bytes]) -> bytes:
    """Serialise a header and the entropy-coded strings into ``.taco`` bytes."""
    model_id = header.model_id.encode("utf-8")
    if len(model_id) > 255:
        raise ValueError("model id longer than 255 bytes")
    if len(header.fingerprint) != 8:
        raise ValueError("fingerprint must be 8 bytes")
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise ValueError(f"image sides must be in 1..{MAX_SIDE}, got {header.height}x{header.width}")
    if header.mode not in MODES:
        raise ValueError(f"unsupported original mode {header.mode!r}")
    if len(strings) > _MAX_STRINGS:
        raise ValueError("too many strings")
    payload = b"".join(strings)
    parts = [
        MAGIC,
        bytes([FORMAT_VERSION, len(model_id)]),
        model_id,
        header.fingerprint,
        _varint(header.height),
        _varint(header.width),
        bytes([MODES.index(header.mode), header.padding, len(strings)]),
        *(_varint(len(s)) for s in strings),
        zlib.crc32(payload).to_bytes(4, "big"),
        payload,
    ]
    return b"".join(parts)


def unpack(data: bytes) -> TacoFile:
    """Parse ``.taco`` bytes. Raises :class:`TacoFormatError` on anything malformed."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    r = _Reader(data)
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise TacoFormatError("not a .taco file (wrong magic bytes)")
    r.pos = len(MAGIC)
    version = r.u8("format version")
    if version != FORMAT_VERSION:
        raise TacoFormatError(
            f"unsupported .taco format version {version}; this taco reads version {FORMAT_VERSION}"
        )
    id_len = r.u8("model id length")
    try:
        model_id = r.take(id_len, "model id").decode("utf-8")
    except UnicodeDecodeError:
        raise TacoFormatError("corrupt .taco file: model id is not valid UTF-8") from None
    fingerprint = r.take(8, "model fingerprint")
    height = r.varint("image height", MAX_SIDE)
    width = r.varint("image width", MAX_SIDE)
    if height == 0 or width == 0:
        raise TacoFormatError(f"corrupt .taco file: image size {height}x{width}")
    mode_index = r.u8("image mode")
    if mode_index >= len(MODES):
        raise TacoFormatError(f"corrupt .taco file: unknown image mode code {mode_index}")
    padding = r.u8("padding scheme")
    if padding != PAD_REPLICATE_64:
        raise TacoFormatError(f"corrupt .taco file: unknown padding scheme {padding}")
    n = r.u8("string count")
    lengths = [r.varint(f"length of string {i}", len(data)) for i in range(n)]
    crc = int.from_bytes(r.take(4, "payload checksum"), "big")
    header_bytes = r.pos
    payload_len = len(data) - header_bytes
    if sum(lengths) != payload_len:
        raise TacoFormatError(
            f"corrupt or truncated .taco file: the header declares {sum(lengths)} payload bytes, "
            f"the file holds {payload_len}"
        )
    payload = data[header_bytes:]
    if zlib.crc32(payload) != crc:
        raise TacoFormatError("corrupt .taco file: payload checksum mismatch (the data was altered)")
    strings, pos = [], 0
    for length in lengths:
        strings.append(payload[pos : pos + length])
        pos += length
    header = TacoHeader(model_id, fingerprint, height, width, MODES[mode_index], padding, version)
    return TacoFile(header, strings, header_bytes)
