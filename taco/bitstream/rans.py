"""One chunked rANS stream per image: CompressAI's coder, the tables it takes, and the bounds
that make decoding an untrusted stream safe in memory and time.

:class:`StreamEncoder` appends every coded part of an image (z, then each checkerboard pass of
each channel group, in decoding order) to the image's stream; :class:`StreamDecoder` reads them
back. The stream (``.taco`` format version 3) is a sequence of **chunks**, each an independent
rANS string (``compressai.ans.BufferedRansEncoder``) of :data:`CHUNK_SYMBOLS` symbols, the last
one of the rest::

    stream = chunk_0 ... chunk_{n-1},   n = ceil(S / CHUNK_SYMBOLS)
    chunk_i (i < n - 1) = varint(len(string_i) / 4) + string_i,   chunk_{n-1} = string_{n-1}

where S, the symbols of the whole image, follows from the declared image size. A rANS string
starts with the encoder's final 64-bit state (the decoder's initial one: two 32-bit words, low
word first), then the words the decoder reads, in order, all in the host's byte order
(little-endian on every machine taco runs on). The stream proves the size it declares before
anything is allocated for it: ``n`` chunks need at least ``9 n - 1`` bytes (a string is >= 8
bytes), and the decoder walks the chunk lengths first (:func:`split_stream`), refusing a chunk
longer than the encoder writes for its symbols (:func:`max_string_bytes`: 426 KB for
``CHUNK_SYMBOLS``). CompressAI's C++ decoder trusts its input, so each chunk must pass
:func:`check_rans_string` and is padded with :func:`rans_overread_bound` zero bytes for *its*
symbols -- at most 9.2 MB + 16 x 426 KB = 16 MB -- when decoding reaches it
(docs/reliability.md); once decoded, it must be exactly what the encoder writes for its symbols
(:func:`check_chunk`: no byte left unread). A version-2 payload (one string for the whole
stream) is decoded as an :class:`UnchunkedStream`, up to :data:`MAX_UNCHUNKED_SYMBOLS`.

The latent-codec drivers that produce the symbols and CDF indexes live in
:mod:`taco.models.fast_codec`.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from compressai import ans
from compressai.entropy_models import EntropyModel
from torch import Tensor

from ..errors import TacoError
from ..tensor_marks import Marks, tensor_marks, unchanged
from .container import TacoFormatError, varint

__all__ = [
    "BoundedRansCoder",
    "CHUNK_SYMBOLS",
    "MAX_UNCHUNKED_SYMBOLS",
    "StreamDecoder",
    "StreamEncoder",
    "SymbolRangeError",
    "UnchunkedStream",
    "bounded_string",
    "check_chunk",
    "check_rans_string",
    "check_string_length",
    "coder_tables",
    "guard_entropy_coders",
    "join_stream",
    "max_string_bytes",
    "num_chunks",
    "rans_overread_bound",
    "split_stream",
]

#: Symbols per rANS chunk of a format-3 stream (all chunks but the last). Decoding a chunk pads
#: it with rans_overread_bound(CHUNK_SYMBOLS, len) = 9.2 MB + 16 x len of zeros, len <=
#: max_string_bytes(CHUNK_SYMBOLS) = 426 KB: at most 16 MB. Changing it changes the format (a new
#: version).
CHUNK_SYMBOLS = 1 << 16
#: Most symbols an :class:`UnchunkedStream` (a version-2 payload: one rANS string) may hold:
#: its guard padding is then at most 147 MB + 16 x its length (at most 6.8 MB,
#: max_string_bytes): 256 MB, up to three times over for a moment while the bindings copy it
#: (docs/reliability.md).
MAX_UNCHUNKED_SYMBOLS = 1 << 20
#: The largest symbol magnitude the encoder takes. CompressAI's encoder codes a value v (the
#: symbol less its table's offset) beyond the table as an escape of raw value 2 (v - max) or
#: -2 v - 1 (int32), in 4-bit groups it counts with ``raw >> 4 n != 0``: from raw >= 2**28 the
#: shift reaches 32 bits (undefined in C++, masked to 0 on x86) and the count never ends, so the
#: encoder loops for ever from |v| ~ 2**27 (measured: 2**27 + 1 does, 2**27 ends), and on a NaN
#: latent cast to int (-2**31: raw overflows to -1). Real latents are within a few hundred.
MAX_SYMBOL = 1 << 24
#: Fewest symbols of a rANS string CompressAI's encoder can end safely. It writes a string into
#: a buffer of one 32-bit word per coded entry (symbol or 4-bit bypass group); E entries emit
#: at most E/2 + 1 words and the final state 2 more, which overruns the buffer (heap corruption)
#: below 6 entries. A chunk holds a multiple of 16 M + N symbols (y at H/16, z at H/64), so only
#: a model whose N is not a multiple of 8 can end one this short: :class:`StreamEncoder` refuses
#: to, instead of calling the encoder.
MIN_STRING_SYMBOLS = 6
#: Fewest symbols of a chunk that :func:`check_chunk` re-encodes (above the encoder's limit).
MIN_REENCODED_SYMBOLS = 8
#: Most bits CompressAI's rANS encoder writes for one symbol, whatever its tables: the symbol at
#: 16-bit precision (at most 16 bits, for a frequency of 1), and for an escape (bypass mode) its
#: raw value -- an int32 >= 0, so at most 8 groups of 4 bits -- and 1 group counting those (a
#: count under 15 takes one). taco's symbols (|s| <= MAX_SYMBOL, raw value < 2**28) take at most
#: 7 value groups, 48 bits (the container's MAX_PAYLOAD_BITS_PER_PIXEL rests on that); the 4
#: more keep :func:`max_string_bytes` true for any table.
MAX_SYMBOL_BITS = 16 + 4 * (8 + 1)


# --------------------------------------------------------------------------- coder tables


@dataclass(frozen=True)
class CoderTables:
    """An entropy model's coder tables as the Python lists the rANS bindings take."""

    #: the marks of the buffers they were made from (taco.tensor_marks); None when one is an
    #: inference tensor, and then ``copies`` holds a copy of each buffer (else it is empty)
    marks: Marks | None
    copies: tuple[Tensor, ...]
    cdfs: list[list[int]]
    lengths: list[int]
    offsets: list[int]


