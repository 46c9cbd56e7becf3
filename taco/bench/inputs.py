"""The images ``taco bench`` times: built-in sample photos (or files), centre-cropped, padded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor

from ..codec import pad_to_multiple
from ..images import ImageReadError, image_to_tensor, load_image, to_rgb
from ..samples import SAMPLES_DIR, sample_caption, sample_names

#: The sample photos' names: the images bench times by default.
SAMPLE_IMAGES = sample_names()


def load_inputs(images: Sequence[str], crop: int) -> list[tuple[str, Tensor, str]]:
    """(name, padded (1, 3, H, W) tensor, caption) per image: a file or a sample's name; the
    centre ``crop`` x ``crop`` square (0: the whole image); a sample's own caption, else "a photo"."""
    out = []
    for item in images:
        path = Path(item)
        if not path.is_file():
            if item not in SAMPLE_IMAGES:
                raise ImageReadError(item, f"no such file, and not a sample ({', '.join(SAMPLE_IMAGES)})")
            path = SAMPLES_DIR / item
        image = to_rgb(load_image(path))[0]
        if crop:
            s = min(crop, image.width, image.height)
            left, top = (image.width - s) // 2, (image.height - s) // 2
            image = image.crop((left, top, left + s, top + s))
        try:
            caption = sample_caption(path.name)
        except KeyError:
            caption = "a photo"
        out.append((path.name, pad_to_multiple(image_to_tensor(image)), caption))
    return out
