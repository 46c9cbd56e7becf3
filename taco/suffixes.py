"""The file suffixes taco reads as images, the images of a folder and the check that a folder
is one (:func:`check_image_folder`), in one place for the command line (which must import
nothing heavy to list or check a folder) and the datasets.

Pillow reads all of them (AVIF since Pillow 11.3); HEIC/HEIF through the ``pillow-heif`` plugin,
the ``heif`` extra (:func:`taco.images.load_image` says how to get it when it is missing).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath

from .messages import count, shown_path, some

__all__ = ["DECODED_SUFFIX", "HEIF_SUFFIXES", "IMAGE_SUFFIXES", "SIDE_BY_SIDE_SUFFIX", "check_image_folder",
           "decoded_outputs", "decoded_skipped", "folder_images", "image_subfolders", "made_by",
           "subfolders_not_searched"]

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

#: What ``taco demo`` writes beside its ``NAME.taco`` and ``NAME.decoded.png``: the photo and its
#: reconstruction side by side (``NAME.side-by-side.png``), left out of a folder beside its
#: source as ``NAME.decoded.png`` is (:func:`decoded_outputs`).
SIDE_BY_SIDE_SUFFIX = ".side-by-side.png"


def decoded_outputs(names: Iterable[str], suffix: str = DECODED_SUFFIX) -> set[str]:
    """Of ``names``, those of one folder, the ones that are taco's decoded outputs:
    ``NAME.decoded.png`` (``NAME`` + ``suffix``, :data:`DECODED_SUFFIX`), what ``taco
    decompress`` writes, and ``NAME.side-by-side.png`` (:data:`SIDE_BY_SIDE_SUFFIX`), what ``taco
    demo`` writes beside it, each with its source beside it: ``NAME.taco`` or ``NAME.<image
    suffix>`` (an image whose ``.taco`` was decoded beside it), or ``NAME`` itself when it is
    such a file (``a.jpg.decoded.png``, the whole-name output of ``a.jpg.taco``).
    Names are matched in any case, as image suffixes are. Any other ``*.decoded.png`` or
    ``*.side-by-side.png`` (a photo named so, or one copied away from its source) is an image
    like any."""
    names = list(names)
    ends = tuple({suffix.lower(), SIDE_BY_SIDE_SUFFIX})
    sources: set[str] = set()
    for name in names:
        key = name.lower()
        kind = Path(key).suffix
        if kind in IMAGE_SUFFIXES or kind == ".taco":
            sources.update((key, key[: -len(kind)]))
    return {name for name in names for end in ends
            if name.lower().endswith(end) and name.lower()[: -len(end)] in sources}


def made_by(names: Iterable[str]) -> str:
    """The commands that wrote taco's outputs ``names`` (:func:`decoded_outputs`), for a message
    naming them: ``taco decompress`` (``*.decoded.png``), ``taco demo``
    (``*.side-by-side.png``) or both."""
    demo = [n.lower().endswith(SIDE_BY_SIDE_SUFFIX) for n in names]
    return " and ".join(c for c, there in (("taco decompress", not all(demo)), ("taco demo", any(demo))) if there)


def decoded_skipped(names: Collection[str]) -> str:
    """What follows "no images in FOLDER" where the folder's only images were taco's outputs
    beside their sources (``names``, :func:`decoded_outputs`), which a folder's images leave out
    on purpose: ``; skipped 2 decoded outputs (*.decoded.png) of taco decompress beside their
    sources (a.decoded.png, b.decoded.png)``, with ``taco demo``'s ``*.side-by-side.png`` named
    where there are any; "" for none."""
    if not names:
        return ""
    demo = any(n.lower().endswith(SIDE_BY_SIDE_SUFFIX) for n in names)
    patterns = ", ".join(p for p, there in ((f"*{DECODED_SUFFIX}", made_by(names) != "taco demo"),
                                            (f"*{SIDE_BY_SIDE_SUFFIX}", demo)) if there)
    whose = "its source" if len(names) == 1 else "their sources"
    return (f"; skipped {count(len(names), 'output' if demo else 'decoded output')} ({patterns}) of "
            f"{made_by(names)} beside {whose} ({some(sorted(names))})")


def folder_images(root: Path) -> list[str]:
    """The names of the image files in ``root``, sorted: files (not folders) with an image suffix
    (:data:`IMAGE_SUFFIXES`), leaving out ``NAME.decoded.png`` beside its source, what ``taco
    decompress`` writes, and ``NAME.side-by-side.png`` beside it, what ``taco demo`` writes too
    (:func:`decoded_outputs`), as ``taco compress`` leaves them out of a folder: a folder where
    ``taco decompress`` or ``taco demo`` ran holds its photos once. Hidden files are left out too, as ``taco compress`` does (macOS's ``._NAME.jpg`` beside
    each photo copied from its disks is not an image). (A captions file that lists such a file
    by name still has it.) Subfolders are not searched: :func:`image_subfolders` names those
    holding images, for a dataset to say so."""
    entries = list(root.iterdir())
    outputs = decoded_outputs(p.name for p in entries)
    return sorted(
        p.name
        for p in entries
        if p.suffix.lower() in IMAGE_SUFFIXES and p.name not in outputs
        and not p.name.startswith(".") and p.is_file()
    )


def image_subfolders(root: str | os.PathLike[str], listed: Iterable[str] = ()) -> list[Path]:
    """The subfolders of ``root`` whose images :func:`folder_images` leaves out (it reads the
    folder's top level only, as ``taco compress`` does), sorted: those not hidden that hold an
    image file at any depth (hidden folders under them are not looked in; the walk stops at the
    first image), not counting taco's own outputs: those :func:`folder_images` leaves out
    (:func:`decoded_outputs`) and its figures, a ``NAME.png`` with ``NAME.svg`` beside it (``taco
    plot`` and ``taco evaluate`` write ``rd.png`` and ``rd.svg``), so a folder of ``taco
    compress``/``decompress``/``demo`` outputs or of ``taco evaluate``'s results is none; but
    for a subfolder ``listed`` names an image in (names inside ``root``, as a captions file's
    ``sub/photo.jpg``: its images are read by that name). A folder that cannot be listed is
    none."""
    named = {PurePosixPath(name).parts[0] for name in listed if "/" in name}
    try:
        with os.scandir(root) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            if entry.name.startswith(".") or entry.name in named or not entry.is_dir():
                continue
        except OSError:
            continue
        if _holds_images(entry.path):
            found.append(Path(entry.path))
    return found


def _holds_images(folder: str) -> bool:
    """Whether ``folder`` holds an image file (:data:`IMAGE_SUFFIXES`, not hidden) at any depth,
    links to folders not followed, leaving out taco's own outputs (:func:`image_subfolders`)."""
    for _, dirs, files in os.walk(folder):
        outputs = decoded_outputs(files)
        svgs = {f.lower()[:-4] for f in files if f.lower().endswith(".svg")}
        if any(Path(f).suffix.lower() in IMAGE_SUFFIXES and not f.startswith(".") and f not in outputs
               and not (f.lower().endswith(".png") and f.lower()[:-4] in svgs) for f in files):
            return True
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return False


def subfolders_not_searched(subfolders: Sequence[Path], captions_file: str) -> str:
    """What a dataset says of the ``subfolders`` whose images it left out
    (:func:`image_subfolders`): ``2 subfolders with images, not searched (deep/2023, deep/2024);
    a captions.jsonl naming SUB/PHOTO.jpg brings one in`` (``captions_file``: the folder's
    captions file's name), the words ``taco compress`` notes them with; "" for none."""
    if not subfolders:
        return ""
    return (f"{count(len(subfolders), 'subfolder')} with images, not searched ({some(subfolders)}); "
            f"a {captions_file} naming SUB/PHOTO.jpg brings {'its' if len(subfolders) == 1 else 'their'} "
            "photos in")


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
