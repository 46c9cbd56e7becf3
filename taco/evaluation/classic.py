"""Classic codecs on the same footing as the learned ones: real files, same metrics.

* JPEG, WebP and AVIF through Pillow (AVIF is built into Pillow ≥ 11.3; older Pillow needs the
  ``pillow-avif-plugin`` package), at a sweep of qualities.
* BPG (``bpgenc``/``bpgdec``) and VTM (``EncoderApp``/``DecoderApp`` + an intra config file in
  ``TACO_VTM_CFG``, a leading ``~`` expanded) only when the binaries are on ``PATH``; otherwise :func:`get_codec` raises
  :class:`CodecUnavailable` with what is missing, and ``taco evaluate`` skips them saying so.

bpp is always 8 × the length of the file the codec wrote / pixels. :func:`code_at_bpp` finds,
per image, the quality whose file comes closest to a target bpp (to compare with a learned model
image by image at matched rate); :func:`interpolate_rd` reads a metric off an RD curve instead.
"""

from __future__ import annotations

import hashlib
import io
import numbers
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from taco.images import FORMAT_MAX_SIDES, image_to_tensor, pil_image_argument, tensor_to_image

from ..bitstream import bits_per_pixel
from ..checks import as_float, is_number
from ..distributed import DistEnv
from ..errors import TacoError, TacoValueError
from ..jsonfiles import write_json
from ..messages import did_you_mean, shown_path, some
from .bdrate import metric_bpp
from .datasets import EvalDataset
from .measure import IMAGE_COLUMNS, SetMetrics, pair_metrics
from .quality_names import CODEC_LABELS, CODEC_QUALITIES, check_quality_numbers
from .result_files import TEXT_COLUMNS, read_result, result_rows
from .results import code_run
from .runner import (
    Job,
    JobResult,
    ResultsFileError,
    done_rows,
    read_rows,
    resume_advice,
)

__all__ = [
    "AVIF_SPEED",
    "CLASSIC_CODECS",
    "CODEC_LABELS",
    "ClassicCodec",
    "CodecUnavailable",
    "ImageTooLargeForCodec",
    "code_at_bpp",
    "evaluate_codec",
    "evaluate_matched",
    "get_codec",
    "interpolate_rd",
]

CLASSIC_COLUMNS = ("index", "image", "setting", "quality", "target_bpp", "height", "width",
                   "bytes", "bpp", *IMAGE_COLUMNS, "sha256")
VTM_CFG_ENV = "TACO_VTM_CFG"


class CodecUnavailable(TacoError, RuntimeError):
    """A classic codec cannot run here (binary not on PATH, Pillow without the format)."""


class ExternalCodecError(TacoError, RuntimeError):
    """An external encoder or decoder (bpgenc, bpgdec, EncoderApp, DecoderApp) failed on an
    image: a non-zero exit, past :data:`EXTERNAL_TIMEOUT_S`, or no output written."""


class ImageTooLargeForCodec(TacoError, ValueError):
    """An image wider or taller than a classic codec's format holds (WebP: 16,383 px a side)."""


#: Where the built-in codecs add up the wall time (ms) of their encoder (``encode_ms``: Pillow's
#: save, bpgenc, EncoderApp) and decoder (``decode_ms``) while :meth:`ClassicCodec.code_timed`
#: runs; None otherwise.
_CLOCK: ContextVar[dict[str, float] | None] = ContextVar("taco_classic_clock", default=None)


def _clock(step: str, since: float) -> float:
    """Add the time from ``since`` (``time.perf_counter()``) to now to ``step`` of the clock
    :meth:`ClassicCodec.code_timed` set, if any; now."""
    now = time.perf_counter()
    if (clock := _CLOCK.get()) is not None:
        clock[step] = clock.get(step, 0.0) + 1000 * (now - since)
    return now


