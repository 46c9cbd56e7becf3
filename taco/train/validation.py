"""The validation hook: loss parts in eval mode on held-out centre crops, and real coding of a
few of them (bpp from the bytes, PSNR of the decoded image). A variable-rate model is validated
at every quality: keys ``q<k>/<name>`` for quality k (its λ in the loss), and the plain keys the
mean over the qualities.

It never changes the training: it runs under a forked RNG (a DataLoader iterator draws a seed
from the global one) and puts the model back in training mode. Nor does it end it where the real
coding fails (a path the training step never takes: float64 tables, the entropy coder on the
CPU): ``real_bpp``/``real_psnr`` are then NaN and ``real_coding_error`` names the error.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from .. import metrics
from ..data import collate
from ..losses import TacoLoss
from ..models import ELIC
from ..text.base import TextEncoder, TextTokens

#: captions -> text tokens on the training device (None for a model without text).
TextSource = Callable[[list[str]], TextTokens | None]


@torch.no_grad()
def validate(
    model: ELIC,
    dataset: Dataset,
    loss_fn: TacoLoss,
    text: TextSource,
    text_encoder: TextEncoder | None,
    device: torch.device,
    batch_size: int,
    compress_images: int,
) -> dict[str, Any]:
    """Mean loss parts (+ PSNR) over ``dataset``; ``real_bpp``/``real_psnr`` from coding its
    first ``compress_images`` images with ``text_encoder``; ``seconds`` it took. A variable-rate
    model: all of it per quality (``q<k>/...``) and, under the plain keys, the mean over them.

    Where the real coding raises an Exception, ``real_bpp``/``real_psnr`` are NaN from that
    quality on (none is coded after a failure; so is their mean) and ``real_coding_error`` says
    what it was and where (``TypeError: ... (codec.py:123)``); the losses are still measured."""
    t0 = time.perf_counter()
    model.eval()
    devices = [device] if device.type == "cuda" else []
    qualities = model.qualities
    points: list[tuple[int | None, float | None]] = (
        [(None, None)] if qualities is None else list(enumerate(qualities, start=1)))
    record: dict[str, Any] = {}
    with torch.random.fork_rng(devices=devices):
        try:
            coded = [dataset[i] for i in range(min(compress_images, len(dataset)))]  # type: ignore[arg-type]
            for quality, lmbda in points:
                part = _losses(model, dataset, loss_fn, text, device, batch_size, quality, lmbda)
                if coded and "real_coding_error" not in record:
                    try:
                        part.update(_real_coding(model, coded, text_encoder, quality))
                    except Exception as e:  # whatever it is: said in the record, the training goes on
                        record["real_coding_error"] = _described(e)
                if coded and "real_coding_error" in record:
                    part.update(real_bpp=math.nan, real_psnr=math.nan)
                if quality is None:
                    record.update(part)
                    continue
                record.update({f"q{quality}/{k}": v for k, v in part.items()})
                for k, v in part.items():
                    record[k] = record.get(k, 0.0) + v / len(points)
        finally:
            model.train()
    record["seconds"] = time.perf_counter() - t0
    return record


def _described(error: Exception) -> str:
    """``Type: message (file.py:line)``, the line where ``error`` was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}{where}"


def _losses(
    model: ELIC, dataset: Dataset, loss_fn: TacoLoss, text: TextSource, device: torch.device,
    batch_size: int, quality: int | None = None, lmbda: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    sums: dict[str, float] = {}
    n = 0
    for batch in DataLoader(dataset, batch_size=batch_size, collate_fn=collate):
        x = batch.images.to(device)
        tokens = text(batch.captions)
        if tokens is None:
            out = model(x, quality=quality)
        else:
            out = model(x, tokens, quality=quality)
        parts = loss_fn(out, x, batch.captions, lmbda=lmbda)
        parts["psnr"] = metrics.psnr(x, out["x_hat"]).mean()
        for k, v in parts.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(x)
        n += len(x)
    return {k: v / n for k, v in sums.items()}


def _real_coding(
    model: ELIC, coded: list[Any], text_encoder: TextEncoder | None, quality: int | None = None
) -> dict[str, float]:
    from ..codec import compress_image, decompress_tensor
    from ..models.checkpoint import invalidate_fingerprint

    model.update(force=True)
    invalidate_fingerprint(model)
    bpps, psnrs = [], []
    for sample in coded:
        res = compress_image(
            sample.image, sample.caption if model.uses_text else None, model,
            text_encoder=text_encoder, quality=quality,
        )  # fmt: skip
        x_hat, _ = decompress_tensor(res.data, model)
        bpps.append(res.bpp)
        psnrs.append(float(metrics.psnr(sample.image[None], x_hat)[0]))
    return {"real_bpp": sum(bpps) / len(bpps), "real_psnr": sum(psnrs) / len(psnrs)}
