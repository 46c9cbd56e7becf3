"""Fuzz the ``.taco`` decoder past its checksum: a long crash-isolated run, and an atheris target.

    python scripts/fuzz_decoder.py run --cases 100000 --json fuzz.json   # seeded mutations
    python scripts/fuzz_decoder.py run --seconds 300 --json fuzz.json     # as many as fit in 5 min
    python scripts/fuzz_decoder.py run --only 1234 --seed 1              # replay one case
    python scripts/fuzz_decoder.py atheris [CORPUS] [-max_total_time=N ...]  # coverage-guided (pip install atheris)

Every input goes through the three ways a ``.taco`` file is read -- ``taco.bitstream.unpack``,
``taco info`` (``taco.cli.main``) and ``taco.decompress`` -- and the only allowed outcomes are a
decoded image (of the size the header declares), :class:`taco.TacoFormatError`, or
:class:`taco.memory.OutOfMemoryError` (one line; under the worker's memory limit); for ``taco
info`` exit status 0 or 2 with one line. Anything else -- another exception, a crash, a hang --
is a failure.

Inputs are valid files of two seeded tiny models (``elic-tiny``, ``taco-tiny``; format version 3
and version 2), taken apart into their fields and mutated **structure-aware, with the CRC
re-sealed** (:func:`mutate`): every header field (version, model code and inline ids, quality,
fingerprint, image sizes, huge varints, mode/padding, bits anywhere in the header, a version-2
file relabelled 3 and back), the chunked rANS stream (chunk lengths changed, chunks dropped,
duplicated, swapped, replaced by foreign or garbage strings that pass taco's pre-checks, cut
short, extended; bytes appended; the whole stream garbled), so that garbage reaches the chunk
walker and CompressAI's C++ decoder. A minority of cases (``RAW_SHARE``) are raw edits with no
re-sealing (random bytes, bit flips, truncations, insertions, a wrong CRC): they test the CRC.
``run`` draws the mutators' choices from a seeded generator; ``atheris`` runs each input as is and
as a structured case whose choices are read from the input's bytes (:class:`BytesRandom`), so
that libFuzzer's edits and coverage feedback steer the structured cases too.

So that its small seeds have several chunks, the fuzzer codes with chunks of
:data:`FUZZ_CHUNK_SYMBOLS` symbols (``taco.bitstream.rans.CHUNK_SYMBOLS`` is 65,536 in files);
the framing and decoding code is the same for any chunk size. Declared sizes are capped at
:data:`FUZZ_MAX_PIXELS` to keep a case fast (the default cap and the production chunk size are
tested on crafted files: tests/reliability/test_hostile_files.py).

``run`` executes the cases in a worker process under an address-space limit (its size after
start-up plus ``--memory-limit-mib``); a worker that dies (a crash: SIGSEGV, SIGFPE, SIGABRT, the
kernel's OOM killer) or spends ``--hang-after`` seconds (10) of CPU time on one case -- or 30
times that in wall time, if it is blocked -- is recorded with the case number and restarted
after that case. (CPU time, not wall time: on a busy machine a niced worker waits for a core.) Case ``i`` is generated from ``Random(seed, i)`` alone,
so ``--only I`` replays it. The summary -- cases, rate, outcomes by mutator, exceptions, crashes,
hangs, the worker's peak RSS -- is printed and written as JSON.

A run stops early, on ``--seconds N`` (wall time from its start) or on SIGINT (Ctrl-C) or SIGTERM
(``timeout``): no case is started after that, the worker finishes the case it is on (a hang or
crash there is recorded as usual; a worker still starting up, or a second signal, is killed at
once, its case uncounted), and the summary of the cases that ran is printed and written as a
finished run's is, ``"stopped"`` saying why (``"time limit"``, ``"SIGINT"``, ``"SIGTERM"``; null
for a run of all ``--cases``). The exit status is that of a finished run: 0 unless a case failed.
The worker blocks SIGINT and SIGTERM (a Ctrl-C reaches the whole process group): it stops when
asked, or with its parent.
"""

from __future__ import annotations

import argparse
import atexit
import io
import json
import multiprocessing as mp
import os
import queue
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

#: Decoder cap on declared pixels while fuzzing: keeps a case fast. The default cap is tested on
#: its own (tests/reliability/test_hostile_files.py).
FUZZ_MAX_PIXELS = 1 << 20
#: Symbols per rANS chunk while fuzzing (files use 65,536): small seeds get several chunks.
FUZZ_CHUNK_SYMBOLS = 1024
#: Share of cases that edit raw bytes without re-sealing the CRC.
RAW_SHARE = 0.15
#: Signals that stop a long run early, with its summary (the worker blocks them).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SAMPLE = Path(__file__).resolve().parents[1] / "taco" / "assets" / "samples" / "skimage-chelsea.png"

