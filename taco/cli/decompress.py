"""``taco decompress``: ``.taco`` files -> images; no caption needed."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..memory import MAX_DECODE_PIXELS
from ..messages import count, note, shown_path
from ..resolve import ResolvedModel, decode_problems, resolve_model
from ..suffixes import DECODED_SUFFIX
from .common import (
    COMMAND_HELP,
    CLIError,
    Failures,
    add_existing_options,
    command_model,
    non_negative_int,
    path_arg,
)
from .files import (
    NO_CAP,
    STDIN,
    check_image_format,
    folder_tacos,
    is_regular_file,
    output_bytes,
    plan_outputs,
    read_taco,
    read_taco_input,
    report_to,
    rest_hint,
    second_loss,
    without_existing,
    write_output,
)
from .inputs import expand_inputs
from .progress_line import StageReporter, stage_delay


def register(sub: Any) -> None:
    """Add ``taco decompress`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    d = sub.add_parser("decompress", help=COMMAND_HELP["decompress"],
                       description="Decode .taco files to PNG. No caption is needed or used. PNG is "
                       "written for speed (zlib level 1, run-length strategy: on photos about the "
                       "size of the default level 6, in less than half the time).")
    d.add_argument("files", nargs="+", type=path_arg, help=".taco files or folders; - reads one from standard "
                   "input (its image goes to standard output as PNG unless -o FILE)")
    d.add_argument("-o", "--output", type=path_arg, help="output image (one file in; its suffix picks the "
                   "format; - (or /dev/stdout) for PNG on standard output, as a device or pipe "
                   "without one, e.g. /dev/null with --force) or folder (a folder or several files "
                   "in; created if missing; a new one ending with / where one file is named; "
                   "in the files' own folder NAME.decoded.png, not over the photo NAME.png); "
                   "default: NAME.decoded.png beside each file")
    d.add_argument("-m", "--model", type=path_arg, help="model to decode with (default: the one named in the file)")
    add_existing_options(d)
    d.add_argument("--quiet", action="store_true", help="print only the summary line")
    d.add_argument("--max-pixels", type=non_negative_int, metavar="N", default=MAX_DECODE_PIXELS,
                   help=f"refuse files that declare more than N pixels (default: {MAX_DECODE_PIXELS}, "
                   "decoded in under 2 GiB of memory; fewer for a model the file names that is "
                   "wider than the built-ins, held to the same memory; 0: no cap)")
    d.set_defaults(func=cmd_decompress)


def cmd_decompress(args: argparse.Namespace) -> int:
    files, from_folder = expand_inputs(args.files, {".taco"}, note_left_out="decompress", command="decompress")
    many = len(files) > 1
    # folder or file by the arguments as given, as taco compress and --help decide: `x.taco
    # ./x.taco -o out` (one file once its names are merged) still writes into the folder out
    to_folder = from_folder or len(args.files) > 1
    failures = Failures("decompress")
    cap = args.max_pixels or None
    # a file named that is not called .taco (a photo named by mistake, `taco decompress x.png`):
    # what it is first (not a .taco file: that file's failure), before its output is refused as
    # existing or --skip-existing counts it done; .taco files are read after the skip filter
    early, _ = read_headers([f for f in files if not_called_taco(f)], cap, failures)
    refused = [f for f in files if not_called_taco(f) and f not in early]
    files = [f for f in files if f not in refused]
    if not files:
        return finish(failures, refused, done=0, seconds=0.0, report=print)
    dsts = plan_outputs(files, args.output, to_folder=to_folder, suffix=".png",
                        beside_suffix=DECODED_SUFFIX, force=args.force, skip_existing=args.skip_existing,
                        inputs_in=folder_tacos, command="decompress")
    if args.skip_existing:  # before the files are read: a batch finished again reads only the rest
        failures.skipped, dsts, (files,) = without_existing(dsts, files)
        if not files and not refused:
            print(f"decompressed {count(0, 'file')}{failures.summary()}")
            return 0
    later, kept = read_headers([f for f in files if f not in early], cap, failures)
    headers = {f: early[f] if f in early else later[f] for f in files if f in early or f in later}
    check_formats(files, dsts, headers, failures)
    batch_files = [*files, *refused]  # the batch's total counts a refused file, as one that fails its header
    if not headers:  # every file failed its header or format check: no model to find, no torch
        return finish(failures, batch_files, done=0, seconds=0.0, report=report_to(dsts))
    models = find_models(args.model, headers, cap, failures)
    if not headers:  # the rest failed their model checks: no torch to load
        return finish(failures, batch_files, done=0, seconds=0.0, report=report_to(dsts))
    from ..codec import decompress

    report = report_to(dsts)
    t_all = time.perf_counter()

    def decode_one(i: int, src: Path, dst: Path) -> tuple[bool, Callable[[], None]]:
        place = f"[{i}/{len(batch_files)}] " if many else ""  # of the batch, as "N of M files failed"
        model = models[args.model or headers[src].model_id].model
        with StageReporter(f"{place}{shown_path(src)}", delay=stage_delay(args)) as progress:
            t0 = time.perf_counter()
            data = kept.pop(src) if src in kept else read_taco_input(src, cap)
            image = decompress(data, model, max_pixels=cap, progress=progress)
            ms = 1000 * (time.perf_counter() - t0)
            progress("writing", 0, 1)
            written = write_output(dst, output_bytes(image, dst), force=args.force,
                                   skip_existing=args.skip_existing)

        def counted() -> None:
            if not args.quiet:
                report(f"{place}{shown_path(src)} -> {shown_path(dst)}: {image.width}x{image.height} "
                       f"{image.mode}, {ms:.0f} ms")
        return written, counted

    batch = [(i, src, dst) for i, (src, dst) in enumerate(zip(files, dsts, strict=True), 1) if src in headers]
    stopped = failures.run(batch, decode_one, total=len(batch_files), noun="file",
                           rest=rest_hint(dsts, args.force))
    if stopped is not None:  # said: no summary, the batch did not end
        return stopped
    return finish(failures, batch_files, done=len(batch_files) - len(failures.inputs) - failures.meanwhile,
                  seconds=time.perf_counter() - t_all, report=report)


