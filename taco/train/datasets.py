"""The run's datasets from its config: training crops (random window, random caption) and the
validation crops, plus every caption they hold (for encoding them once)."""

from __future__ import annotations

from torch.utils.data import Dataset, Subset

from ..captions_file import CaptionRecord
from ..data import (
    CaptionedFolder,
    CaptionedImages,
    CocoCaptions,
    center_crop_transform,
    train_transform,
)
from .config import ConfigError, TrainConfig


def build_train_dataset(cfg: TrainConfig) -> CaptionedImages:
    """Random ``crop`` windows with a random caption; per-sample randomness from the seed.
    ``data.small_images`` / ``data.hflip`` / ``data.exclude``: see
    :class:`taco.train.config.DataConfig`."""
    d = cfg.data
    if d.root is None:
        raise ConfigError("data.root is not set (the training images)")
    transform = train_transform(cfg.crop, hflip=d.hflip)
    kw = {"seed": cfg.seed, "min_side": cfg.crop if d.small_images == "drop" else None,
          "exclude": d.exclude}
    if d.kind == "folder":
        return CaptionedFolder(d.root, d.captions, transform,
                               captions_needed=reads_text(cfg), **kw)
    return CocoCaptions(d.root, d.captions_path(), transform, **kw)


def reads_text(cfg: TrainConfig) -> bool:
    """Whether the run's model reads captions: a text-free one (ELIC) also trains and validates
    on folders without a captions file."""
    from .model_setup import model_config

    return model_config(cfg).text_encoder is not None


def build_val_dataset(cfg: TrainConfig) -> Dataset | None:
    """The first ``val.images`` centre crops of ``val.root`` (first caption each), or None
    where validation is off (:attr:`taco.train.config.ValConfig.enabled`).
    Photos under ``val.crop`` px on the shorter side follow ``data.small_images`` as in training:
    dropped with one warning (``drop``), or upscaled to cover the crop (``upscale``)."""
    v = cfg.val
    if not v.enabled:
        return None
    assert v.root is not None  # enabled
    ds = CaptionedFolder(v.root, v.captions, center_crop_transform(v.crop), caption_index=0,
                         captions_needed=reads_text(cfg),
                         min_side=v.crop if cfg.data.small_images == "drop" else None)
    return Subset(ds, range(min(v.images, len(ds))))


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
