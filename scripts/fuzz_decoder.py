"""Fuzz the ``.taco`` decoder: an atheris target, and a long run that needs no atheris.

    python scripts/fuzz_decoder.py atheris [-atheris_runs=N ...]   # coverage-guided (pip install atheris)
    python scripts/fuzz_decoder.py run --cases 100000 --json fuzz.json  # seeded mutations, no atheris

Every input goes through the three ways a ``.taco`` file is read -- ``taco.bitstream.unpack``,
``taco info`` (``taco.cli.main``) and ``taco.decompress`` -- and the only allowed outcomes are a
decoded image (of the size the header declares) or :class:`taco.TacoFormatError`; for ``taco info``
exit status 0 or 2. Anything else -- another exception, a crash, a hang -- is a failure.

Inputs are valid files made by two seeded tiny models (``elic-tiny``, ``taco-tiny``), mutated:
random bytes, bit flips, byte edits, truncations, insertions, and -- since the CRC-32 (over the
whole file, header included: format version 2) rejects almost every edit before anything else
looks at it -- files edited *behind a recomputed CRC*: header fields (model byte, version, mode
and padding byte, fingerprint, bits anywhere in the header), huge varints, wrong image sizes,
and a corrupted payload, so that garbage rANS streams reach CompressAI's C++ decoder
(:func:`mutate`).

``run`` executes the cases in a worker process; a worker that dies (a crash: SIGSEGV, SIGFPE,
SIGABRT, out of memory) or stops making progress for ``--hang-after`` seconds is recorded with
the case number and restarted after that case. Case ``i`` is generated from ``Random(seed, i)``
alone, so ``--only I`` replays it. The summary (cases, outcomes, exceptions by type, crashes,
hangs, time) is printed and written as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import queue
import random
import sys
import tempfile
import time
import traceback
import warnings
import zlib
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Decoder cap on declared pixels while fuzzing: keeps a case fast (a legitimately decodable
#: 32768x32768 file takes minutes and ~20 GB); the default cap is tested on its own.
FUZZ_MAX_PIXELS = 1 << 20
SAMPLE = Path(__file__).resolve().parents[1] / "taco" / "assets" / "samples" / "skimage-chelsea.png"

# --------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Parsed:
    """A valid file taken apart: the header before the CRC, the payload, where fields start."""

    head: bytes  # magic .. mode/padding byte (everything the CRC follows)
    payload: bytes  # the rANS stream
    height_at: int  # offset of the height varint
    model_at: int = 5  # offset of the model byte


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def assemble(head: bytes, payload: bytes, crc: int | None = None) -> bytes:
    """Container bytes from any (possibly wrong) header fields, with a valid CRC unless given:
    the CRC-32 of every byte before it and of the payload."""
    if crc is None:
        crc = zlib.crc32(payload, zlib.crc32(head))
    return head + crc.to_bytes(4, "big") + payload


def parse(data: bytes) -> Parsed:
    from taco.bitstream import unpack

    f = unpack(data)
    code = data[5]
    height_at = 6 + (1 + data[6] if code == 0xFF else 0) + 8
    return Parsed(data[: f.header_bytes - 4], f.payload, height_at)


class Models:
    """The two seeded tiny models and valid files made with them (built once per process)."""

    def __init__(self) -> None:
        from PIL import Image

        import taco
        from taco.models import create_model, model_fingerprint

        self.elic = create_model("elic-tiny", seed=0)
        self.taco = create_model("taco-tiny", seed=0)
        photo = Image.open(SAMPLE).convert("RGB")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.seeds = [
                taco.compress(photo.crop((0, 0, 64, 48)), None, self.elic),
                taco.compress(photo.crop((100, 60, 230, 130)), None, self.elic),
                taco.compress(photo.crop((5, 5, 6, 6)), None, self.elic),
                taco.compress(photo.crop((200, 100, 264, 164)), "a cat", self.taco),
            ]
        self.parsed = [parse(s) for s in self.seeds]
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


def _garble_stream(rng: random.Random, s: bytes, donor: bytes) -> bytes:
    """A corrupted rANS stream, most often made to pass taco's pre-checks (whole 32-bit words,
    a valid initial state) as an attacker would, so that the C++ decoder runs on it."""
    g = _garble(rng, s, donor)
    if rng.random() < 0.75:
        g = g + bytes(-len(g) % 4)
        g = (rng.randrange(1 << 31, 1 << 63)).to_bytes(8, sys.byteorder) + g[8:]
    return g


def _garble(rng: random.Random, s: bytes, donor: bytes) -> bytes:
    kind = rng.randrange(11)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 4, 7, 8, 12, len(s)])))
    if kind == 1:
        return _flip_bits(rng, s, rng.randint(1, 4))
    if kind == 2:
        return s[: rng.randrange(len(s) + 1)]
    if kind == 3:
        return s + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    if kind == 4:  # a plausible initial state, then all ones: longest bypass runs
        return (rng.randrange(1 << 31, 1 << 63)).to_bytes(8, sys.byteorder) + b"\xff" * rng.choice([0, 4, 64, 4096])
    if kind == 5:  # a plausible initial state, then nothing: the decoder runs into the padding
        return (rng.randrange(1 << 31, 1 << 63)).to_bytes(8, sys.byteorder)
    if kind == 6:
        return bytes(len(s))
    if kind == 7:  # another file's stream: other parts, other lengths
        return donor
    if kind == 8:  # a stretch in the middle overwritten: the parts before it decode fine
        at = rng.randrange(len(s))
        n = rng.randint(1, max(1, len(s) // 4))
        return s[:at] + bytes(rng.getrandbits(8) for _ in range(n)) + s[at + n :]
    if kind == 9:  # the end cut off or doubled: later parts (the last y passes) run out of data
        return s[: rng.randrange(8, len(s) + 1)] if rng.random() < 0.5 else s + s[8:]
    return bytes(rng.getrandbits(8) for _ in range(len(s)))


def _model_field(rng: random.Random) -> bytes:
    """Any value of the model field: no id, a table code (known or not), an inline id."""
    code = rng.choice([0, 1, rng.randrange(1, 256), 0xFE, 0xFF, 0xFF])
    if code != 0xFF:
        return bytes([code])
    n = rng.choice([0, 1, 9, 255, rng.randrange(256)])
    raw = bytes(rng.getrandbits(8) for _ in range(n)) if rng.random() < 0.3 else b"x" * n
    return bytes([0xFF, n]) + raw[: rng.choice([n, n, max(0, n - 1)])]


def mutate(rng: random.Random, models: Models) -> tuple[str, bytes]:
    """One fuzz case: (mutator name, file bytes), drawn from ``rng`` and the seed files only."""
    i = rng.randrange(len(models.seeds))
    seed, p = models.seeds[i], models.parsed[i]
    other = models.parsed[rng.randrange(len(models.parsed))]
    kind = rng.choice(MUTATORS)
    fields = p.head[p.height_at :]  # height, width, mode/padding
    if kind == "random-bytes":
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(200)))
    elif kind == "random-after-magic":
        data = b"TACO\x02" + bytes(rng.getrandbits(8) for _ in range(rng.randrange(120)))
    elif kind == "bit-flips":
        data = _flip_bits(rng, seed, rng.choice([1, 1, 1, 2, 3, 8]))
    elif kind == "header-bit-flip":  # caught by the CRC
        data = _flip_bits(rng, seed[: len(p.head) + 4], 1) + seed[len(p.head) + 4 :]
    elif kind == "header-behind-crc":  # header bits flipped, CRC recomputed: the fields' checks
        data = assemble(_flip_bits(rng, p.head, rng.choice([1, 1, 2, 4])), p.payload)
    elif kind == "byte-edits":
        b = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        data = bytes(b)
    elif kind == "truncate":
        data = seed[: rng.randrange(len(seed))]
    elif kind == "insert-delete":
        at = rng.randrange(len(seed) + 1)
        if rng.random() < 0.5:
            data = seed[:at] + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 16))) + seed[at:]
        else:
            data = seed[:at] + seed[at + rng.randint(1, 16) :]
    elif kind == "version":  # valid CRC: version 1 (refused with its own message), 0, 3, 255
        version = rng.choice([0, 1, 1, 3, 255])
        data = assemble(p.head[:4] + bytes([version]) + p.head[5:], p.payload)
    elif kind == "model-byte":  # valid CRC: any model code, inline ids of any length / UTF-8
        data = assemble(p.head[: p.model_at] + _model_field(rng) + p.head[p.height_at - 8 :], p.payload)
    elif kind == "mode-padding":  # valid CRC: every mode/padding byte value
        data = assemble(p.head[:-1] + bytes([rng.getrandbits(8)]), p.payload)
    elif kind == "fingerprint":  # valid CRC, another model's fingerprint or garbage
        fp = rng.choice([bytes(8), bytes(rng.getrandbits(8) for _ in range(8)),
                         other.head[other.height_at - 8 : other.height_at]])
        data = assemble(p.head[: p.height_at - 8] + fp + fields, p.payload)
    elif kind == "image-size":  # payload untouched: the decoder codes more or fewer symbols
        h = rng.choice([1, 63, 64, 65, 127, 300, 1024, 4096, 32768, 32769, 2**35 - 1])
        w = rng.choice([1, 64, 65, 200, 1024, 32768, 40000])
        rest = fields[len(_varint_prefix(fields)) :]  # drop height
        rest = rest[len(_varint_prefix(rest)) :]  # drop width
        data = assemble(p.head[: p.height_at] + _varint(h) + _varint(w) + rest, p.payload)
    elif kind == "huge-varints":  # a 5-byte varint somewhere in height .. mode, CRC recomputed
        at = rng.randrange(p.height_at, len(p.head))
        data = assemble(p.head[:at] + b"\xff\xff\xff\xff\x7f" + p.head[at:], p.payload)
    elif kind == "crc-only":  # file intact, CRC wrong
        data = assemble(p.head, p.payload, crc=rng.getrandbits(32))
    else:  # "payload-behind-crc": a garbage rANS stream in a well-formed container
        data = assemble(p.head, _garble_stream(rng, p.payload, other.payload))
    return kind, data


def _varint_prefix(b: bytes) -> bytes:
    for k in range(min(5, len(b))):
        if not b[k] & 0x80:
            return b[: k + 1]
    return b[:5]


MUTATORS = (
    "random-bytes", "random-after-magic", "bit-flips", "header-bit-flip", "header-behind-crc",
    "byte-edits", "truncate", "insert-delete", "version", "model-byte", "mode-padding",
    "fingerprint", "image-size", "huge-varints", "crc-only",
    "payload-behind-crc", "payload-behind-crc", "payload-behind-crc", "payload-behind-crc",
    "payload-behind-crc",
)

# --------------------------------------------------------------------------- the target


class UnexpectedOutcome(AssertionError):
    """The decoder did something other than decode or raise TacoFormatError."""


def check_one(data: bytes, models: Models, workdir: str | None = None) -> str:
    """Feed ``data`` to unpack, ``taco info`` and decompress; return the outcome.

    Outcomes: ``"image"``, ``"TacoFormatError"``. Raises :class:`UnexpectedOutcome` (wrapping the
    original exception, if any) for anything else.
    """
    import taco
    from taco.bitstream import TacoFormatError, unpack
    from taco.cli import main as cli_main

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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = taco.decompress(data, models.model_for(data), max_pixels=FUZZ_MAX_PIXELS)
    except TacoFormatError:
        return "TacoFormatError"
    except Exception as exc:
        raise UnexpectedOutcome(f"decompress raised {type(exc).__name__}: {exc}") from exc
    if not parsed_ok:
        raise UnexpectedOutcome("decompress decoded a file that unpack refuses")
    if image.size != (header.width, header.height):
        raise UnexpectedOutcome(f"decoded {image.size}, the header declares {header.width}x{header.height}")
    return "image"


# --------------------------------------------------------------------------- atheris


def atheris_main(argv: list[str]) -> None:
    import atheris
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
        # As is, and -- using the input as the randomness -- as a structured mutation of a seed
        # (payload garbage and header fields behind a valid CRC, sizes), which raw bytes rarely reach.
        check_one(data, models, workdir)
        if data:
            _, case = mutate(random.Random(data), models)
            check_one(case, models, None)

    atheris.Setup([sys.argv[0], *argv], test_one_input)
    atheris.Fuzz()


# --------------------------------------------------------------------------- long run


def _workdir() -> str:
    """Where ``taco info`` reads its input from: memory-backed where there is one."""
    shm = "/dev/shm"
    return tempfile.mkdtemp(prefix="taco-fuzz-", dir=shm if os.path.isdir(shm) else None)


def case_rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")


def _worker(seed: int, start: int, stop: int, progress: Any) -> None:
    import torch

    torch.set_num_threads(1)  # tiny convolutions: one thread is fastest, and leaves a core free
    models = Models()
    workdir = _workdir()
    progress.put(("ready", None, None, None))
    for i in range(start, stop):
        kind, data = mutate(case_rng(seed, i), models)
        try:
            outcome = check_one(data, models, workdir)
            progress.put((i, kind, outcome, None))
        except UnexpectedOutcome as exc:
            cause = exc.__cause__
            progress.put((i, kind, "unexpected", {
                "type": type(cause).__name__ if cause else "UnexpectedOutcome",
                "message": str(exc)[:500],
                "traceback": traceback.format_exc()[-2000:],
                "input_hex": data.hex(),
            }))
    progress.put(("done", None, None, None))


def long_run(cases: int, seed: int, hang_after: float, json_path: str | None, only: int | None) -> dict:
    ctx = mp.get_context("spawn")
    start, stop = (only, only + 1) if only is not None else (0, cases)
    outcomes: Counter[str] = Counter()
    by_mutator: dict[str, Counter[str]] = {}
    exceptions: Counter[str] = Counter()
    failures, crashes, hangs = [], [], []
    t0 = time.time()
    next_case = start
    while next_case < stop:
        progress = ctx.Queue()
        proc = ctx.Process(target=_worker, args=(seed, next_case, stop, progress), daemon=True)
        proc.start()
        last_seen = time.time()
        ready = False  # start-up (imports, building the models) gets 10x the hang limit
        while True:
            try:
                i, kind, outcome, info = progress.get(timeout=1.0)
            except queue.Empty:
                if not proc.is_alive():  # died without "done": the case after the last one crashed
                    proc.join()
                    crashes.append({"case": next_case, "exitcode": proc.exitcode})
                    next_case += 1
                    break
                if time.time() - last_seen > (hang_after if ready else 10 * hang_after):
                    proc.kill()
                    proc.join()
                    hangs.append({"case": next_case, "seconds": hang_after})
                    next_case += 1
                    break
                continue
            last_seen = time.time()
            if i == "ready":
                ready = True
                continue
            if i == "done":
                proc.join()
                next_case = stop
                break
            outcomes[outcome] += 1
            by_mutator.setdefault(kind, Counter())[outcome] += 1
            if info is not None:
                exceptions[info["type"]] += 1
                if len(failures) < 20:
                    failures.append({"case": i, "mutator": kind, **info})
            next_case = i + 1
            done = next_case - start
            if done % 5000 == 0:
                rate = done / (time.time() - t0)
                print(f"{done} cases, {rate:.1f}/s, {dict(outcomes)}, crashes {len(crashes)}, "
                      f"hangs {len(hangs)}", flush=True)
    seconds = time.time() - t0
    summary = {
        "cases": stop - start,
        "seed": seed,
        "seconds": round(seconds, 1),
        "cases_per_second": round((stop - start) / seconds, 2),
        "outcomes": dict(outcomes),
        "exceptions_by_type": dict(exceptions),
        "crashes": crashes,
        "hangs": hangs,
        "by_mutator": {k: dict(v) for k, v in sorted(by_mutator.items())},
        "failures": failures,
        "fuzz_max_pixels": FUZZ_MAX_PIXELS,
    }
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
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--hang-after", type=float, default=120.0, help="seconds without progress")
    r.add_argument("--json", help="write the summary here")
    r.add_argument("--only", type=int, help="replay one case number")
    sub.add_parser("atheris", help="coverage-guided fuzzing; atheris/libFuzzer flags follow")
    args = p.parse_args(argv)
    s = long_run(args.cases, args.seed, args.hang_after, args.json, args.only)
    return 0 if not (s["exceptions_by_type"] or s["crashes"] or s["hangs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
