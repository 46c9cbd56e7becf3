"""The one ``--model`` resolver: a trained name, a checkpoint file or an architecture -> a model.

Every command that takes ``--model`` (compress, decompress, demo, evaluate) goes through
:func:`resolve_model`. A built-in trained name (:data:`taco.models.PRETRAINED`) or a checkpoint
path loads weights; a bare architecture name (``taco-minilm``, ``elic-tiny``, ...) builds its
seed-0 random initialisation, marked untrained, because a demo or a smoke test on an untrained
architecture is useful and its files still decode (the same seed gives the same weights). A
name means the same in every folder: a file or folder of that name in the working directory is
reached as ``./NAME``, and a note says so (:func:`taco.models.registry.classify_model_spec`, the
lookup :func:`taco.load` and ``taco models`` share).

This module imports torch only when a model is resolved: ``taco --help`` reads
:data:`DEFAULT_MODEL` from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models.elic import ELIC

__all__ = ["DEFAULT_MODEL", "ResolvedModel", "check_file_weights", "check_given_model", "resolve_model"]

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
    #: when ``spec`` is a built-in name: a checkpoint that a file or folder of the same name in
    #: the working directory holds, which is not used (``./NAME`` would use it)
    shadowed: Path | None = None

    @property
    def note(self) -> str | None:
        """What to tell a user about these weights: that they are untrained, and that a
        checkpoint of the same name was not used; None when neither."""
        from .models.registry import shadow_note

        notes = [] if self.trained else [
            f"{self.spec!r} has no trained weights; using its seed-0 random initialisation "
            "(the output will not look like the input)"]
        if self.shadowed is not None:
            notes.append(shadow_note(self.spec, self.shadowed))
        return "; ".join(notes) or None


def resolve_model(spec: str | os.PathLike[str] | None = None, *, device: Any = "cpu",
                  names_only: bool = False) -> ResolvedModel:
    """``--model`` value -> :class:`ResolvedModel` (model in eval mode on ``device``).

    ``None`` is :data:`DEFAULT_MODEL`. ``spec`` (a str, or a ``pathlib.Path``: always a path) is
    looked up by
    :func:`taco.models.registry.classify_model_spec`: a name taco knows before a path, so that
    ``elic-tiny`` is the architecture even where ``./elic-tiny`` is a training run (``.note``
    says so). Raises :class:`taco.models.CheckpointError` for a name
    that is neither built in nor a file (saying where a retired built-in's checkpoint is), for a
    folder without a checkpoint (a training run's that has none yet, or another), and for a file
    that is not a valid checkpoint (a training state among them: its run's checkpoint is the
    model). With ``names_only`` (the model a ``.taco`` file names: the file must not choose a
    file to read), ``spec`` is never taken for a path.
    """
    from .models import CheckpointError, create_model, load, load_builtin
    from .models.header import no_checkpoint_message
    from .models.registry import classify_model_spec, retired_message, unknown_model_message

    found = classify_model_spec(spec or DEFAULT_MODEL, names_only=names_only)
    key = os.fspath(spec or DEFAULT_MODEL)
    if found.kind == "pretrained":
        return ResolvedModel(load_builtin(key, device).eval(), key, trained=True,
                             shadowed=found.shadowed)
    if found.kind == "architecture":
        return ResolvedModel(create_model(key, seed=0).to(device).eval(), key, trained=False,
                             shadowed=found.shadowed)
    if found.kind == "checkpoint":  # a file, or a sharded checkpoint (taco train writes those)
        return ResolvedModel(load(found.path, device).eval(), key, trained=True,
                             checkpoint=found.checkpoint)
    if found.kind == "retired":  # a file made with a former built-in names it
        raise CheckpointError(retired_message(key, found.shadowed))
    if found.kind == "folder":  # a run that has not written its checkpoint yet, or not a run
        raise CheckpointError(no_checkpoint_message(found.path))
    if names_only:
        raise CheckpointError(f"this file names model {key!r}, which is not a built-in model: decode it "
                              "with the model that made it (taco.decompress(data, model), taco "
                              "decompress --model FILE)")
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


def check_given_model(given: ResolvedModel, file_model: str, fingerprint: bytes) -> None:
    """CheckpointError when ``--model`` (``given``) did not make a file that names model
    ``file_model`` and weights ``fingerprint``, saying what to give instead: nothing for a file
    of a built-in trained model (taco picks the model a file names), the checkpoint otherwise."""
    from .models import CheckpointError, model_fingerprint
    from .models.registry import classify_model_spec

    if fingerprint == model_fingerprint(given.model):
        return
    kind = classify_model_spec(file_model, names_only=True).kind
    if kind == "pretrained":
        fix = f"leave out --model: taco decodes it with {file_model!r}, the built-in model it names"
    elif kind == "architecture":
        fix = (f"leave out --model if it was made with the untrained {file_model!r}, else give "
               "the checkpoint that made it: --model FILE")
    else:
        fix = "give the checkpoint that made it: --model FILE"
    raise CheckpointError(f"this file was made with model {file_model!r}, not with --model "
                          f"{given.spec!r}: {fix}")
