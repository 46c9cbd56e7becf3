"""``taco bench``: encode/decode latency of TACO, ELIC and CompressAI's ELIC, same images, same process.

Paper Table 2 / §4.4 Q3 reports TACO 78.60 ms vs ELIC 71.35 ms encode on an RTX 3090 and puts the
gap on the CLIP step. This measures, per image:

- **taco**: TACO with its text encoder, encode with a cold caption (cache cleared before each run)
  and with a cached one, with the caption encoded alongside g_a (:mod:`taco.pipeline`) and, for
  reference, sequentially; decode.
- **elic**: the same backbone without text, through taco's entropy-coding path
  (:mod:`taco.models.fast_codec`) and through CompressAI's own latent-codec methods.
- **compressai-elic**: CompressAI's ``Elic2022Official`` with its own ``compress``/``decompress``,
  the outside anchor.

Encode is split into text encoding / g_a / hyper (h_a, z coding, h_s) / entropy coding (the y
groups with their context networks); decode into entropy decoding (z and y, with h_s and the
context networks) / g_s. Each stage and each end-to-end call is timed on its own, with
``torch.cuda.synchronize()`` before and after on a GPU. Systems are interleaved inside every run
so that a machine that gets busier slows all of them alike; the headline numbers are ratios of
medians. Weights are random (weights do not change the cost of the transforms; the entropy coder's
cost depends a little on the symbol statistics). No CI test looks at an absolute time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import __version__
from .models import create_model, fast_codec
from .models.elic import ELIC
from .pipeline import (
    _encode_async,
    _front,
    analysis_with_text_overlap,
    coding_codec,
    compress_batch,
    encode_with_text_overlap,
)
from .text import build_text_encoder
from .text.base import TextEncoder, TextEncoderUnavailable

SAMPLES = Path(__file__).resolve().parent / "assets" / "samples"
SAMPLE_IMAGES = ("skimage-astronaut.png", "skimage-chelsea.png", "skimage-coffee.png",
                 "skimage-rocket.png")
#: openai/clip-vit-base-patch32's text tower: the size of the paper's text encoder.
CLIP_B_TEXT: dict[str, Any] = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                   num_attention_heads=8, max_position_embeddings=77, projection_dim=512,
                   hidden_act="quick_gelu", pad_token_id=1, bos_token_id=49406, eos_token_id=49407)


@dataclass
class BenchConfig:
    """What ``taco bench`` measures. ``quick`` swaps in tiny models, small crops and few runs."""

    quick: bool = False
    runs: int = 5
    warmup: int = 1
    crop: int = 256  # centre crop side (paper Table 2: 256x256 COCO); 0 = whole image, padded
    images: list[str] = field(default_factory=lambda: list(SAMPLE_IMAGES))
    taco_model: str = "taco-minilm"
    elic_model: str = "elic"
    clip_b: bool = True  # also time TACO with a CLIP-B-sized (random) text encoder
    batch: int = 0  # >0: compress_batch throughput with this batch size
    device: str = "cpu"
    threads: int | None = None
    output: str | None = None

    @classmethod
    def quick_defaults(cls, **overrides: Any) -> BenchConfig:
        base = dict(quick=True, runs=3, warmup=1, crop=128, images=list(SAMPLE_IMAGES[:2]),
                    taco_model="taco-tiny", elic_model="elic-tiny", clip_b=False, batch=2)
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- timing


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[float, float, Any]:
    """(wall ms, process CPU ms, result) of ``fn()``, synchronised before and after on a GPU.

    Process CPU time (all threads) is the cost on a shared machine, where wall time also counts
    the time other jobs hold the cores; with one torch thread it is not inflated by spin-waits.
    """
    _sync(device)
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    _sync(device)
    return 1000 * (time.perf_counter() - t0), 1000 * (time.process_time() - c0), result


def summary(samples: Sequence[float]) -> dict[str, float]:
    a = np.asarray(samples, dtype=float)
    return {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "n": int(a.size)}


class Recorder:
    """Wall and CPU samples per (system, metric), kept only after warm-up."""

    def __init__(self) -> None:
        self.wall: dict[str, dict[str, list[float]]] = {}
        self.cpu: dict[str, dict[str, list[float]]] = {}
        self.recording = False

    def __call__(self, system: str, metric: str, fn: Callable[[], Any], device: torch.device) -> Any:
        wall, cpu, result = timed(fn, device)
        if self.recording:
            self.wall.setdefault(system, {}).setdefault(metric, []).append(wall)
            self.cpu.setdefault(system, {}).setdefault(metric, []).append(cpu)
        return result

    @staticmethod
    def summaries(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, float]]]:
        return {s: {m: summary(v) for m, v in ms.items()} for s, ms in samples.items()}


# --------------------------------------------------------------------------- systems


def clip_b_random(seed: int = 0) -> TextEncoder:
    """A CLIP ViT-B/32-sized text encoder with random weights and CLIP's real BPE tokenizer.

    The real CLIP weights cannot be fetched offline; the cost of a transformer does not depend on
    its weights, so this times what the paper's encoder costs.
    """
    from transformers import CLIPTextConfig, CLIPTextModel

    from .text._hf import HFTextEncoder, quiet_transformers
    from .text.clip import clip_bpe_tokenizer

    class RandomCLIPB(HFTextEncoder):
        name = "clip-b-random"

    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(seed)
        model = CLIPTextModel(CLIPTextConfig(**CLIP_B_TEXT))
    return RandomCLIPB(clip_bpe_tokenizer(), model.eval(), max_tokens=38)


def compressai_elic(like: ELIC) -> Any:
    """CompressAI's ``Elic2022Official`` at the widths of ``like`` (random weights, tables built)."""
    from compressai.models import Elic2022Official

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Elic2022Official(N=like.N, M=like.M, groups=like.groups)
    model.eval().update(force=True)
    return model


