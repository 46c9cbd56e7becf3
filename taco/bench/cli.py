"""``taco bench``: encode/decode latency of TACO, ELIC and CompressAI's ELIC, same images, same process.

The command line only: what it asks for is a :class:`~.config.BenchConfig`, checked by
:func:`~.config.check_models` before torch loads; the measurements live in :mod:`.latency`,
:mod:`.peak_memory` and :mod:`.profiling`, the printing in :mod:`.report`. Importing this module imports no torch (it
is loaded to build ``taco --help``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cli.common import (
    COMMAND_HELP,
    CLIError,
    add_device_option,
    non_negative_int,
    path_arg,
    positive_int,
    thread_count,
)
from ..messages import shown_path, to_stderr
from ..models.config import PAD_MULTIPLE
from .config import BenchConfig, check_models

#: The largest ``--batch``: 2 x batch images are held at once (at 256 px, 1,024 is 1.6 GB).
MAX_BATCH = 1024
#: The largest side ``--memory`` probes (taco's own largest image side).
MAX_MEMORY_SIDE = 32768


def batch_size(text: str) -> int:
    """``--batch``: 0 (skip) to :data:`MAX_BATCH` (an argparse ``type``): 10^11 was taken and
    grew past 8 GB allocating its images."""
    value = non_negative_int(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BATCH}, got {value}")
    return value


def memory_size(text: str) -> tuple[int, int]:
    """``--memory HxW`` -> (H, W), both positive multiples of 64 up to :data:`MAX_MEMORY_SIDE`
    (an argparse ``type``: a bad size is a usage error, not the probe's traceback)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes HxW, e.g. 2176x3840, not {text!r}") from None
    if not all(0 < v <= MAX_MEMORY_SIDE and v % PAD_MULTIPLE == 0 for v in (h, w)):
        raise argparse.ArgumentTypeError(f"sides must be multiples of {PAD_MULTIPLE} from {PAD_MULTIPLE} to "
                                         f"{MAX_MEMORY_SIDE}, got {h}x{w}")
    return h, w


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="tiny models, 128x128 crops of 2 images, 3 runs, --batch 2, no CLIP-B system "
                   "(CI-friendly on a CPU)")
    p.add_argument("--runs", type=positive_int, metavar="N", help="timed runs per image (default 5, quick 3)")
    p.add_argument("--warmup", type=non_negative_int, metavar="N", help="untimed runs first (default 1)")
    p.add_argument("--crop", type=non_negative_int, metavar="N",
                   help="centre crop side in pixels, 0 for whole images (default 256, quick 128)")
    p.add_argument("--images", nargs="+", metavar="IMG", type=path_arg,
                   help="image files or built-in sample names (default: the 4 samples); - alone "
                   "reads one image from standard input (./- is a file named -)")
    p.add_argument("--taco-model", type=path_arg, metavar="NAME", help="TACO architecture (default taco-minilm, quick taco-tiny)")
    p.add_argument("--elic-model", type=path_arg, metavar="NAME", help="ELIC architecture with --taco-model's backbone (N, M, groups; default elic, quick elic-tiny)")
    p.add_argument("--no-clip-b", action="store_true",
                   help="skip --taco-model's backbone with the CLIP-B-sized random text encoder")
    p.add_argument("--batch", type=batch_size, metavar="N", help="compress_batch batch size for the "
                   "throughput measurement (over 2 x N images, the inputs repeated), 0 to skip, "
                   f"at most {MAX_BATCH} (default 0, quick 2)")
    instead = p.add_mutually_exclusive_group()  # each replaces the timing bench: one at a time
    instead.add_argument("--memory", metavar="HxW", type=memory_size,
                   help=f"instead: peak memory to encode / decode one HxW photo (multiples of {PAD_MULTIPLE}, "
                   "e.g. 2176x3840 for 4K) with --taco-model and --elic-model (any architecture each), each in a fresh process")
    add_device_option(p)
    p.add_argument("--threads", type=thread_count, metavar="N", help="torch CPU threads (default: torch's own)")
    instead.add_argument("--profile", action="store_true",
                   help="instead: profile CompressAI's vs taco's entropy coding (CPU time by "
                   "category) on the first image with the ELIC model")
    p.add_argument("--json", metavar="FILE", dest="output", type=path_arg, nargs="?", const="-",
                   help="write the results as JSON here (checked before the bench runs; one written "
                   "meanwhile by another process is not replaced: exit 2); - or a bare --json "
                   "(as taco info --json) writes them to standard output, and the table to "
                   "standard error (so does a FILE that is standard output, /dev/stdout)")
    p.add_argument("-f", "--force", action="store_true", help="replace an existing --json FILE (also one "
                   "written meanwhile)")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """The bench's config from its arguments, checked before the bench runs. A ``--json`` FILE
    that is standard output (``/dev/stdout``, ``/dev/fd/1``:
    :func:`taco.cli.files.is_stdout`) is ``--json -``: the JSON alone on standard output, the
    table on stderr (it followed the JSON there: not JSON any more); refused there where standard
    output is closed or standard error goes there too (``2>&1``: the table and the log lines
    would be inside the JSON), :func:`taco.cli.files.stdout_data_problem`."""
    from ..cli.files import is_stdout, stdout_data_problem

    output = "-" if args.output and args.output != "-" and is_stdout(args.output) else args.output
    over: dict[str, Any] = dict(
        runs=args.runs, warmup=args.warmup, crop=args.crop, images=args.images,
        taco_model=args.taco_model, elic_model=args.elic_model, batch=args.batch,
        threads=args.threads, output=output)
    if args.no_clip_b:
        over["clip_b"] = False
    cfg = BenchConfig.quick_defaults(**over) if args.quick else BenchConfig.with_overrides(**over)
    check_models(cfg.taco_model, cfg.elic_model, any_text=bool(args.memory))  # before torch loads
    from ..devices import resolve_device

    device = str(resolve_device(args.device))  # before any work: a GPU this machine lacks
    if cfg.output == "-":  # closed (>&-), or shared with stderr, which carries the table (2>&1)
        problem = stdout_data_problem("--json FILE", text=True)
        if problem:
            raise CLIError(f"--json {args.output}: {problem}")
    elif cfg.output:
        check_output(Path(cfg.output), force=args.force)
    return dataclasses.replace(cfg, device=device)