@dataclass(frozen=True)
class ClassicCodec:
    """A classic image codec: ``code(image, quality) -> (file bytes, decoded RGB image)``.

    ``quality`` runs over ``quality_range``; ``direction`` is +1 when a larger value spends more
    bits (JPEG quality) and -1 when it spends fewer (BPG/VTM QP). ``max_side``: the longest
    side the format holds, where it has a limit (None: as long as a ``.taco`` file's).
    """

    name: str
    label: str
    sweep: tuple[int, ...]
    quality_range: tuple[int, int]
    direction: int
    encode: Callable[[Image.Image, int], tuple[bytes, Image.Image]]
    settings: dict[str, Any] = field(default_factory=dict)
    max_side: int | None = None

    def too_large(self, image: Image.Image) -> str | None:
        """Why the format cannot hold ``image`` (``"over 16,383 px a side"``), or None."""
        if self.max_side is not None and max(image.size) > self.max_side:
            return f"over {self.max_side:,} px a side"
        return None

    def code(self, image: Image.Image, quality: int) -> tuple[bytes, Image.Image]:
        """``image``'s pixels as this codec's file, and that file decoded. Pixels only: no
        metadata of the source goes into the file (Pillow's AVIF writer embedded an sRGB
        ``icc_profile`` of 3,144 bytes from ``image.info``, where JPEG and WebP wrote none)."""
        lo, hi = self.quality_range
        if not lo <= quality <= hi:
            raise ValueError(f"{self.name} quality must be in [{lo}, {hi}], got {quality}")
        if why := self.too_large(image):
            raise ImageTooLargeForCodec(f"{self.label} cannot hold this {image.width}x{image.height} "
                                        f"image ({why})")
        pixels = image.convert("RGB")  # a new image: the caller's keeps its info
        pixels.info = {}
        return self.encode(pixels, quality)

    def code_timed(self, image: Image.Image, quality: int) -> tuple[bytes, Image.Image, dict[str, float]]:
        """:meth:`code`, and the wall time in ms of its encoder and decoder (``encode_ms``,
        ``decode_ms``: around Pillow's save and open, or the bpgenc/bpgdec and
        EncoderApp/DecoderApp runs) where the codec's ``encode`` is a built-in one that says
        them (an empty dict otherwise)."""
        token = _CLOCK.set({})
        try:
            data, decoded = self.code(image, quality)
            clock = _CLOCK.get() or {}
        finally:
            _CLOCK.reset(token)
        return data, decoded, (clock if all(k in clock for k in ("encode_ms", "decode_ms")) else {})

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "quality_range": list(self.quality_range),
                "quality_direction": "higher = more bits" if self.direction > 0 else "lower = more bits",
                **self.settings}


# --------------------------------------------------------------------------- Pillow


def _pillow(fmt: str, **options: Any) -> Callable[[Image.Image, int], tuple[bytes, Image.Image]]:
    def encode(image: Image.Image, quality: int) -> tuple[bytes, Image.Image]:
        start = time.perf_counter()
        buf = io.BytesIO()
        image.save(buf, fmt, quality=quality, **options)
        data = buf.getvalue()
        start = _clock("encode_ms", start)
        with Image.open(io.BytesIO(data)) as decoded:
            pixels = decoded.convert("RGB")
        _clock("decode_ms", start)
        return data, pixels

    return encode


def _pillow_version() -> str:
    import PIL

    return PIL.__version__


def _avif_support() -> str | None:
    from PIL import features

    if features.check("avif"):
        return None
    try:
        import pillow_avif  # noqa: F401  (registers the AVIF plugin)
    except ImportError:
        return f"Pillow {_pillow_version()} has no AVIF support: pip install pillow-avif-plugin"
    return None


#: libavif's encoder speed (0 slowest and best .. 10): its default. Speed 3 (4:2:0) took 7.45 %
#: fewer bits at equal PSNR (BD-rate) on 7 val photos at q10-q70 in a review's measurement, 4:4:4
#: at speed 3 9.94 %: whether a model "beats AVIF" depends on it, so the results JSON says it.
AVIF_SPEED = 6


def _avif_settings() -> dict[str, Any]:
    """What the AVIF anchor is: speed, subsampling, and the libavif and AV1 encoder versions
    where Pillow says them (``PIL.features.version("avif")``, and
    ``PIL.AvifImagePlugin.get_codec_version`` of Pillow >= 11.3; left out with
    ``pillow-avif-plugin``, which has neither)."""
    from PIL import features

    libavif = features.version("avif")  # None: not built in (an older Pillow, or without libavif)
    encoder = None
    if libavif is not None:
        from PIL import AvifImagePlugin

        if callable(get_codec_version := getattr(AvifImagePlugin, "get_codec_version", None)):
            # with codec "auto" libavif encodes with the first of these it was built with
            encoder = next((f"{name} {v}" for name in ("aom", "rav1e", "svt")
                            if (v := get_codec_version(name))), None)
    return {"implementation": f"Pillow {_pillow_version()} (libavif{f' {libavif}' if libavif else ''})",
            **({"encoder": encoder} if encoder else {}), "speed": AVIF_SPEED, "subsampling": "4:2:0"}