_TABLES: weakref.WeakKeyDictionary[EntropyModel, CoderTables] = weakref.WeakKeyDictionary()


def coder_tables(em: EntropyModel) -> CoderTables:
    """The coder tables of ``em``, converted to lists once and reused while its buffers are.

    A buffer replaced (``update(force=True)``, ``.to(device)``), written in place
    (``load_state_dict``) or resized rebuilds them (:func:`taco.tensor_marks.unchanged`). A
    buffer made under ``torch.inference_mode`` (an inference tensor) keeps no version counter,
    and inside inference mode it can be written in place unseen: the buffers' contents are
    compared instead, with a copy kept in the cache (elic-small-q4's tables: 0.6 ms to compare,
    7 ms to convert).
    """
    sources = (em._quantized_cdf, em._cdf_length, em._offset)
    cached = _TABLES.get(em)
    if cached is not None and _made_from(cached, sources):
        return cached
    cdf, length, offset = sources
    if cdf.numel() == 0 or length.numel() == 0 or offset.numel() == 0:
        raise ValueError("uninitialised entropy-coder tables: run model.update() first")
    lengths = length.reshape(-1).int().tolist()
    rows = cdf.tolist()
    marks = tensor_marks(sources)
    tables = CoderTables(
        marks=marks,
        copies=() if marks is not None else tuple(t.detach().clone() for t in sources),
        cdfs=[row[:n] for row, n in zip(rows, lengths, strict=True)],
        lengths=lengths,
        offsets=offset.reshape(-1).int().tolist(),
    )
    _TABLES[em] = tables
    return tables


def _made_from(cached: CoderTables, sources: tuple[Tensor, ...]) -> bool:
    """Whether ``cached`` was made from ``sources`` as they are now: the very tensors unchanged
    since, or while one is an inference tensor, buffers of the same dtype, device and values."""
    if cached.marks is not None:
        return unchanged(cached.marks, sources)
    return any(t.is_inference() for t in sources) and all(
        c.dtype == t.dtype and c.device == t.device and torch.equal(c, t)
        for c, t in zip(cached.copies, sources, strict=True))


