"""Which qualities ``--qualities NAME=Q,...`` (:attr:`taco.evaluation.EvalConfig.qualities`)
chooses for each ``--model``, checked from what names the model and how many qualities it has
(no torch): :mod:`taco.evaluation.evaluate` checks the loaded models with it, ``taco evaluate``
the models' configs and headers (:func:`taco.models.rates.named_rates`) before torch loads."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

from ..errors import TacoError

__all__ = ["NamedModel", "QualitiesError", "check_quality_names", "model_qualities", "names_model"]


class QualitiesError(TacoError, ValueError):
    """A ``--qualities`` NAME or quality the models of a run do not have."""


class NamedModel(Protocol):
    """What names a ``--model`` (:class:`taco.evaluation.evaluate.ModelInfo` has both)."""

    @property
    def spec(self) -> str: ...  # its --model value

    @property
    def model_id(self) -> str: ...


def names_model(key: str, info: NamedModel) -> bool:
    """Whether ``--qualities`` name ``key`` (lower-cased, as the CLI keeps it) names the model
    ``info``: its ``--model`` value or its model id (any case), or the same path written
    otherwise (``./run2``, ``run2/``, its absolute path for ``-m run2``)."""
    if key in (info.spec.lower(), info.model_id.lower()):
        return True
    return os.path.abspath(key).lower() == os.path.abspath(info.spec).lower()


def model_qualities(model: Any, info: NamedModel, wanted: Mapping[str, list[int]]) -> list[int | None]:
    """The qualities a model is evaluated at: ``[None]`` for a single-rate model, else those
    ``wanted`` names for it (by its ``--model`` value, the same path written otherwise, or its
    model id: :func:`names_model`), else all of them. ``model``: anything with the model's
    ``qualities`` (the λ of each; None or absent: a single rate), the loaded model or its config.
    A quality it does not have is a :class:`QualitiesError`."""
    total = len(getattr(model, "qualities", None) or ())
    keys = [k for k in (info.spec.lower(), info.model_id.lower()) if k in wanted] or [
        k for k in wanted if names_model(k, info)]
    if not keys:
        return [None] if not total else [*range(1, total + 1)]
    if not total:
        raise QualitiesError(f"--qualities {keys[0]}=...: {info.model_id} is a single-rate model "
                             "(--qualities chooses among a variable-rate model's qualities)")
    qs = wanted[keys[0]]
    if not qs:
        raise QualitiesError(f"--qualities {keys[0]}= names no quality: {info.model_id} has "
                             f"qualities 1..{total}")
    if len(set(qs)) != len(qs):  # as for a classic codec's qualities
        raise QualitiesError(f"--qualities {keys[0]}={','.join(map(str, qs))}: {info.model_id} "
                             f"has qualities 1..{total}; give each at most once")
    bad = [q for q in qs if not 1 <= q <= total]
    if bad:
        raise QualitiesError(f"--qualities {keys[0]}=...: {', '.join(map(str, bad))} outside "
                             f"{info.model_id}'s qualities 1..{total}")
    return [*sorted(qs)]


def check_quality_names(wanted: Iterable[str], classic: Collection[str], models: Iterable[NamedModel]) -> None:
    """A :class:`QualitiesError` for the first ``--qualities`` name (in sorted order) that is
    neither one of the ``classic`` codecs (lower-cased) nor names one of ``models``."""
    models = [*models]
    for key in sorted(k for k in wanted
                      if k not in classic and not any(names_model(k, info) for info in models)):
        raise QualitiesError(f"--qualities {key}=...: {key!r} is neither a --classic codec nor a "
                             "--model of this run")
