"""Training throughput (images/s): a plain fp32 PyTorch loop against taco's training loop with
its speed options, for the same model, data and batch, in one process; reported as ratios.

Variants (``--variants``, default: all but ``fast-compile`` on a CPU):

    plain         the loop everyone writes first: DataLoader over the photos (decode, random crop,
                  flip on the CPU, one worker per --workers), captions through the frozen text
                  encoder with its per-caption cache, fp32, torch.optim.Adam, loss.item() every step
    fast-fp32     taco train --data-on-device --fused-adam: the photos decoded once into device
                  memory and cropped there, caption tokens computed once, fused Adam, no host
                  sync inside a step (the loss is read every log interval)
    fast          fast-fp32 + bf16 autocast (g_a/g_s; the rate stays float32) + channels_last,
                  i.e. ``taco train --fast``
    fast-compile  fast + torch.compile

Each variant times ``--steps`` steps after as many warm-up steps (start-up, LPIPS, compilation),
in wall time (``img/s``) and in process CPU time (``img/CPU-s``, all threads: the steadier
figure on a shared CPU). The taco variants take their steps as :meth:`taco.train.Trainer.fit`
does (its batches, its ``train_step``) and wait for the device once at the end, as fit does per
log interval. Every step is the full TACO step: forward, rate + λ·MSE + k_p·LPIPS, one backward,
gradient clipping, both Adam steps. On CUDA a few extra steps of each variant run under
``torch.cuda.set_sync_debug_mode`` and the host synchronisations they make are counted.

    python benchmarks/train_throughput.py                            # built-in and paper sizes
    python benchmarks/train_throughput.py --models taco-minilm-small --crop 128 --steps 3
    python benchmarks/train_throughput.py --data ../shared/data/photos/train --json out.json
    python benchmarks/train_throughput.py --text-embeddings emb.safetensors   # no MiniLM here

Paper size is ``taco-minilm``: the paper's ``taco`` backbone (N=192, M=320) with the offline
MiniLM text encoder standing in for CLIP (no CLIP weights offline). Without MiniLM's package
(a GPU machine), ``--text-embeddings FILE`` (``taco train CONFIG --embed-captions FILE``)
supplies the caption tokens to every variant, the plain loop included (through the same
per-caption CPU cache path an online encoder takes).
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

from taco.cli.common import non_negative_int, positive_int  # noqa: E402
from taco.data import CaptionedFolder, collate, train_transform  # noqa: E402
from taco.errors import TacoError  # noqa: E402
from taco.losses import TacoLoss  # noqa: E402
from taco.models import MODEL_CONFIGS, create_model  # noqa: E402
from taco.samples import SAMPLES_DIR as SAMPLES  # noqa: E402
from taco.text import get_text_encoder  # noqa: E402
from taco.text.base import TextEncoder  # noqa: E402
from taco.train import Trainer, load_config  # noqa: E402
from taco.train.caption_embeddings import CaptionTable, TableTextEncoder  # noqa: E402
from taco.train.run_log import per_second  # noqa: E402

VARIANTS = {
    "fast-fp32": ["data_on_device=true", "fused_adam=true"],
    "fast": ["data_on_device=true", "fused_adam=true", "bf16=true", "channels_last=true"],
    "fast-compile": ["data_on_device=true", "fused_adam=true", "bf16=true", "channels_last=true",
                     "compile=true"],
}  # fmt: skip


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _text_encoder(model: Any, args: argparse.Namespace) -> TextEncoder | None:
    if not model.uses_text:
        return None
    if args.text_embeddings:
        return TableTextEncoder(CaptionTable.load(args.text_embeddings))
    spec = dict(model.config.text_encoder)
    return get_text_encoder(spec.pop("name"), **spec)


def plain_loop(name: str, args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """The reference: a straightforward fp32 training loop, timed over ``args.steps`` steps."""
    model = create_model(name, seed=0).to(device).train()
    encoder = _text_encoder(model, args)
    if encoder is not None:
        encoder.to(device)
    loss_fn = TacoLoss(args.lmbda, k_j=0).to(device)
    # a variable-rate model trains its middle quality at that quality's λ here (the taco variants
    # draw one per step): the same work per step whichever quality
    quality = model.default_quality
    lmbda = model.qualities[quality - 1] if quality is not None else None
    aux = [p for n, p in model.named_parameters() if n.endswith(".quantiles")]
    main = [p for n, p in model.named_parameters() if not n.endswith(".quantiles")]
    optimizer, aux_optimizer = torch.optim.Adam(main, lr=1e-4), torch.optim.Adam(aux, lr=1e-3)
    dataset = CaptionedFolder(args.data, transform=train_transform(args.crop), seed=0)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch, shuffle=True, drop_last=True, collate_fn=collate,
        num_workers=args.workers, pin_memory=device.type == "cuda",
        persistent_workers=args.workers > 0,
    )  # fmt: skip

    def batches():
        while True:
            yield from loader

    times: list[float] = []
    cpu_times: list[float] = []
    source = batches()
    for i in range(2 * args.steps):
        if i == args.steps:
            _reset_peak(device)
        t0, c0 = time.perf_counter(), time.process_time()
        batch = next(source)
        x = batch.images.to(device)
        text = encoder.encode(batch.captions).to(device) if encoder is not None else None
        out = model(x, quality=quality) if text is None else model(x, text, quality=quality)
        parts = loss_fn(out, x, batch.captions, lmbda=lmbda)
        optimizer.zero_grad()
        aux_optimizer.zero_grad()
        (parts["loss"] + model.aux_loss()).backward()
        torch.nn.utils.clip_grad_norm_(main, 1.0)
        optimizer.step()
        aux_optimizer.step()
        parts["loss"].item()  # what a plain loop logs every step
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    return {"variant": "plain", "images_per_s": args.steps * args.batch / sum(times[args.steps :]),
            "images_per_cpu_s": args.steps * args.batch / sum(cpu_times[args.steps :]),
            "peak_mib": _peak_mib(device)}  # fmt: skip


def _syncs_per_step(trainer: Trainer, steps: int = 3) -> tuple[float | None, list[str]]:
    """Host synchronisations per training step on CUDA (torch's sync debug mode) and the
    source lines that made them; (None, []) on a CPU."""
    if trainer.device.type != "cuda":
        return None, []
    batches = trainer.batches()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(steps):
                trainer.train_step(next(batches))
        finally:
            torch.cuda.set_sync_debug_mode("default")
    _sync(trainer.device)
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    return len(syncs) / steps, sorted({f"{w.filename}:{w.lineno}" for w in syncs})


def _steps(trainer: Trainer, n: int) -> list[dict[str, torch.Tensor]]:
    """``n`` training steps as :meth:`Trainer.fit` takes them (its batches, epoch by epoch)."""
    p, records = trainer.progress, []
    batches = trainer.batches()
    while len(records) < n:
        batch = next(batches, None)
        if batch is None:  # the epoch is over
            p.epoch, p.batch_in_epoch = p.epoch + 1, 0
            batches = trainer.batches()
            continue
        records.append(trainer.train_step(batch))
        p.step, p.batch_in_epoch = p.step + 1, p.batch_in_epoch + 1
    return records


def taco_loop(name: str, variant: str, args: argparse.Namespace, device: torch.device,
              out_dir: Path) -> dict[str, Any]:  # fmt: skip
    """Time ``variant``'s steps (taco's Trainer: its batches and train_step) after as many
    warm-up steps; the losses are read once at the end, as the trainer does per log interval."""
    preset = "elic" if create_model(name, seed=0).config.architecture == "elic" else "taco"
    overrides = [
        f"preset={preset}", f"model={name}", f"data.root={args.data}", f"crop={args.crop}",
        f"batch_size={args.batch}", f"workers={args.workers}", f"device={device}", "k_j=0",
        f"lmbda={args.lmbda}", f"out_dir={out_dir / variant / name}", "progress=false",
        *VARIANTS.get(variant, []),
    ]  # fmt: skip
    if args.text_embeddings and preset == "taco":
        overrides.append(f"text_embeddings={args.text_embeddings}")
    trainer = Trainer(load_config(None, overrides))
    _steps(trainer, args.steps)
    _sync(device)
    _reset_peak(device)
    t0, c0 = time.perf_counter(), time.process_time()
    records = _steps(trainer, args.steps)
    torch.stack([r["loss"] for r in records]).sum().item()  # waits for the device
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_mib(device)
    syncs, where = _syncs_per_step(trainer) if variant != "fast-compile" else (None, [])
    return {
        "variant": variant,
        "images_per_s": args.steps * args.batch / wall,
        "images_per_cpu_s": args.steps * args.batch / cpu,
        "peak_mib": peak,
        "syncs_per_step": syncs,
        "sync_sources": where,
        "parameters_M": sum(p.numel() for p in trainer.model.parameters()) / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["taco-minilm-small", "taco-minilm"],
                   help="registry models (default: the built-in size and paper size)")
    p.add_argument("--variants", nargs="+", choices=["plain", *VARIANTS], default=None)
    p.add_argument("--data", default=str(SAMPLES), help="captioned photo folder (default: samples)")
    p.add_argument("--crop", type=positive_int, default=256)
    p.add_argument("--batch", type=positive_int, default=4)
    p.add_argument("--steps", type=positive_int, default=None, help="steps per interval (20 GPU, 3 CPU)")
    p.add_argument("--workers", type=non_negative_int, default=None, help="DataLoader workers (GPU 8, CPU 0)")
    p.add_argument("--lmbda", type=float, default=0.0016)
    p.add_argument("--device", default="auto")
    p.add_argument("--text-embeddings", help="caption tokens from this file (no text encoder)")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    unknown = [name for name in args.models if name not in MODEL_CONFIGS]
    if unknown:  # before a model trains: one line, not create_model's traceback
        p.error(f"--models: {', '.join(unknown)}: no such registry model; the models are "
                f"{', '.join(sorted(MODEL_CONFIGS))}")
    try:
        return measure_all(args)
    except (TacoError, OSError) as e:  # a --data folder without photos, a missing file
        p.error(str(e))


def measure_all(args: argparse.Namespace) -> int:
    """Time every model's variants; print the table (and with --json write the rows)."""
    device = _device(args.device)
    gpu = device.type == "cuda"
    args.steps = args.steps if args.steps is not None else (20 if gpu else 3)
    args.workers = args.workers if args.workers is not None else (8 if gpu else 0)
    variants = args.variants or (["plain", *VARIANTS] if gpu else ["plain", "fast-fp32", "fast"])
    torch.backends.cudnn.benchmark = True
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            for variant in variants:
                t0 = time.perf_counter()
                if variant == "plain":
                    row = plain_loop(name, args, device)
                else:
                    row = taco_loop(name, variant, args, device, Path(tmp))
                row.update(model=name, seconds=round(time.perf_counter() - t0, 1))
                rows.append(row)
                if args.json:  # after every variant: a run stopped by a timeout keeps what it did
                    Path(args.json).write_text(json.dumps(
                        {"args": vars(args), "device": str(device), "torch": torch.__version__,
                         "results": rows}, indent=2))  # fmt: skip
                print(f"  {name} {variant}: {per_second(row['images_per_s'])} img/s "
                      f"({row['seconds']} s)", file=sys.stderr, flush=True)
    name = torch.cuda.get_device_name(device) if gpu else "cpu"
    print(f"{args.batch} x {args.crop}² crops from {args.data}, {args.steps} measured steps, "
          f"{name}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"{'model':<20}{'variant':<14}{'img/s':>9}{'x plain':>9}{'img/CPU-s':>11}{'x plain':>9}"
          f"{'peak MiB':>10}{'syncs/step':>12}")
    for r in rows:
        base = next(b for b in rows if b["model"] == r["model"] and b["variant"] == "plain") \
            if "plain" in variants else None  # fmt: skip
        r["ratio_to_plain"] = r["images_per_s"] / base["images_per_s"] if base else None
        r["cpu_ratio_to_plain"] = (r["images_per_cpu_s"] / base["images_per_cpu_s"]
                                   if base else None)  # fmt: skip
        peak = f"{r['peak_mib']:.0f}" if r["peak_mib"] is not None else "n/a"
        ratio = f"{r['ratio_to_plain']:.2f}" if r["ratio_to_plain"] else "-"
        cpu_ratio = f"{r['cpu_ratio_to_plain']:.2f}" if r["cpu_ratio_to_plain"] else "-"
        syncs = r.get("syncs_per_step")
        print(f"{r['model']:<20}{r['variant']:<14}{per_second(r['images_per_s']):>9}{ratio:>9}"
              f"{per_second(r['images_per_cpu_s']):>11}{cpu_ratio:>9}{peak:>10}"
              f"{'-' if syncs is None else f'{syncs:.1f}':>12}")
    for r in rows:
        if r.get("sync_sources"):
            print(f"host syncs in {r['model']} {r['variant']}: {', '.join(r['sync_sources'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "device": name, "torch": torch.__version__, "results": rows},
            indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
