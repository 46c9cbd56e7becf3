"""The latency benchmark: TACO, ELIC and CompressAI's ELIC timed stage by stage, interleaved.

See :mod:`taco.bench` for what is measured and how; the headline numbers are ratios of medians
(:func:`headline_ratios`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..codec import analysis_with_text_overlap, coding_codec, pad_to_multiple, takes_pending_caption
from ..devices import MAX_THREADS, device_description
from ..errors import TacoValueError
from ..messages import utf8_name
from ..models import create_model, fast_codec
from ..models.elic import ELIC
from ..pipeline import compress_batch, encode_with_text_overlap
from ..text.base import TextEncoder, TextTokens
from ..text.worker import encode_captions_async
from ..version import __version__
from .config import BenchConfig, check_models
from .inputs import load_inputs
from .systems import bench_text_encoder, clip_b_random, compressai_elic, context_widths
from .timing import Recorder, clocks

# --------------------------------------------------------------------------- the JSON's names


def json_names(value: Any) -> Any:
    """``value`` (a path, an image's name, JSON data holding them) as the bench's JSON writes it:
    each string as :func:`taco.messages.utf8_name` writes a file's name (the same under every
    locale; a byte that is not UTF-8 as ``\\xff``, as ``taco evaluate`` writes it)."""
    if isinstance(value, str):
        return utf8_name(value)
    if isinstance(value, dict):
        return {json_names(k): json_names(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_names(v) for v in value]
    return value


# --------------------------------------------------------------------------- systems


@dataclass
class Systems:
    """The models (and text encoders) one benchmark run compares."""

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


class WaitClock(Future[TextTokens]):
    """Hands g_a the caption of ``inner`` and notes (wall, CPU) clocks when it was asked for it
    and when it had it."""

    def __init__(self, inner: Future[TextTokens], device: torch.device) -> None:
        super().__init__()
        self.inner, self.device = inner, device
        self.asked: tuple[float, float] | None = None
        self.answered: tuple[float, float] | None = None

    def result(self, timeout: float | None = None) -> TextTokens:
        self.asked = clocks(self.device)
        text = self.inner.result(timeout)
        self.answered = clocks(self.device)
        return text


def _ms(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return 1000 * (b[0] - a[0]), 1000 * (b[1] - a[1])


def _time_latent_coding(rec: Recorder, name: str, codec: Any, y: Tensor, quality: int | None,
                        device: torch.device) -> None:
    """The entropy coding of ``y`` with ``codec``: the hyper branch and the y groups on their
    own ("hyper", "entropy_coding"), or, for a codec that codes itself in one call
    (:func:`~taco.models.fast_codec.codes_by_branch`), the whole of it ("latent_coding")."""
    if not fast_codec.codes_by_branch(codec):
        rec(name, "latent_coding",
            lambda: fast_codec.compress_latent(codec, _on(codec, y), quality), device)
        return
    hyper = rec(name, "hyper",
                lambda: fast_codec.compress_hyper(codec, _on(codec, y), quality=quality), device)
    rec(name, "entropy_coding", lambda: fast_codec.compress_groups(
        codec, _on(codec, y), hyper["params"], quality=quality)["stream"].flush(), device)


def _run_taco(rec: Recorder, name: str, model: ELIC, enc: TextEncoder, x: Tensor, caption: str,
              device: torch.device, stages: bool) -> None:
    codec = coding_codec(model)  # the latent codec taco.codec codes with
    q = model.default_quality  # a variable-rate model's middle quality, as taco.compress's
    if stages:
        enc.clear_cache()
        rec(name, "text_cold", lambda: enc.encode([caption]), device)
        rec(name, "text_cached", lambda: enc.encode([caption]), device)
        y = rec(name, "g_a", lambda: analysis_with_text_overlap(model, x, [caption], enc,
                                                                 overlap=False), device)
        _time_latent_coding(rec, name, codec, y, q, device)
    enc.clear_cache()
    rec(name, "encode_cold_sequential",
        lambda: encode_with_text_overlap(model, x, caption, enc, overlap=False), device)
    enc.clear_cache()
    out = rec(name, "encode_cold",
              lambda: encode_with_text_overlap(model, x, caption, enc, overlap=True), device)
    # the overlap itself, inside model.analysis: how long g_a's first stages take, and how long
    # g_a then still waits for the caption at CA1 (0 = the text step is off the critical path).
    # Only TACO's own analysis takes a pending caption (taco.codec.takes_pending_caption): any
    # other text backbone, or a TACO subclass overriding analysis, is handed the tokens
    # (docs/models.md, "Adding a backbone"), so these two stages are left out of its columns
    # (the table prints "-")
    if takes_pending_caption(model):
        enc.clear_cache()
        pending = WaitClock(encode_captions_async(enc, [caption]), device)
        start = clocks(device)
        model.analysis(x, pending)
        assert pending.asked is not None and pending.answered is not None
        rec.add(name, "overlap_front", *_ms(start, pending.asked))
        rec.add(name, "overlap_text_wait", *_ms(pending.asked, pending.answered))
    rec(name, "encode_cached",
        lambda: encode_with_text_overlap(model, x, caption, enc, overlap=True), device)
    if stages:
        rec(name, "decode", lambda: _decode(model, codec, out), device)


def _run_elic(rec: Recorder, model: ELIC, x: Tensor, device: torch.device) -> None:
    codec = coding_codec(model)  # the latent codec taco.codec codes with
    q = model.default_quality  # a variable-rate model's middle quality, as taco.compress's
    # g_a as taco.compress runs it: in stripes above the budget (taco.codec.analysis_stripe_rows)
    y = rec("elic", "g_a", lambda: analysis_with_text_overlap(model, x, []), device)
    _time_latent_coding(rec, "elic", codec, y, q, device)
    out = rec("elic", "encode", lambda: encode_with_text_overlap(model, x, None), device)
    y_hat = rec("elic", "entropy_decoding",
                lambda: fast_codec.decompress_latent(codec, out["strings"], out["shape"])["y_hat"],
                device)
    rec("elic", "g_s", lambda: model.g_s(y_hat.to(device)).clamp_(0, 1), device)
    rec("elic", "decode", lambda: _decode(model, codec, out), device)
    # the model's own float32 latent codec through the fast path (fast, not deterministic
    # across machines and thread counts; what taco.codec did before coding_codec, whose float64
    # copy is the codec timed above)
    out32 = rec("elic-float32-codec", "encode",
                lambda: fast_codec.compress(model, x, quality=q), device)
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
        known = [p for p in parts if p is not None]
        return sum(known) if len(known) == len(parts) else None

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


def build_systems(cfg: BenchConfig, device: torch.device,
                  log: Callable[[str], None] = lambda s: None) -> Systems:
    """The models ``cfg`` names; ``taco_clip`` (with ``clip_text``) only when ``cfg.clip_b`` and
    TACO's own text encoder is not already the CLIP-B-sized one."""
    taco = create_model(cfg.taco_model).to(device)
    elic = create_model(cfg.elic_model).to(device)
    text = bench_text_encoder(taco, log)
    systems = Systems(taco, text.to(device), elic, compressai_elic(elic).to(device))
    # taco-clip-b would time the very same thing twice when TACO's encoder is the CLIP-B stand-in
    if cfg.clip_b and text.name != "clip-b-random":
        # TACO's backbone with CLIP's adapter (d=512) and a CLIP-B-sized text encoder
        systems.taco_clip = create_model(cfg.taco_model, text_encoder={"name": "clip"}).to(device)
        systems.clip_text = clip_b_random().to(device)
    return systems


