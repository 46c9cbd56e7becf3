"""The file suffixes taco reads as images, and the images of a folder, in one place for the
command line (which must import nothing heavy to list a folder) and the datasets.

Pillow reads all of them (AVIF since Pillow 11.3); HEIC/HEIF through the ``pillow-heif`` plugin,
the ``heif`` extra (:func:`taco.images.load_image` says how to get it when it is missing).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DECODED_SUFFIX", "HEIF_SUFFIXES", "IMAGE_SUFFIXES", "folder_images"]

#: HEIC/HEIF photos (a phone camera's default; ``.hif`` is what Canon and Fujifilm cameras name
#: them), read through ``pillow-heif``.
HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif"})

#: Every suffix taco reads as an image, lower case with the dot: those of a format it reads also
#: under its other names (``.jfif``/``.jpe`` JPEG, ``.pbm``/``.pnm``/``.pfm`` netpbm, ``.apng``, an
#: animated PNG, whose first frame is coded), ``.mpo``, the multi-picture JPEG of phones and 3D
#: cameras (its first picture is coded), and JPEG 2000 (``.jp2``, ``.j2k``), TGA and QOI, which
#: ``taco decompress`` writes too (a folder of its outputs is read whole).
IMAGE_SUFFIXES = frozenset({".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".webp",
                            ".avif", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm",
                            ".pnm", ".pfm", ".jp2", ".j2k", ".tga", ".qoi"}) | HEIF_SUFFIXES

#: What ``taco decompress`` writes beside a file (``NAME.decoded.png``); ``taco compress`` leaves
#: such images out when it reads a folder, so it does not compress its own outputs again.
DECODED_SUFFIX = ".decoded.png"


def folder_images(root: Path) -> list[str]:
    """The names of the image files in ``root``, sorted: files (not folders) with an image suffix
    (:data:`IMAGE_SUFFIXES`), leaving out ``NAME.decoded.png``, what ``taco
    decompress`` writes beside a file (:data:`DECODED_SUFFIX`), as ``taco
    compress`` leaves it out of a folder: a folder where ``taco decompress`` ran holds its photos
    once. Hidden files are left out too, as ``taco compress`` does (macOS's ``._NAME.jpg`` beside
    each photo copied from its disks is not an image). (A captions file that lists such a file
    by name still has it.)"""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.endswith(DECODED_SUFFIX)
        and not p.name.startswith(".") and p.is_file()
    )
