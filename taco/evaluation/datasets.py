"""Evaluation datasets by name (paper §4.1), each with its crop rule and caption source.

A dataset is given on the command line as ``KIND:PATH`` or a plain folder path:

==============  ===========================================================================
``PATH``        a folder of images with sidecar ``IMAGE.txt`` files or ``captions.jsonl``
                (``{"image", "captions"}`` lines), e.g. ``../shared/data/photos/val``; not
                cropped. Without either the images have no caption (``taco caption PATH``
                writes ``captions.jsonl``).
``kodak:DIR``   Kodak (24 images, ``kodim01.png`` … ``kodim24.png``), not cropped; captions
                from ``DIR/captions.jsonl`` (machine-made: the paper used OFA; ``taco
                import-captions kodak_ofa.json -o DIR`` writes the authors' OFA captions).
``clic:DIR``    CLIC 2020 test (428 images), not cropped; captions as for Kodak (the authors'
                ``clic_ofa.json``).
``coco30k:ROOT``  MS-COCO 30k as the paper states it: Karpathy "restval" of val2014 (30,504
                images), centre crop 256×256; ``ROOT/dataset_coco.json`` + ``ROOT/val2014/``;
                first human caption. ``coco30k_protocol="official"``: as effl-lab/TACO's
                ``generate_images_mscoco30k.py`` instead (see :data:`COCO30K_PROTOCOLS`).
``coco40k:ROOT``  MS-COCO 40k: all of val2014 (40,504 images), not cropped;
                ``ROOT/val2014/`` + ``ROOT/annotations/captions_val2014.json``; first caption.
``samples``     the four public-domain photos shipped in ``taco/assets/samples``.
==============  ===========================================================================

With a crop, an image smaller than the crop on its shorter side is skipped (one
:class:`taco.data.SkippedImageWarning` counts and names them; none left is an
:class:`taco.data.EmptyDatasetError`), not upscaled to cover it as training does: an upscaled
image is smoother than any photo and codes to a higher PSNR.

The caption used as the "true" caption is always the first one listed for the image. A folder's
captions are found as ``taco compress`` and ``taco train`` find them
(:class:`taco.captions_file.CaptionLookup`): in ``captions_file`` alone when one is named (an
image it does not caption has none, and is skipped: sidecars and ``captions.jsonl`` are not read,
so a caption-source study never mixes in captions from elsewhere), else in each image's sidecar
``IMAGE.txt``, else in the folder's ``captions.jsonl``. ``captions_file`` is a
file name inside the folder or, when it has a folder part (``./ofa.jsonl``,
``/data/kodak-ofa.jsonl``), a path of its own; a named file must exist. A bare name found both
inside the folder and in the current one is read inside the folder, and a note says so (``taco
compress --captions NAME`` reads the one in the current folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taco.captions_file import (
    FOLDER_CAPTIONS,
    STDIN_NOT_READ,
    CaptionRecord,
    FolderCaptions,
    folder_captions,
    read_captions_file,
)
from taco.suffixes import (
    IMAGE_SUFFIXES,
    decoded_outputs,
    decoded_skipped,
    folder_images,
    image_subfolders,
    subfolders_not_searched,
)

from ..checks import as_int
from ..distributed import dist_env_from_environ
from ..errors import TacoError, warn_at_caller
from ..messages import (
    SHOWN_PATH_LIMIT,
    count,
    locale_hint,
    lone_surrogate,
    note,
    shell_word,
    shown_path,
)
from ..samples import SAMPLES_DIR
from .caption_plan import captions_file_is_path  # the rule taco caption -o writes by too
from .result_files import IMAGE_CONTENT_MARK, dataset_slug

if TYPE_CHECKING:  # taco.data imports torch: imported where a dataset is built (check_dataset needs none)
    from taco.data import CaptionedImages

__all__ = ["CLIC_TEST_IMAGES", "COCO30K_PROTOCOLS", "DATASET_KINDS", "IMAGE_CONTENT_MARK", "KODAK_IMAGES",
           "DatasetDigests", "EvalDataset", "captions_file_is_path", "check_dataset", "not_the_paper_set",
           "open_dataset"]

DATASET_KINDS = ("folder", "kodak", "clic", "coco30k", "coco40k", "samples")
#: Paper crop rule per kind: None = whole image (padded to 64 by the codec and cropped back).
PAPER_CROP: dict[str, int | None] = {"coco30k": 256}
#: How ``coco30k:ROOT`` is made. ``paper``: as the paper's §4.1 states it. ``official``: as
#: effl-lab/TACO's ``generate_images_mscoco30k.py`` does it: the 30,504 val2014 images of their
#: ``mscoco_30k_list.json``, whole (no crop, no resize), with the captions of their
#: ``mscoco_val41k_img_cap_pair.json``, both given as one captions file made by ``taco
#: import-captions`` (their script codes every caption; see docs/official.md).
COCO30K_PROTOCOLS = {
    "paper": "Karpathy restval of val2014, centre crop 256, first human caption (paper §4.1)",
    "official": "effl-lab/TACO generate_images_mscoco30k.py: the images of mscoco_30k_list.json "
    "from val2014, uncropped, captions of mscoco_val41k_img_cap_pair.json",
}


#: The Kodak set the paper (and every Kodak RD curve) is on: these 24 images, by name.
KODAK_IMAGES = tuple(f"kodim{i:02d}" for i in range(1, 25))
#: How many images CLIC 2020 test has (the authors' clic_ofa.json captions 428); taco knows no
#: list of their names, so a ``clic:DIR`` of this many counts as the set.
CLIC_TEST_IMAGES = 428


def not_the_paper_set(kind: str, names: Sequence[str]) -> str | None:
    """Why the images ``names`` (file names) of a ``kodak:DIR`` or ``clic:DIR`` are not the set
    the paper and its reference points are on (a folder of 2 of the 24 Kodak images), None when
    they are, or for another kind. Kodak: exactly ``kodim01`` ... ``kodim24`` (any image
    suffix); CLIC: :data:`CLIC_TEST_IMAGES` images."""
    if kind == "kodak" and sorted(Path(n).stem for n in names) != list(KODAK_IMAGES):
        return f"its {len(names):,} images are not exactly kodim01 ... kodim24, the Kodak set"
    if kind == "clic" and len(names) != CLIC_TEST_IMAGES:
        return f"it has {count(len(names), 'image')}, not the {CLIC_TEST_IMAGES} of CLIC 2020 test"
    return None


@dataclass(frozen=True)
class DatasetDigests:
    """:meth:`EvalDataset.digests`, taken in one pass over the dataset's files. ``content``
    (:attr:`EvalDataset.content`: :data:`IMAGE_CONTENT_MARK` and 16 hex digits of each image's
    name, byte size, modification time and captions) is the plain string a result's
    ``run.dataset.content`` records. The rest is what a result written by an earlier taco
    would have recorded of the same dataset, passed explicitly to
    :func:`taco.evaluation.results.check_resume`: :attr:`unmarked` (the same digest without the
    mark), ``names_sizes`` (the digest of names, byte sizes and captions alone, before the times
    were taken), and ``newest`` (the latest modification time of an image, in ns, and its file
    name; ``(-1, "")`` with none). ``oldest`` (the earliest modification time of an image, in
    ns; -1 with none, or for a file missing) and ``whole_seconds`` (every image's time is a whole
    second, as tar and zip restore them) tell a dataset copied without its files' times from
    one changed (:func:`taco.evaluation.results.check_resume`)."""

    content: str
    names_sizes: str
    newest: tuple[int, str]
    oldest: int = -1
    whole_seconds: bool = False

    @property
    def unmarked(self) -> str:
        """:attr:`content` without :data:`IMAGE_CONTENT_MARK`."""
        return self.content.removeprefix(IMAGE_CONTENT_MARK)


class DatasetError(TacoError, ValueError):
    """A dataset spec that cannot be opened (missing folder, annotation file, ...)."""


@dataclass
class EvalDataset:
    """An evaluation set: its images (in a fixed order), their true captions and how it was made."""

    name: str
    kind: str
    root: Path
    images: CaptionedImages
    crop: int | None
    caption_source: str
    captioned: bool = True
    limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: every record before ``limit`` (keyword only, required); :attr:`content` and the shuffled
    #: captions are taken over it, so a ``--limit`` run and the full run after it share one
    #: results file
    listing: list[CaptionRecord] = field(kw_only=True)
    #: :attr:`caption_source` without its image counts (None: it has none), the source of a
    #: dataset that leaves out some of its images (:meth:`keeping`)
    uncounted_source: str | None = field(default=None, kw_only=True)

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        """One line, not the dataclass's every record (30,000 of them on COCO, ``limit`` or not)."""
        return (f"EvalDataset(name={self.name!r}, kind={self.kind!r}, root={str(self.root)!r}, "
                f"images={len(self)}, limit={self.limit}, crop={self.crop})")

    def keeping(self, records: list[CaptionRecord]) -> EvalDataset:
        """This dataset with only ``records`` of its images (e.g. ``taco evaluate`` leaving out
        those too large for a ``.taco`` file). Its :attr:`caption_source` counted the images
        left out, so it loses its counts. The records passed the existence check when the
        dataset was opened: not checked again."""
        from taco.data import CaptionedImages

        images = self.images
        kept = CaptionedImages(images.root, records, images.transform, caption_index=0,
                               max_pixels=images.max_pixels, check_files=False)
        source = self.caption_source if len(records) == len(self) else (self.uncounted_source
                                                                        or self.caption_source)
        return replace(self, images=kept, caption_source=source)

    def full_size(self, at_most: int | None = None) -> int:
        """How many images the dataset has without its ``limit``: :attr:`listing` less the
        files missing, uncaptioned, unreadable or smaller than the crop, as :func:`open_dataset`
        would keep them. Without a limit, ``len(self)``. With ``at_most`` the count may stop
        there: exact below ``at_most``, else some number ``>= at_most``. The images already
        kept count as they are; only the files after the limit have their headers read (with a
        crop), and none once ``at_most`` is reached."""
        n = len(self)
        if not self.limit or (at_most is not None and n >= at_most):
            return n
        rest = [r.file for r in self.listing[self.limit:] if r.captions]
        more = None if at_most is None else at_most - n
        from taco.data import count_usable

        return n + count_usable(self.images.root, rest, self.crop, more,
                                max_pixels=self.images.max_pixels)

    @property
    def names(self) -> list[str]:
        return [r.file for r in self.images.records]

    @property
    def all_captions(self) -> list[tuple[str, ...]]:
        """Every caption of each image, in the order the dataset lists them."""
        return [r.captions for r in self.images.records]

    @property
    def content(self) -> str:
        """A short digest of what the results rows depend on, cheap to take on every run: each
        image's name, byte size and modification time (``st_mtime_ns``, as
        :func:`taco.evaluation.measure.image_digests` keys the originals' features), and its
        captions, marked :data:`IMAGE_CONTENT_MARK` (``t-`` and 16 hex digits; a plain str:
        :meth:`digests` has it with the digests an earlier taco recorded). A photo
        replaced (even by one of the same byte size: a BMP, PPM or TIFF of the same
        dimensions), a caption edited or another folder of the same name changes it, so a
        resumed run refuses old rows; so does a photo merely touched or copied without its
        times. Taken over the whole dataset even with a ``limit`` (:attr:`listing`)."""
        return self.digests().content

    def digests(self) -> DatasetDigests:
        """:attr:`content` and, taken in the same pass, the digests an earlier taco recorded of
        the dataset (:class:`DatasetDigests`), for :func:`taco.evaluation.results.check_resume`
        to resume results written then."""
        timed, names_sizes, newest, times = self._digests(captions=True)
        oldest = min(times, default=-1)
        return DatasetDigests(IMAGE_CONTENT_MARK + timed, names_sizes, newest, oldest,
                              all(t % 1_000_000_000 == 0 for t in times))

    @property
    def image_content(self) -> str:
        """:attr:`content` without the captions: a short digest of each image's name, byte
        size and modification time, over :attr:`listing`, marked ``IMAGE_CONTENT_MARK``
        (``t-`` and 16 hex digits): results written before it held the times have 16 hex
        digits alone, and ``taco plot`` compares each kind only with its own. What ``taco plot`` compares to tell runs on other images from
        runs with other captions (a model run with ``--captions`` beside JPEG run before the
        captions were written)."""
        return IMAGE_CONTENT_MARK + self._digests(captions=False)[0]

    def _digests(self, *, captions: bool) -> tuple[str, str, tuple[int, str], list[int]]:
        """Over :attr:`listing`: the digest of each image's name, byte size and modification
        time (and captions); the one taco took before it held the times (names, sizes and
        captions: the one place it is still taken, to resume results written then); the newest
        image's modification time and name; every image's modification time (-1: missing)."""
        timed, names_sizes = hashlib.sha256(), hashlib.sha256()
        newest = (-1, "")
        times = []
        for r in self.listing:
            try:
                st = (self.images.root / r.file).stat()
            except OSError:
                size, mtime = -1, -1
            else:
                size, mtime = st.st_size, st.st_mtime_ns
            newest = max(newest, (mtime, r.file))
            times.append(mtime)
            texts = [list(r.captions)] if captions else []
            timed.update(json.dumps([r.file, size, mtime, *texts]).encode())
            names_sizes.update(json.dumps([r.file, size, *texts]).encode())
        return timed.hexdigest()[:16], names_sizes.hexdigest()[:16], newest, times

    @property
    def not_the_paper_set(self) -> str | None:
        """Why a ``kodak:DIR`` or ``clic:DIR`` does not hold the paper's set
        (:func:`not_the_paper_set`, over :attr:`listing`: a ``limit`` does not change it), None
        when it does or for another kind."""
        return not_the_paper_set(self.kind, [r.file for r in self.listing])

    def describe(self) -> dict[str, Any]:
        """What a result JSON records of the dataset (its ``dataset``). A ``kodak:DIR`` or
        ``clic:DIR`` records ``paper_set``: whether its folder holds the paper's set, which
        ``taco plot`` needs before it draws the paper's reference points beside it."""
        paper = ({"paper_set": self.not_the_paper_set is None} if self.kind in ("kodak", "clic") else {})
        return {
            "name": self.name,
            "kind": self.kind,
            "root": str(self.root),
            "images": len(self),
            "crop": f"center {self.crop}x{self.crop}" if self.crop else "none",
            "caption_source": self.caption_source,
            "limit": self.limit,
            **paper,
            **self.extra,
        }


