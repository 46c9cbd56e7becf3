"""Models: ELIC, the text adapter, TACO, and the registry that builds and loads them."""

from .adapter import TextAdapter, TextExtractor, TextInjector
from .elic import ELIC, PAD_MULTIPLE
from .registry import (
    MODEL_CONFIGS,
    PRETRAINED,
    RETIRED,
    CheckpointError,
    ModelConfig,
    PretrainedEntry,
    create_model,
    list_models,
    load,
    load_checkpoint,
    model_fingerprint,
    pretrained_file,
    save_checkpoint,
)
from .taco import TACO, TextGuidedAnalysis

__all__ = [
    "ELIC", "MODEL_CONFIGS", "PAD_MULTIPLE", "PRETRAINED", "RETIRED", "TACO", "CheckpointError",
    "ModelConfig", "PretrainedEntry", "TextAdapter", "TextExtractor", "TextGuidedAnalysis",
    "TextInjector", "create_model", "list_models", "load", "load_checkpoint",
    "model_fingerprint", "pretrained_file", "save_checkpoint",
]
