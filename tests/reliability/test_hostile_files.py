"""Hostile files (issue 17): crafted behind a valid CRC, run in child processes under a memory
limit so that a regression fails the test instead of the machine.

- A real file re-sealed to declare 9984x9984 (issue 17: 11.4 GB and a traceback before format 3)
  or 4096x4096 (3.6 GB, ~1 min) is refused in one line, fast, in little memory: by the default
  pixel cap, by the chunk count its size needs (format 3), or as a version-2 string too long to
  pad safely.
- A file that carries enough chunks but garbage decodes (or runs out of memory) in bounded
  memory, with one line if it fails.
- A CI-sized run of ``scripts/fuzz_decoder.py run`` (crash-isolated worker, 10 s hang limit,
  memory limit): no crash, no hang, no other exception, worker peak RSS under 2 GiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

import taco
from taco.bitstream import unpack
from taco.bitstream.rans import CHUNK_SYMBOLS
from taco.memory import MAX_DECODE_PIXELS, OutOfMemoryError
from taco.samples import SAMPLES_DIR as SAMPLES

FUZZ_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_decoder.py"

#: Runs ``taco.cli.main(argv)`` for each argv of a JSON list, after start-up (the model loaded
#: once), with the address space capped at its size then plus LIMIT bytes; prints one JSON line
#: per run: status, what it printed to stderr, seconds in main, peak RSS so far.
CHILD = textwrap.dedent("""
    import contextlib, io, json, os, resource, sys, time
    import torch
    torch.set_num_threads(1)
    import taco.cli, taco.codec
    from taco.models import load
    extra, runs = int(sys.argv[1]), json.loads(sys.argv[2])
    load(sys.argv[3])
    with open("/proc/self/statm") as f:
        vsize = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (vsize + extra, vsize + extra))
    for argv in runs:
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = taco.cli.main(argv)
        print(json.dumps({"rc": rc, "stderr": err.getvalue(), "seconds": time.perf_counter() - t0,
                          "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
              flush=True)
""")
LIMIT = 2 << 30  # address space a child may add after start-up


def run_cli(runs: list[list[str]], model: Path, timeout: float = 600) -> list[dict]:
    """Run ``taco`` command lines in one child process under the memory limit, each given
    ``--model model`` (a checkpoint file: the files here name a model the package need not ship)."""
    runs = [[*argv, "--model", str(model)] for argv in runs]
    r = subprocess.run([sys.executable, "-c", CHILD, str(LIMIT), json.dumps(runs), str(model)],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"the child died (status {r.returncode}): {r.stderr[-3000:]}"
    return [json.loads(line) for line in r.stdout.strip().splitlines()]


@pytest.fixture(scope="module")
def real_file(elic_checkpoint) -> bytes:
    """A real 64x64 file of elic-small (seed 0, from its checkpoint file: tests/conftest.py;
    format 3, one chunk: ~80 bytes)."""
    crop = Image.open(SAMPLES / "skimage-chelsea.png").convert("RGB").crop((0, 0, 64, 64))
    return taco.compress(crop, None, taco.load(elic_checkpoint))


def reseal(data: bytes, height: int, width: int, version: int = 3) -> bytes:
    """``data`` declaring another size (and, for 2, relabelled version 2), CRC recomputed."""
    from taco.bitstream.container import varint

    f = unpack(data)
    model_end = 6 + (1 + data[6] if data[5] == 0xFF else 0)
    fingerprint = data[model_end + 1 : model_end + 9]
    quality = data[model_end : model_end + 1] if version == 3 else b""
    head = (data[:4] + bytes([version]) + data[5:model_end] + quality + fingerprint + varint(height)
            + varint(width) + data[f.header_bytes - 5 : f.header_bytes - 4])
    return head + zlib.crc32(f.payload, zlib.crc32(head)).to_bytes(4, "big") + f.payload


CRAFTED = {  # name: (side, version, extra CLI args, words the one line must contain)
    "9984x9984, default cap": (9984, 3, [], f"over the decoder's cap of {MAX_DECODE_PIXELS:,}"),
    "9984x9984, no cap": (9984, 3, ["--max-pixels", "0"], "589 rANS chunks"),
    "4096x4096": (4096, 3, [], "99 rANS chunks"),
    "9984x9984, version 2, no cap": (9984, 2, ["--max-pixels", "0"], "re-encode the original image with model 'elic-small'"),
    "4096x4096, version 2": (4096, 2, [], "format version 2 (one rANS string)"),
}


@pytest.mark.timeout(900)
def test_crafted_sizes_fail_fast_in_one_line(tmp_path, real_file, elic_checkpoint):
    """Each crafted file through ``taco decompress``, all in one child (one start-up)."""
    runs = []
    for i, (side, version, args, _) in enumerate(CRAFTED.values()):
        data = reseal(real_file, side, side, version)
        assert len(data) < 130  # the file had 239 bytes
        path = tmp_path / f"crafted{i}.taco"
        path.write_bytes(data)
        runs.append(["decompress", str(path), "-o", str(tmp_path / "out.png"), *args])
    for name, (*_, words), report in zip(CRAFTED, CRAFTED.values(), run_cli(runs, elic_checkpoint),
                                      strict=True):
        err = report["stderr"].strip()
        assert report["rc"] == 2, (name, err)
        assert "\n" not in err and err.startswith("taco decompress: error: ") and words in err, (name, err)
        assert report["seconds"] < 30, name  # model loading included; ~1 s on an idle box
        assert report["max_rss_mib"] < 2048, name


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_enough_chunks_of_garbage_are_refused_in_bounded_memory(tmp_path, real_file, fuzz, elic_checkpoint):
    """4096x4096 with the 99 chunks its size needs, each a bare rANS state (900 bytes): it passes
    the size proof, its first chunk decodes (65,536 garbage symbols) in bounded memory and is
    refused, not being what the encoder writes for them (docs/reliability.md)."""
    f = fuzz.take_apart(real_file, CHUNK_SYMBOLS)  # one chunk: at most that many symbols
    state = (1 << 40).to_bytes(8, sys.byteorder)
    data = replace(f, height=bytes([0x80, 0x20]), width=bytes([0x80, 0x20]),
                   chunks=(state,) * 99).assemble()
    path = tmp_path / "garbage.taco"
    path.write_bytes(data)
    (report,) = run_cli([["decompress", str(path), "-o", str(tmp_path / "out.png")]], elic_checkpoint,
                        timeout=1500)
    assert report["max_rss_mib"] < 2048
    err = report["stderr"].strip()
    assert report["rc"] == 2 and "\n" not in err, report
    assert "rANS chunk 1 of 99 is not what the encoder writes" in err, report


def test_the_crafted_sizes_need_what_the_messages_say(real_file):
    """The chunk counts in CRAFTED follow from the sizes (elic-small: 96 y + 48 z channels)."""
    for side, chunks in ((9984, 589), (4096, 99)):
        symbols = 96 * (side // 16) ** 2 + 48 * (side // 64) ** 2
        assert -(-symbols // CHUNK_SYMBOLS) == chunks


@pytest.mark.timeout(600)
def test_running_out_of_memory_is_one_line(tmp_path, monkeypatch, capsys, real_file, elic_checkpoint):
    """An allocation failure while decoding (torch's message, CompressAI's std::bad_alloc) is
    OutOfMemoryError from the library and one line from the CLI; the file says what size."""
    from taco import codec
    from taco.cli import main

    def failing(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                           "allocate memory: you tried to allocate 12240000000 bytes. Error code 12")

    path = tmp_path / "x.taco"
    path.write_bytes(real_file)
    model = taco.load(elic_checkpoint)
    for error in (failing, MemoryError("std::bad_alloc")):
        monkeypatch.setattr(codec, "synthesize", failing if callable(error) else _raiser(error))
        with pytest.raises(OutOfMemoryError, match="out of memory decoding a 64x64 image"):
            taco.decompress(real_file, model)
        assert main(["decompress", str(path), "-o", str(tmp_path / "o.png"), "-f",
                     "-m", str(elic_checkpoint)]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err
        assert err.startswith(f"taco decompress: error: {path}: out of memory decoding a 64x64 image "
                              "(4,096 pixels)")
        assert ("could not allocate 11.4 GiB" if callable(error) else "an allocation failed") in err


def _raiser(exc: BaseException):  # noqa: ANN202
    def f(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise exc
    return f


def test_any_command_reports_allocation_failures_in_one_line(monkeypatch, capsys, tmp_path):
    """Outside decoding too (here ``taco info``): torch's allocator error, a bare MemoryError."""
    from taco import cli
    from taco.cli import info

    for error, line in [
        (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 2147483648 "
                      "bytes. Error code 12 (Cannot allocate memory)"), "could not allocate 2.0 GiB"),
        (MemoryError(), "an allocation failed"),
    ]:
        monkeypatch.setattr(info, "cmd_info", _raiser(error))
        assert cli.main(["info", str(tmp_path)]) == 2
        assert capsys.readouterr().err.strip() == f"taco info: error: out of memory: {line}"
    monkeypatch.setattr(info, "cmd_info", _raiser(RuntimeError("something else")))
    with pytest.raises(RuntimeError, match="something else"):  # not swallowed
        cli.main(["info", str(tmp_path)])


@pytest.mark.timeout(900)
def test_fuzz_script_ci_sized_run(tmp_path):
    """``scripts/fuzz_decoder.py run`` as run by hand: a crash-isolated worker under a memory
    limit, 150 structure-aware cases, most behind re-sealed CRCs."""
    out = tmp_path / "fuzz.json"
    work = tmp_path / "tmp"  # its TMPDIR: tests side by side (pytest-xdist) see their own folders
    work.mkdir()
    r = subprocess.run([sys.executable, str(FUZZ_SCRIPT), "run", "--cases", "150", "--seed", "17",
                        "--memory-limit-mib", "2048", "--json", str(out)],
                       capture_output=True, text=True, timeout=800, env={**os.environ, "TMPDIR": str(work)})
    assert not list(work.iterdir())  # its work folder is removed (one was left per run)
    s = json.loads(out.read_text())
    assert r.returncode == 0, (r.stderr[-2000:], s["failures"][:2])
    assert s["cases"] == 150 and sum(s["outcomes"].values()) == 150
    assert not s["crashes"] and not s["hangs"] and not s["exceptions_by_type"]
    assert s["worker_rss"]["max_rss_mib"] < 2048
    assert s["outcomes"].get("image", 0) > 10 and s["outcomes"].get("TacoFormatError", 0) > 10
