"""``taco demo``: compress and decode a sample photo, beside JPEG, WebP and AVIF."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import MODEL_HELP
from .files import CaptionSource


def register(sub: Any) -> None:
    """Add ``taco demo`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    m = sub.add_parser("demo", help="compress and decode a built-in sample photo, print the numbers",
                       description="Compress a built-in sample photo with its caption, decode it "
                       "without the caption, print bpp/PSNR/LPIPS/timings, the same for JPEG, "
                       "WebP and AVIF at the nearest file size they make, and write the "
                       "reconstruction and a side-by-side PNG.")
    m.add_argument("-m", "--model", default=None, help=MODEL_HELP)
    m.add_argument("--image", help="use this image instead of the built-in sample")
    m.add_argument("--caption", help="caption for --image (default: the sample's own caption; for "
                   "--image, its sidecar IMAGE.txt or a captions.jsonl beside it, as compress finds them)")
    m.add_argument("-o", "--output", default="taco-demo", help="output folder (default: taco-demo)")
    m.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    caption = args.caption
    if args.image and caption is None:  # the caption compress would find for it (None: none)
        caption = CaptionSource(None, None)(Path(args.image))
    from ..demo import run_demo

    run_demo(model_name=args.model, image=args.image, caption=caption, out_dir=Path(args.output))
    return 0