def _transform(crop: int | None):  # noqa: ANN202
    from taco.data import center_crop_transform, no_crop

    return center_crop_transform(crop) if crop else no_crop()


def _limit(records: list[CaptionRecord], limit: int | None) -> list[CaptionRecord]:
    return records[:limit] if limit else records


def _captions_path(root: Path, captions_file: str) -> Path:
    """A bare file name lives in ``root``; anything with a folder part is a path of its own
    (:func:`captions_file_is_path`). A relative one that is missing, while ``root`` holds it
    (``sub/x.jsonl`` for ``ROOT/sub/x.jsonl``), is refused with that path to give."""
    path = Path(captions_file).expanduser()
    if captions_file_is_path(captions_file):
        if os.path.isdir(path):
            raise DatasetError(_a_folder(path))
        if not path.is_file():
            inside = root / path
            there = (f" ({shown_path(inside)} exists: give that path)"
                     if not path.is_absolute() and inside.is_file() else "")
            raise DatasetError(f"{path}: no such captions file{there}")
        return path.resolve()
    return root / path


def _a_folder(path: Path, otherwise: str = "") -> str:
    """Why the folder ``path``, given as a captions file, is not read: with the path of the
    ``captions.jsonl`` in it to give where it holds one (else ``otherwise``, a hint)."""
    inner = path / FOLDER_CAPTIONS
    there = f" ({shown_path(inner)} exists: give that path)" if os.path.isfile(inner) else otherwise
    return f"{shown_path(path)}: a folder, not a captions file{there}"