# --------------------------------------------------------------------------- external binaries


#: Seconds one run of an external encoder or decoder (bpgenc, EncoderApp, ...) may take on one
#: image before it is stopped and the codec's run fails.
EXTERNAL_TIMEOUT_S = 600


def _run(cmd: Sequence[str], output: Path, what: str) -> None:
    """Run the encoder or decoder ``cmd``, which writes ``what`` (``"bitstream"``, ``"image"``)
    to ``output``: an :class:`ExternalCodecError` naming the tool where it fails, runs past
    :data:`EXTERNAL_TIMEOUT_S`, or exits 0 but leaves ``output`` missing or empty."""
    tool = Path(cmd[0]).name
    try:
        subprocess.run(list(cmd), check=True, capture_output=True, timeout=EXTERNAL_TIMEOUT_S)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or b"").decode(errors="replace").strip()[-400:]
        raise ExternalCodecError(f"{tool} failed (exit {exc.returncode}): {tail}") from None
    except subprocess.TimeoutExpired:
        raise ExternalCodecError(f"{tool} did not finish within {EXTERNAL_TIMEOUT_S:g} s (taco's "
                                 "limit for one run on one image): stopped") from None
    if not output.is_file() or output.stat().st_size == 0:
        raise ExternalCodecError(f"{tool} exited 0 but wrote no {what}"
                                 f"{' (an empty file)' if output.is_file() else ''}")


def _bpg(image: Image.Image, qp: int) -> tuple[bytes, Image.Image]:
    with tempfile.TemporaryDirectory(prefix="taco-bpg-") as tmp:
        src, bits, dec = Path(tmp, "in.png"), Path(tmp, "out.bpg"), Path(tmp, "dec.png")
        image.save(src)
        # 4:4:4 YCbCr 8 bit, as CompressAI's benchmark runs BPG
        start = time.perf_counter()
        _run(["bpgenc", "-o", str(bits), "-q", str(qp), "-f", "444", "-c", "ycbcr", "-b", "8", str(src)],
             bits, "bitstream")
        start = _clock("encode_ms", start)
        _run(["bpgdec", "-o", str(dec), str(bits)], dec, "image")
        _clock("decode_ms", start)
        with Image.open(dec) as d:
            return bits.read_bytes(), d.convert("RGB")


def _vtm_cfg() -> str:
    """``$TACO_VTM_CFG`` with a leading ``~`` expanded ('' when unset or empty)."""
    value = os.environ.get(VTM_CFG_ENV, "")
    return os.path.expanduser(value) if value else ""


def _vtm_cfg_problem() -> str | None:
    """Why ``$TACO_VTM_CFG`` cannot be used as VTM's config, or None when it names a file."""
    cfg = _vtm_cfg()
    if not cfg:
        return f"VTM: set {VTM_CFG_ENV} to an intra config such as VTM's cfg/encoder_intra_vtm.cfg"
    if not os.path.isfile(cfg):
        return f"VTM: {VTM_CFG_ENV}={shown_path(cfg)} is not a file"
    return None


def _vtm(image: Image.Image, qp: int) -> tuple[bytes, Image.Image]:
    cfg = _vtm_cfg()
    w, h = image.size
    with tempfile.TemporaryDirectory(prefix="taco-vtm-") as tmp:
        yuv, bits, dec = Path(tmp, "in.yuv"), Path(tmp, "out.bin"), Path(tmp, "dec.yuv")
        planes = np.asarray(image.convert("YCbCr"), dtype=np.uint8).transpose(2, 0, 1)  # (3, H, W)
        yuv.write_bytes(np.ascontiguousarray(planes).tobytes())
        start = time.perf_counter()
        _run(["EncoderApp", "-c", cfg, "-i", str(yuv), "-b", str(bits), "-o", os.devnull,
              "-wdt", str(w), "-hgt", str(h), "-fr", "1", "-f", "1", "-q", str(qp),
              "--InputChromaFormat=444", "--ChromaFormatIDC=444", "--InputBitDepth=8",
              "--OutputBitDepth=8", "--ConformanceWindowMode=1"], bits, "bitstream")
        start = _clock("encode_ms", start)
        _run(["DecoderApp", "-b", str(bits), "-o", str(dec), "-d", "8"], dec, "image")
        _clock("decode_ms", start)
        out = np.frombuffer(dec.read_bytes(), dtype=np.uint8)
        if out.size != 3 * h * w:
            raise RuntimeError(f"DecoderApp wrote {out.size} bytes, expected {3 * h * w} (4:4:4, 8 bit)")
        decoded = Image.fromarray(out.reshape(3, h, w).transpose(1, 2, 0), "YCbCr").convert("RGB")
        return bits.read_bytes(), decoded


