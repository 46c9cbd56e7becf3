"""The rules of a model's rates, without torch: which quality a model codes at
(:func:`checked_quality`), what a size target asks of it (:func:`needs_variable_rate`), and the
qualities of a model named by ``--model`` read from its config alone (:func:`named_rates`), so
that ``taco compress -q 3`` with a single-rate model is refused before torch and the model load.
:func:`taco.codec.coding_quality` applies the same rule to a loaded model."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..checks import as_int
from ..errors import TacoValueError
from .config import default_quality
from .header import header_model_id
from .registry import PRETRAINED, spec_config

__all__ = ["checked_quality", "named_rates", "needs_variable_rate", "rate_models_clause"]


def checked_quality(qualities: Sequence[float] | None, model_id: str, quality: object) -> int | None:
    """The quality that model ``model_id`` with ``qualities`` (the λ of each; None: a single
    rate) codes at when asked for ``quality``: the rule of :func:`taco.codec.coding_quality`,
    which documents it (a TypeError for a quality that is no integer, a TacoValueError for one
    the model does not have; the middle one for None)."""
    number = None if quality is None else as_int(quality)  # a NumPy integer is a number too
    if quality is not None and number is None:  # the type first, for every model
        span, rate = (f" 1..{len(qualities)}", "") if qualities else ("", " (a single rate: give none)")
        raise TypeError(f"quality must be an integer{span} for model {model_id!r}{rate}, "
                        f"not {type(quality).__name__}")
    if qualities is None:
        if quality is not None:
            raise TacoValueError(f"model {model_id!r} has a single rate (one model per λ): it takes "
                                 f"no quality (got {quality!r}){rate_models_clause(model_id)}")
        return None
    if number is None:
        return default_quality(len(qualities))
    if not 1 <= number <= len(qualities):
        raise TacoValueError(f"quality must be an integer 1..{len(qualities)} for model "
                             f"{model_id!r}, got {number}")  # NumPy 2's repr: np.int64(9)
    return number


def needs_variable_rate(option: str, model_id: str) -> str:
    """The refusal of a size target (``option``: ``max_bytes=``, ``--max-bytes``, ...) for
    single-rate ``model_id``, naming its other rates where it has some
    (:func:`rate_models_clause`)."""
    return (f"{option} needs a variable-rate model, which codes one analysis at any of its "
            f"qualities; model {model_id!r} has a single rate (one model per λ)"
            f"{rate_models_clause(model_id) or ': choose the model by name instead'}")


def rate_models_clause(model_id: str) -> str:
    """What a message about single-rate ``model_id`` adds to name the built-in trained models
    that are its rates (the same name up to ``-qN``), by λ: ``; its rates are separate models,
    chosen by name: taco-minilm-small-q3 (λ=0.0016), taco-minilm-small-q4 (λ=0.004)``, or ''
    when there are not two of them (a checkpoint's own id, an architecture)."""
    if "-q" not in model_id:
        return ""
    family = sorted((e.lmbda, n) for n, e in PRETRAINED.items() if e.lmbda is not None
                    and n.rpartition("-q")[0] == model_id.rpartition("-q")[0])
    if len(family) < 2:
        return ""
    return "; its rates are separate models, chosen by name: " + ", ".join(
        f"{n} (λ={lmbda:g})" for lmbda, n in family)


def named_rates(name: str | os.PathLike[str]) -> tuple[str, list[float] | None]:
    """(the model id, the λ of each quality or None for a single rate) of the model that
    ``name`` (a built-in trained name, an architecture, a checkpoint file or run folder) gives
    :func:`taco.resolve.resolve_model`, read from its config and header
    (:func:`~taco.models.registry.spec_config`), not its weights. The errors of
    :func:`~taco.models.registry.locate_model` and of reading a header for a name that gives
    no model."""
    spec, config, header = spec_config(name)
    if spec.kind != "checkpoint":  # a built-in or an architecture (its seed-0 build): its name
        return os.fspath(name), config.qualities
    assert spec.checkpoint is not None  # classify_model_spec gives a checkpoint its file
    return header_model_id(header, spec.checkpoint), config.qualities