def _text_encoder_for(model: ELIC) -> TextEncoder:
    spec = dict(model.config.text_encoder)  # type: ignore[attr-defined]
    return build_text_encoder(spec.pop("name"), **spec)  # private instance: its cache is ours


def bench_text_encoder(model: ELIC, log: Callable[[str], None] = lambda s: None) -> TextEncoder:
    """A private instance of ``model``'s text encoder; in place of CLIP when its weights are not
    here (offline), :func:`clip_b_random`: the same architecture costs the same time."""
    try:
        return _text_encoder_for(model)
    except TextEncoderUnavailable as e:
        if model.config.text_encoder["name"] != "clip":  # type: ignore[attr-defined]
            raise
        log(f"CLIP weights unavailable ({e}); timing a CLIP-B-sized text encoder with random weights")
        return clip_b_random()


@dataclass
class _Systems:
    taco: ELIC
    taco_text: TextEncoder
    elic: ELIC
    anchor: Any  # compressai.models.Elic2022Official
    taco_clip: ELIC | None = None
    clip_text: TextEncoder | None = None


def _on(codec: Any, t: Tensor) -> Tensor:
    return t.to(next(codec.parameters()).device)


def _decode(model: ELIC, codec: Any, out: dict[str, Any]) -> Tensor:
    """Decode as taco.codec does: entropy decoding with ``codec`` (fast path), then g_s."""
    y_hat = fast_codec.decompress_latent(codec, out["strings"], out["shape"])["y_hat"]
    return model.g_s(y_hat.to(next(model.parameters()).device)).clamp_(0, 1)


def _run_taco(rec: Recorder, name: str, model: ELIC, enc: TextEncoder, x: Tensor, caption: str,
              device: torch.device, stages: bool) -> None:
    codec = coding_codec(model)  # the latent codec taco.codec codes with
    if stages:
        enc.clear_cache()
        rec(name, "text_cold", lambda: enc.encode([caption]), device)
        rec(name, "text_cached", lambda: enc.encode([caption]), device)
        y = rec(name, "g_a", lambda: analysis_with_text_overlap(model, x, [caption], enc,
                                                                 overlap=False), device)
        hyper = rec(name, "hyper", lambda: fast_codec.compress_hyper(codec, _on(codec, y)), device)
        rec(name, "entropy_coding",
            lambda: fast_codec.compress_groups(codec, _on(codec, y), hyper["params"])["stream"].flush(),
            device)
    enc.clear_cache()
    rec(name, "encode_cold_sequential",
        lambda: encode_with_text_overlap(model, x, caption, enc, overlap=False), device)
    enc.clear_cache()
    out = rec(name, "encode_cold",
              lambda: encode_with_text_overlap(model, x, caption, enc, overlap=True), device)
    # the overlap itself: how long g_a's first stages take, and how long g_a then still waits
    # for the caption (0 = the text step is off the critical path)
    enc.clear_cache()
    pending = _encode_async(enc, [caption])
    rec(name, "overlap_front", lambda: _front(model.g_a, x), device)
    rec(name, "overlap_text_wait", pending.result, device)
    rec(name, "encode_cached",
        lambda: encode_with_text_overlap(model, x, caption, enc, overlap=True), device)
    if stages:
        rec(name, "decode", lambda: _decode(model, codec, out), device)


