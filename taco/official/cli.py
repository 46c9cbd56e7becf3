"""``taco import-checkpoint``: an authors' ``.pth.tar`` (effl-lab/TACO) -> a taco checkpoint.

    taco import-checkpoint checkpoint_best_lpips.pth.tar -o taco-official.safetensors
    taco compress photo.png --caption "..." --model taco-official.safetensors
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli.common import path_arg
from ..messages import docs_ref

DESCRIPTION = (
    "Import a checkpoint of the TACO authors' code (effl-lab/TACO train.py: a .pth.tar with "
    "'state_dict', or a bare state dict; ELIC checkpoints of JiangWeibeta/ELIC too) as a taco "
    "checkpoint (.safetensors with its config). Read with torch.load(weights_only=True): "
    "nothing else is unpickled. Architecture and widths are read from the tensor shapes; "
    f"entropy-coder tables are rebuilt. See {docs_ref('official.md')}."
)


def cmd_import_checkpoint(args: argparse.Namespace) -> int:
    from ..models import load, model_fingerprint
    from .checkpoint import import_checkpoint_file

    path = import_checkpoint_file(args.checkpoint, args.output, args.text_encoder)
    model = load(path)  # as a user will: what was written, read back and checked
    cfg = model.config
    n = sum(p.numel() for p in model.parameters())
    text = f", text encoder {cfg.text_encoder['name']}" if cfg.text_encoder else ""
    print(f"{path}: {cfg.architecture.upper()} N={cfg.N} M={cfg.M} groups {cfg.groups}{text}, "
          f"{n:,} parameters, fingerprint {model_fingerprint(model).hex()}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``taco import-checkpoint`` (see taco.cli.COMMAND_MODULES)."""
    p = subparsers.add_parser("import-checkpoint", help="import an authors' TACO/ELIC checkpoint",
                              description=DESCRIPTION)
    p.add_argument("checkpoint", type=path_arg, help="the authors' .pth.tar (or a state dict saved with torch.save)")
    p.add_argument("-o", "--output", required=True, type=path_arg, help="the taco checkpoint to write (.safetensors)")
    p.add_argument("--text-encoder", default="clip",
                   help="taco text encoder whose tokens the adapter takes (default clip: "
                   "openai/clip-vit-base-patch32, as in the paper; ignored for ELIC)")
    p.set_defaults(func=cmd_import_checkpoint)
