"""``taco demo``: the main job on a built-in default, end to end and offline.

Compress a built-in sample photo with its caption, decode it without the caption, measure bpp,
PSNR, LPIPS, encode/decode times and file sizes, the same for JPEG, WebP and AVIF at the nearest
file size they can make, and write the reconstruction and a side-by-side PNG (the command prints
them: :mod:`taco.cli.demo`).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from . import samples
from .atomic import write_bytes_atomic
from .errors import TacoValueError
from .fileobjects import own_file_problem
from .messages import shown_path
from .suffixes import DECODED_SUFFIX

if TYPE_CHECKING:
    from torch import Tensor

SAMPLE = "skimage-chelsea.png"


def sample_dir() -> Path:
    """The folder of the sample photos the package ships (with their captions.jsonl and
    SOURCES.md), wherever taco is installed: :data:`taco.samples.SAMPLES_DIR` (kept for the
    README's examples; taco itself uses :mod:`taco.samples`)."""
    return samples.SAMPLES_DIR


def image_path(item: str) -> Path:
    """The image an ``--image`` (``taco demo``) or ``--images`` item (``taco bench``) names: a
    file, a pipe or a device (which :func:`~taco.images.load_image` reads, as ``<(cat x.png)``,
    or refuses in its own words, as it does a path it cannot look at), else the shipped sample
    photo of that name (``skimage-coffee.png``: :func:`taco.samples.sample_names`; a folder or a
    dangling link of a sample's name does not hide it), else a dangling link (load_image says
    so); an :class:`~taco.images.ImageReadError` for a folder, in load_image's words, or for
    nothing of that name, listing the samples. No torch is imported: both commands check their
    images with it before a model loads. Not for standard input (``-``)."""
    from .images import FOLDER_NOT_IMAGE, ImageReadError

    path = Path(item)
    try:
        is_folder: bool | None = stat.S_ISDIR(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        is_folder = None
    except OSError:  # too long a name, no permission: load_image says it as it says it
        return path
    if is_folder is False:
        return path
    names = samples.sample_names()
    if item in names:
        return samples.SAMPLES_DIR / item
    if is_folder:
        raise ImageReadError(item, FOLDER_NOT_IMAGE)
    if os.path.lexists(path):  # a link to nothing: load_image says so
        return path
    raise ImageReadError(item, f"no such file, and not a sample ({', '.join(names)})")


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """``left`` and ``right`` (RGB, as :func:`taco.images.to_rgb` gives them) side by side, 8 px
    apart on white."""
    canvas = Image.new("RGB", (left.width + right.width + 8, max(left.height, right.height)), "white")
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width + 8, 0))
    return canvas


#: Where ``taco demo`` writes: its own folder, whose files each run replaces.
DEFAULT_OUTPUT = Path("taco-demo")


def demo_files(out_dir: Path, image: str | None = None) -> list[Path]:
    """The files :func:`run_demo` writes for ``image`` (None: the sample) into ``out_dir``: the
    ``.taco`` file, the decoded PNG and the side-by-side PNG, named after the image."""
    stem = Path(image).stem if image else Path(SAMPLE).stem
    return [out_dir / f"{stem}.taco", out_dir / f"{stem}{DECODED_SUFFIX}",
            out_dir / f"{stem}.side-by-side.png"]


def linked_demo_file(files: list[Path]) -> str | None:
    """Why the demo will not write ``files`` (:func:`demo_files`, names of its own in its
    folder), in one line, or None: one of them is a symbolic link, dangling or not
    (:func:`taco.fileobjects.own_file_problem`). A link planted in a demo folder would have the
    demo replace whatever file it names."""
    for f in files:
        why = own_file_problem(f, writer=f"the demo writes its own files in {shown_path(f.parent)}",
                               otherwise="give another -o FOLDER")
        if why is not None:
            return why
    return None


