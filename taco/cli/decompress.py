"""``taco decompress``: ``.taco`` files -> images; no caption needed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..commands import CLIError
from ..memory import MAX_DECODE_PIXELS, decode_memory_estimate
from ..resolve import resolve_model
from ..suffixes import DECODED_SUFFIX
from .common import Failures, load_model, stage_delay
from .files import (
    STDIN,
    check_image_format,
    expand_inputs,
    plan_outputs,
    read_input,
    read_taco,
    report_stream,
    save_format,
    write_output,
)

if TYPE_CHECKING:
    from ..models.elic import ELIC


def register(sub: Any) -> None:
    """Add ``taco decompress`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    d = sub.add_parser("decompress", help=".taco files -> PNG images (no caption needed)",
                       description="Decode .taco files to PNG. No caption is needed or used.")
    d.add_argument("files", nargs="+", help=".taco files or folders; - reads one from standard "
                   "input (its image goes to standard output as PNG unless -o FILE)")
    d.add_argument("-o", "--output", help="output image (one file in; its suffix picks the "
                   "format; - for PNG on standard output) or folder (a folder or several files "
                   "in; created if missing); default: NAME.decoded.png beside each file")
    d.add_argument("-m", "--model", help="model to decode with (default: the one named in the file)")
    d.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    d.add_argument("--quiet", action="store_true", help="print only the summary line")
    d.add_argument("--max-pixels", type=int, metavar="N", default=MAX_DECODE_PIXELS,
                   help=f"refuse files that declare more than N pixels (default: {MAX_DECODE_PIXELS}, "
                   "decoded in under 2 GB of memory; 0: no cap)")
    d.set_defaults(func=cmd_decompress)


def cmd_decompress(args: argparse.Namespace) -> int:
    files, from_folder = expand_inputs(args.files, {".taco"})
    many = len(files) > 1
    failures = Failures("decompress")
    headers: dict[Path, Any] = {}
    piped = read_input(STDIN) if files[0] is STDIN else None  # standard input, read once
    for src in files:  # every file checked first, with the decoder's own cap, before any model loads
        try:
            headers[src] = h = read_taco(src, piped).header
            pixels = h.width * h.height
            if args.max_pixels and pixels > args.max_pixels:
                raise CLIError(
                    f"{src}: this file declares a {h.width}x{h.height} image ({pixels:,} pixels), "
                    f"over the decoder's cap of {args.max_pixels:,}; decoding it would take about "
                    f"{decode_memory_estimate(pixels) / 2**30:.1f} GiB with the built-in models: "
                    "pass --max-pixels 0 to decode it anyway")
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            headers.pop(src, None)
    dsts = plan_outputs(files, args.output, to_folder=from_folder or many, suffix=".png",
                        beside_suffix=DECODED_SUFFIX, force=args.force)
    from ..images import decoded_mode  # numpy and Pillow: not for --help

    for src, dst in zip(files, dsts, strict=True):  # each output's format holds its image
        try:
            if src in headers:
                check_image_format(dst, decoded_mode(headers[src].mode))
        except CLIError as exc:
            failures.skip(src, exc)
            del headers[src]

    models: dict[str, ELIC] = {}  # first: a mistyped --model is refused before torch loads
    if args.model:
        models[args.model] = load_model(args.model)
    untrained: dict[str, str] = {}  # architectures named by files: their note
    noted: set[str] = set()  # said once
    for src, h in list(headers.items()):  # every model is found before any decoding
        key = args.model or h.model_id
        try:
            if key not in models:
                resolved = resolve_model(key, names_only=not args.model)  # a file names no path
                models[key] = resolved.model
                if resolved.note:
                    untrained[key] = resolved.note
            if key in untrained:  # a file made with a checkpoint names its architecture
                from ..models import model_fingerprint

                if h.fingerprint != model_fingerprint(models[key]):
                    raise CLIError(f"{src}: made with trained weights of {h.model_id!r} (a "
                                   "checkpoint), not its untrained ones: decode it with them: "
                                   "taco decompress --model FILE (the checkpoint or its run folder)")
                if key not in noted:
                    print(f"note: {untrained[key]}", file=sys.stderr)
                    noted.add(key)
        except Exception as exc:  # the model this file names is not here: the file's failure
            if not failures.skip(src, exc, (("taco.models", "CheckpointError"),)):
                raise
            del headers[src]
    import io

    from ..codec import decompress
    from ..progress import StageReporter

    report = report_stream(dsts)
    t_all = time.perf_counter()
    for i, (src, dst) in enumerate(zip(files, dsts, strict=True), 1):
        if src not in headers:
            continue
        count = f"[{i}/{len(files)}] " if many else ""
        model = models[args.model or headers[src].model_id]
        try:
            with StageReporter(f"{count}{src}", delay=stage_delay(args)) as progress:
                t0 = time.perf_counter()
                data = read_input(src) if piped is None else piped
                image = decompress(data, model, max_pixels=args.max_pixels or None, progress=progress)
                ms = 1000 * (time.perf_counter() - t0)
                progress("writing", 0, 1)
                buf = io.BytesIO()
                image.save(buf, format=save_format(dst))
                write_output(dst, buf.getvalue())
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            continue
        if not args.quiet:
            print(f"{count}{src} -> {dst}: {image.width}x{image.height} {image.mode}, {ms:.0f} ms",
                  file=report, flush=True)
    done = len(files) - len(failures.inputs)
    if done or many:
        print(f"decompressed {done} file(s) in {time.perf_counter() - t_all:.2f} s", file=report)
    return failures.status(len(files), "file(s)")
