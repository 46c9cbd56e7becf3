"""Copy a trained checkpoint into the package as a built-in model (fp16 storage).

    python scripts/ship_model.py runs/x/checkpoint.safetensors taco-minilm-small-q4

Writes ``taco/assets/models/NAME.safetensors`` with ``model_id=NAME`` and prints the
``PretrainedEntry`` to paste into ``taco/models/registry.py`` (file, SHA-256, λ, training data).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from taco.models import load_checkpoint, save_checkpoint

ASSETS = Path(__file__).resolve().parents[1] / "taco" / "assets" / "models"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("name")
    args = p.parse_args()
    model = load_checkpoint(args.checkpoint)
    meta = dict(model.metadata)
    dst = save_checkpoint(model, ASSETS / f"{args.name}.safetensors", model_id=args.name,
                          metadata=meta, half=True, compact_tables=True)
    data = meta.get("train_data", {})
    trained_on = (f"{Path(str(data.get('root', '?'))).name} ({data.get('images', '?')} images), "
                  f"{meta.get('trained_steps', '?')} steps on {meta.get('device', '?')}")
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()
    size = dst.stat().st_size
    print(f"wrote {dst} ({size / 1e6:.2f} MB)")
    print(f'    "{args.name}": PretrainedEntry(\n'
          f'        file="{dst.name}",\n'
          f'        sha256="{digest}",\n'
          f'        architecture="{model.config.architecture}",\n'
          f'        lmbda={meta.get("lambda", meta.get("lmbda"))},  # None: variable rate\n'
          f'        trained_on="{trained_on}",\n'
          f'    ),')


if __name__ == "__main__":
    main()