def run_demo(
    model_name: str | None = None,
    image: str | None = None,
    caption: str | None = None,
    out_dir: Path = DEFAULT_OUTPUT,
    notify: Callable[[str], None] | None = None,
    replace: bool = True,
    caption_note: str | None = None,
) -> dict[str, Any]:
    """Run the demo and write its files; return the numbers, the files written and the notes for
    the user (``notes``, each also given to ``notify`` as soon as it is known: before the
    coding), for :mod:`taco.cli.demo` to print (``classic``: :func:`classic_at_same_size`;
    ``quality`` the rate quality a variable-rate model coded at, its default, of ``qualities``;
    both 0 for a single-rate model).
    ``replace`` False: a file of the demo's that exists when it is written (another process
    wrote it during the work) is kept, and a :class:`FileExistsError` names it. A file of the
    demo's that is a symbolic link is a :class:`~taco.errors.TacoValueError`, with or without
    ``replace``, before any work (:func:`linked_demo_file`): its names are its own.

    ``caption`` None: the sample's own caption, or for an ``image`` none (an empty caption);
    ``caption_note`` is then one of the notes when the model reads text (the caller's words,
    as :func:`taco.cli.inputs.uncaptioned_note` gives them for ``taco demo``; None: no note)."""
    from .codec import compress_image, decompress, encode_text
    from .colour import conversion_warning
    from .images import ConversionNotes, image_file_bytes, image_to_tensor, load_image, to_rgb
    from .resolve import resolve_model

    if (why := linked_demo_file(demo_files(out_dir, image))) is not None:  # before any work
        raise TacoValueError(why)
    src = image_path(image) if image else samples.SAMPLES_DIR / SAMPLE
    uncaptioned = image is not None and caption is None
    if caption is None:
        caption = samples.sample_caption(src.name) if image is None else ""
    original = load_image(src)  # read once: src can be a pipe
    resolved = resolve_model(model_name)
    model, name = resolved.model, resolved.spec
    notes = [resolved.note] if resolved.note else []
    if uncaptioned and model.uses_text and caption_note:
        notes.append(caption_note)
    if notify is not None:
        for note in notes:
            notify(note)

    t0 = time.perf_counter()
    if model.uses_text:
        encode_text(model, [caption])  # load the text encoder once; its load time is reported apart
    load_ms = 1000 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    with ConversionNotes() as said:
        res = compress_image(original, caption, model)
    enc_ms = 1000 * (time.perf_counter() - t0)
    # compress_image's warnings (to_rgb's) named as load_image's are: a first frame or a turned
    # image is a copy, which has no file name, and they said none
    name = f"{shown_path(src)}: "
    for text, category in said:
        conversion_warning(text if text.startswith(name) else name + text, category)
    t0 = time.perf_counter()
    recon = decompress(res.data, model)  # no caption here
    dec_ms = 1000 * (time.perf_counter() - t0)

    # Compared and shown as compress converts them (a 16-bit grey image scaled to 8 bits, not
    # clipped to white by convert("RGB")); compress_image has given the warnings, once.
    with ConversionNotes():
        rgb, recon_rgb = to_rgb(original)[0], to_rgb(recon)[0]
    paths = demo_files(out_dir, image)
    contents = [res.data, image_file_bytes(recon, "PNG"),
                image_file_bytes(side_by_side(rgb, recon_rgb), "PNG")]  # all made first
    if (why := linked_demo_file(paths)) is not None:  # a link made during the work
        raise TacoValueError(why)
    for path, data in zip(paths, contents, strict=True):  # each whole or not at all (a Ctrl-C, a full disk)
        write_bytes_atomic(path, data, replace=replace)
    taco_path, recon_path, side_path = paths

    x = image_to_tensor(rgb)
    return {
        "model": getattr(model, "model_id", name),
        "trained": resolved.trained,
        "reads_text": model.uses_text,
        "image": str(src),
        "caption": caption,
        "size": f"{res.width}x{res.height}",
        "source_bytes": original.info["source_bytes"],
        "source_format": original.info["source_format"],
        "taco_bytes": len(res.data),
        "bpp": res.bpp,
        "quality": res.quality,  # 0: a single-rate model
        "qualities": len(model.qualities or ()),
        **psnr_lpips(x, image_to_tensor(recon_rgb)),
        "encode_ms": enc_ms,
        "decode_ms": dec_ms,
        "text_encoder_load_ms": load_ms,
        "classic": classic_at_same_size(rgb, x, res.bpp),
        "files": [str(taco_path), str(recon_path), str(side_path)],
        "notes": notes,
    }


def psnr_lpips(x: Tensor, y: Tensor) -> dict[str, float]:
    """PSNR (dB) and LPIPS-Alex of one pair; LPIPS NaN for an image too small for it."""
    from .metrics import compute_metrics

    m = compute_metrics(x, y, ("psnr", "lpips"))
    assert m.psnr is not None and m.lpips is not None
    return {"psnr_db": float(m.psnr[0]), "lpips_alex": float(m.lpips[0])}


def classic_at_same_size(rgb: Image.Image, x: Tensor, bpp: float) -> dict[str, dict[str, Any]]:
    """JPEG, WebP and AVIF (those Pillow can write here) at the quality whose file is nearest to
    ``bpp``: {label: bytes, bpp, quality, PSNR, LPIPS} against the original ``x`` (1, 3, H, W),
    or {label: {"not_applicable": why}} for a format that cannot hold the image (WebP over
    16,383 px a side)."""
    from .bitstream import bits_per_pixel
    from .evaluation.classic import CodecUnavailable, code_at_bpp, get_codec
    from .images import image_to_tensor

    out: dict[str, dict[str, Any]] = {}
    for name in ("jpeg", "webp", "avif"):
        try:
            codec = get_codec(name)
        except CodecUnavailable:
            continue
        if why := codec.too_large(rgb):
            out[codec.label] = {"not_applicable": why}
            continue
        quality, data, decoded = code_at_bpp(codec, rgb, bpp)
        out[codec.label] = {"bytes": len(data), "bpp": bits_per_pixel(len(data), rgb.width * rgb.height),
                            "quality": quality, **psnr_lpips(x, image_to_tensor(decoded))}
    return out
