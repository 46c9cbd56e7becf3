"""Models: ELIC, the text adapter, TACO, and the registry that builds and loads them.

The names below load on first use: the architectures' names and configs (:mod:`.registry`,
:mod:`.config`) import no torch, so ``taco models`` and a mistyped ``--model`` answer without it;
building or loading a model imports torch and CompressAI then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

#: Exported name -> the submodule that defines it.
_LAZY = {
    **dict.fromkeys(("TextAdapter", "TextExtractor", "TextInjector"), "taco.models.adapter"),
    **dict.fromkeys(("CheckpointError", "ModelConfig", "PAD_MULTIPLE", "PluginError",
                     "UnknownArchitectureError", "load_plugins"),
                    "taco.models.config"),
    **dict.fromkeys(("load_checkpoint", "model_fingerprint", "save_checkpoint"),
                    "taco.models.checkpoint"),
    "ELIC": "taco.models.elic",
    **dict.fromkeys(("MODEL_CONFIGS", "PRETRAINED", "RETIRED", "PretrainedEntry", "create_model",
                     "UnknownModelError", "describe_model", "list_models", "load", "load_builtin",
                     "pretrained_file", "register_architecture"),
                    "taco.models.registry"),
    **dict.fromkeys(("TACO", "TextGuidedAnalysis"), "taco.models.taco"),
}

__all__ = [
    "ELIC", "MODEL_CONFIGS", "PAD_MULTIPLE", "PRETRAINED", "RETIRED", "TACO", "CheckpointError",
    "ModelConfig", "PluginError", "PretrainedEntry", "TextAdapter", "TextExtractor",
    "TextGuidedAnalysis", "TextInjector", "UnknownArchitectureError", "UnknownModelError", "create_model", "describe_model",
    "list_models", "load", "load_builtin", "load_checkpoint", "load_plugins", "model_fingerprint", "pretrained_file",
    "register_architecture", "save_checkpoint",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers (they import nothing here)
    from taco.models.adapter import (
        TextAdapter as TextAdapter,
        TextExtractor as TextExtractor,
        TextInjector as TextInjector,
    )
    from taco.models.checkpoint import (
        load_checkpoint as load_checkpoint,
        model_fingerprint as model_fingerprint,
        save_checkpoint as save_checkpoint,
    )
    from taco.models.config import (
        PAD_MULTIPLE as PAD_MULTIPLE,
        CheckpointError as CheckpointError,
        ModelConfig as ModelConfig,
        PluginError as PluginError,
        UnknownArchitectureError as UnknownArchitectureError,
        load_plugins as load_plugins,
    )
    from taco.models.elic import ELIC as ELIC
    from taco.models.registry import (
        MODEL_CONFIGS as MODEL_CONFIGS,
        PRETRAINED as PRETRAINED,
        RETIRED as RETIRED,
        PretrainedEntry as PretrainedEntry,
        UnknownModelError as UnknownModelError,
        create_model as create_model,
        describe_model as describe_model,
        list_models as list_models,
        load as load,
        load_builtin as load_builtin,
        pretrained_file as pretrained_file,
        register_architecture as register_architecture,
    )
    from taco.models.taco import (
        TACO as TACO,
        TextGuidedAnalysis as TextGuidedAnalysis,
    )

if not TYPE_CHECKING:  # hidden from type checkers: a misspelled name is an error there
    __getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