def check_output(out: Path, *, force: bool) -> None:
    """CLIError unless the ``--json`` file ``out`` can be written, checked before the bench runs
    (minutes): its folder (made when missing, :func:`taco.cli.files.check_folder`) takes files,
    and ``out`` is not a folder, nor a file already there (or a symbolic link to a missing
    file, which the write would go through) unless ``force``. A device or pipe
    (``/dev/stdout``) is written into."""
    from ..atomic import special_file
    from ..cli.files import check_folder

    if special_file(out):
        return
    if out.is_dir():
        raise CLIError(f"--json {shown_path(out)} is a folder: give the JSON file to write")
    if os.path.lexists(out) and not force:  # a link to a missing file too: written through
        raise CLIError(f"{shown_path(out)} exists; pass --force to overwrite it")
    check_folder(out.parent, create=True)


def report_to(cfg: BenchConfig) -> Callable[[str], None]:
    """What prints the bench's report (its table, ``wrote FILE``): standard error when ``--json
    -`` (or a FILE that is standard output: :func:`taco.cli.files.is_stdout`) writes the JSON
    to standard output, which then carries nothing else (as :func:`taco.cli.files.report_to`
    does for ``-o -``), else standard output, where a line that cannot be printed
    (``>/dev/full``) names ``<stdout>``."""
    from ..cli import files

    return files.report_to([files.STDOUT] if cfg.output == "-" else [Path(cfg.output)] if cfg.output else [])


def write_result(cfg: BenchConfig, result: Any, say: Callable[[str], None], report: str, *,
                 force: bool = True) -> None:
    """Say ``report`` (the bench's table; nothing where it is empty, said already) and write
    ``result`` as ``--json`` asks: to its file
    first, then the table and ``wrote FILE`` (a table that cannot be printed, ``>/dev/full``,
    lost the measurements written after it); to standard output for ``-``, after the table
    (on stderr); nowhere without it. Without ``force`` (``--force``), a file found there when it
    is published (:func:`check_output` saw none: another bench wrote it meanwhile) is left as it
    is and, after the table, the bench is a CLIError naming it, as ``taco compress`` refuses
    one."""
    from ..atomic import special_file
    from ..jsonfiles import json_text, write_json

    if cfg.output and cfg.output != "-":
        try:  # a device or pipe (/dev/stdout) is written into, as check_output lets it
            write_json(cfg.output, result, replace=force or special_file(cfg.output))
        except FileExistsError as exc:
            if exc.filename != str(cfg.output):
                raise
            if report:  # the measurements are not lost with the file
                say(report)
            raise CLIError(f"{shown_path(cfg.output)} exists (written meanwhile, by another process?): "
                           "--force replaces it") from None
    if report:
        say(report)
    if cfg.output == "-":
        from ..cli.files import write_stdout

        write_stdout(json_text(result).encode("utf-8"))
    elif cfg.output:
        say(f"wrote {cfg.output}")