def _needs(binaries: Sequence[str], what: str) -> str | None:
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        return f"{what}: {', '.join(missing)} not on PATH"
    return None


SWEEP = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)

# CODEC_LABELS (name -> legend label) and CODEC_QUALITIES (name -> quality range) are in
# .quality_names, which taco evaluate reads before torch loads
#: name -> (codec, reason it is unavailable or None); checked when asked for.
CLASSIC_CODECS: dict[str, Callable[[], tuple[ClassicCodec, str | None]]] = {
    "jpeg": lambda: (ClassicCodec(
        "jpeg", CODEC_LABELS["jpeg"], SWEEP, CODEC_QUALITIES["jpeg"], +1,
        _pillow("JPEG", subsampling="4:2:0", optimize=True),
        {"implementation": f"Pillow {_pillow_version()} (libjpeg)", "subsampling": "4:2:0",
         "optimize": True}), None),
    "webp": lambda: (ClassicCodec(
        "webp", CODEC_LABELS["webp"], SWEEP, CODEC_QUALITIES["webp"], +1, _pillow("WEBP", method=6),
        {"implementation": f"Pillow {_pillow_version()} (libwebp)", "method": 6, "lossy": True},
        max_side=FORMAT_MAX_SIDES["WEBP"]), None),
    "avif": lambda: (ClassicCodec(
        "avif", CODEC_LABELS["avif"], SWEEP, CODEC_QUALITIES["avif"], +1,
        _pillow("AVIF", speed=AVIF_SPEED, subsampling="4:2:0"), _avif_settings()), _avif_support()),
    "bpg": lambda: (ClassicCodec(
        "bpg", CODEC_LABELS["bpg"], (48, 44, 40, 36, 32, 28, 24), CODEC_QUALITIES["bpg"], -1, _bpg,
        {"implementation": "bpgenc/bpgdec", "chroma": "4:4:4", "color": "ycbcr", "bit_depth": 8}),
        _needs(["bpgenc", "bpgdec"], "BPG")),
    "vtm": lambda: (ClassicCodec(
        "vtm", CODEC_LABELS["vtm"], (47, 42, 37, 32, 27, 22), CODEC_QUALITIES["vtm"], -1, _vtm,
        {"implementation": "VTM EncoderApp/DecoderApp", "config": _vtm_cfg() or None,
         "chroma": "4:4:4", "bit_depth": 8}),
        _needs(["EncoderApp", "DecoderApp"], "VTM") or _vtm_cfg_problem()),
}


def get_codec(name: str) -> ClassicCodec:
    """The classic codec ``name`` (jpeg, webp, avif, bpg, vtm); :class:`CodecUnavailable` if it
    cannot run here."""
    key = name.lower()
    if key not in CLASSIC_CODECS:
        raise CodecUnavailable(f"unknown codec {name!r}{did_you_mean(key, CLASSIC_CODECS)}; "
                               f"known: {', '.join(CLASSIC_CODECS)}")
    codec, why = CLASSIC_CODECS[key]()
    if why:
        raise CodecUnavailable(why)
    return codec


# --------------------------------------------------------------------------- matched rate


def code_at_bpp(
    codec: ClassicCodec, image: Image.Image, target_bpp: float
) -> tuple[int, bytes, Image.Image]:
    """The quality whose file has the bpp closest to ``target_bpp``: (quality, bytes, decoded).

    Bisection over the integer quality range (bpp is monotonic in quality up to small wiggles),
    then the best of the bracketing qualities and two more on either side: a wiggle can put the
    closest file beside the bracket (WebP: q13 0.3854, q14 0.3815 bpp). About log2(range) + 6
    encodes. ``image``: a PIL image, anything else a TypeError (a path: open it with
    :func:`taco.images.load_image`); ``target_bpp``: a finite number above 0 (NumPy's taken),
    another a :class:`~taco.errors.TacoValueError` (a TypeError for what is no number), before
    anything is coded.
    """
    quality, data, decoded, _ = _code_at_bpp_timed(codec, image, target_bpp)
    return quality, data, decoded


