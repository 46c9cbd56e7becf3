"""Captioned image datasets for training and evaluation (paper §4.1, "Experimental Setup").

Every dataset yields :class:`Sample` ``(image (3, H, W) float32 in [0, 1], caption, name)``;
:func:`collate` turns a list of them into a :class:`Batch` with images (B, 3, H, W).

- :class:`CaptionedFolder`: a folder of images + ``captions.jsonl`` (``{"image": "name.png",
  "captions": ["...", ...]}`` per line) or sidecar ``IMAGE.txt`` files, e.g. ``shared/data/photos``.
- :class:`CocoCaptions`: MS-COCO 2014 (``captions_train2014.json``), the training set:
  82,783 images, all five (or more) captions kept, one drawn at random per sample.
- :func:`karpathy_split` + :class:`CaptionedImages`: the Karpathy split of COCO; its "restval"
  part of val2014 is the paper's "MS-COCO 30k" (30,504 images) evaluation set.

Transforms (PIL RGB → (3, H, W) tensor): :func:`train_transform` (random crop, optional flip),
:func:`center_crop_transform` (COCO evaluation), :func:`no_crop` (Kodak, CLIC).

Training-set rules of the paper's code (effl-lab/TACO ``datasets_MSCOCO.py``): a random 256²
crop of images at least 256 px on both sides, no flips. ``CaptionedImages(min_side=256)`` drops
the smaller images and the unreadable ones (their headers are read once, at construction) and
``train_transform(256, hflip=False)`` crops without flipping; ``hflip=True`` and ``min_side=None`` (small images
upscaled to cover the crop) are taco's earlier behaviour, kept as options.
:func:`count_usable` counts, by the same rule and up to a bound, the files such a dataset would
keep, reading no more headers than the bound needs.

Unreadable images are skipped, not fatal: ``__getitem__`` warns with a
:class:`SkippedImageWarning`, counts the image in ``skipped`` and returns the next readable one;
when none is left to return it raises :class:`UnreadableImagesError`. A read that failed for the
moment (too many open files, out of memory: :data:`TRANSIENT_ERRNOS`) is tried again, then
skipped for that draw only.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from taco.captions_file import (
    FOLDER_CAPTIONS,
    SIDECAR_SUFFIX,
    CaptionRecord,
    CocoCaptionsError,
    coco_caption_records,
    file_system_name,
    file_system_names,
    folder_captions,
    image_name_problem,
)
from taco.images import (
    MAX_PIXELS,
    ConversionNotes,
    ImageReadError,
    cap_refusal,
    image_to_tensor,
    load_image,
    open_image,
    to_rgb,
)
from taco.suffixes import (
    IMAGE_SUFFIXES,
    check_image_folder,
    folder_images,
    image_subfolders,
    subfolders_not_searched,
)

from .errors import TacoError, TacoValueError, TacoWarning, warn_at_caller
from .jsonfiles import read_json_object
from .locks import ForkSafeLock
from .messages import count, locale_hint_of, shown_path, utf8_name, utf8_names

__all__ = [
    "ANNOTATIONS_MAX_BYTES",
    "KARPATHY_SPLIT_SIZES",
    "AnnotationsFileError",
    "Batch",
    "CaptionedFolder",
    "CaptionedImages",
    "CenterCrop",
    "CocoCaptions",
    "EmptyDatasetError",
    "RandomCrop",
    "Sample",
    "SkippedImageWarning",
    "TRANSIENT_ERRNOS",
    "TRANSIENT_PAUSE_S",
    "TRANSIENT_TRIES",
    "ToTensor",
    "Transform",
    "UnreadableImagesError",
    "center_crop_transform",
    "check_image_folder",
    "collate",
    "count_usable",
    "excluded",
    "folder_images",
    "karpathy_split",
    "no_crop",
    "no_images_message",
    "read_reason",
    "train_transform",
    "training_words",
    "upscale_to_cover",
]

# Karpathy & Fei-Fei (2015) split of COCO 2014 (train2014 + val2014 = 123,287 images).
# "restval" (val2014 minus Karpathy's val and test) is TACO's "MS-COCO 30k".
KARPATHY_SPLIT_SIZES = {"train": 82_783, "val": 5_000, "test": 5_000, "restval": 30_504}

Transform = Callable[[Image.Image], Tensor]
"""PIL RGB image → (3, H, W) float32 tensor in [0, 1]."""


class SkippedImageWarning(TacoWarning):
    """A dataset skipped an image (unreadable file, listed without a file, without a caption)."""


class EmptyDatasetError(TacoError, ValueError):
    """A dataset has no image left to give: none there, or every one dropped (listed without a
    file, without captions, excluded, too small); the message says which, naming a few files.

    ``too_small``: how many were dropped as smaller than ``min_side``, and ``largest_small_side``
    the largest shorter side among them (0 if none), for a caller to suggest a crop that fits."""

    def __init__(self, message: str, too_small: int = 0, largest_small_side: int = 0) -> None:
        super().__init__(message)
        self.too_small = too_small
        self.largest_small_side = largest_small_side


def no_images_message(root: str | os.PathLike[str], why: str = "") -> str:
    """What an :class:`EmptyDatasetError` for folder ``root`` says: ``"no images to use under
    'ROOT': WHY"``, ``why`` by default that the folder holds no image files (naming the
    suffixes looked for) and, where subfolders of ``root`` hold images, that they were not
    searched (:func:`taco.suffixes.image_subfolders`, and how a captions file brings them in)."""
    suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
    if not why:
        left = subfolders_not_searched(image_subfolders(root), FOLDER_CAPTIONS)
        why = f"no image files there ({suffixes})" + (f"; left out {left}" if left else "")
    return f"no images to use under '{root}': {why}"


class AnnotationsFileError(TacoError, ValueError):
    """A COCO captions file (``captions_val2014.json``) or Karpathy split file
    (``dataset_coco.json``) that cannot be read: over :data:`ANNOTATIONS_MAX_BYTES`, not UTF-8,
    not JSON (or nested too deeply), or not of the expected structure; the message names the
    file and says why."""


#: The largest COCO captions or Karpathy split file read, in bytes (512 MiB); a larger one is
#: refused before it is read. The largest real one, ``dataset_coco.json``, has some 140 MB;
#: parsing JSON takes up to some 30 times its size (taco.shards.INDEX_MAX_BYTES).
ANNOTATIONS_MAX_BYTES = 2**29


def _read_annotations_json(path: Path, what: str) -> dict:
    """The JSON object in ``path``, read within :data:`ANNOTATIONS_MAX_BYTES`; an
    :class:`AnnotationsFileError` naming it as not a ``what`` and saying why otherwise."""
    try:
        return read_json_object(path, ANNOTATIONS_MAX_BYTES)
    except ValueError as exc:  # an OSError is raised as is
        raise AnnotationsFileError(f"{path}: not a {what} ({exc})") from None


class UnreadableImagesError(TacoError, RuntimeError):
    """A dataset found no readable image to return: every file it tried failed to load (all of
    them, or ``max_retries`` in a row); the message names the folder, how many files were tried
    and the first one's read error.

    Raised in a DataLoader worker, it comes back to the main process as ``type(error)(text)``,
    ``text`` being torch's report with the worker's traceback; the message is then the worker's
    own one line again, so the command line still says it in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(_worker_message(message, type(self)))

    @classmethod
    def none_readable(cls, root: str | os.PathLike[str], what: str, first: str) -> UnreadableImagesError:
        """The error for ``root``: ``what`` was tried (``all 4 files tried are unreadable``),
        ``first`` the first unreadable file and its read error."""
        return cls(f"no readable image found in '{root}': {what} (the first, {first}); replace or "
                   "remove the unreadable files, or use a folder of images")