def _run_elic(rec: Recorder, model: ELIC, x: Tensor, device: torch.device) -> None:
    codec = coding_codec(model)  # the latent codec taco.codec codes with
    y = rec("elic", "g_a", lambda: model.analysis(x), device)
    hyper = rec("elic", "hyper", lambda: fast_codec.compress_hyper(codec, _on(codec, y)), device)
    rec("elic", "entropy_coding",
        lambda: fast_codec.compress_groups(codec, _on(codec, y), hyper["params"])["stream"].flush(),
        device)
    out = rec("elic", "encode", lambda: encode_with_text_overlap(model, x, None), device)
    y_hat = rec("elic", "entropy_decoding",
                lambda: fast_codec.decompress_latent(codec, out["strings"], out["shape"])["y_hat"],
                device)
    rec("elic", "g_s", lambda: model.g_s(y_hat.to(device)).clamp_(0, 1), device)
    rec("elic", "decode", lambda: _decode(model, codec, out), device)
    if model.layout == "compressai":
        # the same codec through CompressAI's own latent-codec methods (taco.codec without
        # fast_codec); the reference layout has no other coding path
        ref = rec("elic-compressai-path", "encode",
                  lambda: codec.compress(_on(codec, model.analysis(x))), device)
        rec("elic-compressai-path", "decode",
            lambda: model.g_s(codec.decompress(ref["strings"], ref["shape"])["y_hat"].to(device))
            .clamp_(0, 1), device)
    if codec is not model.latent_codec:
        # the model's own float32 latent codec through the fast path (fast, not deterministic
        # across machines and thread counts; what taco.codec did before coding_codec)
        out32 = rec("elic-float32-codec", "encode", lambda: fast_codec.compress(model, x), device)
        rec("elic-float32-codec", "decode",
            lambda: fast_codec.decompress(model, out32["strings"], out32["shape"]), device)


def _run_anchor(rec: Recorder, model: Any, x: Tensor, device: torch.device) -> None:
    name, codec = "compressai-elic", model.latent_codec
    y = rec(name, "g_a", lambda: model.g_a(x), device)
    hyper = rec(name, "hyper", lambda: codec.latent_codec["hyper"].compress(y), device)
    rec(name, "entropy_coding", lambda: codec.latent_codec["y"].compress(y, hyper["params"]), device)
    out = rec(name, "encode", lambda: model.compress(x), device)
    y_hat = rec(name, "entropy_decoding",
                lambda: codec.decompress(out["strings"], out["shape"])["y_hat"], device)
    rec(name, "g_s", lambda: model.g_s(y_hat).clamp_(0, 1), device)
    rec(name, "decode", lambda: model.decompress(out["strings"], out["shape"]), device)


# --------------------------------------------------------------------------- inputs


def load_inputs(cfg: BenchConfig) -> list[tuple[str, Tensor, str]]:
    """(name, padded (1, 3, H, W) tensor, caption) per image."""
    from .cli import read_captions_jsonl
    from .codec import pad_to_multiple
    from .images import image_to_tensor, load_image, to_rgb

    captions = read_captions_jsonl(SAMPLES / "captions.jsonl")
    out = []
    for item in cfg.images:
        path = Path(item) if Path(item).is_file() else SAMPLES / item
        image = to_rgb(load_image(path))[0]
        if cfg.crop:
            s = min(cfg.crop, image.width, image.height)
            left, top = (image.width - s) // 2, (image.height - s) // 2
            image = image.crop((left, top, left + s, top + s))
        caption = captions.get(path.name, "a photo")
        out.append((path.name, pad_to_multiple(image_to_tensor(image)), caption))
    return out


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} ({os.cpu_count()} logical CPUs)"