def _inside_not_here(inside: Path, captions_file: str) -> None:
    """Say (one note, rank 0 alone) that the bare captions file name ``captions_file``, read as
    ``inside`` the dataset folder, is a file in the current folder too, which is not read: ``taco
    compress --captions NAME`` reads that one. Nothing when either is missing or they are one."""
    here = Path(captions_file)
    try:
        if not (inside.is_file() and here.is_file()) or os.path.samefile(inside, here):
            return
    except OSError:
        return
    if dist_env_from_environ().is_main:
        note("evaluate", f"captions file {captions_file}: reading {shown_path(inside)}, the one "
             f"inside the dataset folder, not ./{captions_file} here (a bare name is looked for "
             f"inside the dataset folder: give ./{captions_file} for the one here)")


def _written_by(captioners: tuple[str, ...]) -> str:
    """The caption source's note: which caption is used and who wrote them (``"captioner"``)."""
    return "first caption" + (f"; written by {', '.join(captioners)}" if captioners else "")


def _caption_source(found: FolderCaptions, captions_file: str | None, *, counted: bool = True) -> str:
    """Where a folder's captions came from, e.g. ``captions.jsonl (first caption; written by
    BLIP)``, or with several sources the images each captioned: ``sidecar IMAGE.txt files (3
    images), captions.jsonl (21 images; first caption)``. ``counted=False``: without the
    counts (``sidecar IMAGE.txt files, captions.jsonl (first caption)``), for a dataset that
    left out some of the images counted (:meth:`EvalDataset.keeping`)."""
    several = len(found.counts) > 1
    parts = []
    for source, n in found.counts.items():
        images = count(n, "image") if counted else ""
        if source == "sidecar":
            parts.append(f"sidecar IMAGE.txt files ({images})" if counted else "sidecar IMAGE.txt files")
            continue
        name = captions_file if source == "named" else FOLDER_CAPTIONS
        how = _written_by(found.captioners.get(source, ()))
        parts.append(f"{name} ({images}; {how})" if several and counted else f"{name} ({how})")
    return ", ".join(parts)