def _checked_target(image: object, target_bpp: object) -> float:
    """:func:`code_at_bpp`'s checks of its ``image`` and ``target_bpp``; the target as a float."""
    pil_image_argument("code_at_bpp", image)
    if isinstance(target_bpp, bool) or not isinstance(target_bpp, numbers.Real):
        raise TypeError(f"code_at_bpp: target_bpp must be a number (bits per pixel), not {type(target_bpp).__name__}")
    number = as_float(target_bpp)
    if number is None or number <= 0:
        raise TacoValueError(f"code_at_bpp: target_bpp must be a finite number above 0 (bits per pixel), "
                             f"got {target_bpp!r}")
    return number


def _code_at_bpp_timed(
    codec: ClassicCodec, image: Image.Image, target_bpp: float
) -> tuple[int, bytes, Image.Image, dict[str, float]]:
    """:func:`code_at_bpp`, and the timings (:meth:`ClassicCodec.code_timed`) of the encode and
    decode of the file it chose, not of the search."""
    target_bpp = _checked_target(image, target_bpp)
    cache: dict[int, tuple[bytes, Image.Image, dict[str, float]]] = {}

    def coded(q: int) -> tuple[bytes, Image.Image, dict[str, float]]:
        if q not in cache:
            cache[q] = codec.code_timed(image, q)
        return cache[q]

    def bpp(q: int) -> float:
        return bits_per_pixel(len(coded(q)[0]), image.width * image.height)

    lo, hi = codec.quality_range
    # order qualities from fewest to most bits
    qs = list(range(lo, hi + 1)) if codec.direction > 0 else list(range(hi, lo - 1, -1))
    a, b = 0, len(qs) - 1
    while b - a > 1:
        mid = (a + b) // 2
        if bpp(qs[mid]) < target_bpp:
            a = mid
        else:
            b = mid
    near = qs[max(0, a - 2):b + 3]  # the bracket and its neighbours
    best = min(near, key=lambda q: (abs(bpp(q) - target_bpp), q))
    return (best, *coded(best))


def interpolate_rd(points: Sequence[dict[str, float]], target_bpp: float, metric: str) -> float:
    """``metric`` of an RD curve at ``target_bpp``, linear in log(bpp); NaN outside the curve.
    Each point's rate is the one that goes with its mean of ``metric``
    (:func:`taco.evaluation.bdrate.metric_bpp`: over the same images)."""
    pts = sorted((x, y) for x, y in ((metric_bpp(p, metric), p.get(metric)) for p in points)
                 if is_number(y) and x > 0)
    if not pts or not pts[0][0] <= target_bpp <= pts[-1][0]:
        return float("nan")
    x = np.log([p[0] for p in pts])
    return float(np.interp(np.log(target_bpp), x, [p[1] for p in pts]))


# --------------------------------------------------------------------------- runs


def _classic_work(
    codec: ClassicCodec,
    dataset: EvalDataset,
    quality_of: Callable[[Job], tuple[int | None, float | None]],
    sets: SetMetrics | None,
    captioner: Any,
    lpips_input: str,
) -> Callable[[Job], JobResult]:
    cache: dict[str, Any] = {}

    def work(job: Job) -> JobResult:
        if cache.get("index") != job.index:
            sample = dataset.images[job.index]
            cache.update(index=job.index, sample=sample, pil=tensor_to_image(sample.image),
                         caption=None)
        sample, pil = cache["sample"], cache["pil"]
        if sample.name != job.image:
            return JobResult(None)
        quality, target = quality_of(job)
        if quality is None:  # matched: search the quality for this image
            assert target is not None
            quality, data, decoded, timings = _code_at_bpp_timed(codec, pil, target)
        else:
            data, decoded, timings = codec.code_timed(pil, quality)
        x = sample.image.unsqueeze(0)  # (1, 3, H, W)
        x_hat = image_to_tensor(decoded)
        row: dict[str, object] = {
            "index": job.index, "quality": quality, "target_bpp": target,
            "height": pil.height, "width": pil.width, "bytes": len(data),
            "bpp": bits_per_pixel(len(data), pil.width * pil.height),
            **pair_metrics(x, x_hat, lpips_input), "sha256": hashlib.sha256(data).hexdigest(),
        }
        if captioner is not None:
            if cache["caption"] is None:
                cache["caption"] = captioner([pil])[0]
            row["gen_caption_original"] = cache["caption"]
            row["gen_caption_recon"] = captioner([decoded])[0]
        return JobResult(row, sets.features(x_hat) if sets is not None else {}, timings)

    return work


