"""``taco evaluate``: models (and classic codecs) × datasets -> per-image CSV + summary JSON.

Every image goes through the real codec: :func:`taco.codec.compress_image` writes the
``.taco`` bytes, :func:`taco.codec.decompress_tensor` decodes them without the caption, and the
metrics compare the decoded image with the original. bpp is 8 × the file's length / pixels.

Outputs, per dataset folder ``OUT/DATASET/``:

* ``MODEL.csv``: one row per image (bytes, bpp, PSNR, MS-SSIM, LPIPS and its convention
  ``lpips_input``, SHA-256 of the file, the caption used; generated captions with
  ``--text-similarity``). Re-running skips the images already there (resume).
* ``MODEL.json``: the summary (``format: taco-eval``): mean bpp and metrics, the LPIPS convention
  (``lpips_input``: ``standard`` or ``official``), FID / CMMD over the set (which, how, with which
  network), model id, checkpoint SHA-256 and fingerprint, dataset and caption source, software
  versions, device.
* ``MODEL.caption-MODE.*`` for the other caption modes, ``MODEL.caption-modes.json`` for the
  paired comparison (MODEL: the model id and fingerprint, then ``.qN`` for a variable-rate model) against the true captions (``--compare-caption-modes``).

Caption modes (paper Table 3; effl-lab/TACO issue #2 doubts that the caption matters):
``true`` (the first caption of each image), ``shuffled`` (another image's caption, of another
text wherever the captions allow: a seeded derangement), ``empty`` (""), ``fixed:TEXT`` (the same string for every image), ``best-lpips``
(code the image with each of its captions and keep the file with the lowest LPIPS: the choice
effl-lab/TACO's ``generate_images_mscoco30k.py`` means to make, see docs/official.md).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..atomic import DISK_FULL_ERRNOS, write_text_atomic
from ..checks import seed_argument
from ..checksums import sha256_file
from ..devices import device_kind, resolve_device
from ..distributed import DistEnv, dist_env_from_environ, leaving_process_group
from ..errors import TacoError, TacoWarning, warn_at_caller
from ..fileobjects import name_key, own_file_problem, same_folder
from ..jsonfiles import write_json
from ..locks import FolderLock
from ..messages import (
    count,
    did_you_mean,
    note,
    shown_path,
    some,
    to_stderr,
    unprintable,
    utf8_text,
)
from ..metrics import check_lpips_input
from ..progress import clock, draws_bar
from ..resolve import weights_note
from ..text.base import normalize_caption
from ..version import __version__
from .datasets import EvalDataset, captions_file_is_path, open_dataset
from .defaults import (
    FID_MODES,
    PLOT_STEM,
    caption_mode_problem,
    config_problem,
    is_results_json,
    nothing_to_evaluate,
)
from .measure import (
    FID_MIN_IMAGES,
    IMAGE_COLUMNS,
    IMAGE_METRICS,
    SetMetrics,
    image_sizes,
    pair_metrics,
)
from .quality_names import (
    CodecNameError,
    QualitiesError,
    check_classic_names,
    check_classic_qualities,
    check_quality_names,
    model_qualities,
    quality_key,
)
from .result_files import TEXT_COLUMNS, read_result, result_rows
from .results import ORIGINALS_FEATURES, code_run, dataset_dir
from .runner import (
    Job,
    JobResult,
    LinkedOwnFile,
    ResultsFileError,
    UnreadableResultsCSV,
    join_process_group,
    refuse_linked,
    resume_advice,
    shard_name,
)
from .stats import derangement, min_pairs, paired_bootstrap, resamples_argument

if TYPE_CHECKING:
    from ..models import ELIC

__all__ = [
    "CaptionMode",
    "CodingCaptions",
    "EvalConfig",
    "EvaluationError",
    "EvaluationStopped",
    "ModelInfo",
    "OWN_NAMES",
    "compare_caption_modes",
    "draw_captions",
    "evaluate_model",
    "format_comparison",
    "load_model",
    "refuse_linked_outputs",
    "run_evaluation",
    "without_oversized",
]

MODEL_COLUMNS = ("index", "image", "setting", "caption", "height", "width", "bytes", "bpp",
                 *IMAGE_COLUMNS, "sha256")


class EvaluationError(TacoError, ValueError):
    """A user error in an evaluation request (unknown model, caption mode, resume mismatch)."""


class EvaluationStopped(TacoError, RuntimeError):
    """An evaluation stopped by a full disk or quota (ENOSPC, EDQUOT) after it had written some
    of its results JSONs: ``written``, the files written (as :func:`run_evaluation` returns them); the
    line says which, what was not written (the RD figure, the runs left) and to run it again to
    finish (what is written is read, not coded again). ``errno`` is the OSError's, its
    ``__cause__``. ``taco evaluate`` prints what was written, then the line, exit status 3."""

    def __init__(self, message: str, written: Sequence[Path] = (), errno: int | None = None) -> None:
        super().__init__(message)
        self.written = list(written)
        self.errno = errno

    def __reduce__(self) -> tuple[Any, ...]:  # a worker's error pickled to its parent, whole
        return type(self), (str(self), self.written, self.errno)


# --------------------------------------------------------------------------- caption modes


@dataclass(frozen=True)
class CaptionMode:
    """Which caption the encoder sees: ``true``, ``shuffled``, ``empty``, ``fixed:TEXT`` or
    ``best-lpips`` (each of the image's captions in turn, keeping the lowest-LPIPS file)."""

    kind: str
    text: str = ""

    @classmethod
    def parse(cls, spec: str) -> CaptionMode:
        """The caption mode ``spec`` names; an :class:`EvaluationError` for one that is none or a
        ``fixed:TEXT`` whose text is not printable text on one line
        (:func:`~taco.evaluation.defaults.caption_mode_problem`, which ``taco evaluate`` asks
        before torch loads)."""
        if problem := caption_mode_problem(spec):
            raise EvaluationError(problem)
        kind, sep, text = spec.partition(":")
        return cls("fixed", text) if kind == "fixed" and sep else cls(spec)

    def __str__(self) -> str:
        return f"fixed:{self.text}" if self.kind == "fixed" else self.kind

    @property
    def slug(self) -> str:
        if self.kind != "fixed":
            return self.kind
        text = re.sub(r"[^A-Za-z0-9]+", "-", self.text).strip("-")[:24]
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:6]
        return f"fixed-{text}-{digest}" if text else f"fixed-{digest}"

    def captions(self, true_captions: Sequence[str], seed: int = 0) -> list[str]:
        """The caption each image is coded with under this mode (``best-lpips``: the first of
        the captions it tries)."""
        n = len(true_captions)
        if self.kind in ("true", "best-lpips"):
            return list(true_captions)
        if self.kind == "empty":
            return [""] * n
        if self.kind == "fixed":
            return [self.text] * n
        perm, kept = _derange_texts(true_captions, seed)  # image i borrows image perm[i]'s caption
        if kept:  # one text is over half of the captions
            text, m = Counter(map(_text_read, true_captions)).most_common(1)[0]
            shown = text if len(text) <= 40 else text[:37] + "..."
            warn_at_caller(f"caption mode shuffled: {kept} of the {count(n, 'image')} keep a caption "
                           f"of their own text: {shown!r} is {m} of the {n} captions, more than half, "
                           "so no shuffle gives every image another", TacoWarning)
        return [true_captions[j] for j in perm]

    def describe(self, seed: int) -> str:
        return {
            "true": "the image's own (first) caption",
            "shuffled": f"another image's caption, of another text wherever the captions allow "
            f"(seeded derangement, seed {seed})",
            "empty": "the empty caption ''",
            "fixed": f"the same caption for every image: {self.text!r}",
            "best-lpips": "each of the image's captions in turn, keeping the file with the lowest "
            "LPIPS (an encoder-side choice that looks at the original; as effl-lab/TACO's "
            "generate_images_mscoco30k.py intends)",
        }[self.kind]