# --------------------------------------------------------------------------- the benchmark


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _median(res: dict[str, Any], system: str, metric: str) -> float | None:
    return res.get(system, {}).get(metric, {}).get("median")


def headline_ratios(s: dict[str, Any]) -> dict[str, float | None]:
    """The numbers issue 6 asks for, from the per-system medians."""
    def codec_ms(system: str) -> float | None:
        e, d = _median(s, system, "encode"), _median(s, system, "decode")
        return None if e is None or d is None else e + d

    def entropy_ms(system: str) -> float | None:
        parts = [_median(s, system, k) for k in ("hyper", "entropy_coding", "entropy_decoding")]
        return None if None in parts else sum(parts)  # type: ignore[arg-type]

    elic_enc = _median(s, "elic", "encode")
    out = {
        "taco_encode_cold/elic_encode": _ratio(_median(s, "taco", "encode_cold"), elic_enc),
        "taco_encode_cached/elic_encode": _ratio(_median(s, "taco", "encode_cached"), elic_enc),
        "taco_encode_cold_sequential/elic_encode":
            _ratio(_median(s, "taco", "encode_cold_sequential"), elic_enc),
        "taco_decode/elic_decode": _ratio(_median(s, "taco", "decode"), _median(s, "elic", "decode")),
        "elic_codec/compressai_elic_codec": _ratio(codec_ms("elic"), codec_ms("compressai-elic")),
        "elic_entropy_path/compressai_elic_entropy_path":
            _ratio(entropy_ms("elic"), entropy_ms("compressai-elic")),
        "elic_codec/elic_compressai_path_codec":
            _ratio(codec_ms("elic"), codec_ms("elic-compressai-path")),
    }
    if "elic-float32-codec" in s:
        out["elic_float32_codec/compressai_elic_codec"] = _ratio(
            codec_ms("elic-float32-codec"), codec_ms("compressai-elic"))
    if "taco-clip-b" in s:
        out["taco_clip_b_encode_cold/elic_encode"] = _ratio(
            _median(s, "taco-clip-b", "encode_cold"), elic_enc)
        out["taco_clip_b_encode_cached/elic_encode"] = _ratio(
            _median(s, "taco-clip-b", "encode_cached"), elic_enc)
        out["taco_clip_b_encode_cold_sequential/elic_encode"] = _ratio(
            _median(s, "taco-clip-b", "encode_cold_sequential"), elic_enc)
    return out


def _build(cfg: BenchConfig, device: torch.device,
           log: Callable[[str], None] = lambda s: None) -> _Systems:
    taco = create_model(cfg.taco_model).to(device)
    elic = create_model(cfg.elic_model).to(device)
    if not taco.uses_text or elic.uses_text:
        raise ValueError(f"--taco-model must be text-guided and --elic-model not "
                         f"(got {cfg.taco_model!r}, {cfg.elic_model!r})")
    text = bench_text_encoder(taco, log)
    if text.name == "clip-b-random":  # taco-clip-b would time the very same thing twice
        cfg = dataclasses.replace(cfg, clip_b=False)
    systems = _Systems(taco, text.to(device), elic, compressai_elic(elic).to(device))
    if cfg.clip_b:  # the paper's TACO (d=512 adapter) with a CLIP-B-sized text encoder
        systems.taco_clip = create_model("taco").to(device)
        systems.clip_text = clip_b_random().to(device)
    return systems


