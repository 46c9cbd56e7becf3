"""Peak memory (RSS) and time of decoding, and of encoding, against image size: the memory
model of docs/reliability.md.

    python benchmarks/memory_model.py --sizes 1024 2048 4096 6000x4000 --json mm.json
    python benchmarks/memory_model.py --model elic --sizes 1024 2048      # paper widths, random

Each measurement runs in a fresh process (``python benchmarks/memory_model.py child ...``) so that
its peak RSS (``getrusage`` maxrss, and a 2 ms /proc sampler for the peak of each stage) is its
own (Linux). ``decode`` decodes a real format-3 file of a side x side image through ``taco.decompress``
(8-bit output, as ``taco decompress`` does); a size is ``SIDE`` or ``WIDTHxHEIGHT`` and reports the peak of each stage through the
decoder's ``progress`` callback: start-up (imports, model), entropy decoding (rANS chunks and
the float64 entropy-parameter path at latent resolution), synthesis (g_s, tile by tile). The
file is made without running g_a on a huge photo: the latent of a 512x512 sample photo, tiled
to the size, entropy-coded by taco (so the stream and its statistics are real). ``encode``
runs ``taco.compress_image`` on the sample photo resized to side x side and reports the peak of
each of its stages: converting, analysis (g_a, in stripes above ``taco.codec``'s budget),
entropy coding.

``cli`` measures what a user runs: ``taco decompress FILE.taco -o x.png`` (imports, model,
decoding, PNG encoding and the write), its peak RSS from ``os.wait4`` and its CPU time, beside
``taco.memory``'s estimate. The file is a real photo's: ``--photo`` (default: the astronaut
sample) upscaled with Pillow to the size and coded once by ``taco compress -m MODEL`` (cached in
``--workdir``; 24 MP took 1.5 min on 2 cores). The peak moves by up to ~300 MiB between runs of
one file (glibc's heap, docs/reliability.md), so ``--repeat`` decodes each file more than once
and ``taco.memory`` is fitted to the highest run. Every measured process runs with torch's own
thread count (``OMP_NUM_THREADS`` when set, else the cores) unless ``--threads N``; each row
records its ``threads``:

    python benchmarks/memory_model.py --parts cli --model taco-minilm-small-q4 \
        --sizes 4000x3000 6000x4000 --repeat 2 --photo ~/photos/val/pyiqa-frame-4wrwr48c.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from taco.bitstream import MAX_SIDE
from taco.cli.common import positive_int, thread_count
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-astronaut.png"


def rss_bytes() -> int:
    """Resident set size of this process (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """Peak RSS of this process, per stage (a thread sampling every 2 ms)."""

    def __init__(self) -> None:
        self.stage, self.peaks = "start-up", {}
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            rss = rss_bytes()
            if rss > self.peaks.get(self.stage, 0):
                self.peaks[self.stage] = rss
            time.sleep(0.002)

    def enter(self, stage: str) -> None:
        time.sleep(0.005)
        self.stage = stage

    def stop(self) -> dict[str, float]:
        time.sleep(0.005)
        self._stop = True
        self._thread.join()
        return {k: round(v / 2**20) for k, v in self.peaks.items()}


def _model(name: str) -> Any:
    """As ``--model`` names it for the command line: a built-in, a checkpoint file or an
    architecture (seed 0)."""
    from taco.resolve import resolve_model

    return resolve_model(name).model


def parse_size(size: str) -> tuple[int, int]:
    """"SIDE" or "WIDTHxHEIGHT" -> (width, height)."""
    w, _, h = size.partition("x")
    return int(w), int(h or w)


def size_arg(text: str) -> str:
    """``--sizes``' SIDE or WIDTHxHEIGHT, each side 1 to taco's largest (an argparse ``type``;
    the text is what the children are given)."""
    try:
        width, height = parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes SIDE or WIDTHxHEIGHT, e.g. 6000x4000, not {text!r}") from None
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"sides must be 1 to {MAX_SIDE}, got {width}x{height}")
    return text


