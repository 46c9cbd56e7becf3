"""The versioned ``.taco`` container (see docs/format.md)."""

from .container import (
    BUILTIN_MODEL_IDS,
    FORMAT_VERSION,
    MAGIC,
    MAX_SIDE,
    TacoFile,
    TacoFormatError,
    TacoHeader,
    TacoLike,
    TacoSummary,
    bits_per_pixel,
    info,
    load_taco,
    pack,
    summarize,
    taco_bytes,
    unpack,
)

__all__ = ["BUILTIN_MODEL_IDS", "FORMAT_VERSION", "MAGIC", "MAX_SIDE", "TacoFile", "TacoFormatError",
           "TacoHeader", "TacoLike", "TacoSummary", "bits_per_pixel", "info", "load_taco", "pack",
           "summarize", "taco_bytes", "unpack"]
