"""``taco demo``: the main job on a built-in default, end to end and offline.

Compress a built-in sample photo with its caption, decode it without the caption, print bpp,
PSNR, LPIPS, encode/decode times and file sizes, the same for JPEG, WebP and AVIF at the nearest
file size they can make, and write the reconstruction and a side-by-side PNG.
"""

from __future__ import annotations

import math
import sys
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from .captions_file import read_caption_records

if TYPE_CHECKING:
    from torch import Tensor

SAMPLE = "skimage-chelsea.png"


def sample_dir() -> Path:
    return Path(str(resources.files("taco") / "assets" / "samples"))


def sample_caption(name: str = SAMPLE) -> str:
    """The first caption of the built-in sample ``name`` (a KeyError for another name)."""
    for record in read_caption_records(sample_dir() / "captions.jsonl"):
        if record.file == name and record.captions:
            return record.captions[0]
    raise KeyError(name)


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (left.width + right.width + 8, max(left.height, right.height)), "white")
    canvas.paste(left.convert("RGB"), (0, 0))
    canvas.paste(right.convert("RGB"), (left.width + 8, 0))
    return canvas


def run_demo(
    model_name: str | None = None,
    image: str | None = None,
    caption: str | None = None,
    out_dir: Path = Path("taco-demo"),
) -> dict[str, Any]:
    """Run the demo, print its lines; return the numbers (``classic``: :func:`classic_at_same_size`).

    ``caption`` None: the sample's own caption, or for an ``image`` none (an empty caption, with a
    note when the model reads text)."""
    from .codec import compress_image, decompress, encode_text
    from .images import image_to_tensor, load_image, to_rgb
    from .metrics import psnr
    from .resolve import resolve_model

    src = Path(image) if image else sample_dir() / SAMPLE
    uncaptioned = image is not None and caption is None
    if caption is None:
        caption = sample_caption(src.name) if image is None else ""
    original = load_image(src)
    resolved = resolve_model(model_name)
    if resolved.note:
        print(f"note: {resolved.note}", file=sys.stderr)
    model, name = resolved.model, resolved.spec
    if uncaptioned and model.uses_text:
        print(f"note: {src} has no caption, so it is coded without one (give --caption TEXT, a "
              f"sidecar {src.stem}.txt, or a captions.jsonl beside it)", file=sys.stderr)

    t0 = time.perf_counter()
    if model.uses_text:
        encode_text(model, [caption])  # load the text encoder once; its load time is reported apart
    load_ms = 1000 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    res = compress_image(original, caption, model)
    enc_ms = 1000 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    recon = decompress(res.data, model)  # no caption here
    dec_ms = 1000 * (time.perf_counter() - t0)

    out_dir.mkdir(parents=True, exist_ok=True)
    taco_path = out_dir / (src.stem + ".taco")
    taco_path.write_bytes(res.data)
    recon_path = out_dir / (src.stem + ".decoded.png")
    recon.save(recon_path)
    side_path = out_dir / (src.stem + ".side-by-side.png")
    side_by_side(original, recon).save(side_path)

    rgb = to_rgb(original)[0]
    x = image_to_tensor(rgb)
    x_hat = image_to_tensor(recon.convert("RGB"))
    result: dict[str, float | int | str] = {
        "model": getattr(model, "model_id", name),
        "image": str(src),
        "caption": caption,
        "size": f"{res.width}x{res.height}",
        "source_bytes": src.stat().st_size,
        "taco_bytes": len(res.data),
        "bpp": res.bpp,
        "psnr_db": float(psnr(x, x_hat)[0]),
        "lpips_alex": lpips_or_nan(x, x_hat),
        "encode_ms": enc_ms,
        "decode_ms": dec_ms,
        "text_encoder_load_ms": load_ms,
    }
    classic = classic_at_same_size(rgb, x, res.bpp)
    trained = bool(getattr(model, "metadata", {}).get("trained_steps"))
    print(f"model      {result['model']}" + ("" if trained else "  (UNTRAINED: random weights)"))
    print(f"image      {src.name} ({result['size']}, {result['source_bytes']} bytes as PNG)")
    if model.uses_text:
        print(f"caption    {caption!r} (used by the encoder only)")
    else:
        print(f"caption    none ({result['model']} reads no text)")
    print(f"taco file  {taco_path} ({len(res.data)} bytes, {res.bpp:.4f} bpp)")
    print(f"quality    PSNR {result['psnr_db']:.2f} dB, LPIPS-Alex {_shown(float(result['lpips_alex']))}")
    loading = f"; text encoder load {load_ms:.0f} ms" if model.uses_text else ""
    print(f"time       encode {enc_ms:.0f} ms, decode {dec_ms:.0f} ms (CPU/GPU as available{loading})")
    for label, c in classic.items():
        print(f"{label:<10} {c['bytes']} bytes at quality {c['quality']} (nearest size it makes): "
              f"PSNR {c['psnr_db']:.2f} dB, LPIPS-Alex {_shown(float(c['lpips_alex']))}")
    print(f"wrote      {recon_path}, {side_path}")
    return {**result, "classic": classic}


def lpips_or_nan(x: Tensor, y: Tensor) -> float:
    """LPIPS-Alex of one pair, NaN for an image under :data:`taco.metrics.LPIPS_MIN_SIDE` a side."""
    from .metrics import LPIPS_MIN_SIDE, lpips

    return float(lpips(x, y)[0]) if min(x.shape[-2:]) >= LPIPS_MIN_SIDE else math.nan


def _shown(value: float) -> str:
    from .metrics import LPIPS_MIN_SIDE

    return f"{value:.4f}" if math.isfinite(value) else f"n/a (the image is under {LPIPS_MIN_SIDE} px a side)"


def classic_at_same_size(rgb: Image.Image, x: Tensor, bpp: float) -> dict[str, dict[str, float | int]]:
    """JPEG, WebP and AVIF (those Pillow can write here) at the quality whose file is nearest to
    ``bpp``: {label: bytes, bpp, quality, PSNR, LPIPS} against the original ``x`` (1, 3, H, W)."""
    from .evaluation.classic import CodecUnavailable, code_at_bpp, get_codec
    from .images import image_to_tensor
    from .metrics import psnr

    out: dict[str, dict[str, float | int]] = {}
    for name in ("jpeg", "webp", "avif"):
        try:
            codec = get_codec(name)
        except CodecUnavailable:
            continue
        quality, data, decoded = code_at_bpp(codec, rgb, bpp)
        y = image_to_tensor(decoded)
        out[codec.label] = {"bytes": len(data), "bpp": 8 * len(data) / (rgb.width * rgb.height),
                            "quality": quality, "psnr_db": float(psnr(x, y)[0]),
                            "lpips_alex": lpips_or_nan(x, y)}
    return out