def run_bench(cfg: BenchConfig, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run the benchmark described by ``cfg``; the result is what ``--json`` writes."""
    check_models(cfg.taco_model, cfg.elic_model)
    if cfg.threads is not None and not 1 <= cfg.threads <= MAX_THREADS:
        raise TacoValueError(f"threads must be 1 to {MAX_THREADS} (or None: torch's own), got {cfg.threads}")
    device = torch.device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    own = load_inputs(cfg.images, cfg.crop, pad=False)  # the JSON gives each image's own size
    inputs = [(n, pad_to_multiple(x), c) for n, x, c in own]  # and the size coded
    log(f"building models on {device} ...")
    sy = build_systems(cfg, device, log)
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
        "device": device_description(device),
        "device_type": device.type,
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "mode": "quick" if cfg.quick else "full",
        # clip_b as run: off when TACO's own text encoder is the CLIP-B-sized one
        # paths and names (images, output, a checkpoint as the model): UTF-8 in every locale
        "config": json_names(dataclasses.asdict(dataclasses.replace(cfg, clip_b=sy.taco_clip is not None))),
        "images": [{"name": json_names(n), "height": int(x.shape[-2]), "width": int(x.shape[-1]),
                    "padded_height": int(p.shape[-2]), "padded_width": int(p.shape[-1])}
                   for (n, x, _), (_, p, _) in zip(own, inputs, strict=True)],
        "models": {
            "taco": f"{cfg.taco_model} + {sy.taco_text.name} text encoder (random weights"
                    f"{', the real tokenizer' if sy.taco_text.name == 'clip-b-random' else ''})",
            "elic": f"{cfg.elic_model} (random weights)",
            "compressai-elic": f"compressai.models.Elic2022Official(N={sy.elic.N}, M={sy.elic.M}, "
                               f"groups={sy.elic.groups}), channel context widths "
                               f"{list(context_widths(sy.elic))} (random weights)",
            **({"taco-clip-b": f"{cfg.taco_model} with CLIP's adapter (d=512) + CLIP "
                               "ViT-B/32-sized text encoder with random weights (real CLIP BPE "
                               "tokenizer)"}
               if sy.taco_clip is not None else {}),
        },
        "entropy_codec":
            "taco.codec.coding_codec (float64 CPU copy of the latent codec) through fast_codec",
        "time_unit": "ms",  # of every median / p90 in systems and systems_cpu_time
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
    for caption in sorted(set(captions)):  # cached as coding reads them (each caption alone):
        enc.encode([caption])  # this measures the image side

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


