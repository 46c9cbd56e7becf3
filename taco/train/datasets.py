"""The run's datasets from its config: training crops (random window, random caption) and the
validation crops, plus every caption they hold (for encoding them once)."""

from __future__ import annotations

import os
from pathlib import Path

from torch.utils.data import Dataset, Subset

from ..captions_file import CaptionRecord, folder_captions
from ..data import (
    CaptionedFolder,
    CaptionedImages,
    CocoCaptions,
    center_crop_transform,
    excluded,
    train_transform,
)
from ..errors import TacoWarning, warn_at_caller
from ..messages import count, some, utf8_name
from ..suffixes import folder_images
from .config import ConfigError, TrainConfig, model_config


def build_train_dataset(cfg: TrainConfig) -> CaptionedImages:
    """Random ``crop`` windows with a random caption; per-sample randomness from the seed.
    ``data.small_images`` / ``data.hflip`` / ``data.exclude``: see
    :class:`taco.train.config.DataConfig`."""
    d = cfg.data
    if d.root is None:
        raise ConfigError("data.root is not set (the training images)")
    transform = train_transform(cfg.crop, hflip=d.hflip)
    kw = {"seed": cfg.seed, "min_side": cfg.crop if d.small_images == "drop" else None,
          "exclude": d.exclude, "training": True}
    if d.kind == "folder":
        return CaptionedFolder(d.root, d.captions, transform,
                               captions_needed=reads_text(cfg), **kw)
    return CocoCaptions(d.root, d.captions_path(), transform, **kw)


def reads_text(cfg: TrainConfig) -> bool:
    """Whether the run's model reads captions: a text-free one (ELIC) also trains and validates
    on folders without a captions file."""
    return model_config(cfg).text_encoder is not None


def build_val_dataset(cfg: TrainConfig) -> Dataset | None:
    """The first ``val.images`` centre crops of ``val.root`` (first caption each), or None
    where validation is off (:attr:`taco.train.config.ValConfig.enabled`).
    Photos under ``val.crop`` px on the shorter side follow ``data.small_images`` as in training:
    dropped with one warning (``drop``), or upscaled to cover the crop (``upscale``).

    Its warnings call it ``validation 'ROOT'``; one more says where ``val.root`` holds fewer
    than ``val.images`` photos, and one where photos it validates on are also trained on
    (``val.root`` is ``data.root``, or a captions file of ``data.root`` names them)."""
    v = cfg.val
    if not v.enabled:
        return None
    assert v.root is not None  # enabled
    ds = CaptionedFolder(v.root, v.captions, center_crop_transform(v.crop), caption_index=0,
                         captions_needed=reads_text(cfg),
                         min_side=v.crop if cfg.data.small_images == "drop" else None,
                         label="validation", training=True)
    if len(ds) < v.images:
        warn_at_caller(f"{ds.named()}: val.images={v.images}, but {count(len(ds), 'image is', 'images are')} "
                       f"there to validate on; validating on {len(ds)}", TacoWarning)
    val = Subset(ds, range(min(v.images, len(ds))))
    files = [r.file for r in records_of(val)[1]]
    shared = trained_on(cfg, ds.root, files)
    if shared:
        same = Path(v.root).resolve() == Path(str(cfg.data.root)).resolve()
        warn_at_caller(
            f"{ds.named()}: {'val.root is data.root: ' if same else ''}"
            f"{len(shared)} of the {count(len(files), 'image')} it validates on "
            f"{'is' if len(shared) == 1 else 'are'} also trained on ({some(shared)}), so validation "
            "does not show how the model does on photos it has not seen; give val.root a folder "
            "of other photos (or leave them out of training with data.exclude)", TacoWarning)
    return val


def trained_on(cfg: TrainConfig, root: str | os.PathLike[str], files: list[str]) -> list[Path]:
    """Of ``files`` (paths inside the folder ``root``), those the training set of ``cfg`` holds
    too, as paths under ``root``: the same file (after links and ``..`` are resolved) under
    ``data.root`` by a name training reads (a folder's top-level images and those its captions
    file names, ``data.exclude`` left out; for COCO any image at the top of its images folder)."""
    d = cfg.data
    if d.root is None or not files:
        return []
    try:
        train_root = Path(d.root).resolve()
    except OSError:
        return []
    inside = {}  # file -> its path under data.root, for those there
    for file in files:
        try:
            inside[file] = (Path(root) / file).resolve().relative_to(train_root).as_posix()
        except (OSError, ValueError):  # not under data.root
            continue
    if not inside:  # the usual case: nothing of the training folder read
        return []
    if d.kind == "folder":
        images = folder_images(Path(d.root))
        named = None if d.captions is None else Path(d.root) / d.captions
        try:
            found = folder_captions(d.root, images, named, skip_unreadable=True)
            listed = [r.file for r in found.records if r.captions or not found.has_source]
        except (OSError, ValueError):  # the training set has said so already
            listed = images
        # matched by their bytes read as UTF-8: a captions file's café.png is the file café.png
        # named in UTF-8 or in the locale's encoding (Latin-1)
        names = {utf8_name(f) for f in listed if not excluded(f, d.exclude)}
        return [Path(root) / f for f, there in inside.items() if utf8_name(there) in names]
    # COCO: its names are in its annotations; any image at the top of its images folder
    return [Path(root) / f for f, there in inside.items() if "/" not in there and not excluded(there, d.exclude)]


def records_of(dataset: Dataset) -> tuple[CaptionedImages, list[CaptionRecord]]:
    """(the CaptionedImages ``dataset`` is, or is a Subset of; the records ``dataset`` holds, in
    its order), without decoding: an image's path is ``images.root / record.file``."""
    if isinstance(dataset, Subset):
        images: CaptionedImages = dataset.dataset  # type: ignore[assignment]
        return images, [images.records[i] for i in dataset.indices]
    return dataset, dataset.records  # type: ignore[return-value,attr-defined]


def dataset_captions(dataset: Dataset | None) -> list[str]:
    """Every caption of a CaptionedImages dataset (or a Subset of one), without decoding."""
    if dataset is None:
        return []
    return [c for r in records_of(dataset)[1] for c in r.captions]
