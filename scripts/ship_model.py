"""Copy a trained checkpoint into the package as a built-in model (fp16 storage).

    python scripts/ship_model.py runs/x/checkpoint.safetensors taco-minilm-small-q4

Writes ``taco/assets/models/NAME.safetensors`` with ``model_id=NAME``, its Gaussian
conditionals' scale table set to ``--scale-levels`` levels (default 256: the built-ins' payload
0.19-0.77 % over the model's own rate instead of 0.98-2.49 % with CompressAI's 64, for the same
decoded image; docs/performance.md "Bitstream efficiency"), and prints the ``PretrainedEntry`` to paste into
``taco/models/registry.py`` (file, SHA-256, λ, training data, the start of a description, and the
fingerprint of its weights as loaded, which each ``.taco`` file it makes carries).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from taco.errors import TacoError
from taco.models import load_checkpoint, model_fingerprint, save_checkpoint
from taco.models.elic import MAX_SCALE_LEVELS

ASSETS = Path(__file__).resolve().parents[1] / "taco" / "assets" / "models"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("name")
    p.add_argument("--scale-levels", type=int, default=MAX_SCALE_LEVELS, metavar="N",
                   help=f"code with N scale levels, 2..{MAX_SCALE_LEVELS} (default "
                   f"{MAX_SCALE_LEVELS}; 64: CompressAI's table, that of the first built-ins)")
    args = p.parse_args(argv)
    try:  # a mistyped path, a file that is no checkpoint, bad levels or name: one line
        model = load_checkpoint(args.checkpoint)
        model.set_scale_levels(args.scale_levels)
        meta = {**model.metadata, "scale_levels": model.scale_levels}
        dst = save_checkpoint(model, ASSETS / f"{args.name}.safetensors", model_id=args.name,
                              metadata=meta, half=True, compact_tables=True)
    except (TacoError, OSError, ValueError) as exc:
        p.error(str(exc))
    data = meta.get("train_data", {})
    steps = meta.get("trained_steps_total", meta.get("trained_steps", "?"))  # over warm starts
    trained_on = (f"{Path(str(data.get('root', '?'))).name} ({data.get('images', '?')} images), "
                  f"{steps} steps on {meta.get('device', '?')}")
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()
    size = dst.stat().st_size
    fingerprint = model_fingerprint(load_checkpoint(dst)).hex()  # as loaded: fp16, compact tables
    print(f"wrote {dst} ({size / 1e6:.2f} MB)")
    print(f'    "{args.name}": PretrainedEntry(\n'
          f'        file="{dst.name}",\n'
          f'        sha256="{digest}",\n'
          f'        architecture="{model.config.architecture}",\n'
          f'        lmbda={meta.get("lambda", meta.get("lmbda"))},  # None: variable rate\n'
          f'        trained_on="{trained_on}",\n'
          f'        description="...; coded with {model.scale_levels} scale levels",\n'
          f'        fingerprint="{fingerprint}",  # taco.models.model_fingerprint as loaded\n'
          f'    ),')


if __name__ == "__main__":
    main()
