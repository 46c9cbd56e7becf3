"""What a file given as a checkpoint is, when it is not one: a ``.taco`` file
(:data:`TACO_MAGIC`), an image (:func:`image_kind`), or text -- a Git LFS pointer (the
repository was cloned without ``git lfs``), an HTML page (a download that saved the error page),
or other text. Said in place of the reader's own words, which describe the file's bytes as a
pickle ("Unsupported operand 118") or a safetensors header ("header too large"). Imports nothing
but the standard library (the bottom layer).
"""

from __future__ import annotations

import os
import stat

__all__ = ["HEIF_BRANDS", "IMAGE_SIGNATURES", "TACO_MAGIC", "TEXT_HEAD_BYTES", "WEIGHT_SUFFIXES", "file_head",
           "image_file_problem", "image_kind", "text_file_problem", "text_weights_problem"]

#: The first bytes of every ``.taco`` file (:mod:`taco.bitstream.container`: ``MAGIC``).
TACO_MAGIC = b"TACO"
#: The first bytes of the image files a .taco file or a checkpoint is most often mistaken for.
IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "a PNG"), (b"\xff\xd8\xff", "a JPEG"), (b"GIF8", "a GIF"),
                    (b"BM", "a BMP"), (b"II*\x00", "a TIFF"), (b"MM\x00*", "a TIFF"))
#: The major brands of a HEIC/HEIF file (its bytes 8..12, after ``ftyp``): images (heic, heix,
#: heim, heis, mif1) and image sequences (hevc, hevx, msf1). The one list: :func:`image_kind`
#: names such a file, and :mod:`taco.images` tells a HEIF without a name (piped in) by it.
HEIF_BRANDS = frozenset((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"))

#: The suffixes of a model folder's weight files (transformers' ``model.safetensors``,
#: ``pytorch_model.bin`` and their shards), which :func:`text_weights_problem` reads.
WEIGHT_SUFFIXES = (".safetensors", ".bin")
#: How many bytes :func:`text_file_problem` reads from the start of a file.
TEXT_HEAD_BYTES = 512

_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_CONTROL = {c for c in range(32) if chr(c) not in "\t\n\r\f"} | {127}


def image_kind(head: bytes) -> str | None:
    """"a PNG", "a WebP", ... when ``head`` (a file's first 16 bytes) starts an image file."""
    for signature, kind in IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "an AVIF"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "a HEIF"
    return None


def file_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first ``size`` bytes of the file at ``path`` (fewer for a shorter one), a regular
    file read no further than its size says: none from one that ``stat`` calls empty, as
    ``/proc/kmsg`` is, whose read waits for ever. An ``OSError`` opening or reading it is raised."""
    with open(path, "rb") as f:
        info = os.fstat(f.fileno())
        count = min(size, info.st_size) if stat.S_ISREG(info.st_mode) else size
        return f.read(count) if count else b""


def image_file_problem(path: str | os.PathLike[str]) -> str | None:
    """One line saying that ``path`` is a ``.taco`` file or an image, not a checkpoint, by its
    first bytes (:data:`TACO_MAGIC`, :func:`image_kind`); None for another file or one that
    cannot be read. The one wording wherever a model or checkpoint is read: torch.load described
    their bytes as a pickle ("Unsupported operand 84"), safetensors as a header ("header too
    large")."""
    try:
        head = file_head(path, 16)
    except OSError:
        return None
    if head.startswith(TACO_MAGIC):
        return "a .taco file (a compressed image), not a checkpoint: taco decompress reads it"
    image = image_kind(head)
    return f"{image} image, not a checkpoint" if image else None


def text_file_problem(path: str | os.PathLike[str]) -> str | None:
    """One line saying that ``path`` is a text file, not a checkpoint (what kind, and what to do
    for a Git LFS pointer); None for a file that is not text, an empty one or one that cannot be
    read (the caller's own message stands)."""
    try:
        head = file_head(path, TEXT_HEAD_BYTES)
    except OSError:
        return None
    if not head or any(b in _CONTROL for b in head):
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not a character cut at the end of the head
            return None
        text = head[: exc.start].decode("utf-8")
    if head.startswith(_LFS_POINTER):
        return ("a text file, not a checkpoint: a Git LFS pointer (run `git lfs pull` in its "
                "repository to fetch the file itself)")
    start = text.lstrip().lower()
    if start.startswith(("<!doctype html", "<html")) or "<html" in start:
        return "a text file, not a checkpoint: an HTML page (a failed download?)"
    first = (text.strip().splitlines() or [""])[0]
    return f"a text file, not a checkpoint (it starts {first[:40]!r})"


def text_weights_problem(folder: str | os.PathLike[str]) -> str | None:
    """One line naming the first weight file of the model folder ``folder`` that is text
    (:func:`text_file_problem`): ``model.safetensors is a text file, not a checkpoint: a Git LFS
    pointer (...)``; None when there is none or the folder cannot be listed. The files checked
    are those a loader reads, as transformers chooses them: ``model.safetensors`` where there is
    one, else the other safetensors files (shards), else the ``.bin`` ones (a clone that pulled
    only ``model.safetensors`` keeps a pointer for ``pytorch_model.bin``, which nothing reads)."""
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(WEIGHT_SUFFIXES))
    except OSError:
        return None
    safetensors = [n for n in names if n.endswith(".safetensors")]
    read = ["model.safetensors"] if "model.safetensors" in safetensors else safetensors or names
    for name in read:
        problem = text_file_problem(os.path.join(folder, name))
        if problem is not None:
            return f"{name} is {problem}"
    return None