def _text_read(caption: str) -> str:
    """A caption as taco's text encoders read it: whitespace collapsed
    (:func:`taco.text.base.normalize_caption`), case folded (MiniLM and CLIP are uncased), so
    that 'A dog' and 'a  dog' are one text."""
    return normalize_caption(caption).lower()


def _derange_texts(texts: Sequence[str], seed: int = 0) -> tuple[np.ndarray, int]:
    """A seeded permutation ``p`` of the images, ``p[i] != i``, under which every image gets a
    text other than its own (``texts[p[i]] != texts[i]`` as the encoder reads them,
    :func:`_text_read`) wherever that is possible; returns ``(p, kept)``, ``kept`` the images left with an
    identical text.

    A derangement of the images alone (:func:`taco.evaluation.stats.derangement`) gives an
    image of a repeated caption (``['a', 'b', 'a']``) its own text back whenever it draws its
    twin. Here each such image swaps targets with an image ``j`` for which the swap leaves both
    with another text; with ``m`` images of one text such a ``j`` exists while more than
    ``2m - n`` of them hold it, so only when a text is over half of the captions are
    ``2m - n`` images left with it, the fewest any permutation can. Distinct texts: the plain
    derangement, unchanged for a seed.
    """
    n = len(texts)
    perm = derangement(n, seed).copy()
    ids = np.unique([_text_read(t) for t in texts], return_inverse=True)[1].reshape(-1)
    rng = np.random.default_rng([seed, 1])  # the swaps' own stream: the derangement stays the plain one
    stuck: set[int] = set()  # texts no swap can help: swaps for other texts never change that
    for i in np.flatnonzero(ids[perm] == ids):
        t = int(ids[i])
        if t in stuck or ids[perm[i]] != t:  # helped by an earlier swap (as its j)
            continue
        free = np.flatnonzero((ids != t) & (ids[perm] != t))  # both keep another text after the swap
        if not free.size:
            stuck.add(t)
            continue
        j = free[rng.integers(free.size)]
        perm[i], perm[j] = perm[j], perm[i]
    return perm, int(np.sum(ids[perm] == ids))


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelInfo:
    """Where a model came from, for the summary JSON and the results' file names."""

    spec: str
    model_id: str
    trained: bool
    fingerprint: str
    checkpoint: str | None = None
    checkpoint_sha256: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: a checkpoint that a file or folder named as ``spec`` holds, which the name hides (the
    #: built-in name was evaluated; ``./NAME`` would be that checkpoint)
    shadowed: str | None = None

    @property
    def tag(self) -> str:
        """File-name stem: model id + fingerprint (distinct λ checkpoints never collide)."""
        return f"{re.sub(r'[^A-Za-z0-9._-]+', '-', self.model_id)}-{self.fingerprint[:8]}"

    @property
    def label(self) -> str:
        """Legend label: checkpoints of one model id (several λ) share it and form one curve."""
        return self.model_id if self.trained else f"{self.model_id} (untrained)"

    @property
    def note(self) -> str | None:
        """The note every ``--model`` command gives on these weights
        (:func:`taco.resolve.weights_note`: untrained, or a same-named checkpoint not used),
        saying that an untrained model's quality numbers are meaningless; None when nothing."""
        return weights_note(self.spec, trained=self.trained, shadowed=self.shadowed,
                            untrained_means="its quality numbers are meaningless")

    @property
    def weights(self) -> str:
        if self.checkpoint:
            return f"checkpoint {self.checkpoint}"
        return "trained (built-in)" if self.trained else "random seed-0 initialisation (UNTRAINED)"



def load_model(
    spec: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[ELIC, ModelInfo]:
    """``--model`` value -> (model in eval mode on ``device``, :class:`ModelInfo`).

    The model comes from :func:`taco.resolve.resolve_model`, as for every command: a checkpoint
    file (a str or a path) or a built-in trained name (``taco-minilm-small-q4``, see
    :func:`taco.list_models`) loads weights; a bare architecture name (``taco-minilm``,
    ``elic-tiny``, ...) builds its seed-0 random model, marked untrained.
    """
    from taco.models import model_fingerprint
    from taco.resolve import resolve_model

    resolved = resolve_model(spec, device=device)  # a pathlib.Path is a path, a str may be a name
    spec = os.fspath(spec)
    model = resolved.model
    checkpoint = resolved.checkpoint
    info = ModelInfo(
        spec=spec,
        model_id=str(model.model_id),
        trained=resolved.trained,
        fingerprint=model_fingerprint(model).hex(),
        checkpoint=str(checkpoint) if checkpoint else None,
        checkpoint_sha256=sha256_file(checkpoint) if checkpoint else None,
        config=model.config.to_dict(),
        metadata=dict(getattr(model, "metadata", {}) or {}),
        shadowed=str(resolved.shadowed) if resolved.shadowed else None,
    )
    return model, info


def check_one_curve_per_label(loaded: Sequence[tuple[Any, ModelInfo]], labels: Sequence[str | None]) -> None:
    """EvaluationError when models sharing a legend label (one RD curve) are not one λ sweep:
    two of them at the same or an unknown λ (two runs of one architecture, whose checkpoints
    name it alike), or a variable-rate one among them (a curve of its own)."""
    groups: dict[str, list[ModelInfo]] = {}
    for (_, info), label in zip(loaded, labels, strict=True):
        groups.setdefault(label or info.label, []).append(info)
    for label, infos in groups.items():
        if len(infos) < 2:
            continue
        lambdas = [info.metadata.get("lambda") for info in infos]
        if (len({i.fingerprint for i in infos}) < len(infos) or None in lambdas
                or len(set(lambdas)) < len(lambdas)):
            specs = ", ".join(i.spec for i in infos)
            raise EvaluationError(
                f"{specs} would be one RD curve labelled {label!r}, but they are not one λ sweep "
                f"(λ: {', '.join('?' if v is None else f'{v:g}' for v in lambdas)}): give each its "
                "own --label (once per --model)")


# --------------------------------------------------------------------------- one model run


def evaluate_model(
    model: ELIC,
    info: ModelInfo,
    dataset: EvalDataset,
    out_dir: str | os.PathLike[str],
    *,
    mode: CaptionMode | str = "true",
    sets: SetMetrics | None = None,
    captioner: Any = None,
    seed: int = 0,
    dist: DistEnv | None = None,
    progress: bool = True,
    label: str | None = None,
    lpips_input: str = "standard",
    quality: int | None = None,
    captions: CodingCaptions | None = None,
) -> Path:
    """Code every image of ``dataset`` with ``model`` and write ``out_dir/TAG[.qK][.caption-MODE].{csv,json}``.

    Resumes: images already in the CSV are not coded again. Returns the JSON path (written by
    rank 0 only under torchrun). A results file it may not write, or a features folder
    (``STEM.features``, the shared ``originals.features``) while images are left to code, is an
    OSError naming it before any file is written
    (:func:`~taco.evaluation.results.check_run_writable`).
    ``lpips_input``: the LPIPS convention (``standard`` or ``official``, see
    :func:`taco.metrics.lpips`), recorded in every row and in the JSON.
    ``quality``: the quality K of a variable-rate model to code at (one RD point; setting
    ``qK``; checked first, as :func:`taco.compress` does: a TypeError or TacoValueError before
    any file, also for a single-rate model given one), None for a single-rate model (None for a
    variable-rate one is an :class:`EvaluationError`: it has no default here, unlike
    :func:`taco.compress`). ``captions``: what :func:`draw_captions` drew and
    checked for this model, ``dataset``, ``mode`` and ``seed`` (``taco evaluate`` does so once
    per caption mode, before any coding); None: drawn and checked here.

    ``info`` must describe ``model``'s weights as they are now: an :class:`EvaluationError`,
    before any file, when the model's fingerprint is not ``info.fingerprint`` (other weights
    loaded into it, a fine-tune since :func:`load_model`), whose results would be filed, resumed
    and recorded as the model ``info`` names.
    """
    from taco.codec import coding_quality, encode_text
    from taco.models import model_fingerprint

    out_dir = Path(out_dir)
    dist = dist or DistEnv()
    mode = CaptionMode.parse(mode) if isinstance(mode, str) else mode
    uses_text = bool(getattr(model, "uses_text", False))
    qualities = getattr(model, "qualities", None)
    if qualities is not None and quality is None:  # taco.compress would take the middle one
        raise EvaluationError(f"{info.model_id}: a variable-rate model is evaluated at one quality "
                              f"at a time: give quality= (1..{len(qualities)})")
    if quality is not None:  # a TypeError or TacoValueError as taco.compress gives, before any file
        quality = coding_quality(model, quality)  # a single-rate model's too: it takes none
    # info names the results (tag, resume, JSON): it must be these weights' (~1.5 ms, cached)
    held = model_fingerprint(model).hex()
    if held != info.fingerprint:
        raise EvaluationError(
            f"the model's weights (fingerprint {held}) are not those info describes "
            f"({info.model_id!r}, fingerprint {info.fingerprint}): they changed after load_model "
            "(load_state_dict, a fine-tune), and their results would be filed, resumed and "
            f"recorded as those of {info.spec!r}: make a new ModelInfo for them: save them with "
            "taco.save_checkpoint(model, PATH) and evaluate the model and info that "
            "taco.evaluation.load_model(PATH) returns")
    if captions is None:
        captions = draw_captions(model, info, dataset, mode, seed)
    elif captions.dataset is not dataset or (captions.mode, captions.seed, captions.uses_text) != (
            mode, seed, uses_text):
        raise ValueError("captions were drawn for another dataset, caption mode, seed or model: "
                         "give evaluate_model those draw_captions drew for its own")
    candidates = captions.candidates
    device = next(model.parameters()).device
    setting = f"q{quality}" if quality is not None else ""
    tag = info.tag + (f".{setting}" if setting else "")
    stem = tag + ("" if mode.kind == "true" else f".caption-{mode.slug}")
    label = label or info.label
    if mode.kind != "true":  # its own point in a figure, never joined to the model's RD curve
        label = f"{label} [caption {mode}]"
    return code_run(
        "learned", label, info.model_id, dataset, out_dir, stem,
        [Job(i, name, setting) for i, name in enumerate(dataset.names)],
        _coding_work(model, dataset, candidates, quality, uses_text=uses_text, sets=sets,
                     captioner=captioner, lpips_input=lpips_input),
        MODEL_COLUMNS + (TEXT_COLUMNS if captioner is not None else ()),
        coder={"model_fingerprint": info.fingerprint},
        # not its caption_source: a captions file's name as typed (its captions are in content)
        run_captions={"caption_mode": str(mode) if uses_text else "n/a",
                      "caption_seed": seed if mode.kind == "shuffled" else None},
        run_settings={
            **({"quality": quality} if quality is not None else {}),
            # a GPU's files, or another version's, can differ: a resume must code with the same
            "device": device_kind(device),
            "taco_version": __version__,
        },
        header_fields={
            "model": utf8_text({**asdict(info), "weights": info.weights, "tag": stem}),  # UTF-8 text: paths escaped
            **({"quality": quality, "lambda": qualities[quality - 1]} if qualities and quality else {}),
            "caption_mode": str(mode) if uses_text else "n/a (model takes no text)",
            "caption_mode_description": mode.describe(seed) if uses_text else None,
        },
        device=str(device), sets=sets, captioner=captioner, lpips_input=lpips_input, dist=dist,
        progress=progress,
        desc=f"{info.model_id}{' ' + setting if setting else ''} on {dataset.name}"
        + ("" if mode.kind == "true" else f" [{mode}]"),
        # load the text encoder before timing starts
        before_jobs=(lambda: encode_text(model, [""])) if uses_text else None,
    )


@dataclass(frozen=True)
class CodingCaptions:
    """The captions each image of ``dataset`` is coded with under ``mode`` and ``seed``, drawn
    and checked by :func:`draw_captions`: ``candidates[i]`` is image i's one caption, or with
    best-lpips each of its captions (the lowest-LPIPS file is kept)."""

    dataset: EvalDataset
    mode: CaptionMode
    seed: int
    uses_text: bool  # False: every candidate is "" (a model without text)
    candidates: list[tuple[str, ...]]


def draw_captions(
    model: Any, info: ModelInfo, dataset: EvalDataset, mode: CaptionMode | str = "true", seed: int = 0
) -> CodingCaptions:
    """The captions ``model`` codes each image of ``dataset`` with under ``mode``, every one
    checked (:func:`taco.text.base.normalize_caption`) so that a caption the encoder would refuse
    stops the run before any coding, its error naming the image whose caption it is;
    EvaluationError for a caption mode the model or dataset cannot take."""
    mode = CaptionMode.parse(mode) if isinstance(mode, str) else mode
    uses_text = bool(getattr(model, "uses_text", False))
    if uses_text and mode.kind in ("true", "best-lpips") and not dataset.captioned:
        raise EvaluationError(
            f"{dataset.root} has no captions: "
            f"{dataset.caption_source.removeprefix('none (').removesuffix(')')}; or evaluate "
            "with --caption-mode empty / fixed:TEXT"
        )
    if not uses_text and mode.kind != "true":
        raise EvaluationError(f"{info.model_id} takes no text: caption mode {mode} means nothing for it")
    if uses_text and mode.kind == "shuffled" and len(dataset.listing) < 2:
        raise EvaluationError(f"caption mode shuffled needs at least 2 captioned images (another "
                              f"image's caption for each): {dataset.root} has {len(dataset.listing)}")
    checked: set[str] = set()

    def check(captions: Iterable[str]) -> None:  # refused now, not mid-run; each text once
        for c in captions:
            if c in checked:
                continue
            checked.add(c)
            try:
                normalize_caption(c)
            except TacoError as exc:  # too long, a lone surrogate: the image whose caption it is named
                image = next((r.file for r in dataset.listing if c in r.captions), None)  # none: fixed:TEXT
                if image is not None:
                    exc.args = (f"{shown_path(dataset.images.root / image)}: {exc}",)
                raise

    firsts = [r.captions[0] for r in dataset.listing]
    if uses_text and mode.kind == "shuffled":
        check(firsts)  # the shuffle reads each one
    # drawn over the whole dataset, so a --limit run's shuffled captions are the full run's
    # (looked up by name: images smaller than a crop are in the listing, not in the dataset)
    drawn = dict(zip([r.file for r in dataset.listing], mode.captions(firsts, seed), strict=True))
    captions = [drawn[name] for name in dataset.names] if uses_text else [""] * len(dataset)
    chosen: list[tuple[str, ...]] = (dataset.all_captions if uses_text and mode.kind == "best-lpips"
                                     else [(c,) for c in captions])
    check(c for candidates in chosen for c in candidates)
    return CodingCaptions(dataset, mode, seed, uses_text, chosen)


def _coding_work(
    model: Any,
    dataset: EvalDataset,
    candidates: Sequence[tuple[str, ...]],
    quality: int | None,
    *,
    uses_text: bool,
    sets: SetMetrics | None,
    captioner: Any,
    lpips_input: str,
) -> Callable[[Job], JobResult]:
    """:func:`run_jobs`' work for :func:`evaluate_model`: code one image with each of its
    candidate captions, keep the lowest-LPIPS result and return its row and set features."""
    from taco.codec import compress_image, decompress_tensor

    device = next(model.parameters()).device
    recon_cache: dict[str, str] = {}

    def work(job: Job) -> JobResult:
        sample = dataset.images[job.index]
        if sample.name != job.image:  # unreadable: the dataset handed us the next image
            return JobResult(None)
        x = sample.image.unsqueeze(0)  # (1, 3, H, W) in [0, 1]
        tried = []
        encode_s = decode_s = 0.0
        for caption in candidates[job.index]:
            t0 = time.perf_counter()
            res = compress_image(x, caption, model, quality=quality)
            t1 = time.perf_counter()
            coded, _ = decompress_tensor(res.data, model)  # no caption: the decoder never sees text
            t2 = time.perf_counter()
            encode_s, decode_s = encode_s + t1 - t0, decode_s + t2 - t1
            tried.append((pair_metrics(x.to(device), coded.to(device), lpips_input), caption, res, coded))
        # one caption, or best-lpips: the lowest LPIPS (the earlier caption on a tie)
        scores, caption, res, x_hat = min(tried, key=lambda t: t[0]["lpips"])
        row: dict[str, object] = {
            "index": job.index,
            "caption": caption if uses_text else "",
            "height": res.height,
            "width": res.width,
            "bytes": len(res.data),
            "bpp": res.bpp,
            **scores,
            "sha256": hashlib.sha256(res.data).hexdigest(),
        }
        if captioner is not None:
            if job.image not in recon_cache:
                recon_cache[job.image] = captioner.caption_tensor(x)
            row["gen_caption_original"] = recon_cache[job.image]
            row["gen_caption_recon"] = captioner.caption_tensor(x_hat)
        feats = sets.features(x_hat) if sets is not None else {}
        return JobResult(row, feats, {"encode_ms": 1000 * encode_s, "decode_ms": 1000 * decode_s})

    return work


# --------------------------------------------------------------------------- caption modes


def compare_caption_modes(
    results: Mapping[str, str | os.PathLike[str]],
    *,
    reference: str = "true",
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    images: Collection[str] | None = None,
) -> dict[str, Any]:
    """Per-metric differences of every caption mode against ``reference``, paired over images.

    ``results`` maps a mode (``"shuffled"``, ...) to its summary JSON. For bpp, PSNR, MS-SSIM and
    LPIPS: mean of (mode − reference) over the images both runs coded, with a seeded percentile
    bootstrap CI (``resamples`` resamplings of the images). With fewer images than
    :func:`taco.evaluation.stats.min_pairs` (6 at 95 %) the CI is not computed (``low``/``high``
    NaN, null in the JSON; ``reason`` says why) and the difference is not ``significant``. Also
    reports how many images got byte-identical files, the most direct test of "the caption makes
    no difference". ``images``: only these images' rows (a ``--limit`` run's, when the CSVs
    also hold an earlier, longer run's); None: every row. ``seed`` and ``resamples`` are integers
    from 0 (NumPy's taken, recorded in the JSON as ints), another a TypeError or a
    :class:`~taco.errors.TacoValueError` before any CSV is read.
    """
    seed = seed_argument("compare_caption_modes: seed", seed, most=None)
    resamples = resamples_argument("compare_caption_modes: resamples", resamples)

    def rows(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
        return {r["image"]: r for r in result_rows(path) if images is None or r["image"] in images}

    if reference not in results:
        raise EvaluationError(f"the comparison needs the {reference!r} run")
    ref = rows(results[reference])
    out: dict[str, Any] = {
        "reference": reference,
        "bootstrap": {"resamples": resamples, "confidence": confidence, "seed": seed,
                      "method": "paired percentile bootstrap over images",
                      "min_images": min_pairs(confidence),
                      "note": "fewer images than min_images: no CI (low/high null, see reason) "
                              "and never significant, as even differences all of one sign are not "
                              "(sign test)"},
        "modes": {},
    }
    for mode, path in results.items():
        if mode == reference:
            continue
        other = rows(path)
        common = [name for name in ref if name in other]
        entry: dict[str, Any] = {
            "images": len(common),
            "identical_files": sum(ref[n]["sha256"] == other[n]["sha256"] for n in common),
        }
        for m in ("bpp", *IMAGE_METRICS):
            a = np.array([float(ref[n][m]) if ref[n][m] else math.nan for n in common])
            b = np.array([float(other[n][m]) if other[n][m] else math.nan for n in common])
            ci = paired_bootstrap(a, b, resamples=resamples, seed=seed, confidence=confidence)
            finite = a[np.isfinite(a)]
            entry[m] = {**ci.to_dict(), "reference_mean": float(finite.mean()) if len(finite) else None,
                        "significant": ci.excludes_zero()}
        out["modes"][mode] = entry
    return out


def format_comparison(comparison: dict[str, Any]) -> str:
    """The caption-mode comparison as a Markdown table (difference [CI] per metric).

    A title line names the model (its tag: model id, fingerprint, ``.qK``) and the dataset
    when ``comparison`` has them (as :func:`run_evaluation` writes it); a metric's column names
    its unit where it has one (``Δpsnr (dB)``; bpp is one). A difference without an interval
    (too few images, see :func:`compare_caption_modes`) reads ``mean [no CI]``, with the reason
    under the table. A mode's ``|`` (``fixed:a cat | a dog``) stays in its cell
    (:func:`~taco.evaluation.bdrate.markdown_cell`), and a control character in the title (a
    folder's name) or a mode is written as :func:`taco.messages.shown_path` writes it.
    """
    from .bdrate import markdown_cell, with_unit

    metrics = ("bpp", *IMAGE_METRICS)
    confidence = comparison["bootstrap"]["confidence"]
    model, dataset = comparison.get("model") or {}, comparison.get("dataset") or {}
    name = model.get("tag") or model.get("model_id")
    crop = dataset.get("crop")
    where = (f" on {dataset['name']}" + (f" ({crop} crop)" if crop and crop != "none" else "")
             if dataset.get("name") else "")
    title = [shown_path(f"# Caption modes of {name}{where}"), ""] if name else []  # a folder's name
    lines = [
        *title,
        f"Difference vs `{comparison['reference']}` captions: mean over images "
        f"[{100 * confidence:g}% bootstrap CI]; * = CI excludes 0.",
        "",
        "| mode | images | identical files | "
        + " | ".join(with_unit(f"Δ{m}", m) for m in metrics) + " |",
        "|---|---|---|" + "---|" * len(metrics),
    ]
    reasons: list[str] = []
    for mode, e in comparison["modes"].items():
        cells = []
        for m in metrics:
            d = e[m]
            if d["n"] == 0:
                cells.append("n/a")
            elif d.get("reason"):
                cells.append(f"{d['mean']:+.4g} [no CI]")
                reasons.append(d["reason"])
            else:
                star = "*" if d["significant"] else ""
                cells.append(f"{d['mean']:+.4g} [{d['low']:+.3g}, {d['high']:+.3g}]{star}")
        lines.append(f"| {markdown_cell(mode)} | {e['images']} | {e['identical_files']} | "
                     + " | ".join(cells) + " |")
    if reasons:
        lines += ["", "no CI, so never *:", *(f"- {r}" for r in dict.fromkeys(reasons))]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the whole request


@dataclass
class EvalConfig:
    """Everything ``taco evaluate`` does, as data (the CLI only fills this in).

    Two defaults differ from the CLI's, so that a library caller gets results that need nothing
    downloaded and are byte-identical on every machine: ``cmmd_clip=None`` (no CMMD; the CLI's
    ``--cmmd-clip`` default is ``DEFAULT_CMMD_CLIP``, a CLIP that may not be cached here) and
    ``device="cpu"`` (the CLI's ``--device`` default is ``auto``, a GPU when torch sees one).
    A list field given one item alone (``datasets="val"``, ``models="elic-tiny"``, a str or a
    path) is taken as a list of that one item.
    """

    datasets: list[str]
    models: list[str] = field(default_factory=list)
    output: str | os.PathLike[str] = Path("runs/eval")
    caption_modes: list[str] = field(default_factory=lambda: ["true"])
    compare_caption_modes: bool = False
    classic: list[str] = field(default_factory=list)
    #: classic codec name -> its quality sweep; a variable-rate model's --model value (or its
    #: model id) -> the qualities it codes at (default: all of them)
    qualities: dict[str, list[int]] = field(default_factory=dict)
    match_bpp: bool = False
    crop: int | None = None
    limit: int | None = None
    captions_file: str | None = None  # None: sidecar IMAGE.txt files, then captions.jsonl
    fid: str = "auto"
    fid_min_images: int = FID_MIN_IMAGES
    cmmd_clip: str | None = None
    text_similarity: str | None = None
    download: bool = False
    device: str = "cpu"  # or auto, cuda, cuda:N, mps (taco.devices.resolve_device)
    seed: int = 0
    bootstrap: int = 2000  # resamples: caption-mode CIs and the BD table's CIs over images
    label: str | None = None  # legend label of every model
    model_labels: list[str] = field(default_factory=list)  # or one per model, in models' order
    plot: bool = True
    reference: str = "auto"
    anchor: str | None = None
    progress: bool = True
    lpips_input: str = "standard"  # LPIPS convention: standard ([-1, 1]) | official ([0, 1])
    coco30k_protocol: str = "paper"  # paper | official (effl-lab/TACO's script), see datasets

    def __post_init__(self) -> None:
        # one dataset, model, ... given alone (a str or a path), not read letter by letter
        for name in ("datasets", "models", "caption_modes", "classic", "model_labels"):
            value = getattr(self, name)
            if isinstance(value, (str, os.PathLike)):
                setattr(self, name, [os.fspath(value)])
        # names in any case, as --classic and --model take them (JPEG, Taco-MiniLM), paths as
        # paths (~ expanded, case kept): one key each (quality_key)
        keyed: dict[str, list[int]] = {}
        for key, qs in self.qualities.items():
            if quality_key(key) in keyed:
                raise EvaluationError(f"qualities: {key!r} given twice (names are matched in any "
                                      "case): give each name once, with all its qualities")
            keyed[quality_key(key)] = qs
        self.qualities = keyed


def run_evaluation(cfg: EvalConfig) -> list[Path]:
    """Run a whole :class:`EvalConfig`; return the files written (JSONs, tables, figures). A
    results CSV it cannot read is a :class:`ResultsFileError` ending with its
    :func:`~taco.evaluation.runner.resume_advice`. A full disk or quota (ENOSPC, EDQUOT) once
    some results JSONs are written (the RD figure after complete results; a later model, codec
    or dataset) is an :class:`EvaluationStopped` naming them and what is not written (free some
    space and run again to finish: the results written are read, not coded again); before any,
    and any other OSError, the OSError as it is.

    Under torchrun the process group it joins is left when it returns (after a barrier) or
    fails (:func:`taco.distributed.leaving_process_group`); a group the caller had
    joined already stays."""
    dist = dist_env_from_environ()
    joined = join_process_group(dist)
    with leaving_process_group() if joined else nullcontext():
        return _evaluate_all(cfg, dist)


def _evaluate_all(cfg: EvalConfig, dist: DistEnv) -> list[Path]:
    """:func:`run_evaluation`'s work, within the process group."""
    device = str(resolve_device(cfg.device, dist))  # before any work: a GPU this machine lacks
    _check_config(cfg)
    done = _done_lines(cfg, dist)  # its clock starts here
    datasets = _open_datasets(cfg)
    modes = [CaptionMode.parse(m) for m in cfg.caption_modes]
    if cfg.compare_caption_modes and not any(m.kind == "true" for m in modes):
        modes.insert(0, CaptionMode("true"))
    codecs = _classic_codecs(cfg)
    if dist.is_main:  # before any model, captioner or image is loaded (the models' names: once loaded)
        for _, _, out_dir in datasets:
            refuse_linked_outputs(out_dir, _own_stems(cfg, codecs, [], modes))
    captioner = None
    if cfg.text_similarity:
        from .caption import Captioner

        captioner = Captioner(cfg.text_similarity, device=device, allow_download=cfg.download)
    models = _load_models(cfg, device, dist)
    _check_something_runs(models, modes, codecs)
    if dist.is_main and models:  # the models' results too, before any image is coded
        for _, _, out_dir in datasets:
            refuse_linked_outputs(out_dir, _own_stems(cfg, codecs, models, modes))

    written: list[Path] = []
    left = "the runs left"  # what a stop leaves unwritten (EvaluationStopped)
    try:
        for spec, dataset, out_dir in datasets:
            target = _open_target(cfg, spec, dataset, out_dir, device, captioner, dist)
            # one run at a time in a dataset's folder, or each would code every image again and
            # append its rows to the other's (rank 0 holds it for a torchrun job)
            held: AbstractContextManager[object] = (
                FolderLock(target.out_dir, "taco evaluate") if dist.is_main else nullcontext())
            with held:
                model_jsons: list[Path] = []  # the model results --match-bpp matches (_run_model)
                for model in models:  # each adds its files to written as they are done
                    _run_model(cfg, model, modes, target, model_jsons, written, done)
                _run_classic(cfg, codecs, target, model_jsons, written, done)
                if cfg.plot and dist.is_main:
                    left = f"the RD figure and BD-rate table ({PLOT_STEM}.png, ...) in {target.out_dir}"
                    written += _plot(cfg, target.out_dir, codecs)
                left = "the runs left"
    except UnreadableResultsCSV as exc:  # a CSV under --output, which this run resumes
        advice = ("delete that CSV and its JSON, or choose another --output" if exc.path is None
                  else resume_advice(exc.path))
        raise ResultsFileError(f"{exc}; {advice}") from None
    except OSError as exc:  # a full disk after some results were written: done in part
        results = [p for p in written if is_results_json(p)]
        if not results or not dist.is_main or exc.errno not in DISK_FULL_ERRNOS:
            raise  # any other error (a permission, a file in a folder's place): a rerun would meet it again
        raise EvaluationStopped(_stopped_line(exc, results, Path(cfg.output), left), written, exc.errno) from exc
    return written


def _stopped_line(exc: OSError, results: Sequence[Path], output: Path, left: str) -> str:
    """:class:`EvaluationStopped`'s line: the error, the results JSONs written (named under
    the output folder ``output``: ``DATASET/jpeg.json``), what is not."""
    reason = exc.strerror or str(exc)
    reason = reason[:1].lower() + reason[1:]  # as taco.cli says an OSError: FILE: reason
    if isinstance(exc, TacoError):
        error = str(exc)
    else:
        error = reason if exc.filename is None else f"{exc.filename}: {reason}"
    names = [p.relative_to(output).as_posix() if p.is_relative_to(output) else str(p) for p in results]
    return (f"stopped after writing {count(len(results), 'result file')} ({some(names, 3)}): "
            f"{error}; not written: {left}: free some space "
            "and run the same command again to finish (the results written are read, not coded again)")


def _check_config(cfg: EvalConfig) -> None:
    """EvaluationError for a configuration that cannot run or would ignore a setting, before
    anything is loaded (the rules of :func:`~taco.evaluation.defaults.config_problem`, which
    ``taco evaluate`` says before torch loads, too)."""
    if cfg.label is not None and cfg.model_labels:
        raise EvaluationError("label (every model) and model_labels (one per model) both given: "
                              "give one or the other")
    problem = config_problem(models=cfg.models, classic=cfg.classic,
                             labels=[cfg.label] if cfg.label is not None else cfg.model_labels,
                             match_bpp=cfg.match_bpp, plot=cfg.plot, anchor=cfg.anchor,
                             caption_modes=cfg.caption_modes, datasets=cfg.datasets,
                             coco30k_protocol=cfg.coco30k_protocol)
    if problem:
        raise EvaluationError(problem)
    if not cfg.models and not cfg.classic:
        raise EvaluationError(nothing_to_evaluate())
    if not cfg.datasets:
        raise EvaluationError("nothing to evaluate: give at least one dataset")
    if cfg.fid not in FID_MODES:
        raise EvaluationError(f"fid must be {', '.join(FID_MODES[:-1])} or {FID_MODES[-1]}, got "
                              f"{cfg.fid!r}{did_you_mean(str(cfg.fid), FID_MODES)}")
    try:
        check_lpips_input(cfg.lpips_input)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    from .plot import reference_kinds

    reference_kinds(cfg.reference)  # not after the whole run, when the figure is drawn
    from .classic import CODEC_LABELS

    codec_labels = {label.lower(): name for name, label in CODEC_LABELS.items()}
    for label in filter(None, (cfg.label, *cfg.model_labels)):
        if bad := unprintable(label):  # the results' label, printed in summary lines and tables
            raise EvaluationError(f"--label {label!r} has {bad}: give printable text on one line")
        if label.lower() in codec_labels:  # one curve, one legend entry, one BD row: the codec's
            raise EvaluationError(f"--label {label}: the classic codec {codec_labels[label.lower()]}'s "
                                  "label; give the model a label of its own")
    if cfg.captions_file and captions_file_is_path(cfg.captions_file) and len(cfg.datasets) > 1:
        raise EvaluationError(
            f"--captions {cfg.captions_file} is a path, which would caption every dataset "
            "alike: evaluate one dataset per call, or give a file name inside each folder"
        )


#: What taco evaluate writes in a dataset's output folder by names of its own besides each
#: run's results (``STEM.csv``, its rank shards ``STEM.rankR.csv``, ``STEM.json``,
#: ``STEM.features``): the RD figure and BD-rate table and the original images' features.
OWN_NAMES = (*(f"{PLOT_STEM}{s}" for s in (".png", ".svg", ".bdrate.md", ".bdrate.json")), ORIGINALS_FEATURES)
#: A caption-mode comparison's files, ``TAG[.qK].caption-modes.{md,json}`` (TAG: a model's id
#: and fingerprint): taco's names whatever model this run codes.
_CAPTION_MODES = re.compile(r"[A-Za-z0-9._-]+\.caption-modes\.(md|json)")


def _own_stems(cfg: EvalConfig, codecs: Sequence[Any], models: Sequence[_ModelRun],
               modes: Sequence[CaptionMode]) -> list[str]:
    """The stems of the results files this run writes in a dataset's folder, exactly: each classic
    codec's, each model's at each quality and caption mode it codes (``TAG[.qK][.caption-MODE]``;
    a model that takes no text codes in mode ``true`` only, as :func:`_run_model` does), and with
    ``--match-bpp`` each codec's matched to the one run of each model and quality that
    :func:`_run_model` hands it (``CODEC.matched-STEM``: the run in mode ``true``, else the first
    mode run; none for the other modes)."""
    stems = [str(codec.name) for codec in codecs]
    model_stems: list[str] = []
    matched_to: list[str] = []
    for m in models:
        uses_text = getattr(m.model, "uses_text", False)
        taken = [mode for mode in modes if uses_text or mode.kind == "true"]
        for quality in m.qualities:
            tag = m.info.tag + (f".q{quality}" if quality is not None else "")
            runs = {str(mode): tag + ("" if mode.kind == "true" else f".caption-{mode.slug}") for mode in taken}
            model_stems += runs.values()
            if runs:
                matched_to.append(runs.get("true", next(iter(runs.values()))))
    matched = [f"{codec.name}.matched-{stem}" for codec in codecs for stem in matched_to] if cfg.match_bpp else []
    return [*stems, *model_stems, *matched]


def refuse_linked_outputs(out_dir: Path, stems: Iterable[str] = ()) -> None:
    """Refuse, with :class:`~taco.evaluation.runner.LinkedOwnFile` naming it and its target, a
    dataset's output folder ``out_dir`` (``OUT/DATASET``, named by taco) that is a symbolic
    link, or a file or folder in it that this run writes by a name of its own and that is one
    (a ``.csv``, appended to, also a hard link): the results of ``stems`` (``STEM.csv``, its rank
    shards, ``STEM.json``, ``STEM.features``), :data:`OWN_NAMES` (``rd.png``, ``rd.svg``,
    ``rd.bdrate.md`` / ``.json``, ``originals.features``) and any caption-mode comparison
    (``TAG.caption-modes.md`` / ``.json``); names compared as the file system may
    (:func:`taco.fileobjects.name_key`). A results folder one downloads and resumes could hold
    ``rd.svg -> ~/.bashrc``, which the figure replaced, or be a link to another folder, whose
    files were replaced and whose BD table was deleted. Any other file there, a user's
    ``notes.md`` link among them, is left alone. Reads no file."""
    why = own_file_problem(out_dir, writer="taco evaluate writes a dataset's results in a folder of its own",
                           otherwise="give another --output")
    if why is not None:  # a symbolic link (a folder is no hard link)
        raise LinkedOwnFile(why)
    try:
        names = sorted(os.listdir(out_dir))
    except OSError:  # not made yet (or not a folder: said where it is made)
        return
    stems = list(stems)
    own = {name_key(n) for n in (*OWN_NAMES, *(f"{s}{x}" for s in stems for x in (".csv", ".json", ".features")))}
    csvs = [out_dir / f"{s}.csv" for s in stems]
    refuse_linked([out_dir / n for n in names if name_key(n) in own or _CAPTION_MODES.fullmatch(n)
                   or any(shard_name(c, n) for c in csvs)])


def _check_something_runs(models: Sequence[_ModelRun], modes: Sequence[CaptionMode],
                          codecs: Sequence[Any]) -> None:
    """EvaluationError, before any work, when no model has a caption mode it can take (a model
    that takes no text runs in mode ``true`` only) and no classic codec is available here."""
    with_true = any(mode.kind == "true" for mode in modes)
    if codecs or any(with_true or getattr(m.model, "uses_text", False) for m in models):
        return
    if not models:  # every --classic codec was skipped, each with its warning
        raise EvaluationError("nothing to evaluate: none of the --classic codecs is available here")
    names = ", ".join(dict.fromkeys(m.info.model_id for m in models))
    raise EvaluationError(
        f"nothing to evaluate: {names} take{'s' if len(models) == 1 else ''} no text, so caption "
        f"mode {', '.join(map(str, modes))} means nothing for {'it' if len(models) == 1 else 'them'}: "
        "leave --caption-mode at true (the default) for a model without text")


def _classic_codecs(cfg: EvalConfig) -> list[Any]:
    """The ``--classic`` codecs present here, each once whatever its case (one missing here is
    skipped with a warning); a name that is no codec, or a codec's ``qualities`` that are empty,
    repeat one or fall outside its range (a codec missing here too), is an EvaluationError."""
    from .classic import CodecUnavailable, get_codec

    codecs = []
    firsts: dict[str, str] = {}
    for name in cfg.classic:
        firsts.setdefault(name.lower(), name)  # jpeg,JPEG: one codec, coded once
    try:  # before any work, also for a codec missing here (taco evaluate checks both before torch)
        check_classic_names(firsts.values())  # a typo, not a codec missing here: nothing runs
        check_classic_qualities(cfg.qualities, firsts)
    except (CodecNameError, QualitiesError) as exc:
        raise EvaluationError(str(exc)) from None
    for name in firsts.values():
        try:
            codecs.append(get_codec(name))
        except CodecUnavailable as exc:
            warn_at_caller(f"skipping {name}: {exc}", TacoWarning)
    return codecs


@dataclass(frozen=True)
class _ModelRun:
    """A loaded ``--model``, its legend label (None: its own) and the qualities it codes at."""

    model: Any
    info: ModelInfo
    label: str | None
    qualities: list[int | None]


def _load_models(cfg: EvalConfig, device: str, dist: DistEnv) -> list[_ModelRun]:
    loaded = [load_model(spec, device) for spec in cfg.models]
    try:  # taco evaluate checks the same before torch loads, from the models' configs
        chosen = [model_qualities(model, info, cfg.qualities) for model, info in loaded]
        check_quality_names(cfg.qualities, {c.lower() for c in cfg.classic}, [info for _, info in loaded])
    except QualitiesError as exc:
        raise EvaluationError(str(exc)) from None
    # label or model_labels of one item: every model's (_check_config: one, or one per model)
    labels: list[str | None] = ([*cfg.model_labels] if len(cfg.model_labels) > 1
                                else [cfg.label or next(iter(cfg.model_labels), None)] * len(loaded))
    check_one_curve_per_label(loaded, labels)
    for _, info in loaded:
        if info.note and dist.is_main:  # as every --model command says it (command_model)
            note("evaluate", info.note)
    return [_ModelRun(model, info, label, qs)
            for (model, info), label, qs in zip(loaded, labels, chosen, strict=True)]


@dataclass(frozen=True)
class _Target:
    """One dataset of a run and what every evaluation on it shares."""

    dataset: EvalDataset
    out_dir: Path
    sets: SetMetrics
    captioner: Any
    dist: DistEnv


def without_oversized(dataset: EvalDataset) -> EvalDataset:
    """``dataset`` less the images a ``.taco`` file cannot hold (a side over
    :data:`taco.bitstream.MAX_SIDE`, 32,768 px, read from their headers), so that every codec
    skips them alike and the curves compare the same images; one
    :class:`taco.data.SkippedImageWarning` names them, as the dataset names the files it drops
    when it opens. One such image stopped the whole run, not naming it, before any other image
    was coded. A cropped dataset codes crop x crop pixels of each image and is returned as is."""
    from taco.bitstream import MAX_SIDE
    from taco.data import SkippedImageWarning
    from taco.images import upright_sizes

    images = dataset.images
    if dataset.crop is not None:
        return dataset
    over = {}
    for r in images.records:
        # the header alone, without the pixel cap (nothing is decoded), so that a 65535x65535
        # image is skipped here as a 1x1,000,000 one is; none: unreadable, met on load
        sizes = upright_sizes(images.root / r.file, None)
        if sizes and max(sizes[0]) > MAX_SIDE:
            over[r.file] = sizes[0]
    if not over:
        return dataset
    shown = ", ".join(f"{shown_path(f)}: {w}x{h}" for f, (w, h) in list(over.items())[:3])
    why = (f"{count(len(over), 'image')} over {MAX_SIDE:,} px a side, which a .taco file cannot hold "
           f"({shown}{', ...' if len(over) > 3 else ''})")
    kept = [r for r in images.records if r.file not in over]
    if not kept:
        raise EvaluationError(f"{shown_path(dataset.root)}: no image to evaluate: {why}")
    warn_at_caller(f"{shown_path(dataset.root)}: skipping {why}", SkippedImageWarning)
    return dataset.keeping(kept)  # its caption source loses the counts of the images left out


def _open_datasets(cfg: EvalConfig) -> list[tuple[str, EvalDataset, Path]]:
    """Each dataset spec of ``cfg``, its dataset and its output folder, before any model loads.

    Two datasets whose folders would be one (``A/photos`` and ``B/photos``: both ``OUT/photos``)
    are an EvaluationError here; found later, the second's resume was refused after the whole
    first dataset had run, and its results went unreported. An output folder that is the
    dataset's own (``taco evaluate photos -o .``: ``./photos``) is one too: its results, RD
    figure and BD table went among the photos, an image named ``rd.png`` replaced by the figure.
    The images too large for a ``.taco``
    file (:func:`without_oversized`, which reads each image's header) are left out after these
    refusals."""
    # keyed by name_key: OUT/Photos and OUT/photos are one folder on macOS and Windows, and so
    # are OUT/café with its é composed and decomposed on macOS (and one figure's file for taco
    # plot, which refuses them)
    seen: dict[str, tuple[str, EvalDataset, Path]] = {}  # output folder -> spec, dataset, folder
    for spec in cfg.datasets:
        dataset = open_dataset(spec, crop=cfg.crop, captions_file=cfg.captions_file,
                               coco30k_protocol=cfg.coco30k_protocol, limit=cfg.limit)
        out_dir = dataset_dir(Path(cfg.output), dataset, cfg.lpips_input)
        if any(same_folder(out_dir, root) for root in dict.fromkeys((dataset.root, dataset.images.root))):
            # its results, figure and table among the photos: an image named rd.png replaced
            raise EvaluationError(f"the output folder {shown_path(out_dir)} is the dataset's own folder "
                                  f"({spec}): give another --output")
        key = name_key(str(out_dir))
        if key in seen:
            first, other, _ = seen[key]
            if (other.kind, other.root.resolve()) == (dataset.kind, dataset.root.resolve()):
                raise EvaluationError(f"dataset {spec} is given twice (as {first} and {spec}): give it once")
            named = (f"both are named {dataset.name!r}" if other.name == dataset.name
                     else f"named {other.name!r} and {dataset.name!r}, one folder where names are case-blind")
            raise EvaluationError(
                f"datasets {first} and {spec} would share the output folder {shown_path(out_dir)} "
                f"({named}): evaluate them in separate calls, each with its "
                "own --output")
        seen[key] = (spec, dataset, out_dir)
    return [(spec, without_oversized(dataset), out_dir) for spec, dataset, out_dir in seen.values()]


def _open_target(cfg: EvalConfig, spec: str, dataset: EvalDataset, out_dir: Path, device: str,
                 captioner: Any, dist: DistEnv) -> _Target:
    # --fid auto decides on the whole set's size, --limit or not, so a limited run and the full
    # run after it share their FID; only whether it reaches fid_min_images matters, so at most
    # that many headers are read (not one per image of coco30k), and none for another --fid;
    # FID over patches reads them (without a crop) until they give the 2 patches it needs, and
    # is off, Inception unbuilt, when they give fewer (image_sizes)
    # (and at least 2: FID over whole images needs 2, so --fid-min-images 0 or 1 on one image is
    # off before Inception, as --fid full is)
    n_full = (dataset.full_size(at_most=max(cfg.fid_min_images, 2)) if cfg.fid == "auto" else len(dataset))
    sets = SetMetrics(n_images=n_full, fid=cfg.fid, fid_min_images=cfg.fid_min_images,
                      cmmd_clip=cfg.cmmd_clip, device=device, allow_download=cfg.download,
                      image_sizes=image_sizes(dataset), crop=dataset.crop)
    if dist.is_main and cfg.limit is None and (why_not_set := dataset.not_the_paper_set):
        note("evaluate", f"{spec}: {why_not_set}, so its results do not count as the paper's "
             f"{dataset.kind} set: taco plot draws no paper reference points beside them "
             f"(--reference {dataset.kind} draws them anyway)")
    if dist.is_main:
        for name, why in (("FID", sets.fid_reason), ("CMMD", sets.cmmd_reason)):
            if why:
                note("evaluate", f"{name} not computed: {why}")
    return _Target(dataset, out_dir, sets, captioner, dist)


def _run_model(
    cfg: EvalConfig, m: _ModelRun, modes: Sequence[CaptionMode], target: _Target, model_jsons: list[Path],
    written: list[Path], done: Callable[[Path], None],
) -> None:
    """Every quality and caption mode of one model on one dataset; the results --match-bpp
    matches are added to ``model_jsons``: those of caption mode ``true``, else (a run of one
    other mode) those of the first mode run. Each file written is added to ``written`` once it
    is (a run stopped by a full disk names those done), and said ``done`` (:func:`_done_lines`)."""
    dist = target.dist
    uses_text = getattr(m.model, "uses_text", False)
    # drawn and checked once per mode, before any coding: a mode the dataset cannot take, or a
    # caption the encoder would refuse, stops the run now
    captions = {str(mode): draw_captions(m.model, m.info, target.dataset, mode, cfg.seed)
                for mode in modes if uses_text or mode.kind == "true"}
    # a variable-rate model: each chosen quality one RD point, one curve (one label)
    for quality in m.qualities:
        runs: dict[str, Path] = {}
        for mode in modes:
            if str(mode) not in captions:  # a model without text codes in mode true only
                if dist.is_main and quality == m.qualities[0]:
                    note("evaluate", f"skipping caption mode {mode} for {m.info.model_id}: it "
                         "takes no text")
                continue
            path = evaluate_model(m.model, m.info, target.dataset, target.out_dir, mode=mode,
                                  sets=target.sets, captioner=target.captioner, seed=cfg.seed,
                                  dist=dist, progress=cfg.progress, label=m.label,
                                  lpips_input=cfg.lpips_input, quality=quality,
                                  captions=captions[str(mode)])
            runs[str(mode)] = path
            written.append(path)
            done(path)
        if runs:
            model_jsons.append(runs.get("true", next(iter(runs.values()))))
        if cfg.compare_caption_modes and len(runs) > 1 and dist.is_main:
            written += _write_caption_comparison(cfg, m.info, quality, runs, target)


def _write_caption_comparison(
    cfg: EvalConfig, info: ModelInfo, quality: int | None, runs: dict[str, Path], target: _Target
) -> list[Path]:
    """``TAG[.qK].caption-modes.{json,md}``: one model's caption modes compared; the table is
    printed too."""
    tag = info.tag + (f".q{quality}" if quality is not None else "")
    comparison = compare_caption_modes(runs, resamples=cfg.bootstrap, seed=cfg.seed,
                                       images=set(target.dataset.names))
    comparison.update(model=utf8_text(asdict(info) | {"tag": tag}), dataset=target.dataset.describe(),
                      **({"quality": quality} if quality is not None else {}))
    stem = f"{tag}.caption-modes"
    refuse_linked([target.out_dir / f"{stem}.json", target.out_dir / f"{stem}.md"])  # linked since the start
    written = [write_json(target.out_dir / f"{stem}.json", comparison)]
    table = format_comparison(comparison)
    written.append(write_text_atomic(target.out_dir / f"{stem}.md", table))
    to_stderr(f"\n{table}")  # its title names the model (and quality) and the dataset
    return written


def _run_classic(cfg: EvalConfig, codecs: Sequence[Any], target: _Target, model_jsons: Sequence[Path],
                 written: list[Path], done: Callable[[Path], None]) -> None:
    """Each classic codec's sweep on one dataset, and with ``match_bpp`` its points at each
    model's rates. Each file written is added to ``written`` once it is, and said ``done``."""
    from .classic import evaluate_codec, evaluate_matched

    common = dict(sets=target.sets, captioner=target.captioner, dist=target.dist,
                  progress=cfg.progress, lpips_input=cfg.lpips_input)
    for codec in codecs:
        written.append(evaluate_codec(codec, target.dataset, target.out_dir,
                                      qualities=cfg.qualities.get(codec.name), **common))
        done(written[-1])
        if cfg.match_bpp:
            for mj in model_jsons:
                written.append(evaluate_matched(codec, target.dataset, target.out_dir, mj, **common))
                done(written[-1])


def _done_lines(cfg: EvalConfig, dist: DistEnv) -> Callable[[Path], None]:
    """What says each run finished (a model's at a quality and caption mode, a classic codec's
    sweep, a matched run): where ``cfg.progress`` is on and stderr gets no progress bar
    (:func:`taco.progress.draws_bar`: a log, ``nohup``, slurm, ``> log 2>&1``, a ``TERM=dumb``
    terminal; not a terminal nor a Jupyter cell) and the summary only at the end, so a long
    evaluation looked hung, one plain line per point of the run's results on the main process: its label and setting, dataset, images, mean bpp and PSNR, and
    the time since the evaluation began (``taco evaluate: done: JPEG q30 on kodak (24 images):
    bpp 0.4123, psnr 27.1234; 1:05 elapsed``, as the counter's lines of
    :func:`taco.progress.progress_bar` count time). On a terminal, or with ``progress`` off,
    nothing: the bar shows it."""
    if not (cfg.progress and dist.is_main) or draws_bar():  # no stderr (None): to_stderr says nothing
        return lambda path: None
    started = time.monotonic()

    def say(path: Path) -> None:
        elapsed = clock(time.monotonic() - started)
        r = read_result(path)
        setting = (f" matched to {Path(str(r['matched_to'])).stem}" if r.get("matched_to")
                   else f" q{r['quality']}" if r.get("kind") == "learned" and r.get("quality") else "")
        for p in r.get("points", []):
            cells = ", ".join(f"{k} {p[k]:.4f}" for k in ("bpp", "psnr") if isinstance(p.get(k), float))
            which = setting or (f" {p['setting']}" if p.get("setting") else "")
            to_stderr("taco evaluate: done: " + shown_path(
                f"{r['label']}{which} on {r['dataset']['name']} ({count(p['images'], 'image')}): "
                f"{cells}; {elapsed} elapsed"))

    return say


def _plot(cfg: EvalConfig, out_dir: Path, codecs: Sequence[Any]) -> list[Path]:
    """The RD figure and BD table of every result in ``out_dir``, also from earlier invocations
    (other models, codecs). The table's anchor: ``--anchor``, else, by ``taco plot``'s rule
    (:func:`taco.evaluation.plot.default_anchor`: JPEG, WebP, AVIF, BPG, VTM, then a codec of
    one's own by label), the first of the ``--classic`` codecs this call ran (``--classic
    avif,jpeg`` anchors on JPEG, as ``taco plot`` of the folder then does), else the first
    classic codec with results in the folder; with none, an earlier call's BD table is removed
    (by :func:`~taco.evaluation.plot.plot_results`): it would no longer match the figure."""
    from .plot import Curve, default_anchor, plot_results

    anchor = cfg.anchor or default_anchor([Curve(str(c.label), "classic", str(c.name)) for c in codecs])
    try:
        # overwrite: the figure and table in its own output folder are taco's, from an earlier call
        written = plot_results([out_dir], out_dir / PLOT_STEM, reference=cfg.reference, anchor=anchor,
                               auto_anchor=True, bootstrap=cfg.bootstrap, seed=cfg.seed, overwrite=True,
                               out_folder=False, own_names=True)  # rd is the stem, even beside a folder named rd
    except ValueError as exc:  # an --anchor naming no curve, runs on other images: results kept
        raise EvaluationError(f"{exc} (this run's results are kept in {out_dir})") from None
    return written
