"""Training TACO and its ELIC baseline (paper §4.1): config, loop, resumable state, DDP.

    from taco.train import load_config, train
    result = train(load_config("configs/taco-photos.yaml", ["max_steps=100"]))

Command line: ``taco train CONFIG`` or ``python -m taco.train CONFIG``; many processes with
``torchrun --nproc_per_node=G -m taco.train CONFIG``. See docs/training.md.

The names below load on first use, so that ``taco train --help`` (taco.train.cli) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Exported name -> the submodule that defines it.
_LAZY = {
    **dict.fromkeys(("ConfigError", "DataConfig", "TrainConfig", "ValConfig", "load_config"),
                    "taco.train.config"),
    "TrainStateError": "taco.train.state",
    **dict.fromkeys(("NonFiniteLossError", "Trainer", "TrainResult", "elic_key_to_taco",
                     "init_from_checkpoint", "lambda_sweep", "train"), "taco.train.trainer"),
}

__all__ = [
    "ConfigError", "DataConfig", "NonFiniteLossError", "TrainConfig", "TrainResult",
    "TrainStateError", "Trainer", "ValConfig", "elic_key_to_taco", "init_from_checkpoint",
    "lambda_sweep", "load_config", "train",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taco.train' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
