"""``taco bench`` on the command line: its arguments, without importing torch.

The measurements live in :mod:`taco.bench`, imported when the command runs, so that
``taco --help`` and ``taco bench --help`` answer at once (see ``taco.cli.COMMAND_MODULES``).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_arguments", "register"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true",
                   help="tiny models, 128x128 crops of 2 images, 3 runs (CI-friendly on a CPU)")
    p.add_argument("--runs", type=int, help="timed runs per image (default 5, quick 3)")
    p.add_argument("--warmup", type=int, help="untimed runs first (default 1)")
    p.add_argument("--crop", type=int,
                   help="centre crop side in pixels, 0 for whole images (default 256, quick 128)")
    p.add_argument("--images", nargs="+", metavar="IMG",
                   help="image files or built-in sample names (default: the 4 samples)")
    p.add_argument("--taco-model", help="TACO architecture (default taco-minilm, quick taco-tiny)")
    p.add_argument("--elic-model", help="ELIC architecture (default elic, quick elic-tiny)")
    p.add_argument("--no-clip-b", action="store_true",
                   help="skip TACO with the CLIP-B-sized random text encoder")
    p.add_argument("--batch", type=int, help="compress_batch batch size for the throughput "
                   "measurement, 0 to skip (default 0, quick 2)")
    p.add_argument("--memory", metavar="HxW",
                   help="instead: peak memory to encode / decode one HxW photo (multiples of 64, "
                   "e.g. 2176x3840 for 4K) with --taco-model (any model), each in a fresh process")
    p.add_argument("--device", default=None, help="cpu or cuda[:N] (default: cuda if available)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    p.add_argument("--profile", action="store_true",
                   help="instead: profile CompressAI's vs taco's entropy coding (CPU time by "
                   "category) on the first image with the ELIC model")
    p.add_argument("--json", metavar="FILE", dest="output", help="write the results as JSON here")


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import cmd_bench as run

    return run(args)


def register(subparsers: Any) -> None:
    """Add ``taco bench`` to the ``taco`` command line (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser(
        "bench", help="encode/decode latency: TACO vs ELIC vs CompressAI's ELIC",
        description="Time encode and decode per image for TACO, ELIC (same backbone) and "
        "CompressAI's Elic2022Official on the same images in one process; print a table and the "
        "ratios, optionally write JSON. Random weights: this measures cost, not quality.")
    add_arguments(p)
    p.set_defaults(func=cmd_bench)