def _worker_message(text: str, error: type[BaseException]) -> str:
    """``text``, or the message of the ``error`` a DataLoader worker raised when ``text`` is
    torch's report of it (``torch._utils.ExceptionWrapper.reraise``: "Caught NAME in DataLoader
    worker process N.\nOriginal Traceback ...", whose last line is ``module.NAME: message``)."""
    if not text.startswith(f"Caught {error.__name__} "):
        return text
    prefix = f"{error.__module__}.{error.__qualname__}: "
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return lines[-1].removeprefix(prefix) if lines else text


class Sample(NamedTuple):
    """One dataset item. image: (3, H, W) float32 in [0, 1]."""

    image: Tensor
    caption: str
    name: str


class Batch(NamedTuple):
    """What :func:`collate` returns. images: (B, 3, H, W) float32 in [0, 1]."""

    images: Tensor
    captions: list[str]
    names: list[str]


def collate(samples: Sequence[Sample]) -> Batch:
    """Stack images into (B, 3, H, W); keep captions and names as lists (for the text encoder)."""
    sizes = {tuple(s.image.shape) for s in samples}
    if len(sizes) > 1:
        raise TacoValueError(
            f"cannot batch images of different sizes {sorted(sizes)}: crop them "
            "(train_transform / center_crop_transform) or use batch_size=1"
        )
    return Batch(
        images=torch.stack([s.image for s in samples]),
        captions=[s.caption for s in samples],
        names=[s.name for s in samples],
    )


# --------------------------------------------------------------------------------- transforms
# Classes, not lambdas, so datasets pickle into DataLoader workers. Randomness comes from torch's
# global RNG, which DataLoader seeds per worker (and CaptionedImages(seed=...) forks per sample).


def upscale_to_cover(img: Image.Image, crop: int) -> Image.Image:
    """``img`` itself when both sides are at least ``crop``; else upscaled (bicubic, aspect
    kept) so its shorter side equals ``crop``. What every training crop starts from: the
    DataLoader's (:class:`RandomCrop`, :class:`CenterCrop`) and the device-resident data's
    (:mod:`taco.train.resident_data`)."""
    # Upscaling was chosen over reflect-padding, which would feed mirrored content to the model.
    w, h = img.size
    if min(w, h) >= crop:
        return img
    scale = crop / min(w, h)
    size = (max(crop, round(w * scale)), max(crop, round(h * scale)))
    return img.resize(size, Image.Resampling.BICUBIC)


class ToTensor:
    """PIL image → (3, H, W) float32 in [0, 1], full size (Kodak, CLIC)."""

    def __call__(self, img: Image.Image) -> Tensor:
        return image_to_tensor(img)[0]

    def __repr__(self) -> str:
        return "ToTensor()"


class RandomCrop:
    """Random ``crop``×``crop`` window (+ horizontal flip with probability ``hflip``) → tensor.

    Images with a side shorter than ``crop`` are first upscaled (bicubic, aspect ratio kept) so
    the short side equals ``crop``; nothing is ever padded and no size crashes.
    """

    def __init__(self, crop: int = 256, hflip: float = 0.5) -> None:
        if crop <= 0:
            raise TacoValueError(f"crop must be positive, got {crop}")
        if not 0.0 <= hflip <= 1.0:
            raise TacoValueError(f"hflip is a probability, got {hflip}")
        self.crop = crop
        self.hflip = hflip

    def __call__(self, img: Image.Image) -> Tensor:
        img = upscale_to_cover(img, self.crop)
        w, h = img.size
        left = int(torch.randint(w - self.crop + 1, ()).item())
        top = int(torch.randint(h - self.crop + 1, ()).item())
        img = img.crop((left, top, left + self.crop, top + self.crop))
        if self.hflip > 0 and torch.rand(()).item() < self.hflip:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return image_to_tensor(img)[0]

    def __repr__(self) -> str:
        return f"RandomCrop(crop={self.crop}, hflip={self.hflip})"


