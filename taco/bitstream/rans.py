"""One rANS stream per image: CompressAI's coder, the tables it takes, and the bounds that make
decoding an untrusted stream safe.

:class:`StreamEncoder` appends every coded part of an image (z, then each checkerboard pass of
each channel group, in decoding order) to one ``compressai.ans.BufferedRansEncoder``;
:class:`StreamDecoder` reads them back with one ``RansDecoder``. CompressAI's C++ decoder trusts
its input, so a string must pass :func:`check_rans_string` and is padded with
:func:`rans_overread_bound` zero bytes before it reaches the decoder (docs/reliability.md).

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

from .container import TacoFormatError

__all__ = [
    "StreamDecoder",
    "StreamEncoder",
    "bounded_string",
    "check_rans_string",
    "coder_tables",
    "rans_overread_bound",
]


# --------------------------------------------------------------------------- coder tables


@dataclass(frozen=True)
class CoderTables:
    """An entropy model's coder tables as the Python lists the rANS bindings take."""

    sources: tuple[Tensor, Tensor, Tensor]  # the buffers they were made from (kept alive)
    versions: tuple[int, int, int]
    cdfs: list[list[int]]
    lengths: list[int]
    offsets: list[int]


_TABLES: weakref.WeakKeyDictionary[EntropyModel, CoderTables] = weakref.WeakKeyDictionary()


def coder_tables(em: EntropyModel) -> CoderTables:
    """The coder tables of ``em``, converted to lists once and reused while its buffers are.

    A buffer replaced (``update(force=True)``, ``.to(device)``) is a new tensor object; one
    overwritten in place (``load_state_dict``) has a new ``_version``. Either rebuilds. The
    cache holds the old buffers, so an identity match can never be a recycled address.
    """
    sources = (em._quantized_cdf, em._cdf_length, em._offset)
    versions = tuple(t._version for t in sources)
    cached = _TABLES.get(em)
    if cached is not None and all(a is b for a, b in zip(cached.sources, sources, strict=True)):
        if cached.versions == versions:
            return cached
    cdf, length, offset = sources
    if cdf.numel() == 0 or length.numel() == 0 or offset.numel() == 0:
        raise ValueError("uninitialised entropy-coder tables: run model.update() first")
    lengths = length.reshape(-1).int().tolist()
    rows = cdf.tolist()
    tables = CoderTables(
        sources=sources,  # type: ignore[arg-type]
        versions=versions,  # type: ignore[arg-type]
        cdfs=[row[:n] for row, n in zip(rows, lengths, strict=True)],
        lengths=lengths,
        offsets=offset.reshape(-1).int().tolist(),
    )
    _TABLES[em] = tables
    return tables


# --------------------------------------------------------------------------- the one stream


def check_rans_string(string: bytes) -> None:
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



def bounded_string(string: bytes, num_symbols: int) -> bytes:
    """``string`` made safe for CompressAI's rANS decoder to decode ``num_symbols`` symbols from:
    checked (:func:`check_rans_string`) and padded with :func:`rans_overread_bound` zero bytes."""
    check_rans_string(string)
    return bytes(string) + bytes(rans_overread_bound(num_symbols, len(string)))

class StreamEncoder:
    """Every coded part of a batch, in coding order, into one rANS stream per image.

    Each :meth:`encode` call appends one part (z, or one checkerboard pass of one channel group)
    to a ``compressai.ans.BufferedRansEncoder`` per image; :meth:`flush` ends the streams.
    """

    def __init__(self) -> None:
        self._encoders: list[Any] = []
        self.num_symbols = 0  # per image, so far

    def encode(self, em: EntropyModel, symbols: Tensor, indexes: Tensor) -> None:
        """rANS-encode int32 ``symbols`` (N, ...) with CDF ``indexes`` (N, ...), image i into stream i."""
        t = coder_tables(em)
        n = symbols.shape[0]
        sym = symbols.reshape(n, -1).int().cpu().numpy()  # numpy's tolist is the fastest way to
        idx = indexes.reshape(n, -1).int().cpu().numpy()  # the Python ints the bindings take
        if not self._encoders:
            self._encoders = [ans.BufferedRansEncoder() for _ in range(n)]
        elif len(self._encoders) != n:
            raise ValueError(f"batch of {n}, the stream codes {len(self._encoders)} images")
        for enc, s, i in zip(self._encoders, sym, idx, strict=True):
            enc.encode_with_indexes(s.tolist(), i.tolist(), t.cdfs, t.lengths, t.offsets)
        self.num_symbols += sym.shape[1]

    def flush(self) -> list[bytes]:
        """End the streams: one string per image (a whole number of 32-bit words, >= 8 bytes)."""
        if not self._encoders:
            raise ValueError("nothing was coded")
        out = [enc.flush() for enc in self._encoders]
        self._encoders = []
        return out


class StreamDecoder:
    """Inverse of :class:`StreamEncoder`: one ``RansDecoder`` per image, parts in coding order.

    The strings are untrusted. CompressAI's C++ decoder has no bounds checks (see
    ``taco.codec.BoundedRansCoder``), so each string must pass :func:`check_rans_string` and is
    padded with :func:`rans_overread_bound` zero bytes for ``num_symbols`` -- the number of
    symbols the whole stream holds, known from the image size -- before ``set_stream``; at most
    that many symbols are then decoded. A valid stream is read exactly to its end: the padding
    never changes what it decodes to.
    """

    def __init__(self, strings: Sequence[bytes], num_symbols: int) -> None:
        self._decoders = []
        for s in strings:
            dec = ans.RansDecoder()
            dec.set_stream(bounded_string(s, num_symbols))
            self._decoders.append(dec)
        self.symbols_left = num_symbols

    def decode(self, em: EntropyModel, indexes: Tensor) -> Tensor:
        """The next ``indexes.numel() / N`` symbols of each stream: int32 shaped like ``indexes``."""
        n = indexes.shape[0]
        if n != len(self._decoders):
            raise ValueError(f"expected {n} streams, got {len(self._decoders)}")
        t = coder_tables(em)
        idx = indexes.reshape(n, -1).int().cpu().numpy()
        if idx.shape[1] > self.symbols_left:  # the padding covers num_symbols only
            raise ValueError("decoding more symbols than the stream was declared to hold")
        self.symbols_left -= idx.shape[1]
        out = np.empty(idx.shape, dtype=np.int32)
        for i, dec in enumerate(self._decoders):
            values = dec.decode_stream(idx[i].tolist(), t.cdfs, t.lengths, t.offsets)
            out[i] = np.fromiter(values, dtype=np.int32, count=idx.shape[1])  # 2x torch.tensor(list)
        return torch.from_numpy(out).reshape(indexes.shape).to(indexes.device)