def not_called_taco(src: Path) -> bool:
    """Whether ``src`` is a regular file whose name does not end in ``.taco`` (only a file named
    as an input can be: a folder gives its ``.taco`` files), read before its output is planned."""
    return src is not STDIN and src.suffix.lower() != ".taco" and is_regular_file(src)


def read_headers(files: list[Path], cap: int | None, failures: Failures,
                 ) -> tuple[dict[Path, Any], dict[Path, bytes]]:
    """(the header of each file that can be read, within the decoder's own ``cap``; the bytes of
    those that can be read only once: standard input and named pipes, ``<(cat x.taco)``). Every
    file is checked first, before any model loads, the cap from its header before the rest is
    read; one that fails is that file's failure alone (in ``failures``)."""
    headers: dict[Path, Any] = {}
    kept: dict[Path, bytes] = {}
    for src in files:
        try:
            if src is STDIN or not is_regular_file(src):
                kept[src] = read_taco_input(src, cap)
            headers[src] = read_taco(src, kept.get(src), cap).header
        except Exception as exc:
            if not failures.skip(src, exc):
                raise
            headers.pop(src, None)
    return headers, kept


def check_formats(files: list[Path], dsts: list[Path], headers: dict[Path, Any],
                  failures: Failures) -> None:
    """Check that each output's format holds its file's decoded image
    (:func:`taco.cli.files.check_image_format`): a file whose does not is that file's failure,
    and leaves ``headers``. Then note, once each, the formats that lose again what the codec
    kept (``-o x.jpg``: :func:`taco.cli.files.second_loss`)."""
    from ..images import decoded_mode  # numpy and Pillow: not for --help

    for src, dst in zip(files, dsts, strict=True):
        try:
            if src in headers:
                header = headers[src]
                check_image_format(dst, decoded_mode(header.mode), (header.width, header.height))
        except CLIError as exc:
            failures.skip(src, exc)
            del headers[src]
    losses = {second_loss(dst, decoded_mode(headers[src].mode))
              for src, dst in zip(files, dsts, strict=True) if src in headers}
    for loss in sorted(filter(None, losses)):
        note("decompress", loss)


def find_models(given: str | None, headers: dict[Path, Any], cap: int | None,
                failures: Failures) -> dict[str, ResolvedModel]:
    """The model of each file in ``headers`` (``--model`` ``given``, else the one its header
    names), found before any decoding: by name (``given`` first, so a mistyped --model is
    refused before torch loads). A file whose model is not here, did not make it, or is wider
    than the built-ins for its size under ``cap`` is that file's failure alone, and leaves
    ``headers`` (:func:`taco.resolve.decode_problems`, the check ``taco.decompress`` makes of
    each file again, here once for the files that share a model and weights). An untrained
    architecture's note is said once."""
    from ..models import CheckpointError

    models: dict[str, ResolvedModel] = {}
    noted: set[str] = set()
    if given:  # its note said here, once
        models[given] = command_model(given, "decompress")
        noted.add(given)
    checked: dict[tuple[str | None, str, bytes], str | None] = {}  # a batch's files share a few models
    for src, h in list(headers.items()):
        key = given or h.model_id
        try:
            if key not in models:
                models[key] = resolve_model(key, names_only=True)  # a file names no path
            made_with, too_big = decode_problems(h, models[key].model, given=given, cli=True,
                                                max_pixels=cap, no_cap=NO_CAP, checked=checked)
            if made_with:
                raise CheckpointError(made_with)
            if too_big:  # a model the file names, wider than the built-ins: fewer pixels
                raise CLIError(too_big)
            model_note = models[key].note
            if model_note and key not in noted:
                note("decompress", model_note)
                noted.add(key)
        except Exception as exc:  # the model this file names is not here: the file's failure
            if not failures.skip(src, exc, (("taco.models", "CheckpointError"),)):
                raise
            del headers[src]
    return models


def finish(failures: Failures, files: list[Path], *, done: int, seconds: float,
           report: Callable[[str], None]) -> int:
    """End ``taco decompress``: the summary line (a batch, or a file decoded) on ``report``, and
    the exit status (:meth:`Failures.status`)."""
    if done or len(files) > 1:
        report(f"decompressed {count(done, 'file')} in {seconds:.2f} s{failures.summary()}")
    return failures.status(len(files), "file")
