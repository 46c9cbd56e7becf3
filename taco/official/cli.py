"""``taco import-checkpoint``: an authors' ``.pth.tar`` (effl-lab/TACO) -> a taco checkpoint.

    taco import-checkpoint checkpoint_best_lpips.pth.tar -o taco-official.safetensors
    taco compress photo.png --caption "..." --model taco-official.safetensors
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..bitstream.container import model_id_problem
from ..cli.common import COMMAND_HELP, CLIError, path_arg
from ..cli.files import check_folder, check_link_target, refuse_stdin, refuse_stdout
from ..messages import SOURCE_TREE, docs_ref, shown_path
from ..text_specs import TEXT_ENCODER_OPTIONS  # no torch: taco --help builds this parser

DESCRIPTION = (
    "Import a checkpoint of the TACO authors' code (effl-lab/TACO train.py: a .pth.tar with "
    "'state_dict', or a bare state dict; ELIC checkpoints of JiangWeibeta/ELIC, before and since "
    "its 2024-09-25 entropy-parameter widths, and of CompressAI's Elic2022Official too) as a taco "
    "checkpoint (.safetensors with its config). Read with torch.load(weights_only=True): "
    "nothing else is unpickled. Architecture and widths are read from the tensor shapes; "
    f"entropy-coder tables are rebuilt. See {docs_ref('official.md')}."
)



def cmd_import_checkpoint(args: argparse.Namespace) -> int:
    refuse_stdout(args.output, "import-checkpoint", "a .safetensors checkpoint", "model.safetensors",
                  "./-.safetensors")
    refuse_stdin([args.checkpoint], "import-checkpoint")
    out = Path(args.output)
    if out.is_dir() or args.output.endswith(("/", os.sep)):  # -o DIR writes into it, as other commands'
        check_folder(out, create=True)  # a new DIR/ is made by the write
        out = out / checkpoint_name(args.checkpoint)
    else:
        if out.suffix.lower() != ".safetensors":
            what = f"a {out.suffix} file" if out.suffix else "a name without a suffix"
            raise CLIError(f"{shown_path(out)}: import-checkpoint writes a .safetensors checkpoint, not "
                           f"{what}: name it {out.with_suffix('.safetensors').name}")
        check_folder(out.parent, create=False)  # as compress and plot: not made for a file named in it
    if out.is_dir():
        raise CLIError(f"{shown_path(out)} is a folder: give the checkpoint file to write")
    if args.force:  # a link written through: its target's folder must exist and take files
        check_link_target(out)

    from ..models import load, model_fingerprint
    from .checkpoint import OutputExists, import_checkpoint_file

    try:  # checked before the checkpoint is read; a symbolic link there exists, missing file or not
        path = import_checkpoint_file(args.checkpoint, out, args.text_encoder, args.model_id, args.force)
    except OutputExists:
        raise CLIError(f"{shown_path(out)} exists; pass --force to replace it") from None
    except FileExistsError as exc:  # not there when checked: another import wrote it since
        if exc.filename != str(out):
            raise
        raise CLIError(f"{shown_path(out)} exists (written meanwhile, by another process?): "
                       "--force replaces it") from None
    model = load(path)  # as a user will: what was written, read back and checked
    cfg = model.config
    n = sum(p.numel() for p in model.parameters())
    text = f", text encoder {cfg.text_encoder['name']}" if cfg.text_encoder else ""
    widths = f", param_widths {cfg.param_widths}" if cfg.param_widths != "elic-2023" else ""
    print(f"{shown_path(path)}: model {model.model_id}, {cfg.architecture.upper()} N={cfg.N} "
          f"M={cfg.M} groups {cfg.groups}{text}{widths}, {n:,} parameters, "
          f"fingerprint {model_fingerprint(model).hex()}")
    return 0


def checkpoint_name(checkpoint: str) -> str:
    """The file ``taco import-checkpoint CHECKPOINT -o DIR`` writes in DIR: the checkpoint's name
    without its ``.tar``, ``.pth``, ``.pt`` suffixes, as ``.safetensors``
    (``taco-tiny.pth.tar``: ``taco-tiny.safetensors``)."""
    name = Path(checkpoint).name
    for suffix in (".tar", ".pth", ".pt"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return f"{name}.safetensors"


def model_id_arg(text: str) -> str:
    """An argparse ``type`` for ``--model-id``: a name a ``.taco`` file can carry
    (:func:`taco.bitstream.container.model_id_problem`)."""
    problem = model_id_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r:.60} cannot name a model: {problem}")
    return text


def register(subparsers: Any) -> None:
    """Add ``taco import-checkpoint`` (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser("import-checkpoint", help=COMMAND_HELP["import-checkpoint"],
                              description=DESCRIPTION)
    p.add_argument("checkpoint", type=path_arg, help="the authors' .pth.tar (or a state dict saved with torch.save)")
    p.add_argument("-o", "--output", required=True, type=path_arg,
                   help="the taco checkpoint to write (NAME.safetensors, in an existing folder), "
                   "or a folder (one that exists, or a new one ending with /) to write "
                   "CHECKPOINT's name as .safetensors into (taco-tiny.pth.tar: taco-tiny.safetensors)")
    p.add_argument("-f", "--force", action="store_true", help="replace the output file; a symbolic link of its name is written through (the file it points to is replaced)")
    p.add_argument("--text-encoder", default="clip", choices=tuple(TEXT_ENCODER_OPTIONS),
                   help="taco text encoder whose tokens the adapter takes: clip (default: "
                   "openai/clip-vit-base-patch32, 512 wide, as in the paper), clip-tiny (32 wide, "
                   f"taco's test encoder: the golden file tests/data/official/taco-tiny.pth.tar {SOURCE_TREE}) or "
                   "minilm (384 wide); ignored for ELIC")
    p.add_argument("--model-id", type=model_id_arg, metavar="NAME",
                   help="the name the model and its .taco files carry (taco info, evaluate's "
                   "labels; default taco-official, elic-official for an ELIC checkpoint, elic-compressai "
                   "for CompressAI's Elic2022Official)")
    p.set_defaults(func=cmd_import_checkpoint)
