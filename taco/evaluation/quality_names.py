"""Which qualities ``--qualities NAME=Q,...`` (:attr:`taco.evaluation.EvalConfig.qualities`)
chooses for each ``--model``, checked from what names the model and how many qualities it has
(no torch): :mod:`taco.evaluation.evaluate` checks the loaded models with it, ``taco evaluate``
the models' configs and headers (:func:`taco.models.rates.named_rates`) before torch loads.
A classic codec's sweep is checked by the same :func:`check_quality_numbers` (its range:
:data:`CODEC_QUALITIES`), by ``taco evaluate`` before torch, by
:func:`taco.evaluation.run_evaluation` and by :func:`taco.evaluation.classic.evaluate_codec`;
a ``--classic`` name by :func:`check_classic_names`."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..errors import TacoError
from ..messages import did_you_mean

__all__ = ["CODEC_LABELS", "CODEC_QUALITIES", "CodecNameError", "NamedModel", "QualitiesError",
           "check_classic_names", "check_classic_qualities", "check_quality_numbers", "check_quality_names",
           "model_qualities", "names_model", "quality_key"]

#: classic codec name -> legend label (each codec's :attr:`~taco.evaluation.classic.ClassicCodec.label`),
#: read without building the codec or probing whether it runs here
CODEC_LABELS = {"jpeg": "JPEG", "webp": "WebP", "avif": "AVIF", "bpg": "BPG", "vtm": "VTM (intra)"}

#: classic codec name -> the qualities it takes, lowest and highest (each codec's
#: :attr:`~taco.evaluation.classic.ClassicCodec.quality_range`)
CODEC_QUALITIES = {"jpeg": (1, 100), "webp": (0, 100), "avif": (0, 100), "bpg": (0, 51), "vtm": (0, 63)}


class QualitiesError(TacoError, ValueError):
    """A ``--qualities`` NAME or quality the models of a run do not have."""


class CodecNameError(TacoError, ValueError):
    """A ``--classic`` name that is no classic codec (a typo, not a codec missing here)."""


def check_classic_names(classic: Iterable[str]) -> None:
    """A :class:`CodecNameError` for the first of the ``classic`` names (any case) that is no
    classic codec of :data:`CODEC_LABELS`, with the closest codec names; checked before torch
    loads (:func:`taco.evaluation.defaults.config_problem`) and by
    :func:`taco.evaluation.run_evaluation` before any codec is built."""
    for name in classic:
        if name.lower() not in CODEC_LABELS:
            raise CodecNameError(f"--classic {name}: no such codec; the codecs are: {', '.join(CODEC_LABELS)}"
                                 f"{did_you_mean(name.lower(), CODEC_LABELS)}")


class NamedModel(Protocol):
    """What names a ``--model`` (:class:`taco.evaluation.evaluate.ModelInfo` has both)."""

    @property
    def spec(self) -> str: ...  # its --model value

    @property
    def model_id(self) -> str: ...


def _is_path(name: str) -> bool:
    """Whether ``name`` is written as a path (a folder part, a leading ``~`` or ``.``, or a
    checkpoint file's ending), not as a name (a codec, a model id, a built-in model)."""
    from ..models.registry import CHECKPOINT_SUFFIXES  # no torch

    return (name.startswith(("~", ".")) or "/" in name or os.sep in name
            or name.lower().endswith(CHECKPOINT_SUFFIXES))


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(os.path.expanduser(a))) == os.path.normcase(
        os.path.abspath(os.path.expanduser(b)))


def quality_key(name: str) -> str:
    """The key ``--qualities NAME=...`` (:attr:`taco.evaluation.EvalConfig.qualities`) is kept
    under: a path (``~/vr.safetensors``, ``./run2``, ``VR.safetensors``) with its ``~`` expanded,
    as ``--model`` takes it, and its case kept (``VR.safetensors`` is another file than
    ``vr.safetensors``); any other name (a codec, a model id) lower-cased, as they are matched
    in any case."""
    name = name.strip()
    return os.path.expanduser(name) if _is_path(name) else name.lower()