class CenterCrop:
    """Central ``crop``×``crop`` window → tensor (small images upscaled first, as RandomCrop)."""

    def __init__(self, crop: int = 256) -> None:
        if crop <= 0:
            raise TacoValueError(f"crop must be positive, got {crop}")
        self.crop = crop

    def __call__(self, img: Image.Image) -> Tensor:
        img = upscale_to_cover(img, self.crop)
        w, h = img.size
        left, top = (w - self.crop) // 2, (h - self.crop) // 2
        return image_to_tensor(img.crop((left, top, left + self.crop, top + self.crop)))[0]

    def __repr__(self) -> str:
        return f"CenterCrop(crop={self.crop})"


def train_transform(crop: int = 256, hflip: bool = False) -> Transform:
    """Training: random ``crop``² window (paper: 256); with ``hflip`` also a random horizontal
    flip (probability 0.5), which the paper's code does not do."""
    return RandomCrop(crop, hflip=0.5 if hflip else 0.0)


def center_crop_transform(crop: int = 256) -> Transform:
    """COCO 30k evaluation: central ``crop``² window (paper: 256)."""
    return CenterCrop(crop)


def no_crop() -> Transform:
    """Kodak / CLIC evaluation: the whole image (the codec pads to a multiple of 64 itself)."""
    return ToTensor()


# ----------------------------------------------------------------------------------- datasets


def _existing_files(root: Path, files: Iterable[str]) -> dict[str, str]:
    """Those of ``files`` (paths under ``root``) that are regular files, or links to one: not a
    folder, nor a pipe, whose read would wait for a writer for ever, nor a device; each with its
    path as the file system spells it, which opens it. A captions file's name and a file's are
    matched by their bytes read as UTF-8 (:func:`taco.messages.utf8_name`), the name as given
    first: ``café.png`` of a captions file is ``caf\\udcc3\\udca9.png`` under ``LC_ALL=C``, and
    under a Latin-1 locale either ``café.png`` (named in Latin-1) or ``cafÃ©.png`` (in UTF-8); its
    folder is the first of its spellings (:func:`taco.captions_file.file_system_names`) there."""
    # One directory listing per parent folder instead of one stat per image (COCO: 80k+ files);
    # is_file() takes the file's type from the listing (a link alone is followed, by a stat).
    listings: dict[Path, set[str]] = {}
    # folder -> utf8_name -> name: made at a folder's first name not listed as given (none in
    # the usual folder, whose 80k+ names would cost a utf8_name each)
    by_bytes: dict[Path, dict[str, str]] = {}
    found = {}
    for file in files:
        for spelling in file_system_names(file):
            parent = Path(spelling).parent
            if parent not in listings:
                try:
                    with os.scandir(root / parent) as entries:
                        listings[parent] = {e.name for e in entries if _is_file(e)}
                except OSError:
                    listings[parent] = set()
            names, name = listings[parent], Path(file).name
            if name in names:
                there: str | None = name
            else:
                if parent not in by_bytes:
                    by_bytes[parent] = utf8_names(sorted(names))
                there = by_bytes[parent].get(utf8_name(name))
            if there is not None:
                found[file] = file if there == name and spelling == file else (parent / there).as_posix()
                break
    return found


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a link whose target cannot be looked at
        return False


def _shorter_side(path: Path, max_pixels: int | None) -> int | ImageReadError:
    """The shorter side of the image at ``path``, from its header alone where Pillow reads it;
    else the file is loaded once (:func:`taco.images.load_image`: a HEIC photo opens after its
    plugin is registered there) for its size, or the :class:`ImageReadError` that says why not.
    A read that failed for the moment (:func:`_transient`: too many open files...) is made
    again, as ``CaptionedImages.__getitem__`` makes it (:func:`_read_again`), before the file is
    said to be unreadable."""

    def side() -> int:
        try:
            with open_image(path) as im:
                return min(im.size)
        except Exception:  # Pillow raises several types; load_image turns them into one reason
            pass
        return min(load_image(path, max_pixels=max_pixels).size)

    try:
        return _read_again(side)
    except ImageReadError as e:
        return e


def read_reason(error: ImageReadError) -> str:
    """Why a dataset's image was not read: ``error.reason``, or for an image over the pixel cap
    its size and the cap alone (:func:`taco.images.cap_refusal` with no way to lift it): the
    Python call that :func:`taco.images.load_image` names is none for ``taco train``'s,
    ``taco evaluate``'s and ``taco caption``'s users, who read these words (``--data-on-device``'s
    :class:`taco.train.resident_data.ResidentImages` and :mod:`taco.evaluation.caption` say it so
    too)."""
    if error.size is None or error.max_pixels is None:
        return error.reason
    return cap_refusal(*error.size, error.max_pixels, "")


#: The errnos of a read that failed for the moment, not for the file: too many open files in
#: the process (EMFILE: a DataLoader worker's moment of descriptor pressure) or the system
#: (ENFILE), a call to be made again (EAGAIN, EINTR), memory or buffers short (ENOMEM,
#: ENOBUFS). ``CaptionedImages.__getitem__`` reads such a file again rather than drop it.
TRANSIENT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.EINTR,
                              errno.ENOMEM, errno.ENOBUFS})
