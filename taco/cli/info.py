"""``taco info``: what a ``.taco`` file's header says, without decoding it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..messages import shown_path, utf8_name
from ..resolve import decoding_needs
from .common import COMMAND_HELP, Failures, path_arg
from .files import read_taco, report_to
from .inputs import expand_inputs


def register(sub: Any) -> None:
    """Add ``taco info`` to the ``taco`` command line (see :data:`taco.cli.COMMAND_MODULES`)."""
    i = sub.add_parser("info", help=COMMAND_HELP["info"],
                       description="Print what a .taco file's header says, without decoding it: "
                       "the header and the checksum are checked, the coded stream is not (a file "
                       "shown here may still fail to decode). The last line says what decoding it "
                       "needs, from the model id and the weights' fingerprint: nothing (a built-in "
                       "trained model's weights made it), or the model that made it (--model FILE).")
    i.add_argument("files", nargs="+", type=path_arg, help=".taco files or folders of them; - reads one from "
                   "standard input")
    i.add_argument("--json", action="store_true",
                   help="one JSON object per file (quality 0: a single-rate model)")
    i.set_defaults(func=cmd_info)


NO_MODEL_ID = "(none: model code 0)"  # how the text output shows an empty model id


def _shown_model_id(model_id: str) -> str:
    """``model_id`` as the text output shows it: an empty one (model code 0) said so, one with
    leading or trailing spaces (an inline id may have them) quoted as ``repr`` quotes it, so they
    show; any other id as it is (the header refuses unprintable ids)."""
    if not model_id:
        return NO_MODEL_ID
    if model_id != model_id.strip() or model_id == NO_MODEL_ID:
        return repr(model_id)
    return model_id


def cmd_info(args: argparse.Namespace) -> int:
    files, _ = expand_inputs(args.files, {".taco"}, command="info")
    failures = Failures("info")
    report = report_to()  # each file's lines now; a full stdout named as <stdout>
    shown = 0
    for src in files:
        try:
            f = read_taco(src)
        except Exception as exc:
            if failures.skip(src, exc):  # reported; the other files are still read
                continue
            raise
        h = f.header
        info = {
            "file": utf8_name(src),
            "format_version": h.version,
            "model_id": h.model_id,
            "model_fingerprint": h.fingerprint.hex(),
            "quality": h.quality,
            "width": h.width,
            "height": h.height,
            "original_mode": h.mode,
            "padding": h.padding,
            "crc32": f"{f.crc32:08x}",
            "bytes": f.total_bytes,
            "header_bytes": f.header_bytes,
            "payload_bytes": f.payload_bytes,
            "bpp": round(f.bpp, 4),
            "decoding_needs": decoding_needs(h.model_id, h.fingerprint),
        }
        if args.json:
            report(json.dumps(info))
        else:
            if not h.quality:
                info["quality"] = "- (single-rate model)"  # the header's 0
            info["padding"] = f"{h.padding} (edges replicated to a multiple of 64)"  # the only scheme
            info["model_id"] = _shown_model_id(h.model_id)
            info["bpp"] = f"{f.bpp:.4f}"  # as taco compress prints it: 0.2140, not 0.214
            info["file"] = shown_path(src)  # on its line (JSON escapes a name's control characters)
            blank = "\n" if shown else ""  # a blank line between files
            report(blank + "\n".join(f"{k:>18}: {v}" for k, v in info.items()))
        shown += 1
    return failures.status(len(files), "file")