def names_model(key: str, info: NamedModel) -> bool:
    """Whether ``--qualities`` name ``key`` (:func:`quality_key`) names the model ``info``: its
    model id (any case), its ``--model`` value (a name in any case), or the same path written
    otherwise (``./run2``, ``run2/``, ``~/run2``, its absolute path for ``-m run2``; compared
    as paths, in their case)."""
    if key == info.model_id.lower() or key == quality_key(info.spec):
        return True
    if not _is_path(key):  # a name: -m run2 is named by RUN2 and by run2 (./Run2 too)
        return key == os.path.normpath(info.spec).lower() or _same_path(key, info.spec)
    return _same_path(key, info.spec)


def model_qualities(model: Any, info: NamedModel, wanted: Mapping[str, list[int]]) -> list[int | None]:
    """The qualities a model is evaluated at: ``[None]`` for a single-rate model, else those
    ``wanted`` names for it (by its ``--model`` value, the same path written otherwise, or its
    model id: :func:`names_model`), else all of them. ``model``: anything with the model's
    ``qualities`` (the λ of each; None or absent: a single rate), the loaded model or its config.
    A quality it does not have is a :class:`QualitiesError`."""
    total = len(getattr(model, "qualities", None) or ())
    keys = [k for k in (quality_key(info.spec), info.model_id.lower()) if k in wanted] or [
        k for k in wanted if names_model(k, info)]
    if not keys:
        return [None] if not total else [*range(1, total + 1)]
    if not total:
        raise QualitiesError(f"--qualities {keys[0]}=...: {info.model_id} is a single-rate model "
                             "(--qualities chooses among a variable-rate model's qualities)")
    qs = wanted[keys[0]]
    check_quality_numbers(keys[0], info.model_id, qs, 1, total)
    return [*sorted(qs)]


def check_quality_numbers(key: str, owner: str, qualities: Sequence[int], lo: int, hi: int) -> None:
    """A :class:`QualitiesError` unless ``qualities`` (``--qualities key=...``, of the model or
    codec labelled ``owner``, which has qualities ``lo..hi``) names at least one quality, each
    at most once, all within ``lo..hi``."""
    qs = [*qualities]
    if not qs:
        raise QualitiesError(f"--qualities {key}= names no quality: {owner} has qualities {lo}..{hi}")
    if len(set(qs)) != len(qs):
        raise QualitiesError(f"--qualities {key}={','.join(map(str, qs))}: {owner} has qualities "
                             f"{lo}..{hi}; give each at most once")
    bad = [q for q in qs if not lo <= q <= hi]
    if bad:
        raise QualitiesError(f"--qualities {key}=...: {', '.join(map(str, bad))} outside "
                             f"{owner}'s qualities {lo}..{hi}")


def check_classic_qualities(wanted: Mapping[str, Sequence[int]], classic: Iterable[str]) -> None:
    """:func:`check_quality_numbers` for each of the ``classic`` codecs (any case; a name that is no
    codec is left to whoever builds them) that ``wanted`` gives qualities."""
    for name in dict.fromkeys(c.lower() for c in classic):
        if name in wanted and name in CODEC_QUALITIES:
            check_quality_numbers(name, CODEC_LABELS[name], wanted[name], *CODEC_QUALITIES[name])


def check_quality_names(wanted: Iterable[str], classic: Collection[str], models: Iterable[NamedModel]) -> None:
    """A :class:`QualitiesError` for the first ``--qualities`` name (:func:`quality_key`, in
    sorted order) that is neither one of the ``classic`` codecs (lower-cased) nor names one of
    ``models``."""
    models = [*models]
    for key in sorted(k for k in wanted
                      if k not in classic and not any(names_model(k, info) for info in models)):
        raise QualitiesError(f"--qualities {key}=...: {key!r} is neither a --classic codec nor a "
                             "--model of this run")