def make_file(name: str, size: str, path: str) -> None:
    """A real format-3 file of a ``size`` image, made from a tiled 512x512 latent (a
    variable-rate model's at its middle quality)."""
    import torch
    from PIL import Image

    from taco.codec import coding_codec, encode_text, pack_image
    from taco.images import image_to_tensor
    from taco.models import fast_codec

    model = _model(name)
    with torch.no_grad():
        x = image_to_tensor(Image.open(SAMPLE).convert("RGB").resize((512, 512)))
        y = model.analysis(x, encode_text(model, ["a photo"]))
        width, height = parse_size(size)
        h, w = -(-height // 64) * 4, -(-width // 64) * 4  # the padded image's latent
        y = y.repeat(1, 1, -(-h // y.shape[-2]), -(-w // y.shape[-1]))[..., :h, :w].contiguous()
        quality = model.default_quality  # a variable-rate model's middle quality, else None
        stream = fast_codec.compress_latent(coding_codec(model), y, quality)["strings"][0][0]
    Path(path).write_bytes(pack_image(model, stream, height, width, "RGB", quality).data)


def child(part: str, name: str, size: str, path: str) -> dict[str, Any]:
    sampler = PeakSampler()
    import resource
    import warnings

    import torch

    import taco

    model = _model(name)
    t0 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if done == 0 or stage != sampler.stage:
            stages[stage] = time.perf_counter()
            sampler.enter(stage)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if part == "encode":
            from PIL import Image

            from taco.codec import compress_image

            image = Image.open(SAMPLE).convert("RGB").resize(parse_size(size))
            compress_image(image, "a photo", model, progress=progress)
        else:
            data = Path(path).read_bytes()
            taco.decompress(data, model, max_pixels=None, progress=progress)
    seconds = time.perf_counter() - t0
    peaks = sampler.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    width, height = parse_size(size)
    return {"part": part, "model": name, "size": f"{width}x{height}", "pixels": width * height,
            "threads": torch.get_num_threads(), "seconds": round(seconds, 2),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime - cpu0, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024),
            "stage_peak_rss_mib": peaks,
            "file_bytes": os.path.getsize(path) if part == "decode" else None}


def child_env(threads: int | None) -> dict[str, str]:
    """The environment of every measured process: ours, with ``OMP_NUM_THREADS`` set to
    ``threads`` when given (else torch's default: the cores, or the ``OMP_NUM_THREADS`` we have)."""
    return {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}


def torch_threads(env: dict[str, str]) -> int:
    """The torch CPU threads of a fresh process in ``env`` (what ``taco decompress`` runs with)."""
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[Any, float]:
    """Run ``cmd`` (an error if it fails): its resource usage (``ru_maxrss``: its own peak RSS in
    KiB, whatever ran before in this process) and its wall seconds."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()  # a child blocked on a full pipe would never end
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: exit status {proc.returncode}: {err.decode()[-500:]}")
    return usage, time.perf_counter() - t0


def cli_file(model: str, size: str, photo: Path, workdir: Path) -> Path:
    """A ``.taco`` file of ``photo`` upscaled to ``size``, coded by ``taco compress`` (cached)."""
    from PIL import Image

    path = workdir / f"{Path(model).name}-{size}-{photo.stem}.taco"
    if not path.exists():
        png = workdir / f"{size}-{photo.stem}.png"
        Image.open(photo).convert("RGB").resize(parse_size(size), Image.LANCZOS).save(png, compress_level=1)
        run_measured([sys.executable, "-m", "taco", "compress", str(png), "--caption", "a photo",
                      "-m", model, "--quiet", "-o", str(path)])
        png.unlink()
    return path


def cli_decode(path: Path, size: str, repeat: int, env: dict[str, str]) -> dict[str, Any]:
    """Peak RSS and CPU time of ``taco decompress`` (the CLI, its own process in ``env``)
    decoding ``path`` ``repeat`` times, and ``taco.memory``'s estimate."""
    from taco.memory import decode_memory_estimate

    out = path.with_suffix(".decoded.png")
    peaks, cpu, wall = [], [], []
    for _ in range(repeat):
        usage, seconds = run_measured([sys.executable, "-m", "taco", "decompress", str(path), "-o",
                                       str(out), "--force", "--quiet", "--max-pixels", "0"], env)
        peaks.append(round(usage.ru_maxrss / 1024))
        cpu.append(round(usage.ru_utime + usage.ru_stime, 1))
        wall.append(round(seconds, 1))
    out.unlink()
    width, height = parse_size(size)
    return {"part": "cli", "size": f"{width}x{height}", "pixels": width * height,
            "threads": torch_threads(env), "file_bytes": path.stat().st_size, "peak_rss_mib": peaks, "cpu_seconds": cpu,
            "wall_seconds": wall, "estimate_mib": round(decode_memory_estimate(width * height) / 2**20)}


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    env = child_env(args.threads)
    tmp = Path(args.workdir)
    tmp.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        path = tmp / f"{Path(args.model).name}-{size}.taco"
        if "decode" in args.parts and not path.exists():
            subprocess.run([sys.executable, __file__, "make", args.model, size, str(path)], check=True)
        for part in args.parts:
            if part == "cli":
                row = {"model": args.model, **cli_decode(cli_file(args.model, size, args.photo, tmp),
                                                         size, args.repeat, env)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                continue
            out = subprocess.run([sys.executable, __file__, "child", part, args.model, size, str(path)],
                                 capture_output=True, text=True, env=env)
            if out.returncode:
                row = {"part": part, "model": args.model, "size": size, "error": out.stderr.strip()[-500:]}
            else:
                row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        print(json.dumps(child(argv[1], argv[2], argv[3], argv[4])))
        return 0
    if argv[:1] == ["make"]:
        make_file(argv[1], argv[2], argv[3])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="elic-small-q4")
    p.add_argument("--sizes", nargs="+", type=size_arg, default=["1024", "2048", "4096"],
                   help="SIDE or WIDTHxHEIGHT")
    p.add_argument("--parts", nargs="+", default=["decode", "encode"], choices=["decode", "encode", "cli"])
    p.add_argument("--photo", type=Path, default=SAMPLE,
                   help="the photo the cli part upscales and codes")
    p.add_argument("--repeat", type=positive_int, default=1, help="decodes of each file by the cli part")
    p.add_argument("--threads", type=thread_count, metavar="N",
                   help="torch CPU threads of every measured process (OMP_NUM_THREADS; default: "
                   "torch's own); each row says its count")
    p.add_argument("--workdir", default="/tmp/taco-memory-model")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    from taco.errors import TacoError
    from taco.models.registry import locate_model

    try:  # here, not as a child's CalledProcessError: a mistyped name, a missing checkpoint
        locate_model(args.model)
    except TacoError as e:
        p.error(f"--model: {e}")
    rows = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