def _run_codec(
    codec: ClassicCodec,
    dataset: EvalDataset,
    out_dir: Path,
    stem: str,
    jobs: list[Job],
    quality_of: Callable[[Job], tuple[int | None, float | None]],
    header_extra: dict[str, Any],
    *,
    kind: str,
    label: str,
    sets: SetMetrics | None,
    captioner: Any,
    dist: DistEnv | None,
    progress: bool,
    lpips_input: str,
    resume_note: str = "",
    not_run: Sequence[str] = (),
    skipped_before: Sequence[str] = (),
    targets: dict[str, float] | None = None,
) -> Path:
    """Code ``jobs`` into ``out_dir/STEM.{csv,json}`` as every run is
    (:func:`~taco.evaluation.results.code_run`). ``resume_note``: a warning said once the
    resume is known to go on (an earlier run's results of another configuration are refused
    first). ``not_run``, ``skipped_before``: the dataset's images without a job, and those of
    them found unreadable before (:func:`~taco.evaluation.results.finish_run`). ``targets``
    (a matched run's bpp of each image): rows already there coded for another target are
    refused (:func:`_check_targets`)."""
    return code_run(
        kind, label, codec.name, dataset, out_dir, stem, jobs,
        _classic_work(codec, dataset, quality_of, sets, captioner, lpips_input),
        CLASSIC_COLUMNS + (TEXT_COLUMNS if captioner is not None else ()),
        coder={"codec": codec.describe()},
        run_settings={k: v for k, v in header_extra.items() if k == "matched_to_fingerprint"},
        header_fields={"codec_settings": codec.describe()}, header_tail=header_extra,
        device="cpu", sets=sets, captioner=captioner, lpips_input=lpips_input, dist=dist,
        progress=progress, desc=f"{label} on {dataset.name}",
        check=None if targets is None else (
            lambda json_path, csv_path: _check_targets(json_path, csv_path, targets)),
        resume_note=resume_note, not_run=not_run, skipped_before=skipped_before,
    )


def _check_targets(json_path: Path, csv_path: Path, targets: dict[str, float]) -> None:
    """Refuse to resume a matched run whose rows (in ``csv_path`` or its rank shards) were
    coded for another ``target_bpp`` than the model's run now has for their image: that run
    was made again with other results since (another seed, caption mode), and its old rows
    would keep their old targets and ``bpp_gap``. Images the model's run has no row for now
    and rows without a target are left to the resume as before."""
    stale = []
    for r in done_rows(csv_path):
        image, target = r.get("image"), r.get("target_bpp")
        if image in targets and target and float(target) != targets[image]:
            stale.append(image)
    if stale:
        named = some([f"{n:.40}" for n in dict.fromkeys(stale)], 4)
        raise ResultsFileError(
            f"{json_path} holds results of another configuration (differs in: target_bpp of "
            f"{named}, the bpp the model's results now have); " + resume_advice(json_path)
        )


def _earlier_qualities(codec: ClassicCodec, csv_path: Path) -> list[int]:
    """The qualities (``qN`` settings in the codec's range) of the rows in ``csv_path``."""
    lo, hi = codec.quality_range
    settings = dict.fromkeys(r.get("setting", "") for r in read_rows(csv_path))
    return [int(s[1:]) for s in settings if s[:1] == "q" and s[1:].isdigit() and lo <= int(s[1:]) <= hi]


