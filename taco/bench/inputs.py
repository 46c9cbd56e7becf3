"""The images ``taco bench`` times: built-in sample photos (or files), centre-cropped, padded."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..demo import image_path  # a file, else a shipped sample's name, as taco demo --image
from ..images import (
    ImageReadError,
    cap_refusal,
    image_to_tensor,
    load_image,
    read_image_stream,
    to_rgb,
    without_file,
)
from ..samples import sample_caption, sample_names

if TYPE_CHECKING:
    from torch import Tensor

#: The sample photos' names: the images bench times by default.
SAMPLE_IMAGES = sample_names()
#: The item that is standard input (read once, as ``taco compress -`` reads it; ``./-`` is a file).
STDIN_ITEM = "-"
#: The name an image read from standard input goes by (in messages, the table and the JSON).
STDIN_NAME = "<stdin>"


def load_inputs(images: Sequence[str], crop: int, *, pad: bool = True) -> list[tuple[str, Tensor, str]]:
    """(name, padded (1, 3, H, W) tensor, caption) per image: a path or a sample's name
    (:func:`image_path`), or :data:`STDIN_ITEM`, standard input, read here (named
    :data:`STDIN_NAME`); the centre ``crop`` x ``crop`` square (0: the whole image); a sample's
    own caption, else "a photo". ``pad=False``: the image's own tensor, not padded to a multiple
    of 64 (what the codec codes: :func:`taco.codec.pad_to_multiple`)."""
    from ..codec import pad_to_multiple

    out = []
    for item in images:
        path = Path(STDIN_NAME) if item == STDIN_ITEM else image_path(item)
        try:
            if item == STDIN_ITEM:
                with without_file():
                    image = to_rgb(load_image(STDIN_NAME, data=read_image_stream(sys.stdin.buffer, STDIN_NAME)))[0]
            else:
                image = to_rgb(load_image(path))[0]
        except ImageReadError as e:  # over the cap: bench has no option to lift it
            if e.size is None or e.max_pixels is None:
                raise
            raise ImageReadError(path, cap_refusal(*e.size, e.max_pixels, "")) from None
        if crop:
            s = min(crop, image.width, image.height)
            left, top = (image.width - s) // 2, (image.height - s) // 2
            image = image.crop((left, top, left + s, top + s))
        try:
            caption = sample_caption(path.name)
        except KeyError:
            caption = "a photo"
        x = image_to_tensor(image)
        out.append((path.name, pad_to_multiple(x) if pad else x, caption))
    return out