#: How many times ``CaptionedImages.__getitem__`` reads a file whose read failed for the moment,
#: the first read included, before it skips the file for that draw (and ``min_side``'s header
#: read at construction, before it drops the file as unreadable).
TRANSIENT_TRIES = 3
#: The pause after the first such failure, in seconds (twice it after the second...).
TRANSIENT_PAUSE_S = 0.05

_T = TypeVar("_T")


def _transient(error: ImageReadError) -> bool:
    """Whether ``error`` failed for the moment, not for its file: the error it was raised from
    (:func:`taco.images.load_image` chains it) is an ``OSError`` with one of
    :data:`TRANSIENT_ERRNOS`, or a ``MemoryError``."""
    seen: set[int] = set()
    cause = _cause(error)
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, MemoryError) or (isinstance(cause, OSError)
                                              and cause.errno in TRANSIENT_ERRNOS):
            return True
        cause = _cause(cause)
    return False


def _read_again(read: Callable[[], _T]) -> _T:
    """``read()``, made again where it raised an :class:`ImageReadError` that failed for the
    moment (:func:`_transient`), up to :data:`TRANSIENT_TRIES` times in all, after a pause that
    grows (:data:`TRANSIENT_PAUSE_S`, twice it...); the last such error, or any other, is raised."""
    for attempt in range(1, TRANSIENT_TRIES + 1):
        try:
            return read()
        except ImageReadError as e:
            if attempt == TRANSIENT_TRIES or not _transient(e):
                raise
        time.sleep(TRANSIENT_PAUSE_S * attempt)
    raise AssertionError("unreachable")  # the last attempt returned or raised


def _cause(error: BaseException) -> BaseException | None:
    """The error ``error`` was raised from or while handling, as its traceback shows it."""
    if error.__cause__ is not None or error.__suppress_context__:
        return error.__cause__
    return error.__context__


def _fits(side: int | ImageReadError, min_side: int) -> bool:
    """Whether an image of shorter side ``side`` (as :func:`_shorter_side` gives it) is kept
    under ``min_side``: readable and not smaller than ``min_side``."""
    return isinstance(side, int) and side >= min_side


def count_usable(
    root: str | os.PathLike[str],
    files: Iterable[str],
    min_side: int | None,
    at_most: int | None = None,
    *,
    max_pixels: int | None = MAX_PIXELS,
) -> int:
    """How many of ``files`` (paths under ``root``, duplicates counted each time) a
    :class:`CaptionedImages` with this ``min_side`` would keep: those that are regular files
    inside ``root`` and, with ``min_side``, are readable and at least ``min_side`` px on the
    shorter side.

    With ``at_most`` the count stops there: no header is read once ``at_most`` files have
    passed, so "are there at least N?" reads about N headers, not one per file.
    """
    if min_side is not None and min_side <= 0:
        raise TacoValueError(f"min_side must be positive, got {min_side}")
    if at_most is not None and at_most <= 0:
        return 0
    root = Path(root)
    files = list(files)
    present = _existing_files(root, [f for f in files if image_name_problem(f) is None])
    n = 0
    for file in files:
        if at_most is not None and n >= at_most:
            break
        if file in present and (min_side is None
                                or _fits(_shorter_side(root / present[file], max_pixels), min_side)):
            n += 1
    return n


#: What a conversion warning written for coding says (:func:`taco.images.to_rgb`: ``coded``,
#: ``it decodes as RGB``) and training's words for it (:func:`training_words`), in order.
_TRAINING_WORDS = (
    (re.compile(r"the image is coded, and decodes, as RGB"), "the image is read as RGB"),
    # "(it decodes as sRGB)", "(it decodes as sRGB; the alpha channel is dropped)"
    (re.compile(r" \(it decodes as [^;()]*(?:; ([^()]*))?\)"), lambda m: f"; {m[1]}" if m[1] else ""),
    (re.compile(r" \(decoded as [^()]*\)"), ""),  # "(decoded as 16-bit grey, 8 significant bits)"
    (re.compile(r"; it decodes as [^;]*"), ""),  # "; it decodes as RGB", "...as 8-bit grey (L)"
    (re.compile(r"\bthe image decodes\b"), "the image is read"),
    (re.compile(r"\bcodes\b"), "reads"),  # "(TACO codes RGB only)"
    (re.compile(r"\bcoded\b"), "read"),
)


def training_words(text: str) -> str:
    """A conversion warning of :func:`taco.images.to_rgb` (written for ``taco compress``: what is
    coded, what the file decodes as) in training's words, which neither codes nor decodes:
    ``g16.png: 16-bit grey samples are read with 8-bit precision``, ``pal.png: the palette is not
    kept: the image is read as RGB``; text it does not know is returned as it is."""
    for pattern, words in _TRAINING_WORDS:
        text = pattern.sub(words, text)  # type: ignore[arg-type]
    return text