def run_bench(cfg: BenchConfig, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run the benchmark described by ``cfg``; the result is what ``--json`` writes."""
    device = torch.device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    inputs = load_inputs(cfg)
    log(f"building models on {device} ...")
    sy = _build(cfg, device, log)
    rec = Recorder()
    with torch.no_grad():
        for run in range(cfg.warmup + cfg.runs):
            rec.recording = run >= cfg.warmup
            log(f"run {run + 1}/{cfg.warmup + cfg.runs}{' (warm-up)' if not rec.recording else ''}")
            for _, x, caption in inputs:
                x = x.to(device)
                _run_taco(rec, "taco", sy.taco, sy.taco_text, x, caption, device, stages=True)
                _run_elic(rec, sy.elic, x, device)
                _run_anchor(rec, sy.anchor, x, device)
                if sy.taco_clip is not None and sy.clip_text is not None:
                    clip_text = sy.clip_text
                    clip_text.clear_cache()
                    rec("taco-clip-b", "text_cold", partial(clip_text.encode, [caption]), device)
                    _run_taco(rec, "taco-clip-b", sy.taco_clip, clip_text, x, caption, device,
                              stages=False)
    systems = Recorder.summaries(rec.wall)
    systems_cpu = Recorder.summaries(rec.cpu)
    result: dict[str, Any] = {
        "taco_version": __version__,
        "torch": torch.__version__,
        "compressai": _compressai_version(),
        "device": device_name(device),
        "device_type": device.type,
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "mode": "quick" if cfg.quick else "full",
        "config": dataclasses.asdict(cfg),
        "images": [{"name": n, "height": int(x.shape[-2]), "width": int(x.shape[-1])}
                   for n, x, _ in inputs],
        "models": {
            "taco": f"{cfg.taco_model} + {sy.taco_text.name} text encoder (random weights"
                    f"{', the real tokenizer' if sy.taco_text.name == 'clip-b-random' else ''})",
            "elic": f"{cfg.elic_model} (random weights)",
            "compressai-elic": f"compressai.models.Elic2022Official(N={sy.elic.N}, M={sy.elic.M}, "
                               f"groups={sy.elic.groups}) (random weights)",
            **({"taco-clip-b": "taco + CLIP ViT-B/32-sized text encoder with random weights "
                               "(real CLIP BPE tokenizer)"}
               if sy.taco_clip is not None else {}),
        },
        "entropy_codec": (
            "taco.codec.coding_codec (float64 CPU copy of the latent codec) through fast_codec"
            if coding_codec(sy.elic) is not sy.elic.latent_codec
            else "the model's latent codec through fast_codec"),
        "systems": systems,
        "ratios": headline_ratios(systems),
        "systems_cpu_time": systems_cpu,
        "ratios_cpu_time": headline_ratios(systems_cpu),
    }
    if cfg.batch:
        log(f"compress_batch throughput, batch {cfg.batch} ...")
        result["batch"] = batch_throughput(sy.taco, sy.taco_text, inputs, cfg, device)
    return result


def batch_throughput(model: ELIC, enc: TextEncoder, inputs: list[tuple[str, Tensor, str]],
                     cfg: BenchConfig, device: torch.device) -> dict[str, Any]:
    """Images/s of :func:`compress_batch` vs one :func:`encode_with_text_overlap` per image.

    2 x ``batch`` images (the inputs, repeated, cropped to the smallest one), cached captions.
    """
    h = min(int(x.shape[-2]) for _, x, _ in inputs)
    w = min(int(x.shape[-1]) for _, x, _ in inputs)
    n = 2 * cfg.batch
    images = [inputs[i % len(inputs)][1][..., :h, :w] for i in range(n)]
    captions = [inputs[i % len(inputs)][2] for i in range(n)]
    enc.encode(sorted(set(captions)))  # cached: this measures the image side

    def one_by_one() -> None:
        for x, c in zip(images, captions, strict=True):
            encode_with_text_overlap(model, x.to(device), c, enc)

    def batched() -> None:
        compress_batch(images, captions, model, text_encoder=enc, batch_size=cfg.batch)

    rec = Recorder()
    for run in range(cfg.warmup + cfg.runs):
        rec.recording = run >= cfg.warmup
        rec("batch", "one_by_one", one_by_one, device)
        rec("batch", "compress_batch", batched, device)
    s_med, b_med = (float(np.median(rec.wall["batch"][k])) for k in ("one_by_one", "compress_batch"))
    s_cpu, b_cpu = (float(np.median(rec.cpu["batch"][k])) for k in ("one_by_one", "compress_batch"))
    return {
        "images": n, "height": h, "width": w, "batch_size": cfg.batch,
        "one_by_one_images_per_s": n / (s_med / 1000),
        "compress_batch_images_per_s": n / (b_med / 1000),
        "speedup": s_med / b_med,
        "speedup_cpu_time": s_cpu / b_cpu,
    }


def _compressai_version() -> str:
    import compressai

    return getattr(compressai, "__version__", "?")


# --------------------------------------------------------------------------- memory


_MEMORY_CHILD = r"""
import json, resource, sys, warnings
warnings.filterwarnings("ignore")
import torch
from PIL import Image
from taco.bitstream import TacoHeader, pack, unpack
from taco.images import image_to_tensor
from taco.models import create_model, fast_codec
from taco.bench import bench_text_encoder
from taco.pipeline import coding_codec, encode_with_text_overlap
name, h, w, device, part, path, image = sys.argv[1:8]
h, w = int(h), int(w)
model = create_model(name).to(device)
codec = coding_codec(model)  # built before measuring: it is built once per model
enc = bench_text_encoder(model) if model.uses_text else None
if enc is not None:
    enc.to(device).encode(["a photo"])
if part == "encode":
    x = image_to_tensor(Image.open(image).convert("RGB").resize((w, h), Image.BICUBIC)).to(device)
else:
    payload = unpack(open(path, "rb").read()).payload
if device.startswith("cuda"):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    if part == "encode":
        out = encode_with_text_overlap(model, x, "a photo", enc)
        header = TacoHeader("bench", b"\0" * 8, h, w, "RGB")
        open(path, "wb").write(pack(header, out["strings"][0][0]))
    else:
        shape = model.latent_shapes(h, w)
        y_hat = fast_codec.decompress_latent(codec, [[payload]], shape)["y_hat"]
        model.g_s(y_hat.to(device)).clamp_(0, 1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
gpu = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None
print(json.dumps({"rss_before_mib": before / 1024, "rss_peak_mib": peak / 1024,
                  "rss_added_mib": (peak - before) / 1024, "gpu_peak_allocated_mib": gpu}))
"""


def peak_memory(model: str, height: int, width: int, device: str = "cpu") -> dict[str, Any]:
    """Peak memory to encode, then to decode, one height x width photo, each in a fresh process.

    torch's allocations are invisible to tracemalloc: each child reads its own peak RSS
    (``getrusage`` maxrss) after building the model and loading the input, and again after the
    work; on a GPU also ``torch.cuda.max_memory_allocated``. The photo is a sample resized to
    the size (dimensions must be multiples of 64); weights are random.
    """
    import tempfile

    if height % 64 or width % 64:
        raise ValueError(f"memory probe size must be multiples of 64, got {height}x{width}")
    out: dict[str, Any] = {"model": model, "height": height, "width": width, "device": device}
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "probe.taco")
        for part in ("encode", "decode"):
            proc = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, model, str(height), str(width), device, part,
                 path, str(SAMPLES / SAMPLE_IMAGES[0])],
                capture_output=True, text=True, check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"memory probe ({part}) failed:\n{proc.stderr[-2000:]}")
            out[part] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# --------------------------------------------------------------------------- profile

#: Where the entropy-coding time goes, by the functions cProfile attributes it to.
_CATEGORIES = (
    ("convolutions", ("conv2d", "conv_transpose2d")),
    ("rANS coder calls", ("encode_with_indexes", "decode_with_indexes", "decode_stream", "flush",
                          "set_stream")),
    ("tensor <-> list conversion", ("tolist", "built-in method torch.tensor", "fromiter")),
    ("scale -> table index", ("build_indexes", "searchsorted")),
)


def profile_entropy_coding(
    model: Any, x: Tensor, runs: int = 3
) -> dict[str, dict[str, dict[str, float]]]:
    """CPU ms per category for ``latent_codec.compress/decompress`` vs :mod:`fast_codec`.

    cProfile with a process-CPU-time clock (robust on a shared machine), ``runs`` calls each after
    one warm-up; y = g_a(x) is computed once outside. Categories: :data:`_CATEGORIES`, the rest
    is "other" (cat, zeros, embed/unembed, Python).
    """
    import cProfile
    import pstats

    codec = model.latent_codec
    with torch.no_grad():
        y = model.g_a(x)
        ref = codec.compress(y)
        fast = fast_codec.compress_latent(codec, y)  # one stream: not CompressAI's 11 strings
    calls = {
        "compressai": {
            "compress": lambda: codec.compress(y),
            "decompress": lambda: codec.decompress(ref["strings"], ref["shape"]),
        },
        "taco fast_codec": {
            "compress": lambda: fast_codec.compress_latent(codec, y),
            "decompress": lambda: fast_codec.decompress_latent(codec, fast["strings"], fast["shape"]),
        },
    }
    out: dict[str, dict[str, dict[str, float]]] = {}
    for path, fns in calls.items():
        for op, fn in fns.items():
            with torch.no_grad():
                fn()
                prof = cProfile.Profile(time.process_time)
                prof.enable()
                for _ in range(runs):
                    fn()
                prof.disable()
            stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
            total = sum(v[2] for v in stats.values())  # tottime of every function
            cats = {name: 0.0 for name, _ in _CATEGORIES}
            for (file, _, func), v in stats.items():
                label = f"{file}:{func}"
                for name, keys in _CATEGORIES:
                    if any(k in label for k in keys):
                        cats[name] += v[2]
                        break
            cats["other"] = total - sum(cats.values())
            cats["total"] = total
            out.setdefault(path, {})[op] = {k: 1000 * v / runs for k, v in cats.items()}
    return out


def format_profile(prof: dict[str, dict[str, dict[str, float]]]) -> str:
    cols = [(p, op) for p in prof for op in prof[p]]
    lines = ["CPU ms per call".ljust(30) + "".join(f"{p} {op}".rjust(28) for p, op in cols)]
    for cat in [*(c for c, _ in _CATEGORIES), "other", "total"]:
        lines.append(cat.ljust(30) + "".join(f"{prof[p][op][cat]:.1f}".rjust(28) for p, op in cols))
    return "\n".join(lines)


# --------------------------------------------------------------------------- output


_ROWS = (
    ("text_cold", "text encoding, cold caption"),
    ("text_cached", "text encoding, cached caption"),
    ("g_a", "g_a (analysis)"),
    ("hyper", "hyper: h_a, z coding, h_s"),
    ("entropy_coding", "entropy coding (y groups)"),
    ("encode_cold_sequential", "encode, cold caption, sequential"),
    ("encode_cold", "encode, cold caption, overlapped"),
    ("overlap_front", "  overlapped: stages 1-2 of g_a"),
    ("overlap_text_wait", "  overlapped: then waiting for text"),
    ("encode_cached", "encode, cached caption"),
    ("encode", "encode"),
    ("entropy_decoding", "entropy decoding (z, y)"),
    ("g_s", "g_s (synthesis)"),
    ("decode", "decode"),
)


def format_table(result: dict[str, Any]) -> str:
    """The result as a plain-text table: median / p90 ms per stage and system, then the ratios."""
    systems = result["systems"]
    names = list(systems)
    lines = [
        f"taco bench ({result['mode']}) on {result['device']}"
        + (f", {result['threads']} threads" if result.get("threads") else "")
        + f"; torch {result['torch']}, compressai {result['compressai']}",
        "images: " + ", ".join(f"{i['name']} {i['width']}x{i['height']}" for i in result["images"])
        + f"; {result['config']['runs']} runs after {result['config']['warmup']} warm-up",
        "",
        "ms, median / p90".ljust(36) + "".join(n.rjust(22) for n in names),
    ]
    for key, label in _ROWS:
        cells = []
        for n in names:
            st = systems[n].get(key)
            cells.append((f"{st['median']:.1f} / {st['p90']:.1f}" if st else "-").rjust(22))
        if any(c.strip() != "-" for c in cells):
            lines.append(label.ljust(36) + "".join(cells))
    lines += ["", "ratios (of medians)".ljust(56) + "wall".rjust(8) + "CPU time".rjust(10)]
    cpu = result.get("ratios_cpu_time", {})
    for k, v in result["ratios"].items():
        c = cpu.get(k)
        lines.append(f"  {k:<54}{'-' if v is None else f'{v:.3f}':>8}"
                     f"{'-' if c is None else f'{c:.3f}':>10}")
    if "batch" in result:
        b = result["batch"]
        lines += ["", f"throughput, {b['images']} images {b['width']}x{b['height']}, cached captions: "
                  f"one by one {b['one_by_one_images_per_s']:.2f} img/s, compress_batch "
                  f"(batch {b['batch_size']}) {b['compress_batch_images_per_s']:.2f} img/s "
                  f"(x{b['speedup']:.2f}; CPU time x{b['speedup_cpu_time']:.2f})"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="tiny models, 128x128 crops of 2 images, 3 runs (CI-friendly on a CPU)")
    p.add_argument("--runs", type=int, help="timed runs per image (default 5, quick 3)")
    p.add_argument("--warmup", type=int, help="untimed runs first (default 1)")
    p.add_argument("--crop", type=int,
                   help="centre crop side in pixels, 0 for whole images (default 256, quick 128)")
    p.add_argument("--images", nargs="+", metavar="IMG",
                   help="image files or built-in sample names (default: the 4 samples)")
    p.add_argument("--taco-model", help="TACO architecture (default taco-minilm, quick taco-tiny)")
    p.add_argument("--elic-model", help="ELIC architecture (default elic, quick elic-tiny)")
    p.add_argument("--no-clip-b", action="store_true",
                   help="skip TACO with the CLIP-B-sized random text encoder")
    p.add_argument("--batch", type=int, help="compress_batch batch size for the throughput "
                   "measurement, 0 to skip (default 0, quick 2)")
    p.add_argument("--memory", metavar="HxW",
                   help="instead: peak memory to encode / decode one HxW photo (multiples of 64, "
                   "e.g. 2176x3840 for 4K) with --taco-model (any model), each in a fresh process")
    p.add_argument("--device", default=None, help="cpu or cuda[:N] (default: cuda if available)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    p.add_argument("--profile", action="store_true",
                   help="instead: profile CompressAI's vs taco's entropy coding (CPU time by "
                   "category) on the first image with the ELIC model")
    p.add_argument("--json", metavar="FILE", dest="output", help="write the results as JSON here")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    over = dict(runs=args.runs, warmup=args.warmup, crop=args.crop, images=args.images,
                taco_model=args.taco_model, elic_model=args.elic_model, batch=args.batch,
                device=device, threads=args.threads, output=args.output)
    if args.no_clip_b:
        over["clip_b"] = False
    if args.quick:
        return BenchConfig.quick_defaults(**over)
    return BenchConfig(**{k: v for k, v in over.items() if v is not None})  # type: ignore[arg-type]


def cmd_bench(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if args.profile:
        return cmd_profile(cfg)
    if args.memory:
        return cmd_memory(cfg, args.memory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_bench(cfg, log=lambda s: print(s, file=sys.stderr))
    print(format_table(result))
    if cfg.output:
        Path(cfg.output).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.output).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {cfg.output}")
    return 0


def cmd_memory(cfg: BenchConfig, size: str) -> int:
    try:
        h, w = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise ValueError(f"--memory takes HxW, e.g. 2176x3840, not {size!r}") from None
    result = {"memory": [peak_memory(m, h, w, cfg.device) for m in (cfg.taco_model, cfg.elic_model)]}
    for m in result["memory"]:
        print(f"peak memory, {m['model']} {m['width']}x{m['height']} on {m['device']}: "
              + ", ".join(f"{part} +{m[part]['rss_added_mib']:.0f} MiB RSS (peak "
                          f"{m[part]['rss_peak_mib']:.0f} MiB)"
                          + (f", {m[part]['gpu_peak_allocated_mib']:.0f} MiB GPU"
                             if m[part]["gpu_peak_allocated_mib"] is not None else "")
                          for part in ("encode", "decode")))
    if cfg.output:
        Path(cfg.output).write_text(json.dumps(result, indent=2) + "\n")
    return 0


def cmd_profile(cfg: BenchConfig) -> int:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name, x, _ = load_inputs(cfg)[0]
        model = compressai_elic(create_model(cfg.elic_model))
        prof = profile_entropy_coding(model.to(cfg.device), x.to(cfg.device), runs=cfg.runs)
    print(f"entropy coding of {name} {x.shape[-1]}x{x.shape[-2]}, Elic2022Official at "
          f"{cfg.elic_model} widths, {torch.get_num_threads()} threads, {device_name(torch.device(cfg.device))}")
    print(format_profile(prof))
    if cfg.output:
        Path(cfg.output).write_text(json.dumps(prof, indent=2) + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add ``taco bench`` to the ``taco`` command line (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser(
        "bench", help="encode/decode latency: TACO vs ELIC vs CompressAI's ELIC",
        description="Time encode and decode per image for TACO, ELIC (same backbone) and "
        "CompressAI's Elic2022Official on the same images in one process; print a table and the "
        "ratios, optionally write JSON. Random weights: this measures cost, not quality.")
    add_arguments(p)
    p.set_defaults(func=cmd_bench)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="taco bench", description=__doc__.split("\n")[0])
    add_arguments(p)
    return cmd_bench(p.parse_args(argv))
