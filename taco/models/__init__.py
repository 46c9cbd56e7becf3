"""Models: ELIC, the text adapter, TACO, and the registry that builds and loads them."""

from .adapter import TextAdapter, TextExtractor, TextInjector
from .architecture import CheckpointError, ModelConfig
from .checkpoint import load_checkpoint, model_fingerprint, save_checkpoint
from .elic import ELIC, PAD_MULTIPLE
from .registry import (
    MODEL_CONFIGS,
    PRETRAINED,
    RETIRED,
    PretrainedEntry,
    create_model,
    describe_model,
    list_models,
    load,
    pretrained_file,
)
from .taco import TACO, TextGuidedAnalysis

__all__ = [
    "ELIC", "MODEL_CONFIGS", "PAD_MULTIPLE", "PRETRAINED", "RETIRED", "TACO", "CheckpointError",
    "ModelConfig", "PretrainedEntry", "TextAdapter", "TextExtractor", "TextGuidedAnalysis",
    "TextInjector", "create_model", "describe_model", "list_models", "load", "load_checkpoint",
    "model_fingerprint", "pretrained_file", "save_checkpoint",
]