# --------------------------------------------------------------------------- one rANS string


def check_rans_string(string: bytes | memoryview) -> None:
    """Raise :class:`TacoFormatError` unless ``string`` can be a CompressAI rANS string."""
    n = len(string)
    if n < 8 or n % 4:
        raise TacoFormatError(
            f"corrupt .taco file: an entropy-coded string of {n} bytes (rANS strings are "
            "multiples of 4 bytes, at least 8)"
        )
    # Rans64DecInit: the state is two native-endian 32-bit words, low word first.
    state = int.from_bytes(string[:4], sys.byteorder) | int.from_bytes(string[4:8], sys.byteorder) << 32
    if not (1 << 31) <= state < (1 << 63):
        raise TacoFormatError("corrupt .taco file: an entropy-coded string starts with an invalid rANS state")


def rans_overread_bound(num_symbols: int, num_bytes: int) -> int:
    """Most bytes the rANS decoder can read past the end of a string that passed
    :func:`check_rans_string`, decoding ``num_symbols`` symbols (derivation: docs/reliability.md).

    From a state >= 2^31 it stays >= 2^31; each 32-bit refill adds 32 bits and a symbol removes
    at most 16, a 4-bit bypass read 4, so refills <= 1.04 + S/2 + G/8 over G bypass reads; with
    zero padding G <= 272 S + 128 W (W = num_bytes / 4), hence <= 3.04 + 34.5 S + 15 W words.
    The bound holds for any split of the S symbols over ``RansDecoder.decode_stream`` calls after
    one ``set_stream``: they run the loop of ``decode_with_indexes`` on the same state and pointer.
    """
    return 4 * (4 + 35 * num_symbols) + 16 * num_bytes


