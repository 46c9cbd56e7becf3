"""Training throughput (images/s) and peak memory per step: TACO against the same step without
the text adapter (ELIC), in one process, reported as a ratio.

One measured step is exactly :meth:`taco.train.Trainer.train_step`: caption encoding by the
frozen text encoder (TACO only; fresh captions every step, so its cache never hits), forward,
the full TACO loss (rate + λ·MSE + k_p·LPIPS [+ k_j·joint when CLIP is available]), one backward,
gradient clipping and both Adam steps. Batches are random images of ``--crop``² (no data
loading). CUDA timings are synchronised; peak memory is ``torch.cuda.max_memory_allocated``
on CUDA and the process's peak resident set (VmHWM, reset before the steps) on the CPU.

    python benchmarks/train_throughput.py                       # paper sizes, 256² crops, batch 4
    python benchmarks/train_throughput.py --model taco-minilm-small --baseline elic-small \
        --steps 5 --crop 128                                    # a quick CPU run
    python benchmarks/train_throughput.py --json out.json

The paper's model uses the CLIP text encoder; without CLIP weights on the machine ``taco-minilm``
(same adapter and backbone, MiniLM text tokens of width 384) stands in, and is named in the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

warnings.filterwarnings("ignore")

from taco.data import Batch  # noqa: E402
from taco.train import Trainer, load_config  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "taco" / "assets" / "samples"


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    else:
        try:  # Linux: "5" resets the peak resident set size (VmHWM) of this process
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass


def _peak_mib(device: torch.device) -> float | None:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure(model: str, preset: str, args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    """Build a trainer for ``model`` and time ``args.steps`` training steps after warm-up."""
    overrides = [
        f"preset={preset}", f"model={model}", f"data.root={SAMPLES}", f"crop={args.crop}",
        f"batch_size={args.batch}", "workers=0", f"device={args.device}", f"k_j={args.k_j}",
        f"out_dir={out_dir / model}", "progress=false",
    ]  # fmt: skip
    if args.clip_model:
        overrides.append(f"clip_model={args.clip_model}")
    if args.bf16:
        overrides.append("bf16=true")
    if args.channels_last:
        overrides.append("channels_last=true")
    trainer = Trainer(load_config(None, overrides))
    device = trainer.device
    generator = torch.Generator().manual_seed(0)

    def batch(i: int) -> Batch:
        images = torch.rand(args.batch, 3, args.crop, args.crop, generator=generator)
        captions = [f"photo {i}-{j}: a scene with objects, people and sky" for j in range(args.batch)]
        return Batch(images, captions, [f"{i}-{j}" for j in range(args.batch)])

    for i in range(args.warmup):
        trainer.train_step(batch(-1 - i))
    _reset_peak(device)
    times = []
    for i in range(args.steps):
        b = batch(i)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        trainer.train_step(b)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    return {
        "model": model,
        "parameters_M": sum(p.numel() for p in trainer.model.parameters()) / 1e6,
        "device": str(device),
        "step_s_median": median,
        "images_per_s": args.batch / median,
        "peak_mib": _peak_mib(device),
        "k_j": trainer.loss_fn.k_j,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="TACO model (default: taco, or taco-minilm without CLIP)")
    p.add_argument("--baseline", default="elic", help="the same backbone without text (default: elic)")
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=None, help="measured steps (default: 20 GPU, 3 CPU)")
    p.add_argument("--warmup", type=int, default=None, help="unmeasured steps (default: 3 GPU, 1 CPU)")
    p.add_argument("--device", default="auto")
    p.add_argument("--k-j", type=float, default=0.0,
                   help="joint-loss weight (needs CLIP: --clip-model DIR; default 0)")
    p.add_argument("--clip-model", default=None, help="CLIP folder for the joint loss")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)

    gpu = args.device.startswith("cuda") or (args.device == "auto" and torch.cuda.is_available())
    args.steps = args.steps or (20 if gpu else 3)
    args.warmup = args.warmup if args.warmup is not None else (3 if gpu else 1)
    model = args.model
    if model is None:
        from taco.text import TextEncoderUnavailable, get_text_encoder

        try:
            get_text_encoder("clip")
            model = "taco"
        except TextEncoderUnavailable:
            model = "taco-minilm"
            print("note: no CLIP text encoder on this machine; taco-minilm stands in for taco",
                  file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        base = measure(args.baseline, "elic", args, Path(tmp))
        text = measure(model, "taco", args, Path(tmp))
    rows = [base, text]
    print(f"{args.batch} x {args.crop}² crops, {args.steps} steps after {args.warmup} warm-up, "
          f"{text['device']}, torch {torch.__version__}")
    print(f"{'model':<22}{'params (M)':>11}{'step (s)':>10}{'img/s':>9}{'peak (MiB)':>12}")
    for r in rows:
        peak = f"{r['peak_mib']:.0f}" if r["peak_mib"] is not None else "n/a"
        print(f"{r['model']:<22}{r['parameters_M']:>11.2f}{r['step_s_median']:>10.3f}"
              f"{r['images_per_s']:>9.2f}{peak:>12}")
    ratio = {"throughput": text["images_per_s"] / base["images_per_s"]}
    if text["peak_mib"] and base["peak_mib"]:
        ratio["peak_memory"] = text["peak_mib"] / base["peak_mib"]
    print(f"{model} / {args.baseline}: throughput x{ratio['throughput']:.3f}"
          + (f", peak memory x{ratio['peak_memory']:.3f}" if "peak_memory" in ratio else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": rows, "ratio": ratio},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