def _here_hint(captions_file: str | None) -> str:
    """For a bare captions file name not in the dataset folder but in the current one: how to
    give that one (``./NAME``), as ``taco compress`` reads the same words; else nothing."""
    if captions_file is None or captions_file == "-" or not Path(captions_file).is_file():
        return ""
    return (f" (a bare name is looked for inside the dataset folder: give ./{captions_file} "
            "for the one here)")


def _unreadable_sidecars(unreadable: dict[str, str]) -> str:
    """One phrase for the images left out for their unreadable sidecars, naming the first few
    with why (:func:`taco.captions_file.folder_captions`'s ``unreadable``)."""
    whys = list(unreadable.values())
    shown = "; ".join(whys[:3]) + ("; ..." if len(whys) > 3 else "")
    n = len(whys)
    return f"{count(n, 'image')} whose caption sidecar cannot be read ({shown})"


def _locale_hint(text: str) -> str:
    """`` (<taco.messages.locale_hint>)`` where that says how the locale could read
    ``text``'s bytes as UTF-8, else ""."""
    hint = locale_hint(text)
    return f" ({hint})" if hint else ""


def _not_a_dataset(path: Path) -> str:
    """Why the file ``path`` is not a dataset, in one line: what a dataset is, and for a
    ``.taco`` file the commands that read one."""
    kinds = "a folder of images, kodak:DIR, clic:DIR, coco30k:ROOT, coco40k:ROOT or samples"
    suffix = path.suffix.lower()
    if suffix == ".taco":
        return (f"{path}: a .taco file, not a dataset ({kinds}); `taco info` and "
                "`taco decompress` read .taco files")
    if suffix in IMAGE_SUFFIXES:
        return f"{path}: an image file, not a dataset ({kinds}); put the image in a folder of its own"
    return f"{path}: a file, not a dataset ({kinds})"