def excluded(file: str, patterns: Sequence[str]) -> bool:
    """Whether the image ``file`` (a path inside a dataset's root) matches one of the shell-style
    ``patterns`` (:mod:`fnmatch`, case-sensitive), by its path or its name: what
    :class:`CaptionedImages`'s ``exclude`` drops."""
    name = Path(file).name
    return any(fnmatch.fnmatchcase(file, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _sample_seed(seed: int, epoch: int, index: int) -> int:
    state = np.random.SeedSequence([seed, epoch, index]).generate_state(1, np.uint64)
    return int(state[0]) >> 1  # torch.manual_seed takes a non-negative int64


#: Held while :meth:`CaptionedImages._say` tests and marks an image's notes as said.
_SAY_LOCK = ForkSafeLock()


def _partition(records: list[CaptionRecord], keep: Callable[[CaptionRecord], bool],
               ) -> tuple[list[CaptionRecord], list[str]]:
    """The records ``keep`` takes, in order, and the files of those it does not."""
    kept: list[CaptionRecord] = []
    dropped: list[str] = []
    for r in records:
        if keep(r):
            kept.append(r)
        else:
            dropped.append(r.file)
    return kept, dropped


class CaptionedImages(Dataset[Sample]):
    """Images under ``root`` with their captions, given as :class:`CaptionRecord` s.

    Each item is a :class:`Sample`; its caption is ``captions[caption_index]`` when
    ``caption_index`` is set (deterministic evaluation), otherwise one drawn at random.

    Randomness (caption draw and a random ``transform``) uses torch's global RNG, which
    ``DataLoader`` seeds per worker from its ``generator``/``torch.manual_seed``. With ``seed``
    set, each item's randomness is instead derived from ``(seed, epoch, index)``: the same for
    any ``num_workers``, and changed by :meth:`set_epoch`. A DataLoader worker sees a new
    :meth:`set_epoch` only when it is re-created (``persistent_workers=False``); with persistent
    workers, carry the epoch with each index instead: ``dataset[(epoch, index)]`` is
    ``dataset[index]`` drawn for ``epoch``, whatever this copy's :meth:`set_epoch` said (the
    sampler :class:`taco.train.distributed.EpochIndices` yields such pairs).

    Records whose file does not exist or is not a regular file (a folder, a pipe: its read would
    wait for ever), with no captions, or whose name leads outside ``root`` (an absolute path, a
    ``..`` part: :func:`taco.captions_file.image_name_problem`) are dropped at construction with
    one :class:`SkippedImageWarning` that names the first few files of each reason (counts in
    ``missing``, ``uncaptioned`` and ``outside``, the files in ``dropped``); with no record left,
    :class:`EmptyDatasetError` says why. A file that
    fails to load is skipped in ``__getitem__`` (``skipped`` += 1, next index; it is not
    retried later in the same process; warned about once for the dataset, also across
    DataLoader workers). A read that failed for the moment, not for the file (an ``OSError``
    with one of :data:`TRANSIENT_ERRNOS`, too many open files in a DataLoader worker, or a
    ``MemoryError``), is tried again up to :data:`TRANSIENT_TRIES` times in all, a short pause
    between; failing still, the file is skipped for this draw only (a warning each time, not
    counted in ``skipped``) and read again when next drawn. After ``max_retries`` unreadable files in one
    call, or when none is readable, :class:`UnreadableImagesError` (a ``RuntimeError``) is
    raised. ``skipped`` counts distinct
    files in *this* process: DataLoader workers keep their own counts. A file that is converted
    on load (:func:`taco.images.to_rgb`: a colour profile, an alpha channel...) is warned about
    once for the dataset, also across DataLoader workers.

    ``min_side``: drop, at construction, the records whose image is smaller than ``min_side``
    px on its shorter side (only the file header is read; counted in ``too_small``) or that
    cannot be read (a file whose header Pillow cannot read is loaded once to be sure; a read
    that failed for the moment is tried again, as on load; counted in
    ``unreadable``, the first one's read error said), both reported in the same single warning,
    so ``len(dataset)`` counts no file known to be unreadable and DataLoader workers do not warn
    about those again. None keeps every size (a cropping transform then upscales small images)
    and reads no header: unreadable files are then only met, and skipped, on load.

    ``exclude``: shell-style patterns (:mod:`fnmatch`, case-sensitive) matched against each
    record's file path and its name; matching records are dropped at construction (counted in
    ``excluded``, reported in the same warning), e.g. ``("lomiri-*",)`` keeps photos of a source
    that is held out for testing out of training.

    ``max_pixels`` is passed to :func:`taco.images.load_image`; an image over it is skipped as
    unreadable, its size and the cap said without load_image's Python way past the cap (words that
    ``taco train`` and ``taco evaluate`` show: :func:`taco.images.cap_refusal` with no lift).
    ``check_files=False`` skips the existence check at construction (the files are still
    checked, and skipped, on load).

    ``training``: a set of ``taco train`` (its training or validation set), which neither codes
    nor decodes its photos: the conversion warnings say what it reads (``16-bit grey samples are
    read with 8-bit precision``), not what coding would code and decode (:func:`training_words`).

    ``label``: what the dataset's warnings call it, ``LABEL 'ROOT'`` (``validation``: the
    validation set, told from a training set of the same folder); None: ``CLASS('ROOT')``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        records: Iterable[CaptionRecord],
        transform: Transform | None = None,
        *,
        caption_index: int | None = None,
        seed: int | None = None,
        max_retries: int = 16,
        max_pixels: int | None = MAX_PIXELS,
        check_files: bool = True,
        min_side: int | None = None,
        exclude: Sequence[str] = (),
        label: str | None = None,
        training: bool = False,
    ) -> None:
        self.root = Path(root)
        self.label = label
        self.training = training
        self.transform: Transform = transform if transform is not None else ToTensor()
        self.caption_index = caption_index
        self.seed = seed
        self.epoch = 0
        self.max_retries = max_retries
        self.max_pixels = max_pixels
        self.skipped = 0
        self._bad: dict[int, str] = {}  # index -> why it did not load, in this process

        records = list(records)
        self.exclude = tuple(exclude)
        # the files dropped at construction, by reason (the warning and the error name a few)
        self.dropped: dict[str, list[str]] = {}
        inside, self.dropped["outside"] = _partition(
            records, lambda r: image_name_problem(r.file) is None)
        included, self.dropped["excluded"] = _partition(
            inside, lambda r: not excluded(r.file, self.exclude))
        captioned, self.dropped["uncaptioned"] = _partition(included, lambda r: bool(r.captions))
        kept = captioned
        if check_files:
            present = _existing_files(self.root, (r.file for r in captioned))
            kept, self.dropped["missing"] = _partition(captioned, lambda r: r.file in present)
            # each as the file system spells it, which opens it (café.png under LC_ALL=C)
            kept = [r if present[r.file] == r.file else r._replace(file=present[r.file]) for r in kept]
        self.outside, self.excluded, self.uncaptioned, self.missing = (
            len(self.dropped.get(k, ())) for k in ("outside", "excluded", "uncaptioned", "missing"))
        self.min_side = min_side
        self.too_small = self.unreadable = 0
        self.read_error = ""  # the first unreadable file's, when min_side had headers read
        largest_small = 0
        if min_side is not None:
            if min_side <= 0:
                raise TacoValueError(f"min_side must be positive, got {min_side}")
            read = [(r, _shorter_side(self.root / r.file, max_pixels)) for r in kept]
            errors = [e for _, e in read if isinstance(e, ImageReadError)]
            self.dropped["unreadable"] = [r.file for r, e in read if isinstance(e, ImageReadError)]
            self.unreadable = len(errors)
            self.read_error = read_reason(errors[0]) if errors else ""
            sides = [(r, n) for r, n in read if isinstance(n, int)]
            self.dropped["too_small"] = [r.file for r, n in sides if not _fits(n, min_side)]
            largest_small = max((n for _, n in sides if not _fits(n, min_side)), default=0)
            big = [r for r, n in sides if _fits(n, min_side)]
            self.too_small, kept = len(sides) - len(big), big
        self.records: list[CaptionRecord] = kept
        if kept:  # with none left, the error below says it all
            self._warn_dropped()

        if caption_index is not None:
            short = [r.file for r in kept if caption_index >= len(r.captions)]
            if caption_index < 0 or short:
                raise TacoValueError(
                    f"caption_index={caption_index} is out of range for {count(len(short), 'image')}, "
                    f"e.g. {short[:3]}"
                )
        # the files whose conversion (to_rgb's warning) or unreadability was said, in shared
        # memory: DataLoader workers (also ones re-created each epoch) say each file's once for the run
        self._said = torch.zeros(len(kept), dtype=torch.bool).share_memory_()
        self._bad_said = torch.zeros(len(kept), dtype=torch.bool).share_memory_()
        if not kept:
            why = "; ".join(self._dropped_parts())
            if self.unreadable:
                why += "; replace or remove the unreadable files, or use a folder of images"
            raise EmptyDatasetError(no_images_message(self.root, why), self.too_small, largest_small)

    def _dropped_parts(self) -> list[str]:
        """What was dropped at construction, one phrase per reason, each naming its first files."""
        reasons = [
            ("outside", "named outside the folder or not plainly (an absolute path, a drive, a '..' "
                        "part, './' or '//')"),
            ("excluded", f"excluded by {list(self.exclude)}"),
            ("missing", "listed without an image file"),
            ("uncaptioned", "without captions"),
            ("too_small", f"under {self.min_side} px on the shorter side"),
            ("unreadable", "unreadable"),
        ]
        # names of UTF-8 bytes the locale cannot read (LC_ALL=C: lone surrogates; not a Latin-1
        # locale, which reads every byte, a UTF-8 locale reading Latin-1 names no better): said
        # after the last of those that matched no caption or no file, as what may be why
        unmatched = [k for k in ("missing", "uncaptioned") if self.dropped.get(k)]
        hint = locale_hint_of(file_system_name(f) for k in unmatched for f in self.dropped[k])
        parts = []
        for key, what in reasons:
            files = self.dropped.get(key, [])
            if files:
                # one spelling for every name: the file system's (caf\udcc3\udca9.png under LC_ALL=C)
                shown = ", ".join(map(file_system_name, files[:3])) + (", ..." if len(files) > 3 else "")
                why = f"; {files[0]}: {self.read_error}" if key == "unreadable" else ""
                if hint and key == unmatched[-1]:
                    why += f"; {hint}"
                parts.append(f"{len(files)} {what} ({shown}{why})")
        return parts

    def _warn_dropped(self) -> None:
        parts = self._dropped_parts()
        if parts:
            warn_at_caller(  # the caller's line (open_dataset, train, CaptionedImages(...))
                f"{self.named()}: skipping {' and '.join(parts)}",
                SkippedImageWarning,
            )

    def named(self) -> str:
        """The dataset as its warnings name it: ``LABEL 'ROOT'`` with a ``label``, else
        ``CLASS('ROOT')``."""
        return f"{self.label} '{self.root}'" if self.label else f"{type(self).__name__}('{self.root}')"

    def set_epoch(self, epoch: int) -> None:
        """Change the per-sample randomness when ``seed`` is set (like DistributedSampler)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int | tuple[int, int]) -> Sample:
        epoch, index = index if isinstance(index, tuple) else (self.epoch, index)
        n = len(self.records)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} images")
        index %= n
        failures = tried = 0
        first = ""  # the first unreadable file of this call and its read error
        for offset in range(n):
            i = (index + offset) % n
            record = self.records[i]
            tried += 1
            if i in self._bad:  # known unreadable in this process: skip without reloading
                first = first or f"{record.file}: {self._bad[i]}"
                continue
            try:  # its conversion warnings (load_image's, to_rgb's) are said by _say
                rgb, notes = self._load(record)
            except ImageReadError as e:
                reason = read_reason(e)
                first = first or f"{record.file}: {reason}"
                if _transient(e):  # the moment's, not the file's: read again when next drawn
                    warnings.warn(
                        f"skipping image {record.file} for now: {reason} (tried "
                        f"{TRANSIENT_TRIES} times; it is read again when next drawn)",
                        SkippedImageWarning,
                        stacklevel=2,
                    )
                else:
                    self._bad[i] = reason
                    self.skipped += 1
                    if self._first_time(self._bad_said, i):
                        warnings.warn(
                            f"skipping unreadable image {record.file}: {reason}",
                            SkippedImageWarning,
                            stacklevel=2,
                        )
                failures += 1
                if failures >= self.max_retries:
                    break
                continue
            self._say(i, notes)
            if self.seed is None:
                return self._sample(rgb, record)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_sample_seed(self.seed, epoch, i))
                return self._sample(rgb, record)
        what = (f"all {n} files tried are unreadable" if tried == n else
                f"{tried} unreadable in a row from index {index}, of {n} files")
        raise UnreadableImagesError.none_readable(self.root, what, first)

    def _load(self, record: CaptionRecord) -> tuple[Image.Image, list[tuple[str, type[Warning]]]]:
        """``record``'s image as RGB, and the conversion notes of its load
        (:class:`ConversionNotes`); a read that failed for the moment (:func:`_transient`) is
        tried again, up to :data:`TRANSIENT_TRIES` times in all, after a pause that grows
        (:func:`_read_again`)."""

        def read() -> tuple[Image.Image, list[tuple[str, type[Warning]]]]:
            with ConversionNotes() as notes:
                rgb, _ = to_rgb(load_image(self.root / record.file, max_pixels=self.max_pixels),
                                source=record.file)
            return rgb, notes

        return _read_again(read)

    def _say(self, index: int, notes: list[tuple[str, type[Warning]]]) -> None:
        """Warn the conversion ``notes`` of loading image ``index`` (:class:`ConversionNotes`)
        the first time the file is loaded in any process (``_said``, shared with DataLoader
        workers), at the caller's line, each naming the record's file as to_rgb's do (load_image's
        and Pillow's name the path read, under the root: ``/data/photos/anim.gif: it has 3
        frames`` beside ``anim.gif: the palette is not kept``)."""
        if notes and self._first_time(self._said, index):
            file = self.records[index].file
            read_as, named_as = f"{shown_path(self.root / file)}: ", f"{shown_path(file)}: "
            for text, category in notes:
                name, said = "", text
                for prefix in (read_as, named_as):
                    if text.startswith(prefix):
                        name, said = named_as, text[len(prefix):]
                        break
                # training's words for what is said, not for the name (a photo named coded.png)
                warn_at_caller(name + (training_words(said) if self.training else said), category)

    @staticmethod
    def _first_time(said: torch.Tensor, index: int) -> bool:
        """Mark ``said[index]`` (shared with DataLoader workers); True if it was not yet marked.
        Threads of one process test and mark under one lock (two threads loading one file said
        it twice)."""
        with _SAY_LOCK:
            if said[index]:
                return False
            said[index] = True
            return True

    def _sample(self, rgb: Image.Image, record: CaptionRecord) -> Sample:
        if self.caption_index is not None:
            caption = record.captions[self.caption_index]
        else:
            caption = record.captions[int(torch.randint(len(record.captions), ()).item())]
        return Sample(self.transform(rgb), caption, record.file)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root='{self.root}', images={len(self)}, "
            f"transform={self.transform!r})"
        )


