"""The versioned ``.taco`` container (see docs/format.md)."""

from .container import (
    FORMAT_VERSION,
    MAGIC,
    MAX_SIDE,
    TacoFile,
    TacoFormatError,
    TacoHeader,
    pack,
    unpack,
)

__all__ = ["FORMAT_VERSION", "MAGIC", "MAX_SIDE", "TacoFile", "TacoFormatError", "TacoHeader",
           "pack", "unpack"]
