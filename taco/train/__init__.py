"""Training TACO and its ELIC baseline (paper §4.1): config, loop, resumable state, DDP.

    from taco.train import load_config, train
    result = train(load_config("configs/taco-photos.yaml", ["max_steps=100"]))

Command line: ``taco train CONFIG`` or ``python -m taco.train CONFIG``; many processes with
``torchrun --nproc_per_node=G -m taco.train CONFIG``. See docs/training.md.
"""

from .config import ConfigError, DataConfig, TrainConfig, ValConfig, load_config
from .state import TrainStateError
from .trainer import (
    NonFiniteLossError,
    Trainer,
    TrainResult,
    elic_key_to_taco,
    init_from_checkpoint,
    lambda_sweep,
    train,
)

__all__ = [
    "ConfigError", "DataConfig", "NonFiniteLossError", "TrainConfig", "TrainResult",
    "TrainStateError", "Trainer", "ValConfig", "elic_key_to_taco", "init_from_checkpoint",
    "lambda_sweep", "load_config", "train",
]