def check_images(images: list[str]) -> None:
    """Refuse, before the model loads, ``--images`` items that are neither a path that exists
    nor a sample's name (:func:`.inputs.image_path`), and ``-`` (standard input) beside others
    or where standard input is a terminal or closed, as ``taco compress -`` refuses it
    (:func:`taco.cli.inputs.expand_inputs`)."""
    from .inputs import STDIN_ITEM, image_path

    if STDIN_ITEM in images:
        from ..cli.inputs import expand_inputs
        from ..suffixes import IMAGE_SUFFIXES

        expand_inputs(images, IMAGE_SUFFIXES, command="bench --images")
        return
    for item in images:
        image_path(item)


def cmd_bench(args: argparse.Namespace) -> int:
    if not args.memory:  # refused before the model loads; --memory codes photos of its own size
        check_images(args.images or [])
    cfg = config_from_args(args)  # before torch loads: a mistyped --taco-model is one line
    if args.profile:
        return cmd_profile(cfg, force=args.force)
    if args.memory:
        return cmd_memory(cfg, args.memory, force=args.force)
    from .latency import run_bench
    from .report import format_table

    say = report_to(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_bench(cfg, log=to_stderr)
    write_result(cfg, result, say, format_table(result), force=args.force)
    return 0


def cmd_memory(cfg: BenchConfig, size: tuple[int, int], *, force: bool = False) -> int:
    """``--memory``: each model's line said as its probe returns (each probe is two child
    processes, seconds each: ``> log`` said nothing until both were done). A line that cannot be
    printed (``>/dev/full``) with a ``--json FILE`` to write: the probes go on, the file is
    written, and the lines left are said then, failing as before (:func:`write_result`)."""
    from .peak_memory import peak_memory
    from .report import format_memory

    say = report_to(cfg)
    h, w = size
    probes: list[dict[str, Any]] = []
    unsaid: list[str] = []
    for model in (cfg.taco_model, cfg.elic_model):
        probes.append(peak_memory(model, h, w, cfg.device))
        line = format_memory(probes[-1])
        if not unsaid:
            try:
                say(line)
                continue
            except OSError:
                if not cfg.output or cfg.output == "-":  # no file the measurements could still go to
                    raise
        unsaid.append(line)
    write_result(cfg, {"memory": probes}, say, "\n".join(unsaid), force=force)
    return 0


def cmd_profile(cfg: BenchConfig, *, force: bool = False) -> int:
    import torch

    from ..devices import device_description
    from ..models import create_model
    from .inputs import load_inputs
    from .profiling import profile_entropy_coding
    from .report import format_profile
    from .systems import compressai_elic

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name, x, _ = load_inputs(cfg.images, cfg.crop)[0]
        model = compressai_elic(create_model(cfg.elic_model))
        prof = profile_entropy_coding(model.to(cfg.device), x.to(cfg.device), runs=cfg.runs)
    say = report_to(cfg)
    write_result(cfg, prof, say, f"entropy coding of {name} {x.shape[-1]}x{x.shape[-2]}, Elic2022Official "
                 f"at {cfg.elic_model} widths, {device_description(cfg.device)}\n{format_profile(prof)}",
                 force=force)
    return 0


def register(subparsers: Any) -> None:
    """Add ``taco bench`` to the ``taco`` command line (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser(
        "bench", help=COMMAND_HELP["bench"],
        description="Time encode and decode per image for TACO, ELIC (same backbone) and "
        "CompressAI's Elic2022Official on the same images in one process; print a table and the "
        "ratios, optionally write JSON. Random weights: this measures cost, not quality.")
    add_arguments(p)
    p.set_defaults(func=cmd_bench)
