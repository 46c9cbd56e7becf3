"""The training set decoded once into device memory, random crops cut there (``data_on_device``).

    images = ResidentImages.decode(dataset, crop, device)   # uint8 (3, H, W) per image
    batch = images.batch([4, 17, 3, 9], step=120, seed=0)   # Batch, images (B, 3, crop, crop)

Why: with a DataLoader every step decodes B JPEGs, crops them on the CPU and copies them to the
GPU, and a GPU that takes milliseconds per step waits for that. Here each image is decoded once
(in threads), kept as uint8, and a batch is B slices of resident tensors stacked on the device,
a flip and a conversion to float: a handful of kernels and no copy of pixels. The shared photos
(158 images up to 768 px) take about 0.2 GB; COCO 2014 train (82,783 images) about 76 GB, which
an H200 holds.

Randomness: batch ``step`` of rank ``rank`` draws its crop windows, flips and captions from a
CPU generator seeded by ``(seed, rank, step)``: no device synchronisation, and a resumed run
draws what an uninterrupted one would. The image order is the DataLoader path's
(:class:`taco.train.distributed.ResumableSampler`), the crop distribution the same (uniform
window, horizontal flip with probability ``hflip``, one caption at random), the draws not.
The dataset's rules hold (``data.small_images``: images under the crop were dropped by the
dataset, or here upscaled, bicubic with the aspect kept, so the short side equals the crop).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data import Batch, CaptionedImages, UnreadableImagesError, read_reason, upscale_to_cover
from ..devices import usable_cpus
from ..images import ImageReadError, load_image, to_rgb


def _decode(dataset: CaptionedImages, i: int, crop: int) -> Tensor | ImageReadError:
    record = dataset.records[i]
    try:
        image = load_image(dataset.root / record.file, max_pixels=dataset.max_pixels)
    except ImageReadError as e:
        return e
    rgb, _ = to_rgb(image, source=record.file)
    arr = np.array(upscale_to_cover(rgb, crop), dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()  # (3, H, W) uint8


def step_generator(seed: int, rank: int, step: int) -> torch.Generator:
    """The CPU generator for batch ``step`` of ``rank``: a pure function of the three."""
    state = np.random.SeedSequence([seed, rank, step]).generate_state(1, np.uint64)
    return torch.Generator().manual_seed(int(state[0]) >> 1)


class ResidentImages:
    """Every image of a captioned dataset as a uint8 (3, H, W) tensor on one device."""

    def __init__(self, images: list[Tensor], captions: list[tuple[str, ...]], names: list[str],
                 crop: int, hflip: float = 0.0) -> None:  # fmt: skip
        if not images:
            raise ValueError("no images")
        self.images, self.captions, self.names = images, captions, names
        self.crop, self.hflip = crop, hflip
        self.device = images[0].device
        self.skipped = 0

    def __len__(self) -> int:
        return len(self.images)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() for t in self.images)

    @classmethod
    def decode(
        cls, dataset: CaptionedImages, crop: int, device: torch.device | str,
        hflip: float = 0.0, workers: int | None = None,
    ) -> ResidentImages:  # fmt: skip
        """Decode ``dataset``'s images in ``workers`` threads (default: one per usable CPU, at
        most 16; :func:`taco.devices.usable_cpus`) and move them to ``device``. Unreadable files
        are left out (counted in ``skipped``), so indices follow the readable images; none
        readable is an :class:`~taco.data.UnreadableImagesError`."""
        n = len(dataset.records)
        workers = workers or min(16, usable_cpus())
        images, captions, names = [], [], []
        first = ""  # the first unreadable file and why
        with ThreadPoolExecutor(max(1, workers)) as pool:
            decoded = pool.map(lambda i: _decode(dataset, i, crop), range(n))
            for i, image in enumerate(decoded):
                if isinstance(image, ImageReadError):
                    first = first or f"{dataset.records[i].file}: {read_reason(image)}"
                    continue
                images.append(image.to(device))
                captions.append(dataset.records[i].captions)
                names.append(dataset.records[i].file)
        if not images:
            raise UnreadableImagesError.none_readable(
                dataset.root, f"all {n} files tried are unreadable", first)
        resident = cls(images, captions, names, crop, hflip)
        resident.skipped = n - len(images)
        return resident

    def batch(self, indices: list[int], step: int, seed: int, rank: int = 0) -> Batch:
        """Images (B, 3, crop, crop) float32 in [0, 1] on the device, a caption each, names."""
        g = step_generator(seed, rank, step)
        c = self.crop
        crops: list[Tensor] = []
        captions, flips = [], []
        for i in indices:
            image = self.images[i]
            _, h, w = image.shape
            top = int(torch.randint(h - c + 1, (), generator=g))
            left = int(torch.randint(w - c + 1, (), generator=g))
            crops.append(image[:, top : top + c, left : left + c])
            flips.append(bool(torch.rand((), generator=g) < self.hflip))
            options = self.captions[i]
            captions.append(options[int(torch.randint(len(options), (), generator=g))])
        x = torch.stack(crops)  # (B, 3, c, c) uint8
        if any(flips):
            flip = torch.tensor(flips).to(self.device, non_blocking=True)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return Batch(x.float().div_(255.0), captions, [self.names[i] for i in indices])

    def describe(self) -> dict[str, Any]:
        return {"images": len(self), "device_mib": round(self.nbytes / 2**20, 1),
                "skipped": self.skipped}  # fmt: skip