class CaptionedFolder(CaptionedImages):
    """The images in ``root`` with their captions, e.g. ``shared/data/photos/val``.

    Captions by :class:`taco.captions_file.CaptionLookup`'s rule (as ``taco compress`` and
    ``taco evaluate`` find them): ``captions_file`` alone when one is named (a file name inside
    ``root``, or a path; sidecars are not read then), else each image's sidecar ``IMAGE.txt``,
    else ``root/captions.jsonl``
    (``{"image": "name.png", "captions": ["...", ...]}`` per line, ``image`` relative to
    ``root``; repeated lines for one image merge their captions). Image files in ``root``
    (:func:`folder_images`: not ``taco decompress``'s ``NAME.decoded.png``) without a caption
    are counted in ``uncaptioned`` and skipped with the same single warning as images listed
    without a file. Without ``captions_needed`` (a model that reads no text), a folder without
    any caption (no such files at all) gives every image, with an empty caption. Subfolders are
    not searched (as by ``taco compress``): those holding images
    (:func:`taco.suffixes.image_subfolders`) are named in one :class:`SkippedImageWarning`, or in
    the :class:`EmptyDatasetError` when no image is left, with how to bring them in: a captions
    file naming ``sub/photo.jpg`` (its images are then read by that name). Keyword arguments as
    :class:`CaptionedImages`.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        captions_file: str | os.PathLike[str] | None = None,
        transform: Transform | None = None,
        *,
        captions_needed: bool = True,
        **kwargs,
    ) -> None:
        root = Path(root)
        where = "" if root.is_absolute() else f" (in {Path.cwd()})"
        check_image_folder(root)
        images = folder_images(root)
        named = None if captions_file is None else root / captions_file
        found = folder_captions(root, images, named) if named is None or named.is_file() else None
        if found is None or not found.has_source:
            if captions_needed:
                left = "" if named else subfolders_not_searched(image_subfolders(root), FOLDER_CAPTIONS)
                raise FileNotFoundError(
                    f"no captions file '{named}'{'' if named.is_absolute() else where}" if named
                    else f"no captions in '{root}'{where}: no {FOLDER_CAPTIONS}, no sidecar "
                    f"IMAGE{SIDECAR_SUFFIX} files" + (f"; left out {left}" if left else ""))
            # a text-free model (ELIC) on a folder of photos: every image, with an empty caption
            found = None
        records = found.records if found else [CaptionRecord(name, ("",)) for name in images]
        # subfolders are not searched (as by taco compress): said, with how to bring them in; a
        # subfolder a captions file names is named by its every spelling (Latin-1 or UTF-8 bytes)
        nested = [n for r in records if "/" in r.file for n in file_system_names(r.file)]
        left = subfolders_not_searched(image_subfolders(root, nested),
                                       FOLDER_CAPTIONS if named is None else named.name)
        try:
            super().__init__(root, records, transform, **kwargs)
        except EmptyDatasetError as e:
            if not left or left in str(e):
                raise
            raise EmptyDatasetError(f"{e}; left out {left}", e.too_small, e.largest_small_side) from None
        if left:
            warn_at_caller(f"{self.named()}: left out {left}", SkippedImageWarning)


def _read_coco_annotations(annotations_json: Path) -> list[CaptionRecord]:
    """The images of a COCO captions file with their captions, by COCO id; an
    :class:`AnnotationsFileError` for a file that is not one. Read by
    :func:`taco.captions_file.coco_caption_records` (``taco import-captions`` reads it there too):
    a training set keeps an image no annotation names (with no caption: it is skipped with
    the uncaptioned ones) and leaves out the annotations of ids no image has."""
    what = "COCO captions file (images[{id, file_name}], annotations[{image_id, caption}])"
    data = _read_annotations_json(annotations_json, what)
    try:
        images = coco_caption_records(data).images
    except CocoCaptionsError as e:
        raise AnnotationsFileError(f"{annotations_json}: not a {what}: {e}") from None
    return [CaptionRecord(images[i].file, tuple(c.strip() for c in images[i].captions if c.strip()))
            for i in sorted(images)]


class CocoCaptions(CaptionedImages):
    """MS-COCO captions: ``images_dir`` (e.g. ``train2014/``) + ``captions_train2014.json``.

    All captions of an image are kept (five for most, up to seven) and one is drawn at random
    per sample (paper §4.1: 82,783 training images × 5 captions). Images are ordered by COCO id.
    Keyword arguments as :class:`CaptionedImages`. An ``annotations_json`` that is not a COCO
    captions file (:func:`taco.captions_file.coco_caption_records`: an entry without its keys,
    an id that is no whole number, two images of one id) is an :class:`AnnotationsFileError`
    naming it.
    """

    def __init__(
        self,
        images_dir: str | os.PathLike[str],
        annotations_json: str | os.PathLike[str],
        transform: Transform | None = None,
        **kwargs,
    ) -> None:
        records = _read_coco_annotations(Path(annotations_json))
        super().__init__(images_dir, records, transform, **kwargs)


def karpathy_split(
    split_json: str | os.PathLike[str], split: str = "restval"
) -> list[CaptionRecord]:
    """Read one split of Karpathy's ``dataset_coco.json`` as :class:`CaptionRecord` s.

    ``file`` is ``"{filepath}/{filename}"`` (e.g. ``val2014/COCO_val2014_….jpg``), so use the
    COCO root (holding ``train2014/`` and ``val2014/``) as the dataset root; captions are the
    ``raw`` sentences. ``split="restval"`` is the paper's "MS-COCO 30k": 30,504 val2014 images
    (see :data:`KARPATHY_SPLIT_SIZES`)::

        CaptionedImages(coco_root, karpathy_split("dataset_coco.json"),
                        center_crop_transform(256), caption_index=0)

    A file that is not one (over :data:`ANNOTATIONS_MAX_BYTES`, not JSON, another structure)
    is an :class:`AnnotationsFileError` naming it.
    """
    if split not in KARPATHY_SPLIT_SIZES:
        raise TacoValueError(f"unknown split {split!r}; expected one of {sorted(KARPATHY_SPLIT_SIZES)}")
    what = "Karpathy split file (images[{filename, filepath, split, sentences[{raw}]}])"
    data = _read_annotations_json(Path(split_json), what)
    try:
        return [
            CaptionRecord(
                f"{_text(im['filepath'])}/{_text(im['filename'])}" if im.get("filepath")
                else _text(im["filename"]),
                tuple(_text(s["raw"]).strip() for s in im["sentences"] if _text(s["raw"]).strip()),
            )
            for im in data["images"]
            if im["split"] == split
        ]
    except (KeyError, TypeError, AttributeError) as e:
        raise AnnotationsFileError(f"{split_json}: not a {what}: {e!r:.200}") from None


def _text(value: object) -> str:
    """``value`` when it is a string (a file name, a caption), else a TypeError saying what it is."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r:.40}")
    return value


def __getattr__(name: str) -> object:
    """``IMAGE_EXTENSIONS``, this module's old name for :data:`taco.suffixes.IMAGE_SUFFIXES`,
    still answers, with a DeprecationWarning, for code written before the rename."""
    if name == "IMAGE_EXTENSIONS":
        warnings.warn("taco.data.IMAGE_EXTENSIONS is deprecated: use taco.suffixes.IMAGE_SUFFIXES",
                      DeprecationWarning, stacklevel=2)
        return IMAGE_SUFFIXES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
