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
"""

from .config import ConfigError, DataConfig, TrainConfig, ValConfig, load_config
from .model_setup import elic_key_to_taco, init_from_checkpoint
from .state import TrainStateError
from .trainer import NonFiniteLossError, OutputWriteError, Trainer, TrainResult, lambda_sweep, train

__all__ = [
    "ConfigError", "DataConfig", "NonFiniteLossError", "OutputWriteError", "TrainConfig",
    "TrainResult", "TrainStateError", "Trainer", "ValConfig", "elic_key_to_taco",
    "init_from_checkpoint", "lambda_sweep", "load_config", "train",
]
