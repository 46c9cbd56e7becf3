"""taco: text-guided neural image compression (TACO, ICML 2024).

A caption guides the encoder only; a ``.taco`` file decodes without it::

    import taco
    model = taco.create_model("taco-minilm")      # or taco.load("checkpoint.safetensors")
    data = taco.compress(image, "a caption", model)
    image = taco.decompress(data, model)

Heavy modules (torch, CompressAI, transformers) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .version import __version__

_LAZY = {
    "compress": "taco.codec",
    "compress_image": "taco.codec",
    "decompress": "taco.codec",
    "CompressResult": "taco.codec",
    "TacoFormatError": "taco.bitstream",
    "create_model": "taco.models",
    "load": "taco.models",
    "save_checkpoint": "taco.models",
    "list_models": "taco.models",
    "CheckpointError": "taco.models",
    "ELIC": "taco.models",
    "TACO": "taco.models",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'taco' has no attribute {name!r}")
