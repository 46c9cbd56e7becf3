"""Training TACO and its ELIC baseline (paper §4.1): config, loop, resumable state, DDP.

Modules: config (the dataclass), trainer (the loop), model_setup (what trains, init_from),
forward (bf16/channels_last/DDP/compile), checkpoints and state (what is saved, resuming),
run_log (log.jsonl, messages), validation, schedule (lr, warm-up, time limit), resident_data
and caption_embeddings (the training set and its captions' tokens kept on the device),
distributed (torchrun plumbing), cli.

    from taco.train import load_config, train
    result = train(load_config("configs/taco-photos.yaml", ["max_steps=100"]))

Command line: ``taco train CONFIG`` or ``python -m taco.train CONFIG``; many processes with
``torchrun --nproc_per_node=G -m taco.train CONFIG``. See docs/training.md.

The names below load on first use, so that ``taco train --help`` (taco.train.cli) imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

#: Exported name -> the submodule that defines it.
_LAZY = {
    **dict.fromkeys(("ConfigError", "DataConfig", "TrainConfig", "ValConfig", "load_config"),
                    "taco.train.config"),
    **dict.fromkeys(("elic_key_to_taco", "init_from_checkpoint"), "taco.train.model_setup"),
    "TrainStateError": "taco.train.state",
    **dict.fromkeys(("NonFiniteLossError", "OutputWriteError", "Trainer", "TrainResult",
                     "TrainerClosed", "lambda_sweep", "train"), "taco.train.trainer"),
}

__all__ = [
    "ConfigError", "DataConfig", "NonFiniteLossError", "OutputWriteError", "TrainConfig",
    "TrainResult", "TrainStateError", "Trainer", "TrainerClosed", "ValConfig", "elic_key_to_taco",
    "init_from_checkpoint", "lambda_sweep", "load_config", "train",
]


if TYPE_CHECKING:  # what the lazy names are, for type checkers (they import nothing here)
    from taco.train.config import (
        ConfigError as ConfigError,
        DataConfig as DataConfig,
        TrainConfig as TrainConfig,
        ValConfig as ValConfig,
        load_config as load_config,
    )
    from taco.train.model_setup import (
        elic_key_to_taco as elic_key_to_taco,
        init_from_checkpoint as init_from_checkpoint,
    )
    from taco.train.state import (
        TrainStateError as TrainStateError,
    )
    from taco.train.trainer import (
        NonFiniteLossError as NonFiniteLossError,
        OutputWriteError as OutputWriteError,
        Trainer as Trainer,
        TrainerClosed as TrainerClosed,
        TrainResult as TrainResult,
        lambda_sweep as lambda_sweep,
        train as train,
    )

if not TYPE_CHECKING:  # hidden from type checkers: a misspelled name is an error there
    __getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