def evaluate_codec(
    codec: ClassicCodec,
    dataset: EvalDataset,
    out_dir: str | os.PathLike[str],
    *,
    qualities: Sequence[int] | None = None,
    sets: SetMetrics | None = None,
    captioner: Any = None,
    dist: DistEnv | None = None,
    progress: bool = True,
    lpips_input: str = "standard",
) -> Path:
    """Code every image at every quality of the sweep: ``out_dir/CODEC.{csv,json}``, one point
    per quality. ``lpips_input``: the LPIPS convention (see :func:`taco.metrics.lpips`).

    ``qualities`` (None: the codec's sweep) that are empty, repeat one or fall outside
    :attr:`ClassicCodec.quality_range` are a :class:`~taco.evaluation.quality_names.QualitiesError`
    (a ValueError), in the words of ``taco evaluate --qualities``, before anything is written.
    Qualities of an earlier run into the same folder (rows
    of ``CODEC.csv``) stay in the sweep: the JSON summarises every quality its CSV holds, each
    over the same images (a resume with another sweep codes only what is missing, and a
    configuration that differs is refused as for any resume, before any warning); a
    :class:`~taco.errors.TacoWarning` says so (on the main process).
    """
    out_dir = Path(out_dir)
    if qualities is not None:
        check_quality_numbers(codec.name, codec.label, qualities, *codec.quality_range)
    qs = list(codec.sweep if qualities is None else qualities)
    earlier = _earlier_qualities(codec, out_dir / f"{codec.name}.csv")
    note = ""
    if added := [q for q in earlier if q not in qs]:
        note = (f"{codec.name}.csv in {out_dir} also holds qualities {', '.join(map(str, added))} "
                "of an earlier run: they stay in its curve")  # said once the resume is allowed
        qs = sorted(qs + added, key=lambda q: codec.direction * q)  # from fewest bits to most
    jobs = [Job(i, name, f"q{q}") for i, name in enumerate(dataset.names) for q in qs]
    return _run_codec(
        codec, dataset, out_dir, codec.name, jobs, lambda j: (int(j.setting[1:]), None),
        {"qualities": qs}, kind="classic", label=codec.label, sets=sets, captioner=captioner,
        dist=dist, progress=progress, lpips_input=lpips_input, resume_note=note,
    )


def evaluate_matched(
    codec: ClassicCodec,
    dataset: EvalDataset,
    out_dir: str | os.PathLike[str],
    model_json: str | os.PathLike[str],
    *,
    sets: SetMetrics | None = None,
    captioner: Any = None,
    dist: DistEnv | None = None,
    progress: bool = True,
    lpips_input: str = "standard",
) -> Path:
    """Code each image at the quality whose bpp is closest to the model's bpp on that image.

    Writes ``out_dir/CODEC.matched-MODELTAG.{csv,json}``: one point, paired image by image with
    the model's results in ``model_json``. Images beyond the codec's bpp range get its nearest
    end (see ``bpp_gap`` in the JSON).

    Only the images the model's run coded have a target: the result is ``complete`` when they
    are all of the dataset's images and each was coded; the others count in its
    ``jobs_missing``, and those the model's run skipped as unreadable are in its
    ``skipped_images``, as in the model's JSON.

    An earlier matched run in ``out_dir`` is resumed only while its rows' ``target_bpp`` are
    the model's bpp now: rows coded for other targets (the model's run made again since with
    other results) are a :class:`~taco.evaluation.runner.ResultsFileError`.
    """
    out_dir, model_json = Path(out_dir), Path(model_json)
    meta = read_result(model_json)
    targets = {r["image"]: float(r["bpp"]) for r in result_rows(model_json)}
    jobs = [Job(i, n, "matched") for i, n in enumerate(dataset.names) if n in targets]
    not_run = [n for n in dataset.names if n not in targets]
    unreadable = {str(n) for n in meta.get("skipped_images") or []}
    tag = meta.get("model", {}).get("tag", model_json.stem)
    path = _run_codec(
        codec, dataset, out_dir, f"{codec.name}.matched-{tag}", jobs,
        lambda j: (None, targets[j.image]),
        {"matched_to": model_json.name, "matched_to_fingerprint": meta.get("model", {}).get("fingerprint"),
         "matched_to_label": meta.get("label")},
        kind="classic-matched", label=f"{codec.label} @ {meta.get('label')} bpp", sets=sets,
        captioner=captioner, dist=dist, progress=progress, lpips_input=lpips_input,
        not_run=not_run, skipped_before=[n for n in not_run if n in unreadable], targets=targets,
    )
    if dist is None or dist.is_main:
        result = read_result(path)
        rows = result_rows(path)
        gaps = [float(r["bpp"]) - float(r["target_bpp"]) for r in rows]
        if gaps:
            result["bpp_gap"] = {"mean": float(np.mean(gaps)), "mean_abs": float(np.mean(np.abs(gaps))),
                                 "max_abs": float(np.max(np.abs(gaps))),
                                 "note": "codec bpp - model bpp, per image"}
        write_json(path, result)
    return path
