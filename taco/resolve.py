"""The one ``--model`` resolver: a trained name, a checkpoint file or an architecture -> a model.

Every command that takes ``--model`` (compress, decompress, demo, evaluate) goes through
:func:`resolve_model`. A built-in trained name (:data:`taco.models.PRETRAINED`) or a checkpoint
path loads weights; a bare architecture name (``taco-minilm``, ``elic-tiny``, ...) builds its
seed-0 random initialisation, marked untrained, because a demo or a smoke test on an untrained
architecture is useful and its files still decode (the same seed gives the same weights).

This module imports torch only when a model is resolved: ``taco --help`` reads
:data:`DEFAULT_MODEL` from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.elic import ELIC

__all__ = ["DEFAULT_MODEL", "ResolvedModel", "check_file_weights", "resolve_model"]

#: The model commands use when given none: the shipped text-guided model.
DEFAULT_MODEL = "taco-minilm-small-q4"


@dataclass(frozen=True)
class ResolvedModel:
    """A model and where it came from."""

    model: ELIC
    spec: str  # what was asked for (DEFAULT_MODEL when nothing was)
    trained: bool  # False: an architecture's seed-0 random weights
    #: when ``spec`` named a checkpoint: its file, or for a sharded one its index (which holds
    #: every shard's SHA-256)
    checkpoint: Path | None = None

    @property
    def note(self) -> str | None:
        """What to tell a user about these weights (None when they are trained)."""
        if self.trained:
            return None
        return (f"{self.spec!r} has no trained weights; using its seed-0 random initialisation "
                "(the output will not look like the input)")


def resolve_model(spec: str | None = None, *, device: Any = "cpu", names_only: bool = False) -> ResolvedModel:
    """``--model`` value -> :class:`ResolvedModel` (model in eval mode on ``device``).

    ``None`` is :data:`DEFAULT_MODEL`. Raises :class:`taco.models.CheckpointError` for a name
    that is neither built in nor a file (saying where a retired built-in's checkpoint is), for a
    folder without a checkpoint (a training run's that has none yet, or another), and for a file
    that is not a valid checkpoint (a training state among them: its run's checkpoint is the
    model). With ``names_only`` (the model a ``.taco`` file names: the file must not choose a
    file to read), ``spec`` is never taken for a path.
    """
    from .models import MODEL_CONFIGS, PRETRAINED, RETIRED, CheckpointError, create_model, load
    from .models.header import no_checkpoint_message
    from .models.registry import retired_message, unknown_model_message
    from .shards import find

    key = spec or DEFAULT_MODEL
    path = Path(key).expanduser()
    if key in PRETRAINED:
        return ResolvedModel(load(key, device).eval(), key, trained=True)
    if names_only and key not in MODEL_CONFIGS and key not in RETIRED:
        raise CheckpointError(f"this file names model {key!r}, which is not a built-in model: decode it "
                              "with the model that made it (taco.decompress(data, model), taco "
                              "decompress --model FILE)")
    # a file, or a sharded checkpoint (taco train writes those); never for a name a file gives
    checkpoint = None if names_only else find(path)
    if checkpoint is not None:
        return ResolvedModel(load(path, device).eval(), key, trained=True, checkpoint=checkpoint)
    if key in MODEL_CONFIGS:
        return ResolvedModel(create_model(key, seed=0).to(device).eval(), key, trained=False)
    if key in RETIRED:  # a file made with a former built-in names it
        raise CheckpointError(retired_message(key))
    if not names_only and path.is_dir():  # a run that has not written its checkpoint yet, or not a run
        raise CheckpointError(no_checkpoint_message(path))
    raise CheckpointError(unknown_model_message(key))


def check_file_weights(resolved: ResolvedModel, fingerprint: bytes) -> None:
    """CheckpointError when a file naming an architecture (``resolved`` by that name: its seed-0
    weights) was made with trained weights of it (a checkpoint's), saying what to do. A trained
    model's mismatch is the decoder's own check (:func:`taco.codec.check_made_with`)."""
    from .models import CheckpointError, model_fingerprint

    if not resolved.trained and fingerprint != model_fingerprint(resolved.model):
        raise CheckpointError(
            f"made with trained weights of {resolved.spec!r} (a checkpoint), not its untrained "
            "ones: decode it with them: taco decompress --model FILE (the checkpoint or its run "
            "folder; in Python, taco.decompress(data, taco.load(FILE)))")
