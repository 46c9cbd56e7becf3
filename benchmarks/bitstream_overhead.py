"""Bytes written vs the model's own information content, and where the difference goes.

For each sample photo and model:

    ideal     Σ -log2 p(ŷ), Σ -log2 p(ẑ) from the eval-mode forward pass (the rate the model trains on)
    scales    ŷ costed with each scale rounded up to the coder's scale table (z: = ideal)
    table     the same symbols costed with the coder's integer tables: 16-bit quantised CDFs,
              escapes + 4-bit bypass chunks
    written   bytes of the rANS stream taco writes (.taco format version 3: z, then every
              channel group's anchor and non-anchor pass, in chunks of 2^16 symbols), checked
              to be the file's payload and decoded back
    v2        bytes of the one rANS string format version 2 wrote for the same symbols
    v1        bytes of the 11 separate rANS strings format version 1 wrote (one per channel
              group and pass, plus z), for comparison
    header    the .taco container header, for this model id

So ``scales - ideal`` is what the scale table costs, ``table - scales`` the 16-bit CDFs,
``written - table`` what the stream's termination costs (each chunk's final 64-bit rANS state,
whole 32-bit words, the chunk lengths), ``written - v2`` what the chunks cost, ``v1 - v2`` what
one stream saves over 11. The symbols are those of the
float64 latent codec taco codes with (``taco.codec.coding_codec``). With random weights the
latents fit their priors badly (many escapes, and the
forward's likelihood floor of 1e-9 then *over*states the ideal), so unless a checkpoint is given
an architecture name is first fitted briefly (``--fit-steps``, rate + λ·MSE on random crops of the samples):
enough for its priors to describe its latents, which is all this measurement needs.

    python benchmarks/bitstream_overhead.py                     # the shipped small trained models
    python benchmarks/bitstream_overhead.py --models elic-small-q4 --scale-levels 64 256
    python benchmarks/bitstream_overhead.py --models shipped-256.safetensors    # levels as saved
    python benchmarks/bitstream_overhead.py --models elic-tiny --fit-steps 100 --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

warnings.filterwarnings("ignore")

from compressai import ans  # noqa: E402

from taco.bench.inputs import SAMPLE_IMAGES  # noqa: E402
from taco.bitstream import rans, unpack  # noqa: E402
from taco.codec import coding_codec, compress_image, pad_to_multiple  # noqa: E402
from taco.errors import TacoError  # noqa: E402
from taco.images import image_to_tensor, load_image, to_rgb  # noqa: E402
from taco.models import create_model, fast_codec, load  # noqa: E402
from taco.models.registry import locate_model  # noqa: E402
from taco.samples import (  # noqa: E402
    SAMPLES_DIR,  # noqa: E402
    sample_caption,
    sample_names,
)
from taco.text import model_text_encoder  # noqa: E402

BYPASS_BITS = 4  # compressai's rANS bypass_precision


def table_bits(em: Any, symbols: torch.Tensor, indexes: torch.Tensor) -> float:
    """Bits the coder's integer tables assign to ``symbols`` (before stream termination)."""
    t = rans.coder_tables(em)
    prec = em.entropy_coder_precision
    sym = symbols.reshape(-1).cpu().numpy().astype(np.int64)
    idx = indexes.reshape(-1).cpu().numpy().astype(np.int64)
    offsets = np.asarray(t.offsets)[idx]
    max_value = np.asarray(t.lengths)[idx] - 2
    value = sym - offsets
    raw = np.where(value < 0, -2 * value - 1, 2 * (value - max_value))
    escaped = (value < 0) | (value >= max_value)
    slot = np.where(escaped, max_value, value)
    width = max(len(r) for r in t.cdfs)
    cdf = np.array([r + [r[-1]] * (width - len(r)) for r in t.cdfs], dtype=np.int64)
    freq = cdf[idx, slot + 1] - cdf[idx, slot]
    bits = float(np.sum(prec - np.log2(freq)))
    for r in raw[escaped]:
        n = 0
        while r >> (n * BYPASS_BITS):
            n += 1
        bits += BYPASS_BITS * (n // 15 + 1 + n)  # count (chunks of 15), then n raw chunks
    return bits


def scale_table_bits(gc: Any, symbols: torch.Tensor, indexes: torch.Tensor) -> float:
    """Σ -log2 p of y symbols under the Gaussian at the table scale (what the tables sample)."""
    scales = gc.scale_table[indexes.long()]
    p = gc._likelihood(symbols.float(), scales)
    if gc.use_likelihood_bound:
        p = gc.likelihood_lower_bound(p)
    return float(-torch.log2(p).sum())


def measure(model: Any, x: torch.Tensor, caption: str, quality: int | None = None) -> dict[str, Any]:
    encoder = model_text_encoder(model)
    text = encoder.encode([caption]) if encoder is not None else None
    codec = coding_codec(model)  # what taco.codec entropy-codes with
    with torch.no_grad():
        fwd = model(x, text, quality=quality) if model.uses_text else model(x, quality=quality)
        ideal = {k: float(-torch.log2(v).sum()) for k, v in fwd["likelihoods"].items()}

        calls: list[tuple[Any, torch.Tensor, torch.Tensor]] = []
        encode = rans.StreamEncoder.encode

        def recording(self: Any, em: Any, symbols: torch.Tensor, indexes: torch.Tensor) -> None:
            calls.append((em, symbols, indexes))
            encode(self, em, symbols, indexes)

        rans.StreamEncoder.encode = recording  # type: ignore[method-assign]
        try:
            y = model.analysis(x, text) if model.uses_text else model.analysis(x)
            out = fast_codec.compress_latent(codec, y.cpu(), quality)
        finally:
            rans.StreamEncoder.encode = encode  # type: ignore[method-assign]
        decoded = fast_codec.decompress_latent(codec, out["strings"], out["shape"])["y_hat"]
        if not torch.equal(decoded, out["y_hat"]):
            raise AssertionError("one-stream round trip failed")
    stream = out["strings"][0][0]
    z_em = calls[0][0]  # the hyper branch is coded first
    table = {"y": 0.0, "z": 0.0}
    scales = {"y": 0.0, "z": ideal["z"]}
    for em, sym, idx in calls:
        table["z" if em is z_em else "y"] += table_bits(em, sym, idx)
        if em is not z_em:
            scales["y"] += scale_table_bits(em, sym, idx)
    return {"ideal_bits": ideal, "scale_table_bits": scales, "table_bits": table,
            "written_bits": 8 * len(stream), "stream": stream, "parts": len(calls),
            "v2_one_string_bytes": one_string_bytes(calls),
            "v1_eleven_strings_bytes": separate_strings_bytes(calls)}


def one_string_bytes(calls: list[tuple[Any, torch.Tensor, torch.Tensor]]) -> int:
    """Bytes of one rANS string for every coded part, as format version 2 wrote them."""
    enc = ans.BufferedRansEncoder()
    for em, sym, idx in calls:
        t = rans.coder_tables(em)
        enc.encode_with_indexes(sym.reshape(-1).tolist(), idx.reshape(-1).tolist(), t.cdfs, t.lengths,
                                t.offsets)
    return len(enc.flush())


def separate_strings_bytes(calls: list[tuple[Any, torch.Tensor, torch.Tensor]]) -> int:
    """Bytes of one rANS string per coded part, as format version 1 wrote them."""
    total = 0
    for em, sym, idx in calls:
        t = rans.coder_tables(em)
        total += len(ans.RansEncoder().encode_with_indexes(
            sym.reshape(-1).tolist(), idx.reshape(-1).tolist(), t.cdfs, t.lengths, t.offsets))
    return total


def fit(model: Any, images: list[torch.Tensor], captions: list[str], steps: int,
        lmbda: float = 0.013, crop: int = 128, batch: int = 4, seed: int = 0,
        quality: int | None = None) -> None:
    """A few hundred steps of rate + λ·255²·MSE on random crops, then the coder tables rebuilt
    (a variable-rate model: at ``quality``, with its λ). The same every run: the crops come from
    ``seed``'s generator and the training noise of the quantisers from torch's, seeded with it
    for the fit only (the bpp of a fitted row differed from run to run: 0.447 to 0.498)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        _fit(model, images, captions, steps, lmbda, crop, batch, seed, quality)


def _fit(model: Any, images: list[torch.Tensor], captions: list[str], steps: int,
         lmbda: float, crop: int, batch: int, seed: int, quality: int | None) -> None:
    if quality is not None:
        lmbda = model.qualities[quality - 1]
    g = torch.Generator().manual_seed(seed)
    encoder = model_text_encoder(model)
    main_params = [p for n, p in model.named_parameters() if not n.endswith("quantiles")]
    aux_params = [p for n, p in model.named_parameters() if n.endswith("quantiles")]
    opt = torch.optim.Adam(main_params, lr=1e-3)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    model.train()
    for _ in range(steps):
        xs, caps = [], []
        for _ in range(batch):
            i = int(torch.randint(len(images), (1,), generator=g))
            im = images[i]
            top = int(torch.randint(im.shape[-2] - crop + 1, (1,), generator=g))
            left = int(torch.randint(im.shape[-1] - crop + 1, (1,), generator=g))
            xs.append(im[..., top : top + crop, left : left + crop])
            caps.append(captions[i])
        x = torch.cat(xs)
        out = model(x, encoder.encode(caps), quality=quality) if model.uses_text else model(x, quality=quality)
        bpp = sum(-torch.log2(v).sum() for v in out["likelihoods"].values()) / (batch * crop * crop)
        loss = bpp + lmbda * 255**2 * torch.mean((out["x_hat"] - x) ** 2)
        opt.zero_grad()
        aux_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_params, 1.0)
        opt.step()
        model.aux_loss().backward()
        aux_opt.step()
    model.eval()
    model.update(force=True)
    from taco.models.checkpoint import invalidate_fingerprint

    invalidate_fingerprint(model)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["elic-small-q4", "taco-minilm-small-q4"],
                   help="trained built-in names or checkpoint files (measured as they are), or "
                   "architecture names (random weights, fitted first: --fit-steps)")
    p.add_argument("--fit-steps", type=int, default=300,
                   help="fit architectures (not checkpoints) this many steps first (default 300)")
    p.add_argument("--images", nargs="+", default=list(SAMPLE_IMAGES))
    p.add_argument("--scale-levels", type=int, nargs="+", default=[], metavar="N",
                   help="measure each model set to N scale levels (ELIC.set_scale_levels: 0.11..256, "
                   "log spaced; CompressAI's default is 64), for each N given; default: as loaded "
                   "(a checkpoint keeps the levels it was saved with)")
    p.add_argument("--quality", type=int,
                   help="the quality variable-rate models are measured (and fitted) at "
                   "(default: each one's default quality)")
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    try:  # a mistyped name or a missing file: one line, before anything is measured
        kinds = {name: locate_model(name).kind for name in args.models}
        return measure_all(args, kinds)
    except (TacoError, OSError) as e:
        p.error(str(e))


def measure_all(args: argparse.Namespace, kinds: dict[str, str]) -> int:
    """Print (and with --json write) a row per model, scale levels and image; 1 if none or
    one not finite. ``kinds``: each model's :func:`taco.models.registry.locate_model` kind."""
    captions = {name: sample_caption(name) for name in sample_names()}
    rows = []
    for name in args.models:
        trained = kinds[name] != "architecture"
        model = load(name) if trained else create_model(name)
        quality = None if model.qualities is None else args.quality or model.default_quality
        if not trained and args.fit_steps:
            paths = [Path(i) if Path(i).is_file() else SAMPLES_DIR / i for i in args.images]
            fit(model, [image_to_tensor(to_rgb(load_image(q))[0]) for q in paths],
                [captions.get(q.name, "a photo") for q in paths], args.fit_steps, quality=quality)
        for levels in args.scale_levels or [0]:
            if levels:
                model.set_scale_levels(levels)
            for image_name in args.images:
                path = Path(image_name) if Path(image_name).is_file() else SAMPLES_DIR / image_name
                image = to_rgb(load_image(path))[0]
                caption = captions.get(path.name, "a photo")
                x = pad_to_multiple(image_to_tensor(image))
                m = measure(model, x, caption, quality)
                res = compress_image(image, caption, model, quality=quality)
                if unpack(res.data).payload != m.pop("stream"):
                    raise AssertionError("the measured stream is not the file's payload")
                ideal = sum(m["ideal_bits"].values())
                scaled = sum(m["scale_table_bits"].values())
                table = sum(m["table_bits"].values())
                written = m["written_bits"]
                v1 = 8 * m["v1_eleven_strings_bytes"]
                row = {
                    "model": getattr(model, "model_id", name), "image": path.name,
                    "fit_steps": 0 if trained else args.fit_steps, "quality": quality,
                    "scale_levels": model.scale_levels,
                    "width": image.width, "height": image.height, **m,
                    "file_bytes": len(res.data), "header_bytes": res.header_bytes,
                    "bpp": res.bpp,
                    "scale_table_overhead_pct": 100 * (scaled / ideal - 1),
                    "cdf_overhead_pct": 100 * (table / scaled - 1),
                    "z_table_overhead_pct": 100 * (m["table_bits"]["z"] / m["ideal_bits"]["z"] - 1),
                    "stream_overhead_bytes": (written - table) / 8,
                    "payload_overhead_pct": 100 * (written / ideal - 1),
                    "v1_payload_overhead_pct": 100 * (v1 / ideal - 1),
                    "bytes_saved_vs_v1": (v1 - written) / 8,
                    "chunk_bytes_vs_v2": written // 8 - m["v2_one_string_bytes"],
                    "file_overhead_pct": 100 * (8 * len(res.data) / ideal - 1),
                }
                rows.append(row)
                print(f"{row['model']:>12} {row['scale_levels']:>3} levels {path.name:<22} {image.width}x{image.height} "
                      f"bpp {row['bpp']:.3f}  ideal {ideal / 8:7.0f} B  scale table "
                      f"{row['scale_table_overhead_pct']:+.2f}%  CDFs {row['cdf_overhead_pct']:+.2f}% "
                      f"(z {row['z_table_overhead_pct']:+.2f}%)  stream end "
                      f"{row['stream_overhead_bytes']:+.1f} B  payload "
                      f"{row['payload_overhead_pct']:+.2f}% (v1 {row['v1_payload_overhead_pct']:+.2f}%, "
                      f"saves {row['bytes_saved_vs_v1']:.0f} B)  chunks vs v2 {row['chunk_bytes_vs_v2']:+d} B  "
                      f"header {row['header_bytes']} B  "
                      f"file {row['file_overhead_pct']:+.2f}%",
                      flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    if not rows or not all(math.isfinite(r["payload_overhead_pct"]) for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
