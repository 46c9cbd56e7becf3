"""The text encoders' names, their options and what each option may be, without torch.

:mod:`taco.text` builds the encoders (it imports torch); this table is what a model config's
``text_encoder`` entry (``{"name": ..., **options}``) is checked against where no encoder is
built: reading a checkpoint's header (``taco models FILE``, taco's torch-free refusals) checks it
as loading the model does (:func:`taco.models.header.header_config`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .checks import is_int
from .errors import TacoValueError
from .messages import did_you_mean

__all__ = ["TEXT_ENCODER_OPTIONS", "text_encoder_arguments", "text_encoder_spec_problem"]

#: How a model reads another BERT (docs/training.md, docs/models.md), as an unknown encoder's
#: name that is no typo of a known one (``mpnet``, ``bert-base``) is told: the ``minilm`` encoder
#: reads any Hugging Face ``BertModel`` folder (``model_type`` bert) given as its ``path``; an
#: encoder of another architecture (MPNet, T5) has no name here.
_ANOTHER_BERT = ("another BERT, a Hugging Face BertModel folder with config.json, model.safetensors and "
                "tokenizer.json, is {name: minilm, path: DIR}: in taco train's config under "
                "model_overrides.text_encoder; other architectures (MPNet, T5) are not read")

#: Each text encoder's name -> {option: the argument of its class's constructor it sets}. The one
#: list of the names: :mod:`taco.text` maps each to its class (the class's ``name``).
TEXT_ENCODER_OPTIONS: Mapping[str, Mapping[str, str]] = {
    "clip": {"path": "path_or_id", "max_tokens": "max_tokens"},
    "clip-tiny": {"seed": "seed", "max_tokens": "max_tokens"},
    "minilm": {"path": "path", "max_tokens": "max_tokens"},
}

#: What each option of an encoder may be (None: the encoder's default), as
#: :func:`text_encoder_spec_problem` says it; the encoder checks the rest as it loads (the
#: folder's files, ``max_tokens`` against its model's positions).
_OPTION_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "path": (lambda v: isinstance(v, (str, os.PathLike)) and bool(os.fspath(v)), "a folder's path or a hub id"),
    "seed": (lambda v: is_int(v, -(2**63), 2**64 - 1), "an integer"),
    "max_tokens": (lambda v: is_int(v, 2), "an integer >= 2"),
}


def text_encoder_arguments(name: str, options: Mapping[str, Any]) -> Mapping[str, str]:
    """{option: constructor argument} of the encoder ``name``
    (:data:`TEXT_ENCODER_OPTIONS`); a TacoValueError (a ValueError) for an unknown name, or an
    option in ``options`` it does not take (the values are not looked at)."""
    if name not in TEXT_ENCODER_OPTIONS:
        hint = did_you_mean(name, TEXT_ENCODER_OPTIONS)
        known = f"unknown text encoder {name!r}{hint}; known: {', '.join(sorted(TEXT_ENCODER_OPTIONS))}"
        if not hint:  # no typo of one (MiniLM, clipp): another model
            known += f" ({_ANOTHER_BERT})"
        raise TacoValueError(known)
    arguments = TEXT_ENCODER_OPTIONS[name]
    unknown = sorted(set(options) - set(arguments))
    if unknown:
        raise TacoValueError(f"text encoder {name!r} takes options {sorted(arguments)}, not {unknown}")
    return arguments


def text_encoder_spec_problem(spec: object) -> str | None:
    """What is wrong with a model config's ``text_encoder`` entry (``{"name": ..., **options}``),
    in words, without building the encoder (None: nothing): an unknown name or option, an
    option's value of the wrong kind (``seed`` a string: a traceback from torch when built)."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        return f"text_encoder must be a JSON object with a name, not {str(spec)[:60]!r}"
    options = {k: v for k, v in spec.items() if k != "name"}
    try:
        text_encoder_arguments(spec["name"], options)
    except TacoValueError as exc:
        return str(exc)
    for option, value in options.items():
        valid, what = _OPTION_CHECKS[option]
        if value is not None and not valid(value):
            return f"text encoder {spec['name']!r}: {option} must be {what}, not {str(value)[:60]!r}"
    return None
