"""Models: ELIC, the text adapter, TACO, and the registry that builds and loads them.

The names below load on first use: the architectures' names and configs (:mod:`.registry`,
:mod:`.config`) import no torch, so ``taco models`` and a mistyped ``--model`` answer without it;
building or loading a model imports torch and CompressAI then.
"""

from __future__ import annotations

from ..lazy import lazy_names

#: Exported name -> the submodule that defines it.
_LAZY = {
    **dict.fromkeys(("TextAdapter", "TextExtractor", "TextInjector"), "taco.models.adapter"),
    **dict.fromkeys(("CheckpointError", "ModelConfig"), "taco.models.config"),
    **dict.fromkeys(("load_checkpoint", "model_fingerprint", "save_checkpoint"),
                    "taco.models.checkpoint"),
    **dict.fromkeys(("ELIC", "PAD_MULTIPLE"), "taco.models.elic"),
    **dict.fromkeys(("MODEL_CONFIGS", "PRETRAINED", "RETIRED", "PretrainedEntry", "create_model",
                     "describe_model", "list_models", "load", "pretrained_file"),
                    "taco.models.registry"),
    **dict.fromkeys(("TACO", "TextGuidedAnalysis"), "taco.models.taco"),
}

__all__ = [
    "ELIC", "MODEL_CONFIGS", "PAD_MULTIPLE", "PRETRAINED", "RETIRED", "TACO", "CheckpointError",
    "ModelConfig", "PretrainedEntry", "TextAdapter", "TextExtractor", "TextGuidedAnalysis",
    "TextInjector", "create_model", "describe_model", "list_models", "load", "load_checkpoint",
    "model_fingerprint", "pretrained_file", "save_checkpoint",
]

__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