# --------------------------------------------------------------------------- seeds


@contextmanager
def fuzz_chunk_size() -> Iterator[None]:
    """Code and decode with :data:`FUZZ_CHUNK_SYMBOLS` inside, the file format's outside."""
    from taco.bitstream import rans

    saved, rans.CHUNK_SYMBOLS = rans.CHUNK_SYMBOLS, FUZZ_CHUNK_SYMBOLS
    try:
        yield
    finally:
        rans.CHUNK_SYMBOLS = saved


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


@dataclass(frozen=True)
class Fields:
    """A file taken apart into its fields (raw bytes each), so that mutators can replace any of
    them and :meth:`assemble` re-seals the CRC over whatever they hold."""

    version: bytes
    model: bytes  # the model code, with its length + id when inline
    quality: bytes  # b"" in version 2
    fingerprint: bytes
    height: bytes
    width: bytes
    mode: bytes
    chunks: tuple[bytes, ...]  # the rANS strings (version 2: one)
    framed: bool = True  # version 3: chunk lengths before all chunks but the last
    magic: bytes = b"TACO"

    def head(self) -> bytes:
        return (self.magic + self.version + self.model + self.quality + self.fingerprint + self.height
                + self.width + self.mode)

    def payload(self) -> bytes:
        if not self.framed:
            return b"".join(self.chunks)
        return b"".join(_varint(len(c) // 4) + c for c in self.chunks[:-1]) + self.chunks[-1]

    def assemble(self, payload: bytes | None = None, crc: int | None = None) -> bytes:
        return assemble(self.head(), self.payload() if payload is None else payload, crc)


def assemble(head: bytes, payload: bytes, crc: int | None = None) -> bytes:
    """Container bytes from any (possibly wrong) header fields, with a valid CRC unless given:
    the CRC-32 of every byte before it and of the payload."""
    if crc is None:
        crc = zlib.crc32(payload, zlib.crc32(head))
    return head + crc.to_bytes(4, "big") + payload


def take_apart(data: bytes, num_symbols: int) -> Fields:
    """The fields of a valid file holding ``num_symbols`` coded symbols."""
    from taco.bitstream import unpack
    from taco.bitstream.rans import split_stream

    f = unpack(data)
    pos = 6 + (1 + data[6] if data[5] == 0xFF else 0)
    model = data[5:pos]
    quality = data[pos : pos + 1] if f.header.version >= 3 else b""
    pos += len(quality)
    fingerprint, pos = data[pos : pos + 8], pos + 8
    height, width = _varint(f.header.height), _varint(f.header.width)
    pos += len(height) + len(width)
    mode = data[pos : pos + 1]
    if f.header.version >= 3:
        chunks = tuple(bytes(c) for c in split_stream(f.payload, num_symbols))
    else:
        chunks = (f.payload,)
    fields = Fields(data[4:5], model, quality, fingerprint, height, width, mode, chunks,
                    framed=f.header.version >= 3)
    if fields.assemble() != data:
        raise AssertionError("take_apart does not rebuild the file")
    return fields


def as_version_2(fields: Fields) -> Fields:
    """A one-chunk version-3 file as version 2 wrote it (no quality byte, the same string)."""
    if len(fields.chunks) != 1:
        raise ValueError("only a one-chunk stream is a version-2 payload as it is")
    return replace(fields, version=b"\x02", quality=b"", framed=False)


class Models:
    """The two seeded tiny models and valid files made with them (built once per process), coded
    with chunks of :data:`FUZZ_CHUNK_SYMBOLS` (decode them inside :func:`fuzz_chunk_size`)."""

    def __init__(self) -> None:
        from PIL import Image

        import taco
        from taco.codec import coding_codec
        from taco.models import create_model, fast_codec, model_fingerprint

        self.elic = create_model("elic-tiny", seed=0)
        self.taco = create_model("taco-tiny", seed=0)
        photo = Image.open(SAMPLE).convert("RGB")
        cases = [  # (model, crop, caption)
            (self.elic, (0, 0, 64, 48), None),  # 1 chunk (in any chunk size)
            (self.elic, (100, 60, 230, 130), None),  # 4 chunks
            (self.elic, (5, 5, 6, 6), None),  # 1x1: 1 chunk
            (self.taco, (200, 100, 264, 164), "a cat"),  # 1 chunk
            (self.elic, (0, 0, 256, 192), None),  # 7 chunks
        ]
        self.seeds: list[bytes] = []
        self.fields: list[Fields] = []
        with warnings.catch_warnings(), fuzz_chunk_size():
            warnings.simplefilter("ignore")
            for model, box, caption in cases:
                data = taco.compress(photo.crop(box), caption, model)
                w, h = box[2] - box[0], box[3] - box[1]
                shape = model.latent_shapes(-(-h // 64) * 64, -(-w // 64) * 64)
                symbols = fast_codec.num_symbols(coding_codec(model), shape)
                self.seeds.append(data)
                self.fields.append(take_apart(data, symbols))
        for f in list(self.fields):  # the one-chunk files as version 2 wrote them
            if len(f.chunks) == 1:
                self.fields.append(as_version_2(f))
                self.seeds.append(self.fields[-1].assemble())
        self._taco_fingerprint = model_fingerprint(self.taco)

    def model_for(self, data: bytes) -> Any:
        """The model whose fingerprint the file carries (elic-tiny if neither)."""
        return self.taco if self._taco_fingerprint in data[:300] else self.elic


# --------------------------------------------------------------------------- mutations


def _flip_bits(rng: random.Random, data: bytes, n: int) -> bytes:
    """``n`` distinct bits flipped (two flips of one bit would give the seed back)."""
    b = bytearray(data)
    for bit in rng.sample(range(8 * len(b)), min(n, 8 * len(b))):
        b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _random_bytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def _plausible(rng: random.Random, s: bytes) -> bytes:
    """``s`` made to pass taco's pre-checks (whole 32-bit words, a valid initial rANS state), as
    an attacker would, so that the C++ decoder runs on it."""
    s = s + bytes(-len(s) % 4)
    return rng.randrange(1 << 31, 1 << 63).to_bytes(8, sys.byteorder) + s[8:]


def _garble(rng: random.Random, s: bytes, donor: bytes) -> bytes:
    """A corrupted rANS string (or stream), most often made plausible."""
    kind = rng.randrange(11)
    if kind == 0:
        g = _random_bytes(rng, rng.choice([0, 1, 4, 7, 8, 12, len(s)]))
    elif kind == 1:
        g = _flip_bits(rng, s, rng.randint(1, 4))
    elif kind == 2:
        g = s[: rng.randrange(len(s) + 1)]
    elif kind == 3:
        g = s + _random_bytes(rng, rng.randint(1, 64))
    elif kind == 4:  # a plausible initial state, then all ones: longest bypass runs
        g = rng.randrange(1 << 31, 1 << 63).to_bytes(8, sys.byteorder) + b"\xff" * rng.choice([0, 4, 64, 4096])
    elif kind == 5:  # a plausible initial state, then nothing: the decoder runs into the padding
        g = rng.randrange(1 << 31, 1 << 63).to_bytes(8, sys.byteorder)
    elif kind == 6:
        g = bytes(len(s))
    elif kind == 7:  # another file's string
        g = donor
    elif kind == 8:  # a stretch in the middle overwritten: what comes before it decodes fine
        at = rng.randrange(len(s))
        n = rng.randint(1, max(1, len(s) // 4))
        g = s[:at] + _random_bytes(rng, n) + s[at + n :]
    elif kind == 9:  # the end cut off or doubled
        g = s[: rng.randrange(8, len(s) + 1)] if rng.random() < 0.5 else s + s[8:]
    else:
        g = _random_bytes(rng, len(s))
    return _plausible(rng, g) if rng.random() < 0.75 else g


def _model_field(rng: random.Random) -> bytes:
    """Any value of the model field: no id, a table code (known or not), an inline id."""
    code = rng.choice([0, 1, rng.randrange(1, 256), 0xFE, 0xFF, 0xFF])
    if code != 0xFF:
        return bytes([code])
    n = rng.choice([0, 1, 9, 255, rng.randrange(256)])
    raw = _random_bytes(rng, n) if rng.random() < 0.3 else b"x" * n
    return bytes([0xFF, n]) + raw[: rng.choice([n, n, max(0, n - 1)])]


def _chunk_length(rng: random.Random, words: int) -> bytes:
    """A chunk-length field near, far from, or nothing like ``words``."""
    kind = rng.randrange(6)
    if kind == 0:
        return _varint(max(0, words + rng.choice([-2, -1, 1, 2])))
    if kind == 1:
        return _varint(rng.choice([0, 1, 2]))
    if kind == 2:
        return _varint(rng.randrange(1 << rng.choice([7, 14, 21, 28, 35])))
    if kind == 3:  # a valid value in a non-minimal 5-byte encoding, or a 6-byte "varint"
        return bytes([words & 0x7F | 0x80, 0x80, 0x80, 0x80, 0]) if rng.random() < 0.5 else b"\xff" * 6
    if kind == 4:
        return b""
    return _random_bytes(rng, rng.randint(1, 3))


def mutate_stream(rng: random.Random, f: Fields, other: Fields) -> bytes:
    """The payload of ``f`` with its chunk structure changed (lengths, count, order, contents)."""
    chunks = list(f.chunks)
    lengths = [_varint(len(c) // 4) for c in chunks[:-1]] if f.framed else []
    kind = rng.randrange(11)
    if kind == 0 and lengths:  # one length field changed: the chunks after it shift
        i = rng.randrange(len(lengths))
        lengths[i] = _chunk_length(rng, len(chunks[i]) // 4)
    elif kind == 1 and len(chunks) > 1:  # a chunk dropped: one fewer than the size needs
        del chunks[rng.randrange(len(chunks))]
    elif kind == 2:  # a chunk duplicated: one more
        i = rng.randrange(len(chunks))
        chunks.insert(i, chunks[i])
    elif kind == 3 and len(chunks) > 1:  # two chunks swapped
        i, j = rng.sample(range(len(chunks)), 2)
        chunks[i], chunks[j] = chunks[j], chunks[i]
    elif kind == 4:  # a chunk replaced by another file's
        chunks[rng.randrange(len(chunks))] = rng.choice(other.chunks)
    elif kind == 5:  # a chunk corrupted (mostly so that it passes the pre-checks)
        i = rng.randrange(len(chunks))
        chunks[i] = _garble(rng, chunks[i], rng.choice(other.chunks))
    elif kind == 6:  # every chunk a plausible state and nothing else
        chunks = [_plausible(rng, bytes(8)) for _ in chunks]
    elif kind == 7:  # bytes appended (they join the last chunk)
        return f.payload() + _random_bytes(rng, rng.choice([1, 3, 4, 8, 64]))
    elif kind == 8:  # cut anywhere, inside a length or a chunk
        p = f.payload()
        return p[: rng.randrange(len(p))]
    elif kind == 9:  # the whole stream garbled, framing and all
        return _garble(rng, f.payload(), other.payload())
    else:  # framing dropped or added: a chunked stream read as one string, or the reverse
        return b"".join(chunks) if f.framed else _varint(len(chunks[0]) // 8) + chunks[0]
    if not f.framed:
        return b"".join(chunks)
    if kind != 0:  # the lengths of the chunks as they now are
        lengths = [_varint(len(c) // 4) for c in chunks[:-1]]
    return b"".join(n + c for n, c in zip(lengths, chunks[:-1], strict=True)) + chunks[-1]


def mutate(rng: random.Random, models: Models) -> tuple[str, bytes]:
    """One fuzz case: (mutator name, file bytes), drawn from ``rng`` and the seed files only."""
    i = rng.randrange(len(models.seeds))
    seed, f = models.seeds[i], models.fields[i]
    other = models.fields[rng.randrange(len(models.fields))]
    kind = rng.choice(RAW_MUTATORS if rng.random() < RAW_SHARE else MUTATORS)
    if kind == "random-bytes":
        return kind, _random_bytes(rng, rng.randrange(200))
    if kind == "random-after-magic":
        return kind, b"TACO" + bytes([rng.choice([2, 3])]) + _random_bytes(rng, rng.randrange(120))
    if kind == "bit-flips":
        return kind, _flip_bits(rng, seed, rng.choice([1, 1, 1, 2, 3, 8]))
    if kind == "byte-edits":
        b = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        return kind, bytes(b)
    if kind == "truncate":
        return kind, seed[: rng.randrange(len(seed))]
    if kind == "insert-delete":
        at = rng.randrange(len(seed) + 1)
        if rng.random() < 0.5:
            return kind, seed[:at] + _random_bytes(rng, rng.randint(1, 16)) + seed[at:]
        return kind, seed[:at] + seed[at + rng.randint(1, 16) :]
    if kind == "crc-only":  # file intact, CRC wrong
        return kind, f.assemble(crc=rng.getrandbits(32))
    # everything below re-seals the CRC
    if kind == "version":  # 1 (refused with its own message), 0, 2 <-> 3, 4, 255
        version = bytes([rng.choice([0, 1, 2, 3, 4, 255])])
        g = replace(f, version=version)
        if rng.random() < 0.5:  # with the quality byte the version implies, or not
            g = replace(g, quality=b"\x00" if version != b"\x02" else b"")
        return kind, g.assemble()
    if kind == "model":
        return kind, replace(f, model=_model_field(rng)).assemble()
    if kind == "quality":
        q = rng.choice([b"\x00", b"\x01", bytes([rng.randrange(256)]), b"", b"\x00\x00"])
        return kind, replace(f, quality=q).assemble()
    if kind == "fingerprint":  # zeros, garbage, the other model's
        fp = rng.choice([bytes(8), _random_bytes(rng, 8), other.fingerprint])
        return kind, replace(f, fingerprint=fp).assemble()
    if kind == "image-size":  # the stream untouched: it codes another number of symbols
        h = rng.choice([1, 63, 64, 65, 127, 300, 1024, 4096, 9984, 32768, 32769, 2**35 - 1])
        w = rng.choice([1, 64, 65, 200, 1024, 32768, 40000])
        return kind, replace(f, height=_varint(h), width=_varint(w)).assemble()
    if kind == "small-size":  # sizes under the cap: more or fewer chunks than the stream has
        h, w = rng.randint(1, 1024), rng.randint(1, 1024)
        return kind, replace(f, height=_varint(h), width=_varint(w)).assemble()
    if kind == "huge-varints":
        field = rng.choice(["height", "width", "mode"])
        return kind, replace(f, **{field: b"\xff\xff\xff\xff\x7f"}).assemble()
    if kind == "mode-padding":
        return kind, replace(f, mode=bytes([rng.getrandbits(8)])).assemble()
    if kind == "header-bits":  # bits flipped anywhere in the header, CRC recomputed
        head = _flip_bits(rng, f.head(), rng.choice([1, 1, 2, 4]))
        return kind, assemble(head, f.payload())
    if kind == "chunks":
        return kind, f.assemble(mutate_stream(rng, f, other))
    return kind, f.assemble(_garble(rng, f.payload(), other.payload()))  # "stream"


RAW_MUTATORS = ("random-bytes", "random-after-magic", "bit-flips", "byte-edits", "truncate",
                "insert-delete", "crc-only")
MUTATORS = (
    "version", "model", "quality", "fingerprint", "image-size", "small-size", "huge-varints",
    "mode-padding", "header-bits", "chunks", "chunks", "chunks", "chunks", "stream", "stream",
)

class BytesRandom(random.Random):
    """The draws the mutators make (``randrange``, ``randint``, ``choice``, ``sample``,
    ``random``, ``getrandbits``, ``randbytes``) read from ``data``, front to back, instead of a
    generator: the atheris target's choices come from its input, so that libFuzzer's byte edits
    and coverage feedback steer the structured cases too. Each draw takes the fewest whole bytes
    that span it (a choice among 15: one byte, taken modulo 15; ``random()``: one byte, in steps
    of 1/256; ``randbytes(n)``: the next ``n`` bytes as they are), so an edit to one byte changes
    one choice, and the choices before it stay; past the end of ``data`` every byte reads 0."""

    def __init__(self, data: bytes) -> None:
        super().__init__(0)
        self.data, self.pos = bytes(data), 0

    def _take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out + bytes(n - len(out))

    def getrandbits(self, k: int) -> int:
        return int.from_bytes(self._take(-(-k // 8)), "big") & ((1 << k) - 1)

    def randbytes(self, n: int) -> bytes:
        return self._take(n)

    def random(self) -> float:
        return self._take(1)[0] / 256

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        n = len(range(start, stop, step))
        if n == 0:
            raise ValueError(f"empty range for randrange({start}, {stop}, {step})")
        return start + step * (self.getrandbits(8 * -(-(n - 1).bit_length() // 8)) % n)

    def randint(self, a: int, b: int) -> int:
        return self.randrange(a, b + 1)

    def choice(self, seq: Any) -> Any:
        return seq[self.randrange(len(seq))]

    def sample(self, population: Any, k: int, *, counts: Any = None) -> list:
        pool = list(population)
        if counts is not None or not 0 <= k <= len(pool):
            raise ValueError("sample: k out of range (counts unsupported)")
        for i in range(k):  # a partial Fisher-Yates shuffle: k distinct elements
            j = self.randrange(i, len(pool))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def structured_case(data: bytes, models: Models) -> tuple[str, bytes]:
    """The atheris target's structured case: :func:`mutate` with its choices read from ``data``
    (:class:`BytesRandom`)."""
    return mutate(BytesRandom(data), models)


# --------------------------------------------------------------------------- the target


class UnexpectedOutcome(AssertionError):
    """The decoder did something other than decode or raise a one-line error."""


def check_one(data: bytes, models: Models, workdir: str | None = None) -> str:
    """Feed ``data`` to unpack, ``taco info`` and decompress; return the outcome.

    Outcomes: ``"image"``, ``"TacoFormatError"``, ``"OutOfMemoryError"``. Raises
    :class:`UnexpectedOutcome` (wrapping the original exception, if any) for anything else.
    """
    import taco
    from taco.bitstream import TacoFormatError, unpack
    from taco.cli import main as cli_main
    from taco.memory import OutOfMemoryError

    try:
        header = unpack(data).header
        parsed_ok = True
    except TacoFormatError:
        parsed_ok = False
    except Exception as exc:
        raise UnexpectedOutcome(f"unpack raised {type(exc).__name__}: {exc}") from exc

    if workdir is not None:
        path = os.path.join(workdir, "case.taco")
        with open(path, "wb") as f:
            f.write(data)
        out, err = io.StringIO(), io.StringIO()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                rc = cli_main(["info", path, "--json"])
        except BaseException as exc:
            raise UnexpectedOutcome(f"taco info raised {type(exc).__name__}: {exc}") from exc
        if rc != (0 if parsed_ok else 2):
            raise UnexpectedOutcome(f"taco info returned {rc} (unpack ok: {parsed_ok}): {err.getvalue()}")
        if rc == 2 and len(err.getvalue().strip().splitlines()) != 1:
            raise UnexpectedOutcome(f"taco info printed more than one line: {err.getvalue()!r}")

    try:
        with warnings.catch_warnings(), fuzz_chunk_size():
            warnings.simplefilter("ignore")
            image = taco.decompress(data, models.model_for(data), max_pixels=FUZZ_MAX_PIXELS)
    except TacoFormatError:
        return "TacoFormatError"
    except OutOfMemoryError as exc:
        if "\n" in str(exc):
            raise UnexpectedOutcome(f"OutOfMemoryError of more than one line: {exc}") from exc
        return "OutOfMemoryError"
    except Exception as exc:
        raise UnexpectedOutcome(f"decompress raised {type(exc).__name__}: {exc}") from exc
    if not parsed_ok:
        raise UnexpectedOutcome("decompress decoded a file that unpack refuses")
    if image.size != (header.width, header.height):
        raise UnexpectedOutcome(f"decoded {image.size}, the header declares {header.width}x{header.height}")
    return "image"


# --------------------------------------------------------------------------- atheris


def atheris_main(argv: list[str]) -> None:
    try:
        import atheris
    except ModuleNotFoundError:
        sys.exit('fuzz_decoder.py atheris: needs atheris: pip install -e ".[fuzz]"')
    import compressai  # noqa: F401  (imported first: only taco's own code is instrumented)
    import torch

    with atheris.instrument_imports(include=["taco"]):
        import taco  # noqa: F401
        import taco.bitstream  # noqa: F401
        import taco.cli  # noqa: F401
        import taco.codec  # noqa: F401

    torch.set_num_threads(1)
    models = Models()
    workdir = _workdir()

    def test_one_input(data: bytes) -> None:
        # As is, and -- the input's bytes read as the mutators' choices -- as a structured
        # mutation of a seed (behind a re-sealed CRC), which raw bytes rarely reach.
        check_one(data, models, workdir)
        if data:
            check_one(structured_case(data, models)[1], models, None)

    atheris.Setup([sys.argv[0], *argv], test_one_input)
    atheris.Fuzz()


# --------------------------------------------------------------------------- long run


def _workdir() -> str:
    """Where ``taco info`` reads its input from: in ``$TMPDIR`` when it is set, else memory-backed
    where there is one (``/dev/shm``); removed when this process exits (a long run's workers,
    restarted after a crash or hang, share their parent's)."""
    shm = "/dev/shm"
    # gettempdir() checks $TMPDIR and falls back past a folder that is not there
    parent = tempfile.gettempdir() if os.environ.get("TMPDIR") else shm if os.path.isdir(shm) else None
    path = tempfile.mkdtemp(prefix="taco-fuzz-", dir=parent)
    atexit.register(shutil.rmtree, path, True)
    return path


def case_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")


def _limit_memory(extra_mib: int) -> None:
    """Cap this process's address space at its current size plus ``extra_mib``: an allocation
    beyond it fails (MemoryError, torch's "can't allocate") instead of swamping the machine."""
    import resource

    with open("/proc/self/statm") as f:
        vsize = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = vsize + extra_mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far, from /proc; 0 where there is none
    (then only the wall-time limit applies) or once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _max_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(seed: int, start: int, stop: int, progress: Any, memory_limit_mib: int, workdir: str,
            stop_event: Any, parent: int) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # the parent stops it (inherited too)
    import torch

    torch.set_num_threads(1)  # tiny convolutions: one thread is fastest, and leaves a core free
    models = Models()
    if memory_limit_mib and sys.platform.startswith("linux"):
        _limit_memory(memory_limit_mib)
    progress.put(("ready", None, None, _max_rss_mib()))
    for i in range(start, stop):
        if stop_event.is_set() or os.getppid() != parent:  # stopped early, or the parent is gone
            break
        kind, data = mutate(case_rng(seed, i), models)
        t0 = time.process_time()
        try:
            outcome, info = check_one(data, models, workdir), None
        except UnexpectedOutcome as exc:
            cause = exc.__cause__
            outcome, info = "unexpected", {
                "type": type(cause).__name__ if cause else "UnexpectedOutcome",
                "message": str(exc)[:500],
                "traceback": traceback.format_exc()[-2000:],
                "input_hex": data.hex() if len(data) < 4096 else data[:4096].hex() + "...",
            }
        progress.put((i, kind, outcome, (time.process_time() - t0, _max_rss_mib(), info)))
    progress.put(("done", None, None, None))


def long_run(cases: int, seed: int, hang_after: float, json_path: str | None, only: int | None,
             memory_limit_mib: int = 3072, quiet: bool = False, seconds: float | None = None) -> dict:
    """Run cases ``[0, cases)`` (or ``only``) in a worker; stop early after ``seconds`` of wall
    time or on SIGINT/SIGTERM (see the module's docstring) -> the summary of what ran."""
    signals: list[str] = []  # the stop signals received, by name
    handlers = {s: signal.signal(s, lambda signum, _: signals.append(signal.Signals(signum).name))
                for s in STOP_SIGNALS}
    try:
        return _long_run(cases, seed, hang_after, json_path, only, memory_limit_mib, quiet, seconds, signals)
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)


def _long_run(cases: int, seed: int, hang_after: float, json_path: str | None, only: int | None,
              memory_limit_mib: int, quiet: bool, time_limit: float | None, signals: list[str]) -> dict:
    ctx = mp.get_context("spawn")
    start, stop = (only, only + 1) if only is not None else (0, cases)
    outcomes: Counter[str] = Counter()
    by_mutator: dict[str, Counter[str]] = {}
    exceptions: Counter[str] = Counter()
    failures, crashes, hangs = [], [], []
    slowest = {"cpu_seconds": 0.0, "case": None}
    rss = {"max_rss_mib": 0.0, "case": None, "after_start_up_mib": 0.0}
    cpu_total = 0.0  # CPU seconds the worker spent on the cases themselves
    t0 = time.time()
    next_case = start
    workdir = _workdir()
    stopped: str | None = None  # why the run ended before its last case

    def stop_requested() -> str | None:
        nonlocal stopped
        if stopped is None and signals:
            stopped = signals[0]
        elif stopped is None and time_limit is not None and time.time() - t0 >= time_limit:
            stopped = "time limit"
        return stopped

    while next_case < stop and not stop_requested():
        progress, stop_event = ctx.Queue(), ctx.Event()
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # blocked in the worker from its start
        try:
            proc = ctx.Process(target=_worker, daemon=True, args=(
                seed, next_case, stop, progress, memory_limit_mib, workdir, stop_event, os.getpid()))
            proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        last_seen, last_cpu = time.time(), _cpu_seconds(proc.pid)
        ready = False  # start-up (imports, building the models) gets 10x the hang limit
        while True:
            if stop_requested() and (not ready or len(signals) > 1):  # nothing to finish, or at once
                proc.kill()
                proc.join()
                break
            if stopped:
                stop_event.set()  # the worker finishes its case, then says "done"
            try:
                i, kind, outcome, info = progress.get(timeout=0.5)
            except queue.Empty:
                if not proc.is_alive():  # died without "done": the case after the last one crashed
                    proc.join()
                    crashes.append({"case": next_case, "exitcode": proc.exitcode,
                                    "signal": -proc.exitcode if (proc.exitcode or 0) < 0 else None})
                    if not quiet:
                        print(f"crash: case {next_case}, exit code {proc.exitcode}", flush=True)
                    next_case += 1
                    break
                limit = hang_after if ready else 10 * hang_after
                cpu, wall = _cpu_seconds(proc.pid) - last_cpu, time.time() - last_seen
                if cpu > limit or wall > 30 * limit:
                    proc.kill()
                    proc.join()
                    hangs.append({"case": next_case, "cpu_seconds": round(cpu, 1), "seconds": round(wall, 1)})
                    if not quiet:
                        print(f"hang: case {next_case}, {cpu:.0f} s CPU, {wall:.0f} s wall", flush=True)
                    next_case += 1
                    break
                continue
            last_seen, last_cpu = time.time(), _cpu_seconds(proc.pid)
            if i == "ready":
                ready = True
                rss["after_start_up_mib"] = max(rss["after_start_up_mib"], info)
                continue
            if i == "done":
                proc.join()
                next_case = next_case if stopped else stop
                break
            seconds, max_rss, failure = info
            if seconds > slowest["cpu_seconds"]:
                slowest = {"cpu_seconds": round(seconds, 3), "case": i, "mutator": kind}
            if max_rss > rss["max_rss_mib"]:
                rss.update(max_rss_mib=max_rss, case=i)
            outcomes[outcome] += 1
            by_mutator.setdefault(kind, Counter())[outcome] += 1
            if failure is not None:
                exceptions[failure["type"]] += 1
                if len(failures) < 20:
                    failures.append({"case": i, "mutator": kind, **failure})
            next_case = i + 1
            cpu_total += seconds
            done = next_case - start
            if done % 1000 == 0 and not quiet:
                rate = done / (time.time() - t0)
                print(f"{done} cases, {rate:.1f}/s ({done / cpu_total:.0f} per CPU-second of the cases), "
                      f"{dict(outcomes)}, crashes {len(crashes)}, hangs {len(hangs)}, max RSS "
                      f"{rss['max_rss_mib']:.0f} MiB", flush=True)
    seconds = time.time() - t0
    stopped = stopped if next_case < stop else None  # asked to stop as the last case ended
    summary = {
        "cases": next_case - start,
        "cases_requested": stop - start,
        "stopped": stopped,
        "time_limit_seconds": time_limit,
        "seed": seed,
        "seconds": round(seconds, 1),
        "cases_per_second": round((next_case - start) / seconds, 2),
        "case_cpu_seconds": round(cpu_total, 1),
        "outcomes": dict(outcomes),
        "exceptions_by_type": dict(exceptions),
        "crashes": crashes,
        "hangs": hangs,
        "hang_after_cpu_seconds": hang_after,
        "slowest_case": slowest,
        "worker_rss": rss,
        "memory_limit_mib": memory_limit_mib,
        "by_mutator": {k: dict(v) for k, v in sorted(by_mutator.items())},
        "failures": failures,
        "fuzz_max_pixels": FUZZ_MAX_PIXELS,
        "fuzz_chunk_symbols": FUZZ_CHUNK_SYMBOLS,
    }
    if not quiet:
        if stopped:
            why = "on the time limit" if stopped == "time limit" else f"by {stopped}"
            print(f"stopped {why} after {next_case - start} of {stop - start} cases", flush=True)
        print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=1))
    if json_path:
        Path(json_path).write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["atheris"]:
        atheris_main(argv[1:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run", help="seeded mutation run in a crash-isolated worker")
    r.add_argument("--cases", type=int, default=100_000)
    r.add_argument("--seconds", type=float,
                   help="stop after this much wall time, with the summary of the cases run so far")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--hang-after", type=float, default=10.0,
                   help="CPU seconds on one case that make it a hang (10; or 30x that in wall time)")
    r.add_argument("--memory-limit-mib", type=int, default=3072,
                   help="address space the worker may add after start-up (0: no limit)")
    r.add_argument("--json", help="write the summary here")
    r.add_argument("--only", type=int, help="replay one case number")
    sub.add_parser("atheris", help="coverage-guided fuzzing; atheris/libFuzzer flags follow")
    args = p.parse_args(argv)
    s = long_run(args.cases, args.seed, args.hang_after, args.json, args.only, args.memory_limit_mib,
                 seconds=args.seconds)
    return 0 if not (s["exceptions_by_type"] or s["crashes"] or s["hangs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