def _folder(
    root: Path, kind: str, name: str | None, crop: int | None, limit: int | None, captions_file: str | None
) -> EvalDataset:
    """The dataset of the folder ``root``, named ``name`` (None: after the folder itself), which
    :func:`check_dataset` has found."""
    name = name or dataset_slug(root.resolve().name)
    named = None if captions_file is None else _captions_path(root, captions_file)
    if named is not None and not named.is_file():
        if captions_file == "-":
            raise DatasetError(f"captions file -: {STDIN_NOT_READ}")
        if os.path.isdir(named):
            raise DatasetError(_a_folder(named, _here_hint(captions_file)))
        raise DatasetError(f"{named}: no such captions file{_here_hint(captions_file)}")
    if named is not None and captions_file is not None and not captions_file_is_path(captions_file):
        _inside_not_here(named, captions_file)
    names = folder_images(root)
    for image in names:  # before any work: results files (JSON, CSV) are UTF-8 and name each image
        bad = lone_surrogate(image)
        if bad is not None:
            raise DatasetError(f"{shown_path(root / image)}: the file name holds {bad}, which "
                               f"UTF-8 results files cannot hold; rename it{_locale_hint(image)}")
    found = folder_captions(root, names, named, skip_unreadable=True)
    if found.unreadable:  # that image's problem, as in taco compress: every codec skips it alike
        why = _unreadable_sidecars(found.unreadable)
        if not found.records:
            raise DatasetError(f"{root}: no image to evaluate: {why}")
        from taco.data import SkippedImageWarning

        warn_at_caller(f"{root}: skipping {why}", SkippedImageWarning)
        names = [r.file for r in found.records]
    from taco.data import CaptionedImages, SkippedImageWarning

    # subfolders are not searched (as by taco compress and training): said, with how to bring them in
    left = subfolders_not_searched(image_subfolders(root, [r.file for r in found.records]),
                                   FOLDER_CAPTIONS if named is None else named.name)
    if left and found.records:
        warn_at_caller(f"{root}: left out {left}", SkippedImageWarning)
    if found.has_source:
        folder = CaptionedImages(root, found.records, _transform(crop), caption_index=0)
        records = _limit(folder.records, limit)
        images = CaptionedImages(root, records, _transform(crop), caption_index=0, min_side=crop)
        return EvalDataset(name, kind, root, images, crop, _caption_source(found, captions_file), True,
                           limit, listing=list(folder.records),
                           uncounted_source=_caption_source(found, captions_file, counted=False))
    every = [CaptionRecord(name, ("",)) for name in names]
    if not every:
        raise DatasetError(f"{root}: no images found{decoded_skipped(decoded_outputs(os.listdir(root)))}"
                           + (f"; left out {left}" if left else ""))
    images = CaptionedImages(root, _limit(every, limit), _transform(crop), caption_index=0,
                             min_side=crop)
    source = (f"none (no {FOLDER_CAPTIONS}, no sidecar IMAGE.txt files; write {FOLDER_CAPTIONS} "
              f"with `taco caption {shell_word(root)}`)")
    return EvalDataset(name, kind, root, images, crop, source, False, limit, listing=every)


