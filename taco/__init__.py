"""taco: text-guided neural image compression (TACO, ICML 2024).

A caption guides the encoder only; a ``.taco`` file decodes without it::

    from pathlib import Path
    from PIL import Image
    import taco

    model = taco.load("taco-minilm-small-q4")     # a built-in trained model, or a checkpoint path
    data = taco.compress(Image.open("photo.png"), "A tabby cat looking to the side.", model)
    Path("photo.taco").write_bytes(data)
    image = taco.decompress("photo.taco")        # the file names its model: no caption
    taco.info("photo.taco").bpp                  # a taco.TacoFile: its header and size, not decoded

``taco.list_models()`` lists the names (``taco.DEFAULT_MODEL`` is the one the commands use when
given none); architecture names without ``-q*`` build untrained
models (``taco.create_model``). Heavy modules (torch, CompressAI, transformers) load on first
use, so ``import taco`` is instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import compressai_loader
from .lazy import lazy_names
from .version import __version__

compressai_loader.install()  # before any taco module imports CompressAI (see that module)

_LAZY = {
    "compress": "taco.codec",
    "compress_image": "taco.codec",
    "compress_batch": "taco.pipeline",
    "decompress": "taco.codec",
    "info": "taco.bitstream",
    "CompressResult": "taco.codec",
    "TacoFile": "taco.bitstream",
    "TacoError": "taco.errors",
    "TacoValueError": "taco.errors",
    "TacoWarning": "taco.errors",
    "ImageSizeError": "taco.errors",
    "SizeBudgetError": "taco.errors",
    "TacoFormatError": "taco.bitstream",
    "ImageReadError": "taco.images",
    "ImageConversionWarning": "taco.images",
    "ImageFileWarning": "taco.images",
    "OutOfMemoryError": "taco.memory",
    "CaptionTruncatedWarning": "taco.errors",
    "CaptionTooLongError": "taco.errors",
    "CaptionTextError": "taco.errors",
    "TextEncoderUnavailable": "taco.errors",
    "BackboneError": "taco.errors",
    "create_model": "taco.models",
    "load": "taco.models",
    "save_checkpoint": "taco.models",
    "list_models": "taco.models",
    "DEFAULT_MODEL": "taco.resolve",
    "CheckpointError": "taco.models",
    "ELIC": "taco.models",
    "TACO": "taco.models",
}

#: Subpackages reached as attributes (``taco.metrics.psnr``, ``taco.errors.TacoError``) without
#: importing them first; errors, memory, devices, progress, messages, fileobjects and resolve
#: import no torch.
_SUBMODULES = frozenset({"bitstream", "codec", "data", "demo", "devices", "errors", "evaluation",
                         "fileobjects", "images", "memory", "messages", "metrics", "models",
                         "official", "pipeline", "progress", "resolve", "text", "train"})

__all__ = [
    "__version__",
    "compress",
    "compress_image",
    "compress_batch",
    "decompress",
    "info",
    "CompressResult",
    "TacoFile",
    "TacoError",
    "TacoValueError",
    "TacoWarning",
    "ImageSizeError",
    "SizeBudgetError",
    "TacoFormatError",
    "ImageReadError",
    "ImageConversionWarning",
    "ImageFileWarning",
    "OutOfMemoryError",
    "CaptionTruncatedWarning",
    "CaptionTooLongError",
    "CaptionTextError",
    "TextEncoderUnavailable",
    "BackboneError",
    "create_model",
    "load",
    "save_checkpoint",
    "list_models",
    "DEFAULT_MODEL",
    "CheckpointError",
    "ELIC",
    "TACO",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers (they import nothing here)
    from taco.bitstream import (
        TacoFile as TacoFile,
        TacoFormatError as TacoFormatError,
        info as info,
    )
    from taco.codec import (
        CompressResult as CompressResult,
        compress as compress,
        compress_image as compress_image,
        decompress as decompress,
    )
    from taco.errors import (
        BackboneError as BackboneError,
        CaptionTextError as CaptionTextError,
        CaptionTooLongError as CaptionTooLongError,
        CaptionTruncatedWarning as CaptionTruncatedWarning,
        ImageSizeError as ImageSizeError,
        SizeBudgetError as SizeBudgetError,
        TacoError as TacoError,
        TacoValueError as TacoValueError,
        TacoWarning as TacoWarning,
        TextEncoderUnavailable as TextEncoderUnavailable,
    )
    from taco.images import (
        ImageConversionWarning as ImageConversionWarning,
        ImageFileWarning as ImageFileWarning,
        ImageReadError as ImageReadError,
    )
    from taco.memory import (
        OutOfMemoryError as OutOfMemoryError,
    )
    from taco.models import (
        ELIC as ELIC,
        TACO as TACO,
        CheckpointError as CheckpointError,
        create_model as create_model,
        list_models as list_models,
        load as load,
        save_checkpoint as save_checkpoint,
    )
    from taco.pipeline import (
        compress_batch as compress_batch,
    )
    from taco.resolve import (
        DEFAULT_MODEL as DEFAULT_MODEL,
    )

    from . import (
        bitstream as bitstream,
        codec as codec,
        data as data,
        demo as demo,
        devices as devices,
        errors as errors,
        evaluation as evaluation,
        fileobjects as fileobjects,
        images as images,
        memory as memory,
        messages as messages,
        metrics as metrics,
        models as models,
        official as official,
        pipeline as pipeline,
        progress as progress,
        resolve as resolve,
        text as text,
        train as train,
    )

if not TYPE_CHECKING:  # hidden from type checkers: a misspelled name is an error there, not Any
    __getattr__, __dir__ = lazy_names(__name__, _LAZY, globals(), _SUBMODULES)
