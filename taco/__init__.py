"""taco: text-guided neural image compression (TACO, ICML 2024).

A caption guides the encoder only; a ``.taco`` file decodes without it::

    from pathlib import Path
    from PIL import Image
    import taco

    model = taco.load("taco-minilm-small-q4")     # a built-in trained model, or a checkpoint path
    data = taco.compress(Image.open("photo.png"), "A tabby cat looking to the side.", model)
    Path("photo.taco").write_bytes(data)
    image = taco.decompress("photo.taco")        # the file names its model: no caption
    taco.info("photo.taco").bpp                  # its header and size, without decoding

``taco.list_models()`` lists the names; architecture names without ``-q*`` build untrained
models (``taco.create_model``). Heavy modules (torch, CompressAI, transformers) load on first
use, so ``import taco`` is instant.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import compressai_loader
from .version import __version__

compressai_loader.install()  # before any taco module imports CompressAI (see that module)

_LAZY = {
    "compress": "taco.codec",
    "compress_image": "taco.codec",
    "compress_batch": "taco.pipeline",
    "decompress": "taco.codec",
    "info": "taco.bitstream",
    "CompressResult": "taco.codec",
    "ImageSizeError": "taco.codec",
    "TacoFormatError": "taco.bitstream",
    "ImageReadError": "taco.images",
    "OutOfMemoryError": "taco.memory",
    "CaptionTruncatedWarning": "taco.text.base",
    "CaptionTooLongError": "taco.text.base",
    "create_model": "taco.models",
    "load": "taco.models",
    "save_checkpoint": "taco.models",
    "list_models": "taco.models",
    "CheckpointError": "taco.models",
    "ELIC": "taco.models",
    "TACO": "taco.models",
}

#: Subpackages reached as attributes (``taco.metrics.psnr``) without importing them first.
_SUBMODULES = frozenset({"bitstream", "codec", "data", "evaluation", "images", "metrics", "models",
                         "pipeline", "text", "train"})

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"taco.{name}")
    raise AttributeError(f"module 'taco' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