#: What ``coco30k:ROOT`` and ``coco40k:ROOT`` read in ROOT besides the images.
_COCO_FILES = {"coco30k": "dataset_coco.json", "coco40k": "annotations/captions_val2014.json"}


def _kind_and_root(spec: str) -> tuple[str, Path]:
    """The kind and folder of a dataset spec: ``KIND:PATH``, ``samples`` or a folder path. An
    empty one, or a ``KIND:`` with an empty ``PATH``, is refused: as a path it is the current
    folder (``Path("")`` is ``.``), so ``kodak:"$UNSET"`` evaluated the photos there (as the
    command line's ``path_arg`` refuses an empty path)."""
    if not spec:
        raise DatasetError("empty dataset name: give a folder, KIND:DIR or samples (the current folder is .)")
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in DATASET_KINDS:
        kind, rest = ("samples", "") if spec == "samples" else ("folder", spec)
    elif not rest and kind != "samples":
        where = "ROOT" if kind in _COCO_FILES else "DIR"
        raise DatasetError(f"{kind}: names no folder: give {kind}:{where} (the current folder is {kind}:.)")
    return kind, SAMPLES_DIR if kind == "samples" else Path(rest).expanduser()


def check_dataset(
    spec: str | os.PathLike[str],
    *,
    captions_file: str | os.PathLike[str] | None = None,
    coco30k_protocol: str = "paper",
) -> None:
    """A :class:`DatasetError` unless what :func:`open_dataset` lists ``spec``'s images from is
    there: the folder (named: not an empty spec nor a ``KIND:`` with nothing after it, which
    would be the current folder; not missing, not a file nor a device: a "not a folder" before
    any file in it is looked for), ``coco30k:ROOT``'s ``dataset_coco.json`` (the
    official protocol: its captions file, ``captions_file`` or ``ROOT/captions.jsonl``),
    ``coco40k:ROOT``'s ``annotations/captions_val2014.json``; ``coco30k_protocol`` is one it
    knows; and the folder's path and ``captions_file`` are UTF-8 text, as the results files
    that record them. :func:`open_dataset` checks with it first (a folder's named captions file after
    it); it lists no folder, reads no file and imports no torch, so ``taco evaluate`` refuses a
    mistyped dataset with it before torch loads."""
    _checked_spec(spec, captions_file, coco30k_protocol)


