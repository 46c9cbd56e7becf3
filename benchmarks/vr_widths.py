"""Candidate widths for the variable-rate built-ins (issue 14): size, work and CPU training speed.

    OMP_NUM_THREADS=1 python benchmarks/vr_widths.py                   # every candidate, 128² x 2
    python benchmarks/vr_widths.py --crop 256 --batch 4 --steps 3 --json widths.json

For each candidate (a registry name plus width overrides, all variable-rate with the seven
qualities of ``taco.models.config.QUALITY_LAMBDAS``, reference layout, MiniLM text for TACO):
parameters, the size of its fp16 checkpoint with compact tables (what would ship), forward
GFLOP per 256² image (``torch.utils.flop_counter``, training mode), and the CPU time of full
training steps: forward at the step's quality, rate + λ·255²·MSE, backward, Adam on both
parameter groups (no LPIPS: its cost does not depend on the width). Random images and text
tokens: this measures work, not quality. CPU time (``time.process_time``) is reported beside
wall time because the machine is shared; read the ratios between candidates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from typing import Any

import torch

from taco.cli.common import positive_int

#: name -> (registry model, overrides). Qualities are added to every one.
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "taco N48 M96 ctx 48/32 (old built-ins)": ("taco-minilm-small", {}),
    "taco N96 M192 ctx 128/64": ("taco-minilm-vr", dict(N=96, M=192, groups=[16, 16, 32, 64, 64],
                                                        ctx_hidden=[128, 64])),
    "taco-minilm-vr (N128 M160 ctx 96/64)": ("taco-minilm-vr", {}),
    "elic-vr (N128 M160 ctx 96/64)": ("elic-vr", {}),
    "taco N128 M192 ctx 128/64": ("taco-minilm-vr", dict(M=192, groups=[16, 16, 32, 64, 64],
                                                         ctx_hidden=[128, 64])),
    "taco N192 M320 ctx 224/128 (paper)": ("taco-minilm", {}),
}


def _text(model: Any, batch: int) -> tuple[Any, ...]:
    if not model.uses_text:
        return ()
    from taco.text.base import TextTokens

    return (TextTokens(torch.randn(batch, 38, model.text_dim), torch.ones(batch, 38, dtype=torch.bool)),)


def measure(name: str, overrides: dict[str, Any], crop: int, batch: int, steps: int) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    from taco.losses import RateDistortionLoss
    from taco.models import create_model, save_checkpoint
    from taco.models.config import QUALITY_LAMBDAS
    from taco.train.qualities import QualitySchedule

    model = create_model(name, **{"qualities": list(QUALITY_LAMBDAS), **overrides})
    params = sum(p.numel() for p in model.parameters())
    with tempfile.TemporaryDirectory() as d:
        path = save_checkpoint(model, os.path.join(d, "m.safetensors"), half=True, compact_tables=True)
        file_bytes = os.path.getsize(path)
    model.train()
    with FlopCounterMode(display=False) as fc:
        model(torch.rand(1, 3, 256, 256), *_text(model, 1), quality=4)
    main = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    aux = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    opt, aux_opt = torch.optim.Adam(main, lr=1e-4), torch.optim.Adam(aux, lr=1e-3)
    loss_fn, schedule = RateDistortionLoss(), QualitySchedule(QUALITY_LAMBDAS)
    x, text = torch.rand(batch, 3, crop, crop), _text(model, batch)
    cpu, wall = [], []
    for step in range(steps + 1):  # the first is a warm-up
        c0, t0 = time.process_time(), time.perf_counter()
        out = model(x, *text, quality=schedule.quality(step))
        loss = loss_fn(out, x, lmbda=schedule.lmbda(step))["loss"] + model.aux_loss()
        opt.zero_grad(set_to_none=True)
        aux_opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main, 1.0)
        opt.step()
        aux_opt.step()
        if step:
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
    return {
        "params": params, "file_mb": file_bytes / 1e6,
        "gflop_fwd_256": fc.get_total_flops() / 1e9,
        "cpu_s_per_step": statistics.median(cpu), "wall_s_per_step": statistics.median(wall),
        "img_per_cpu_s": batch / statistics.median(cpu),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--crop", type=positive_int, default=128)
    p.add_argument("--batch", type=positive_int, default=2)
    p.add_argument("--steps", type=positive_int, default=3, help="measured steps after one warm-up step")
    p.add_argument("--only", action="append", help="candidates whose label contains this")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    unmatched = [o for o in args.only or [] if not any(o in label for label in CANDIDATES)]
    if unmatched:  # it measured nothing and wrote a JSON without results
        p.error(f"--only {', '.join(map(repr, unmatched))} matches no candidate; the candidates "
                f"are: {'; '.join(CANDIDATES)}")
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    rows = {}
    for label, (name, overrides) in CANDIDATES.items():
        if args.only and not any(o in label for o in args.only):
            continue
        r = measure(name, overrides, args.crop, args.batch, args.steps)
        rows[label] = r
        print(f"{label:40s} {r['params'] / 1e6:6.2f} M  {r['file_mb']:5.1f} MB  "
              f"{r['gflop_fwd_256']:5.1f} GFLOP  {r['img_per_cpu_s']:6.3f} img/CPU-s  "
              f"({r['cpu_s_per_step']:.2f} CPU-s, {r['wall_s_per_step']:.2f} s wall per step)",
              flush=True)
    if args.json:
        meta = {"crop": args.crop, "batch": args.batch, "steps": args.steps,
                "threads": torch.get_num_threads(), "torch": torch.__version__}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