def max_string_bytes(num_symbols: int) -> int:
    """The longest rANS string CompressAI's encoder writes for ``num_symbols`` symbols (any
    tables): ``4 floor(MAX_SYMBOL_BITS S / 32) + 8`` bytes, 6.5 bytes a symbol (derivation:
    docs/reliability.md).

    Let b be the bit length of the encoder's 64-bit state x: it starts at 2^31 (b = 32) and ends
    >= 2^31 (b >= 32). Writing a 32-bit word (x >>= 32) lowers b by exactly 32; coding a symbol
    of frequency f at 16-bit precision gives x' <= 2^16 floor(x / f) + 2^16 - 1 < 2^16 (x + 1),
    so b rises by at most 16; a 4-bit bypass group by exactly 4. So 32 x the words written is at
    most the bits the symbols add, <= MAX_SYMBOL_BITS each, and the final state adds 8 bytes.
    Reached: S escapes of 7 value groups (frequency 1) give 4 floor(48 S / 32) + 8 bytes.
    """
    return 4 * (num_symbols * MAX_SYMBOL_BITS // 32) + 8


def check_string_length(num_bytes: int, num_symbols: int, what: str) -> None:
    """Raise :class:`TacoFormatError` if ``what`` (a rANS string of ``num_bytes`` bytes holding
    ``num_symbols`` symbols) is longer than the encoder writes for them (:func:`max_string_bytes`):
    decoding it would pad it with 16 zero bytes for every byte (:func:`rans_overread_bound`)."""
    most = max_string_bytes(num_symbols)
    if num_bytes > most:
        raise TacoFormatError(
            f"corrupt .taco file: {what} is {num_bytes:,} bytes, longer than the {most:,} "
            f"CompressAI's rANS encoder writes for its {num_symbols:,} symbols (at most "
            f"{MAX_SYMBOL_BITS} bits a symbol and the 8-byte final state)"
        )


def bounded_string(string: bytes | memoryview, num_symbols: int) -> bytes:
    """``string`` made safe for CompressAI's rANS decoder to decode ``num_symbols`` symbols from:
    checked (:func:`check_rans_string`, :func:`check_string_length`) and padded with
    :func:`rans_overread_bound` zero bytes (``ljust``; a view is copied first: one chunk)."""
    check_rans_string(string)
    check_string_length(len(string), num_symbols, "an entropy-coded string")
    string = bytes(string)
    return string.ljust(len(string) + rans_overread_bound(num_symbols, len(string)), b"\0")


class BoundedRansCoder:
    """CompressAI's rANS coder with the input checks its C++ decoder lacks, for CompressAI's own
    ``compress``/``decompress`` methods of an entropy model (taco's streams are decoded by
    :class:`StreamDecoder`, which checks them itself).

    ``compressai.ans.RansDecoder`` (ryg_rans: 64-bit state, 32-bit words) trusts its input: it
    reads an 8-byte initial state even from an empty string, and on a corrupt string it keeps
    reading words past the end of the buffer, up to one per symbol (a 100-byte file declaring
    1024x1024 made it crash with SIGSEGV). Before a string reaches it, it goes through
    :func:`bounded_string`: checked for what every string the encoder writes satisfies -- at
    least 8 bytes, a multiple of 4, an initial state in [2^31, 2^63) -- and padded with zero
    bytes beyond the most the decoder can read from such a state (:func:`rans_overread_bound`).
    A valid string is read exactly to its end, so the padding never changes what it decodes to.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name  # EntropyModel pickles its coder by name

    def encode_with_indexes(self, *args: Any, **kwargs: Any) -> bytes:
        return self._inner.encode_with_indexes(*args, **kwargs)

    def decode_with_indexes(
        self, string: bytes | memoryview, indexes: list[int], cdfs: list[list[int]],
        cdf_lengths: list[int],
        offsets: list[int],
    ) -> list[int]:
        return self._inner.decode_with_indexes(
            bounded_string(string, len(indexes)), indexes, cdfs, cdf_lengths, offsets)


def guard_entropy_coders(module: torch.nn.Module) -> torch.nn.Module:
    """Route every entropy model in ``module`` through :class:`BoundedRansCoder` (in place)."""
    for m in module.modules():
        if isinstance(m, EntropyModel) and not isinstance(m.entropy_coder, BoundedRansCoder):
            m.entropy_coder = BoundedRansCoder(m.entropy_coder)
    return module


def check_chunk(chunk: bytes | memoryview, parts: Sequence[tuple[list[int], list[int], CoderTables]],
                where: str) -> None:
    """Raise :class:`TacoFormatError` unless ``chunk`` is exactly the rANS string CompressAI's
    encoder writes for the symbols it was decoded to (``parts``: the symbols, CDF indexes and
    tables of each decoding call on it, in order).

    The decoder reads a string forward from its start and does not say how far it got, so bytes
    it never reads -- appended to the file, or inside a chunk longer than its symbols need --
    would change nothing and be accepted, and a chunk cut short would be decoded from the guard
    padding after it. The encoder is deterministic and the decoder its exact inverse on what the
    encoder writes, so re-encoding the decoded symbols gives back every byte of a chunk taco wrote
    (about 1 % of decoding time). Such a chunk also ends where the encoder began (state 2^31),
    which a decoder with other tables than the encoder's (desynchronised) almost never does: it
    is refused here instead of making a wrong picture. Chunks of fewer than
    :data:`MIN_REENCODED_SYMBOLS` symbols are not re-encoded.
    """
    if sum(len(values) for values, _, _ in parts) < MIN_REENCODED_SYMBOLS:
        return
    enc = ans.BufferedRansEncoder()
    for values, indexes, t in parts:
        enc.encode_with_indexes(values, indexes, t.cdfs, t.lengths, t.offsets)
    if enc.flush() != chunk:
        raise TacoFormatError(
            f"corrupt .taco file: {where} is not what the encoder writes for the symbols it "
            "decodes to: it holds bytes the decoder does not read (data appended to the file) or "
            "lacks bytes the decoder reads (the file cut short), or it was altered behind a "
            "recomputed checksum, or the model computes other tables "
            "here than where the file was made"
        )


# --------------------------------------------------------------------------- chunk framing


def num_chunks(num_symbols: int) -> int:
    """Chunks of a format-3 stream holding ``num_symbols`` symbols (at least one)."""
    return max(1, -(-num_symbols // CHUNK_SYMBOLS))


def join_stream(strings: Sequence[bytes]) -> bytes:
    """Frame rANS strings (one per chunk, in order) as one format-3 stream: each string but the
    last preceded by its length in 32-bit words (LEB128 varint)."""
    if not strings:
        raise ValueError("a stream has at least one chunk")
    out = []
    for s in strings[:-1]:
        if len(s) % 4:
            raise ValueError("rANS strings are whole 32-bit words")
        out += [varint(len(s) // 4), bytes(s)]
    out.append(bytes(strings[-1]))
    return b"".join(out)


def split_stream(stream: bytes | memoryview, num_symbols: int) -> list[memoryview]:
    """The rANS strings of a format-3 stream that holds ``num_symbols`` symbols, each checked
    (:func:`check_rans_string`, and no longer than the encoder writes for its symbols:
    :func:`check_string_length`); :class:`TacoFormatError` if the stream cannot hold them.

    Walks the chunk lengths only (no decoding; views of the stream, no copy of it: the decoder
    holds a file's payload once, docs/reliability.md): a file that declares more than it carries,
    or a chunk longer than its symbols can take, fails here, in time linear in its size.
    """
    n = num_chunks(num_symbols)
    view = memoryview(stream)
    if n > 1 and len(view) < 9 * n - 1:
        raise TacoFormatError(
            f"corrupt .taco file: its image size needs {num_symbols:,} coded symbols in {n:,} rANS "
            f"chunks (of {CHUNK_SYMBOLS:,}), at least {9 * n - 1:,} bytes; the "
            f"stream has {len(view):,}"
        )
    chunks, pos = [], 0
    for i in range(n - 1):
        words, shift = 0, 0
        for k in range(5):
            if pos >= len(view):
                raise TacoFormatError(f"truncated .taco file: the stream ends inside the length of "
                                      f"chunk {i + 1} of {n:,}")
            b = view[pos]
            pos += 1
            words |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b == 0 and k:  # a final zero byte adds nothing: join_stream never writes one
                    raise TacoFormatError(f"corrupt .taco file: the length of chunk {i + 1} is a "
                                          "varint with a redundant zero byte")
                break
            if k == 4:
                raise TacoFormatError(f"corrupt .taco file: the length of chunk {i + 1} is not a "
                                      "valid varint")
        check_string_length(4 * words, CHUNK_SYMBOLS, f"rANS chunk {i + 1} of {n:,}")
        end = pos + 4 * words
        if end > len(view):
            raise TacoFormatError(
                f"truncated .taco file: chunk {i + 1} of {n:,} needs {4 * words:,} bytes, "
                f"{len(view) - pos:,} are left"
            )
        chunks.append(view[pos:end])
        pos = end
    chunks.append(view[pos:])
    last = num_symbols - CHUNK_SYMBOLS * (n - 1)
    check_string_length(len(chunks[-1]), last, f"rANS chunk {n:,} of {n:,}")
    for c in chunks:
        check_rans_string(c)
    return chunks


@dataclass(frozen=True)
class UnchunkedStream:
    """A stream that is one rANS string for all its symbols: the payload of a ``.taco`` version-2
    file. :class:`StreamDecoder` decodes it as one chunk, if it holds at most
    :data:`MAX_UNCHUNKED_SYMBOLS` symbols (its guard padding grows with them) and is no longer
    than the encoder writes for them (:func:`max_string_bytes`)."""

    data: bytes | memoryview


# --------------------------------------------------------------------------- the stream


class SymbolRangeError(TacoError, ValueError):
    """Latents to code that no image gives (:func:`check_symbols`): the model's weights, or what
    was given as an image, are broken."""


def check_symbols(symbols: Tensor) -> None:
    """Refuse symbols no image gives: not finite, or beyond :data:`MAX_SYMBOL` (the coder would
    loop for ever on them): :class:`SymbolRangeError`."""
    if symbols.numel() == 0:
        return
    if torch.is_floating_point(symbols) and not bool(torch.isfinite(symbols).all()):
        raise SymbolRangeError("the latents to code are not finite (NaN or infinite): the model's "
                         "weights or the input are broken")
    low, high = float(symbols.min()), float(symbols.max())  # abs() of int32's -2**31 is itself
    if max(-low, high) > MAX_SYMBOL:
        raise SymbolRangeError(f"a latent symbol of {low if -low > high else high:g} is beyond what the "
                         f"coder takes (±{MAX_SYMBOL}): the model's weights or the input are broken")


class StreamEncoder:
    """Every coded part of a batch, in coding order, into one chunked rANS stream per image.

    Each :meth:`encode` call appends one part (z, or one checkerboard pass of one channel group)
    to each image's current ``compressai.ans.BufferedRansEncoder``; every :data:`CHUNK_SYMBOLS`
    symbols that chunk is ended and a new one begun. :meth:`flush` ends the streams.
    """

    def __init__(self) -> None:
        self._encoders: list[Any] = []
        self._chunks: list[list[bytes]] = []
        self._in_chunk = 0  # symbols in each image's current chunk
        self.num_symbols = 0  # per image, so far

    def encode(self, em: EntropyModel, symbols: Tensor, indexes: Tensor) -> None:
        """rANS-encode int32 ``symbols`` (N, ...) with CDF ``indexes`` (N, ...), image i into stream i."""
        t = coder_tables(em)
        n = symbols.shape[0]
        check_symbols(symbols)
        sym = symbols.reshape(n, -1).int().cpu().numpy()  # numpy's tolist is the fastest way to
        idx = indexes.reshape(n, -1).int().cpu().numpy()  # the Python ints the bindings take
        if not self._encoders:
            self._encoders = [ans.BufferedRansEncoder() for _ in range(n)]
            self._chunks = [[] for _ in range(n)]
        elif len(self._encoders) != n:
            raise ValueError(f"batch of {n}, the stream codes {len(self._encoders)} images")
        start, total = 0, sym.shape[1]
        while start < total:
            stop = min(total, start + CHUNK_SYMBOLS - self._in_chunk)
            for enc, s, i in zip(self._encoders, sym, idx, strict=True):
                enc.encode_with_indexes(s[start:stop].tolist(), i[start:stop].tolist(),
                                        t.cdfs, t.lengths, t.offsets)
            self._in_chunk += stop - start
            start = stop
            if self._in_chunk == CHUNK_SYMBOLS:
                self._end_chunk()
        self.num_symbols += total

    def _end_chunk(self) -> None:
        if self._in_chunk < MIN_STRING_SYMBOLS:
            raise ValueError(
                f"this image's latents end with a rANS chunk of {self._in_chunk} symbols, fewer than "
                f"the {MIN_STRING_SYMBOLS} CompressAI's encoder can write (it would corrupt memory): "
                "a model whose N is not a multiple of 8 cannot code every image size")
        for enc, chunks in zip(self._encoders, self._chunks, strict=True):
            chunks.append(enc.flush())  # flush empties the encoder for the next chunk
        self._in_chunk = 0

    def flush(self) -> list[bytes]:
        """End the streams: one framed stream per image (:func:`join_stream`)."""
        if not self._encoders:
            raise ValueError("nothing was coded")
        if self._in_chunk:
            self._end_chunk()
        out = [join_stream(chunks) for chunks in self._chunks]
        self._encoders, self._chunks, self.num_symbols = [], [], 0
        return out


class _ChunkReader:
    """One image's stream, decoded chunk by chunk with one ``RansDecoder``; each chunk, once its
    symbols are decoded, checked to hold nothing else (:func:`check_chunk`)."""

    def __init__(self, stream: bytes | memoryview | UnchunkedStream, num_symbols: int) -> None:
        if isinstance(stream, UnchunkedStream):
            if num_symbols > MAX_UNCHUNKED_SYMBOLS:
                raise TacoFormatError(
                    f"an unchunked rANS stream (.taco format version 2) of {num_symbols:,} symbols "
                    f"needs {rans_overread_bound(num_symbols, len(stream.data)) / 2**20:,.0f} MiB "
                    f"of guard padding to decode safely; taco decodes at most "
                    f"{MAX_UNCHUNKED_SYMBOLS:,} symbols in one string"
                )
            check_string_length(len(stream.data), num_symbols,
                                "the unchunked rANS stream (.taco format version 2)")
            check_rans_string(stream.data)
            self._chunks: list[Any] = [stream.data]
            self._sizes = [num_symbols]
        else:
            self._chunks = split_stream(stream, num_symbols)
            n = len(self._chunks)
            self._sizes = [CHUNK_SYMBOLS] * (n - 1) + [num_symbols - CHUNK_SYMBOLS * (n - 1)]
        # how messages name the string decoded (a version-2 stream has no chunks)
        self._unchunked = isinstance(stream, UnchunkedStream)
        self._decoder = ans.RansDecoder()
        self._next = 0  # chunk to open next
        self._left = 0  # symbols left in the open chunk
        self._parts: list[tuple[list[int], list[int], CoderTables]] = []  # the open chunk's, so far

    def decode(self, idx: np.ndarray, t: CoderTables, out: np.ndarray) -> None:
        """Decode ``len(idx)`` symbols with CDF indexes ``idx`` into ``out`` (int32)."""
        start = 0
        while start < len(idx):
            if not self._left:
                chunk, self._left = self._chunks[self._next], self._sizes[self._next]
                self._next += 1
                self._decoder.set_stream(bounded_string(chunk, self._left))
            stop = min(len(idx), start + self._left)
            # Python lists of at most one chunk (the bindings take lists): numpy makes them
            # fastest, and np.fromiter reads them back 2x faster than torch.tensor(list)
            indexes = idx[start:stop].tolist()
            values = self._decoder.decode_stream(indexes, t.cdfs, t.lengths, t.offsets)
            decoded = out[start:stop]
            decoded[:] = np.fromiter(values, dtype=np.int32, count=stop - start)
            if decoded.min() < -MAX_SYMBOL or decoded.max() > MAX_SYMBOL:
                raise TacoFormatError(
                    f"corrupt .taco file: {self._where()} decodes to a symbol beyond what the "
                    f"encoder writes (±{MAX_SYMBOL:,}), or the model computes other tables here "
                    "than where the file was made")
            self._parts.append((values, indexes, t))
            self._left -= stop - start
            start = stop
            if not self._left:
                parts, self._parts = self._parts, []
                check_chunk(self._chunks[self._next - 1], parts, self._where())

    def _where(self) -> str:
        """The string being decoded, as a message names it."""
        if self._unchunked:
            return "the rANS stream (.taco format version 2, unchunked)"
        return f"rANS chunk {self._next} of {len(self._chunks):,}"


class StreamDecoder:
    """Inverse of :class:`StreamEncoder`: one chunked stream per image, parts in coding order.

    The streams are untrusted. ``num_symbols`` -- the symbols each holds, known from the image
    size -- fixes how many chunks each must have; their framing is checked up front
    (:func:`split_stream`) and each chunk, when decoding reaches it, is checked and padded for
    its own symbols (CompressAI's C++ decoder has no bounds checks, see
    :class:`BoundedRansCoder`). At most ``num_symbols`` are decoded. A valid chunk is read
    exactly to its end: the padding never changes what it decodes to, and a chunk with bytes the
    decoder did not read is refused once its symbols are decoded (:func:`check_chunk`). A stream
    may also be an :class:`UnchunkedStream` (a version-2 payload).
    """

    def __init__(self, strings: Sequence[bytes | memoryview | UnchunkedStream],
                 num_symbols: int) -> None:
        self._readers = [_ChunkReader(s, num_symbols) for s in strings]
        self.symbols_left = num_symbols

    def decode(self, em: EntropyModel, indexes: Tensor) -> Tensor:
        """The next ``indexes.numel() / N`` symbols of each stream: int32 shaped like ``indexes``."""
        n = indexes.shape[0]
        if n != len(self._readers):
            raise ValueError(f"expected {n} streams, got {len(self._readers)}")
        t = coder_tables(em)
        idx = indexes.reshape(n, -1).int().cpu().numpy()
        if idx.shape[1] > self.symbols_left:  # the chunks hold num_symbols only
            raise ValueError("decoding more symbols than the stream was declared to hold")
        self.symbols_left -= idx.shape[1]
        out = np.empty(idx.shape, dtype=np.int32)
        for reader, idx_i, out_i in zip(self._readers, idx, out, strict=True):
            reader.decode(idx_i, t, out_i)
        return torch.from_numpy(out).reshape(indexes.shape).to(indexes.device)