def _checked_spec(spec: str | os.PathLike[str], captions_file: str | os.PathLike[str] | None,
                  coco30k_protocol: str) -> tuple[str, Path, str | None]:
    """:func:`check_dataset`'s checks -> the spec's kind and folder (:func:`_kind_and_root`) and
    ``captions_file`` as a str (or None), parsed once for :func:`open_dataset`."""
    if coco30k_protocol not in COCO30K_PROTOCOLS:
        raise DatasetError(
            f"coco30k protocol must be one of {', '.join(COCO30K_PROTOCOLS)}, got {coco30k_protocol!r}"
        )
    captions_file = None if captions_file is None else os.fspath(captions_file)
    kind, root = _kind_and_root(os.fspath(spec))
    shown = shown_path(root, SHOWN_PATH_LIMIT)  # a 5,000-character spec is not said whole
    # before any work: the results files (JSON, CSV) are UTF-8 and record the dataset's folder
    # (dataset.root) and a named captions file (dataset.caption_source)
    for path, what in ((str(root), "the folder's path"), (captions_file, "the captions file's path")):
        if path is not None and (bad := lone_surrogate(path)) is not None:
            raise DatasetError(f"{shown_path(path, SHOWN_PATH_LIMIT)}: {what} holds {bad}, which "
                               f"UTF-8 results files cannot hold; rename it{_locale_hint(path)}")
    if kind in ("coco30k", "coco40k") and os.path.exists(root) and not os.path.isdir(root):
        raise DatasetError(f"{shown}: not a folder ({kind}:ROOT names the folder of MS-COCO's "
                           f"val2014/ and {_COCO_FILES[kind]})")
    if kind == "coco30k" and coco30k_protocol == "official":
        cap_path = _captions_path(root, captions_file or FOLDER_CAPTIONS)
        if os.path.isdir(cap_path):
            raise DatasetError(_a_folder(cap_path))
        if not os.path.isfile(cap_path):
            raise DatasetError(
                f"{shown_path(cap_path, SHOWN_PATH_LIMIT)} not found: the official coco30k protocol takes its images and captions "
                "from the authors' files: taco import-captions mscoco_val41k_img_cap_pair.json "
                f"--images mscoco_30k_list.json -o {shell_word(cap_path)}"
            )
    elif kind == "coco30k":
        split_json = root / "dataset_coco.json"
        if not os.path.isfile(split_json):
            raise DatasetError(
                f"{shown_path(split_json, SHOWN_PATH_LIMIT)} not found: coco30k:ROOT needs Karpathy's dataset_coco.json in ROOT "
                "and the images in ROOT/val2014/"
            )
    elif kind == "coco40k":
        ann = root / "annotations" / "captions_val2014.json"
        if not os.path.isfile(ann):
            raise DatasetError(
                f"{shown_path(ann, SHOWN_PATH_LIMIT)} not found: coco40k:ROOT needs ROOT/val2014/ and "
                "ROOT/annotations/captions_val2014.json"
            )
    elif os.path.isfile(root):  # os.path: no OSError (a name too long) raised
        raise DatasetError(_not_a_dataset(root))
    elif not os.path.isdir(root):  # checked before resolve(), which raises RuntimeError on a symlink loop
        raise DatasetError(f"{shown}: not a folder" if os.path.exists(root) else f"{shown}: no such folder")
    return kind, root, captions_file


