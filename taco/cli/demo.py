"""``taco demo``: compress and decode a sample photo, beside JPEG, WebP and AVIF."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from ..messages import count, note, shown_path
from .common import COMMAND_HELP, MODEL_HELP, CLIError, path_arg
from .files import check_folder, refuse_stdin, refuse_stdout, report_to
from .inputs import CaptionSource, caption_file_note, refuse_taco_input, uncaptioned_note


def register(sub: Any) -> None:
    """Add ``taco demo`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    m = sub.add_parser("demo", help=COMMAND_HELP["demo"],
                       description="Compress a built-in sample photo with its caption, decode it "
                       "without the caption, print bpp/PSNR/LPIPS/timings, the same for JPEG, "
                       "WebP and AVIF at the nearest file size they make, and write the "
                       "reconstruction and a side-by-side PNG.")
    m.add_argument("-m", "--model", default=None, type=path_arg, help=MODEL_HELP)
    m.add_argument("--image", type=path_arg, help="use this image instead of the built-in sample: a "
                   "file, else a built-in sample's name (skimage-coffee.png, as taco bench --images takes it)")
    m.add_argument("--caption", help="caption, for the sample or --image (default: the sample's "
                   "own; for --image, its sidecar IMAGE.txt or a captions.jsonl beside it, as "
                   "compress finds them)")
    m.add_argument("-o", "--output", default=None, type=path_arg,
                   help="output folder (default: taco-demo, the demo's own, whose files each run "
                        "replaces; in another folder existing files are kept unless --force)")
    m.add_argument("-f", "--force", action="store_true", help="replace existing files in --output")
    m.file_option = "--image"  # `taco demo a.png`: its refusal names --image (taco.cli.CommandParser)
    m.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    refuse_stdout(args.output, "demo", "a folder of files", "taco-demo")
    refuse_stdin([args.image], "demo")
    caption, caption_note = args.caption, None
    mixed_up = caption_file_note(caption, captions_option=False)  # --caption FILE: a file's name coded
    if mixed_up:
        note("demo", mixed_up)
    if args.image:  # a .taco named by mistake: say what it is, as compress does
        refuse_taco_input(Path(args.image))
    check_demo_inputs(args.image, args.model)  # before its caption is looked up beside it
    if args.image and caption is None:  # the caption compress would find for it (None: none)
        from ..demo import image_path

        source = CaptionSource(None, None)
        src = image_path(args.image)  # a sample's name: the sample, with its caption
        caption = source(src)
        # said (when the model reads text) in compress's words: one builder of the note
        caption_note = uncaptioned_note([src], [caption], lookup=source.lookup,
                                        captions_option=False)
    from ..demo import DEFAULT_OUTPUT, demo_files, run_demo
    from ..images import ImageReadError, cap_refusal

    out_dir = DEFAULT_OUTPUT if args.output is None else Path(args.output)
    replace = args.force or out_dir.resolve() == DEFAULT_OUTPUT.resolve()
    files = check_demo_files(out_dir, demo_files(out_dir, args.image), replace)
    from ..atomic import remove_stale_temporaries

    remove_stale_temporaries(files)  # a killed run's, not a running one's
    try:
        result = run_demo(model_name=args.model, image=args.image, caption=caption,
                          out_dir=out_dir, notify=lambda text: note("demo", text), replace=replace,
                          caption_note=caption_note)
    except ImageReadError as exc:  # over the cap: the demo has no option to lift it
        if exc.size is None or exc.max_pixels is None:
            raise
        raise ImageReadError(args.image or "", cap_refusal(*exc.size, exc.max_pixels, "")) from None
    except FileExistsError as exc:
        if exc.filename not in {str(f) for f in files}:
            raise
        raise CLIError(f"{shown_path(exc.filename)} exists (written meanwhile, by another process?): "
                       "--force replaces it") from None
    report_to(files)("\n".join(demo_lines(result)))  # a line that cannot be printed names <stdout>
    return 0


def check_demo_inputs(image: str | None, model: str | None) -> None:
    """Refuse a missing ``--image`` (or a folder) and a ``--model`` that names nothing, before torch loads
    (seconds), in the words :func:`taco.demo.run_demo` says them in: an
    :class:`~taco.images.ImageReadError`, then the CheckpointError of
    :func:`~taco.models.registry.locate_model` (``--model``'s lookup,
    :func:`taco.resolve.resolve_model`). The image is not read here: it may be a pipe."""
    from ..demo import image_path
    from ..models.registry import locate_model
    from ..resolve import DEFAULT_MODEL

    if image is not None:  # a file, else a shipped sample's name, as taco bench --images takes it
        image_path(image)
    locate_model(model or DEFAULT_MODEL)


def check_demo_files(out_dir: Path, files: list[Path], replace: bool) -> list[Path]:
    """``files``, the demo's, once they can be written into ``out_dir`` (before the model loads
    and the work; a missing folder is made by the first file written: a demo that fails before
    its writes leaves none), else a one-line :class:`CLIError`: one of them is a symbolic link
    (never written through: the names are the demo's own), the folder cannot be written, a folder is in the way of a file, or (unless ``replace``) some of them
    exist: all of them (an earlier demo's, or a user's files of the same names), or some only
    (a run that stopped part way, or a user's file; said so)."""
    from ..demo import linked_demo_file

    check_folder(out_dir, create=True)
    if (why := linked_demo_file(files)) is not None:  # dangling or not, --force or not
        raise CLIError(why)
    for f in files:
        if f.is_dir() and not f.is_symlink():
            raise CLIError(f"{shown_path(f)} is a folder, where the demo writes a file: give another -o FOLDER")
    existing = [f for f in files if f.exists() or f.is_symlink()]
    if not existing or replace:
        return files
    if len(existing) < len(files):
        there = " and ".join([str(existing[0]), *(f.name for f in existing[1:])])
        missing = " or ".join(f.name for f in files if f not in existing)
        exist, them = ("exists", "it") if len(existing) == 1 else ("exist", "them")
        raise CLIError(f"{there} {exist}, not {missing}: {len(existing)} of the demo's "
                       f"{count(len(files), 'file')} (from a demo that stopped part way, or a file of "
                       f"yours?); pass --force to replace {them}, or give another -o FOLDER")
    raise CLIError(f"{shown_path(existing[0])} exists: the demo writes {', '.join(f.name for f in files)} "
                   f"into {out_dir}; pass --force to replace them, or give another -o FOLDER")


def demo_lines(r: dict[str, Any]) -> list[str]:
    """What ``taco demo`` prints of :func:`taco.demo.run_demo`'s result, each file named as
    :func:`~taco.messages.shown_path` names it."""
    taco_path = r["files"][0]
    lines = [f"model      {r['model']}" + ("" if r["trained"] else "  (UNTRAINED: random weights)"),
             f"image      {shown_path(Path(r['image']).name)} ({r['size']}, "
             f"{r['source_bytes']:,} bytes as {r['source_format']})",
             f"caption    {r['caption']!r} (used by the encoder only)" if r["reads_text"]
             else f"caption    none ({r['model']} reads no text)",
             f"taco file  {shown_path(taco_path)} ({r['taco_bytes']} bytes, {r['bpp']:.4f} bpp"
             f"{_quality(r)})",
             f"quality    PSNR {r['psnr_db']:.2f} dB, LPIPS-Alex {_lpips(r['lpips_alex'])}"]
    loading = f"; text encoder load {r['text_encoder_load_ms']:.0f} ms" if r["reads_text"] else ""
    lines.append(f"time       encode {r['encode_ms']:.0f} ms, decode {r['decode_ms']:.0f} ms "
                 f"(CPU{loading})")
    for label, c in r["classic"].items():
        if "not_applicable" in c:
            lines.append(f"{label:<10} n/a ({c['not_applicable']})")
            continue
        lines.append(f"{label:<10} {c['bytes']} bytes at quality {c['quality']} (nearest size it "
                     f"makes): PSNR {c['psnr_db']:.2f} dB, LPIPS-Alex {_lpips(c['lpips_alex'])}")
    lines.append(f"wrote      {', '.join(map(shown_path, r['files']))}")  # the .taco too: written
    return lines


def _quality(r: dict[str, Any]) -> str:
    """", quality 4 of 7" for a variable-rate model's file (as the classic codecs' lines say
    theirs), nothing for a single-rate one's (quality 0, or a result without it)."""
    return f", quality {r['quality']} of {r['qualities']}" if r.get("quality") else ""


def _lpips(value: float) -> str:
    from ..metrics import LPIPS_MIN_SIDE

    return f"{value:.4f}" if math.isfinite(value) else f"n/a (a side of the image is under {LPIPS_MIN_SIDE} px)"
