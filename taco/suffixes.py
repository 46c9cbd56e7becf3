"""The file suffixes taco reads as images, the images of a folder and the check that a folder
is one (:func:`check_image_folder`), in one place for the command line (which must import
nothing heavy to list or check a folder) and the datasets.

Pillow reads all of them (AVIF since Pillow 11.3); HEIC/HEIF through the ``pillow-heif`` plugin,
the ``heif`` extra (:func:`taco.images.load_image` says how to get it when it is missing).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .messages import shown_path

__all__ = ["DECODED_SUFFIX", "HEIF_SUFFIXES", "IMAGE_SUFFIXES", "check_image_folder", "decoded_outputs",
           "folder_images"]

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
#: such images out of a folder when their source is beside them (:func:`decoded_outputs`), so it
#: does not compress its own outputs again.
DECODED_SUFFIX = ".decoded.png"


def decoded_outputs(names: Iterable[str], suffix: str = DECODED_SUFFIX) -> set[str]:
    """Of ``names``, those of one folder, the ones that are ``taco decompress``'s outputs:
    ``NAME.decoded.png`` (``NAME`` + ``suffix``, :data:`DECODED_SUFFIX`) with its source beside
    it, ``NAME.taco`` or ``NAME.<image suffix>`` (an image whose ``.taco`` was decoded beside it), or ``NAME`` itself
    when it is such a file (``a.jpg.decoded.png``, the whole-name output of ``a.jpg.taco``).
    Names are matched in any case, as image suffixes are. Any other ``*.decoded.png`` (a photo
    named so, or one copied away from its source) is an image like any."""
    names = list(names)
    end = suffix.lower()
    sources: set[str] = set()
    for name in names:
        key = name.lower()
        kind = Path(key).suffix
        if kind in IMAGE_SUFFIXES or kind == ".taco":
            sources.update((key, key[: -len(kind)]))
    return {name for name in names if name.lower().endswith(end) and name.lower()[: -len(end)] in sources}


def folder_images(root: Path) -> list[str]:
    """The names of the image files in ``root``, sorted: files (not folders) with an image suffix
    (:data:`IMAGE_SUFFIXES`), leaving out ``NAME.decoded.png`` beside its source, what ``taco
    decompress`` writes (:func:`decoded_outputs`), as ``taco compress`` leaves it out of a
    folder: a folder where ``taco decompress`` ran holds its photos once. Hidden files are left out too, as ``taco compress`` does (macOS's ``._NAME.jpg`` beside
    each photo copied from its disks is not an image). (A captions file that lists such a file
    by name still has it.)"""
    entries = list(root.iterdir())
    outputs = decoded_outputs(p.name for p in entries)
    return sorted(
        p.name
        for p in entries
        if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in outputs
        and not p.name.startswith(".") and p.is_file()
    )


def check_image_folder(root: str | os.PathLike[str]) -> None:
    """Refuse a ``root`` that is no folder of images (``taco train``'s data), in one line:
    ``ROOT: no such folder`` (a relative one with the working
    directory it was looked for in) as a FileNotFoundError; for a file, a NotADirectoryError
    saying what it is: ``ROOT: an image file, not a folder of images; put the image in a folder
    of its own``, a ``.taco`` file (with the commands that read one), ``a file`` or, for
    anything else there, ``not a folder``. Looks at the name only: no file is read, no torch
    imported (``taco train`` refuses a missing ``data.root`` before torch loads)."""
    root = Path(root)
    if os.path.isdir(root):  # os.path: no OSError (a name too long) raised
        return
    shown = shown_path(root)
    if os.path.isfile(root):
        suffix = root.suffix.lower()
        what = ("a .taco file, not a folder of images; `taco info` and `taco decompress` read "
                ".taco files" if suffix == ".taco" else
                "an image file, not a folder of images; put the image in a folder of its own"
                if suffix in IMAGE_SUFFIXES else "a file, not a folder of images")
        raise NotADirectoryError(f"{shown}: {what}")
    if os.path.lexists(root):
        raise NotADirectoryError(f"{shown}: not a folder")
    where = "" if root.is_absolute() else f" (in {Path.cwd()})"
    raise FileNotFoundError(f"{shown}: no such folder{where}")