def open_dataset(
    spec: str | os.PathLike[str],
    *,
    crop: int | None = None,
    limit: int | None = None,
    captions_file: str | os.PathLike[str] | None = None,
    coco30k_protocol: str = "paper",
) -> EvalDataset:
    """Open an evaluation dataset from ``KIND:PATH``, ``samples`` or a folder path.

    ``spec`` may be a str or a path (``Path("/data/kodak")``); a path is read as its string,
    so ``Path("kodak:/data/kodak")`` is the Kodak set, as on the command line.

    ``crop`` overrides the paper's crop rule (centre crop to ``crop``×``crop``; 0 = no crop;
    images smaller than the crop are skipped, not upscaled); ``limit`` keeps the first ``limit``
    images (quick runs; an integer from 1, NumPy's taken, another a TypeError, below 1 a
    :class:`DatasetError`; None: every image); ``captions_file`` names the captions file of a
    folder (e.g. ``captions-blip2.jsonl``, for the caption-source study; the only source of
    captions then) or is a path (see the module docstring); None: each image's
    sidecar ``IMAGE.txt``, else the folder's ``captions.jsonl`` (the official coco30k protocol:
    ``ROOT/captions.jsonl``). ``coco30k_protocol``: one of
    :data:`COCO30K_PROTOCOLS` (only ``coco30k:ROOT`` has a choice). A folder path or
    ``captions_file`` path that is not UTF-8 (:func:`check_dataset`), or a folder holding an
    image whose file name is not UTF-8, is refused before anything is read (the results files
    name them in UTF-8): rename it.
    """
    from taco.data import CaptionedImages, CocoCaptions, karpathy_split

    if limit is not None:
        number = as_int(limit)
        if number is None:  # 2.0 was a TypeError about slice indices, True taken as 1
            raise TypeError(f"open_dataset: limit must be an integer (how many images) or None "
                            f"(every image), not {type(limit).__name__}")
        if number <= 0:
            raise DatasetError(f"limit must be at least 1, got {number}")
        limit = number
    kind, root, captions_file = _checked_spec(spec, captions_file, coco30k_protocol)
    official = kind == "coco30k" and coco30k_protocol == "official"
    eff_crop = (None if official else PAPER_CROP.get(kind)) if crop is None else (crop or None)

    if kind == "samples":
        return _folder(root, kind, "samples", eff_crop, limit, captions_file)
    if kind in ("folder", "kodak", "clic"):
        return _folder(root, kind, None if kind == "folder" else kind, eff_crop, limit, captions_file)

    if official:
        return _coco30k_official(root, eff_crop, limit, captions_file or FOLDER_CAPTIONS,
                                 named=captions_file is not None)
    if kind == "coco30k":
        every = karpathy_split(root / "dataset_coco.json", "restval")
        images = CaptionedImages(root, _limit(every, limit), _transform(eff_crop), caption_index=0,
                                 min_side=eff_crop)
        source = "MS-COCO human captions (Karpathy split, first sentence)"
        return EvalDataset("coco30k", kind, root, images, eff_crop, source, True, limit,
                           {"protocol": f"paper: {COCO30K_PROTOCOLS['paper']}"}, listing=every)

    # coco40k
    ann = root / "annotations" / "captions_val2014.json"
    coco = CocoCaptions(root / "val2014", ann, _transform(eff_crop), caption_index=0)
    records = _limit(coco.records, limit)
    images = CaptionedImages(root / "val2014", records, _transform(eff_crop), caption_index=0,
                             min_side=eff_crop)
    source = "MS-COCO human captions (captions_val2014.json, first by annotation order)"
    return EvalDataset("coco40k", kind, root, images, eff_crop, source, True, limit,
                       listing=coco.records)


def _coco30k_official(root: Path, crop: int | None, limit: int | None, captions_file: str,
                      named: bool = True) -> EvalDataset:
    """``coco30k:ROOT`` as effl-lab/TACO's script: the images and captions of a captions file
    (their list and pairs, converted by ``taco import-captions``), from ``ROOT/val2014/``;
    ``named``: ``captions_file`` was given (not the default ``captions.jsonl``); checked by
    :func:`check_dataset`."""
    from taco.data import CaptionedImages

    cap_path = _captions_path(root, captions_file)
    if named and not captions_file_is_path(captions_file):
        _inside_not_here(cap_path, captions_file)
    try:
        records, captioners = read_captions_file(cap_path)
    except ValueError as exc:
        raise DatasetError(str(exc)) from None
    images = CaptionedImages(root / "val2014", _limit(records, limit), _transform(crop), caption_index=0,
                             min_side=crop)
    source = f"{cap_path} ({_written_by(captioners)})"
    extra = {"protocol": f"official: {COCO30K_PROTOCOLS['official']}",
             "captions_per_image": max(len(r.captions) for r in records)}
    return EvalDataset("coco30k-official", "coco30k", root, images, crop, source, True, limit, extra,
                       listing=records)
