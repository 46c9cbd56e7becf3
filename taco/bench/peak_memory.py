"""Peak memory to encode, then to decode, one photo of a given size, each in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import TacoError
from ..models.config import PAD_MULTIPLE
from ..samples import SAMPLES_DIR
from .inputs import SAMPLE_IMAGES


class MemoryProbeUnavailable(TacoError, RuntimeError):
    """This platform's Python cannot read a process's peak memory (no :mod:`resource`: Windows)."""


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB: ``getrusage``'s ``ru_maxrss``,
    which Linux gives in KiB and macOS in bytes."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


_MEMORY_CHILD = r"""
import json, sys, warnings
from pathlib import Path
warnings.filterwarnings("ignore")
import torch
from PIL import Image
from taco.bench.peak_memory import peak_rss_mib
from taco.bench.systems import bench_text_encoder
from taco.bitstream import TacoHeader, info, pack
from taco.codec import coding_codec, synthesize
from taco.images import image_to_tensor, load_image, to_rgb
from taco.models import create_model, fast_codec
from taco.pipeline import encode_with_text_overlap
name, h, w, device, part, path, image = sys.argv[1:8]
h, w = int(h), int(w)
model = create_model(name).to(device)
codec = coding_codec(model)  # built before measuring: it is built once per model
enc = bench_text_encoder(model) if model.uses_text else None
if enc is not None:
    enc.to(device).encode(["a photo"])
if part == "encode":
    # read as taco compress reads a file (EXIF orientation, colour profile), then resized
    x = image_to_tensor(to_rgb(load_image(image))[0].resize((w, h), Image.BICUBIC)).to(device)
else:
    payload = info(path).payload  # read within the bound its header sets
if device.startswith("cuda"):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
before = peak_rss_mib()
with torch.no_grad():
    if part == "encode":
        out = encode_with_text_overlap(model, x, "a photo", enc)
        header = TacoHeader("bench", b"\0" * 8, h, w, "RGB")
        Path(path).write_bytes(pack(header, out["strings"][0][0]))
    else:
        shape = model.latent_shapes(h, w, model.default_quality)
        y_hat = fast_codec.decompress_latent(codec, [[payload]], shape)["y_hat"]
        # g_s as taco decompress runs it: in tiles, into 8-bit pixels
        synthesize(model, y_hat, h, w, torch.empty((h, w, 3), dtype=torch.uint8))
peak = peak_rss_mib()
gpu = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"rss_before_mib": before, "rss_peak_mib": peak, "rss_added_mib": peak - before,
                  "gpu_peak_allocated_mib": gpu}))
"""


def peak_memory(model: str, height: int, width: int, device: str = "cpu") -> dict[str, Any]:
    """Peak memory to encode, then to decode, one height x width photo, each in a fresh process.

    torch's allocations are invisible to tracemalloc: each child reads its own peak RSS
    (``getrusage`` maxrss) after building the model and loading the input, and again after the
    work; on a GPU also ``torch.cuda.max_memory_allocated``. The photo is a sample resized to
    the size (dimensions must be multiples of 64); weights are random. Where Python has no
    :mod:`resource` (Windows): :class:`MemoryProbeUnavailable`, before any child starts.
    """
    try:
        import resource  # noqa: F401  (the children read their peak RSS with it)
    except ImportError:
        raise MemoryProbeUnavailable(
            f"--memory reads peak RSS with Python's resource module, which Python on {sys.platform} "
            "does not have: measure on Linux or macOS"
        ) from None
    if height % PAD_MULTIPLE or width % PAD_MULTIPLE:
        raise ValueError(f"memory probe size must be multiples of {PAD_MULTIPLE}, got {height}x{width}")
    out: dict[str, Any] = {"model": model, "height": height, "width": width, "device": device}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "probe.taco")
        for part in ("encode", "decode"):
            proc = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, model, str(height), str(width), device, part,
                 path, str(SAMPLES_DIR / SAMPLE_IMAGES[0])],
                capture_output=True, text=True, check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"memory probe ({part}) failed:\n{proc.stderr[-2000:]}")
            out[part] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out
