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
from typing import TYPE_CHECKING, Any, Literal

from .memory import NO_CAP_HINT, decode_cap_problem, latent_channels

if TYPE_CHECKING:
    from .bitstream import TacoHeader
    from .models.elic import ELIC

__all__ = ["DEFAULT_MODEL", "IMPORTED_MODEL_IDS", "FileModelKind", "ResolvedModel", "decode_problems",
           "decoding_needs", "file_model_kind", "former_weights", "made_with_problem", "resolve_model",
           "weights_note"]

#: The model commands use when given none: the shipped text-guided model.
DEFAULT_MODEL = "taco-minilm-small-q4"


#: The model ids ``taco import-checkpoint`` gives an authors' checkpoint unless told another
#: (:func:`taco.official.import_checkpoint`).
IMPORTED_MODEL_IDS = ("taco-official", "elic-official", "elic-compressai")

#: What a ``.taco`` file's model id says its decoder needs (:func:`file_model_kind`).
FileModelKind = Literal["none", "pretrained", "retired", "architecture", "imported", "custom", "other"]

#: How a model is given to taco decompress, to both it and Python, and to ``taco.decompress``
#: alone (:func:`decoding_needs`). In Python the model is often an object never saved (a
#: notebook's ``create_model(NAME, seed=1)``, a model being trained): it decodes the file itself.
CLI_MODEL = "--model FILE"
BOTH_MODEL = "taco decompress --model FILE, or in Python taco.decompress(data, taco.load(FILE))"
MODEL_OBJECT = "the model object that coded it (another seed, changed weights): taco.decompress(data, model)"
PYTHON_MODEL = f"taco.decompress(data, taco.load(FILE)), or {MODEL_OBJECT}"

#: How :func:`taco.models.registry.history_clause` says to use a checkpoint, for each ``use``.
_HISTORY_USE = {CLI_MODEL: "--model", BOTH_MODEL: "decode", PYTHON_MODEL: "taco.decompress"}


def file_model_kind(model_id: str) -> FileModelKind:
    """What the model id of a ``.taco`` file names, as ``taco decompress`` without ``--model``
    looks it up (:func:`taco.models.registry.classify_model_spec` with ``names_only``; no torch
    imported unless ``TACO_PLUGINS`` names modules and the id is no built-in name): no model
    (``""``, model code 0: taco's default is tried), a trained built-in, a retired one, an
    architecture (its seed-0 weights are built), or a name taco has no weights for: an authors'
    checkpoint imported under its default id (:data:`IMPORTED_MODEL_IDS`), a model built with
    changed options (``NAME+custom``) or from a bare config (``custom``), or another id (a
    checkpoint's own, a backbone's that is not registered: also when a ``TACO_PLUGINS`` module
    fails to import, which is not raised here, so that ``taco info`` still shows the header;
    :func:`decoding_needs` says why it failed)."""
    from .models.config import PluginError
    from .models.registry import classify_model_spec

    if not model_id:
        return "none"
    try:
        kind = classify_model_spec(model_id, names_only=True).kind
    except PluginError as exc:  # a TACO_PLUGINS module that fails to import (tried once a process)
        if exc.module:  # for decoding_needs, now and for the next files
            _plugin_failures[exc.module] = str(exc)
        kind = "unknown"  # the built-in names were looked up first: it is none of them
    if kind in ("pretrained", "retired", "architecture"):
        return kind  # type: ignore[return-value]
    if model_id in IMPORTED_MODEL_IDS:
        return "imported"
    if model_id == "custom" or model_id.endswith("+custom"):
        return "custom"
    return "other"


#: The message of the PluginError of each ``TACO_PLUGINS`` module that :func:`file_model_kind`
#: saw fail to import, by module name: the import is tried once a process, so a later file's
#: :func:`decoding_needs` (``taco info`` of several) says it too.
_plugin_failures: dict[str, str] = {}


def _plugin_failure() -> str | None:
    """Why the ``TACO_PLUGINS`` modules named now that failed to import did (one line each,
    joined), or None when none of them is known to have failed; one imported since is not."""
    import sys

    from .models.config import named_plugins

    said = [_plugin_failures[n] for n in named_plugins()
            if n in _plugin_failures and n not in sys.modules]
    return "; ".join(said) or None


def decoding_needs(model_id: str, fingerprint: bytes | None = None, *, use: str = CLI_MODEL) -> str:
    """What decoding a ``.taco`` file whose header names ``model_id`` and weights ``fingerprint``
    needs, in one clause (``taco info`` shows it; ``taco decompress`` says it of a name that is
    not built in), from :func:`file_model_kind`; ``use``: how the model is given
    (:data:`CLI_MODEL`, :data:`BOTH_MODEL`, :data:`PYTHON_MODEL`). For a built-in trained name, "nothing" only when
    ``fingerprint`` is the built-in's (recorded in :data:`taco.models.PRETRAINED`: no torch
    imported); other weights of that name need the checkpoint that made the file (or, for weights
    the built-in shipped with before it was replaced, :data:`~taco.models.registry.REPLACED`,
    their checkpoint in taco's git history); ``fingerprint`` None, or a built-in without a
    recorded one, is answered with an "if". The plugin hint
    (:func:`taco.models.registry.plugin_hint`) ends it only for an id a backbone may have
    registered: not an imported checkpoint's, a ``+custom`` one or a path; where a
    ``TACO_PLUGINS`` module failed to import, it says why instead (``TACO_PLUGINS: cannot import
    'X': ModuleNotFoundError: ...``), as ``taco decompress`` does, not that the modules register
    no such name."""
    from .models.registry import (
        PRETRAINED,
        REPLACED,
        RETIRED,
        history_clause,
        looks_like_path,
        plugin_hint,
    )

    kind = file_model_kind(model_id)
    if kind == "none":
        return (f"taco's default model {DEFAULT_MODEL!r} (model code 0: no model id), else the "
                f"model that made it: {use}")
    if kind == "pretrained":
        recorded = PRETRAINED[model_id].fingerprint if model_id in PRETRAINED else ""
        if fingerprint is None or not recorded:
            return (f"nothing if the built-in trained model {model_id!r} made it, else the "
                    f"checkpoint that did: {use}")
        if fingerprint.hex() == recorded:
            return f"nothing: the built-in trained model {model_id!r}"
        name, rev = REPLACED.get(fingerprint.hex(), ("", ""))
        if name == model_id:
            return (f"the former weights of {model_id!r}, which shipped up to commit {rev}: "
                    f"{history_clause(model_id, rev, _HISTORY_USE.get(use, '--model'))}")
        return (f"the checkpoint that made it (other weights than those of the built-in "
                f"{model_id!r}): {use}")
    if kind == "retired":
        return (f"the checkpoint of {model_id!r}, a former built-in: "
                f"{history_clause(model_id, RETIRED[model_id], 'taco.decompress' if use == PYTHON_MODEL else 'decode')}")
    if kind == "architecture":
        return (f"nothing if the untrained seed-0 weights of the architecture {model_id!r} made it, "
                f"else the checkpoint of it that did: {use}")
    if kind == "imported":
        return f"the authors' checkpoint that taco import-checkpoint saved (its .safetensors): {use}"
    if kind == "custom":
        base = model_id.removesuffix("+custom")
        of = (f"a model of {base!r} built with changed options" if model_id != "custom"
              else "a model built from a bare config, without a name")
        return f"the checkpoint that made it ({of}): {use}"
    hint = "" if looks_like_path(model_id) else f"; {plugin_hint(_plugin_failure())}"
    return f"the model that made it: {use}{hint}"


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
        """What to tell a user about these weights (:func:`weights_note`); None when nothing."""
        return weights_note(self.spec, trained=self.trained, shadowed=self.shadowed)


def weights_note(spec: str, *, trained: bool, shadowed: str | os.PathLike[str] | None,
                 untrained_means: str = "the output will not look like the input") -> str | None:
    """The one note on a resolved ``--model`` ``spec``, in one line: that its weights are an
    architecture's seed-0 random initialisation (not ``trained``), ending with
    ``untrained_means`` (what that means for the command's output), and that a checkpoint of
    the same name in the working directory, ``shadowed``, was not used; None when neither.
    :attr:`ResolvedModel.note` for compress, decompress and demo; taco evaluate's models say
    it with their own ``untrained_means``."""
    from .models.registry import shadow_note

    notes = [] if trained else [
        f"{spec!r} has no trained weights; using its seed-0 random initialisation "
        f"({untrained_means})"]
    if shadowed is not None:
        notes.append(shadow_note(spec, shadowed))
    return "; ".join(notes) or None


def resolve_model(spec: str | os.PathLike[str] | None = None, *, device: Any = "cpu",
                  names_only: bool = False, use: str = BOTH_MODEL) -> ResolvedModel:
    """``--model`` value -> :class:`ResolvedModel` (model in eval mode on ``device``).

    ``None`` is :data:`DEFAULT_MODEL`. ``spec`` (a str, or a ``pathlib.Path``: always a path) is
    looked up by :func:`taco.models.registry.locate_model`, which :func:`taco.load` shares
    (:func:`~taco.models.registry.classify_model_spec`): a name taco knows before a path, so that
    ``elic-tiny`` is the architecture even where ``./elic-tiny`` is a training run (``.note``
    says so). Raises :class:`taco.models.CheckpointError` for a name
    that is neither built in nor a file (saying where a retired built-in's checkpoint is), for a
    folder without a checkpoint (a training run's that has none yet, or another), and for a file
    that is not a valid checkpoint (a training state among them: its run's checkpoint is the
    model). With ``names_only`` (the model a ``.taco`` file names: the file must not choose a
    file to read), ``spec`` is never taken for a path, and a name that is no built-in is refused
    saying how to give the model that made the file as ``use`` says (:func:`decoding_needs`):
    to taco decompress and Python alike (:data:`BOTH_MODEL`), or to ``taco.decompress`` alone
    (:data:`PYTHON_MODEL`, which also names the model object that coded it).
    """
    from .devices import resolve_device
    from .models import CheckpointError, create_model, load_builtin
    from .models.registry import locate_model

    key = os.fspath(spec or DEFAULT_MODEL)

    def not_built_in() -> CheckpointError:  # the name a .taco file gives, which is no model
        return CheckpointError(f"this file names model {key!r}, which is not a built-in model: "
                               f"decode it with {decoding_needs(key, use=use)}")

    # a retired built-in is refused there too (a file made with a former built-in names it)
    found = locate_model(spec or DEFAULT_MODEL, names_only=names_only,
                         unknown=not_built_in if names_only else None)
    if found.kind == "pretrained":
        return ResolvedModel(load_builtin(key, device).eval(), key, trained=True,
                             shadowed=found.shadowed)
    if found.kind == "architecture":
        return ResolvedModel(create_model(key, seed=0).to(device).eval(), key, trained=False,
                             shadowed=found.shadowed)
    # a checkpoint file, or a sharded checkpoint (taco train writes those); imported here, as
    # taco.models.checkpoint imports torch: a mistyped name is refused before (tests/test_startup.py)
    from .models.checkpoint import load_checkpoint

    return ResolvedModel(load_checkpoint(found.path, resolve_device(device),
                                         found=found.checkpoint).eval(),  # looked up once
                         key, trained=True, checkpoint=found.checkpoint)


def decode_problems(header: TacoHeader, model: ELIC, *, given: str | None, cli: bool,
                   max_pixels: int | None, no_cap: str = NO_CAP_HINT,
                   checked: dict[tuple[str | None, str, bytes], str | None] | None = None,
                   ) -> tuple[str | None, str | None]:
    """Why ``model`` cannot decode the ``.taco`` file with ``header``, each in one line: (it did not
    make it, its image is too big for it); at most one is said, (None, None) when it can decode
    it. The one check of ``taco decompress`` (before any file of a batch decodes) and of
    ``taco.decompress``: the model must have made the file (:func:`made_with_problem`, with
    ``given`` and ``cli`` as it takes them), and a model taken from the file's own name
    (``given`` None) is held to the memory the decoder's cap ``max_pixels`` allows the
    built-ins (:func:`taco.memory.decode_cap_problem`, ending with ``no_cap``), so a file naming
    a wider architecture is refused for fewer pixels; a model the caller gives is held to the
    pixels alone (the container's check, before this one). ``checked``: the caller's record of
    the (``given``, model, weights) already checked, so a batch's files that share them are
    checked once (a check hashes the model's weights: ~2.5 ms). Two answers, so that a caller can
    raise each as its own error (taco decompress: CheckpointError, CLIError)."""
    pair = (given, header.model_id, header.fingerprint)
    if checked is not None and pair in checked:
        made_with = checked[pair]
    else:
        made_with = made_with_problem(header.model_id, header.fingerprint, model, given=given, cli=cli)
        if checked is not None:
            checked[pair] = made_with
    if made_with or given is not None:
        return made_with, None
    return None, decode_cap_problem(header.width, header.height, max_pixels, no_cap,
                                    latent_channels(model))


#: The fingerprint of each built-in trained model's weights, by name and file SHA-256
#: (:func:`_builtin_fingerprint`).
BUILTIN_FINGERPRINTS: dict[tuple[str, str], bytes] = {}


def _builtin_fingerprint(name: str) -> bytes | None:
    """The fingerprint (:func:`taco.models.model_fingerprint`) of the built-in trained model
    ``name``'s weights, loaded once per process (~0.5 s for a -small built-in); None when it
    cannot be loaded (not installed, or changed: :func:`taco.models.load_builtin` says which)."""
    from .models import CheckpointError, load_builtin, model_fingerprint
    from .models.registry import PRETRAINED

    if name not in PRETRAINED:
        return None
    key = (name, PRETRAINED[name].sha256)
    if key not in BUILTIN_FINGERPRINTS:
        try:
            BUILTIN_FINGERPRINTS[key] = model_fingerprint(load_builtin(name))
        except CheckpointError:
            return None
    return BUILTIN_FINGERPRINTS[key]


#: The fingerprint of an architecture's seed-0 weights (``create_model(name, seed=0)``), by name
#: and :func:`~taco.models.registry.registrations` (:func:`_seed0_fingerprint`).
SEED0_FINGERPRINTS: dict[tuple[str, int], bytes] = {}


def _seed0_fingerprint(name: str) -> bytes | None:
    """The fingerprint of architecture ``name``'s seed-0 weights, built once per process; None
    when ``name`` is no architecture or cannot be built."""
    from .errors import TacoError
    from .models import create_model, model_fingerprint
    from .models.registry import MODEL_CONFIGS, registrations

    if name not in MODEL_CONFIGS:
        return None
    key = (name, registrations())
    if key not in SEED0_FINGERPRINTS:
        try:
            SEED0_FINGERPRINTS[key] = model_fingerprint(create_model(name, seed=0))
        except TacoError:  # a plugin's builder that fails now: nothing to compare with
            return None
    return SEED0_FINGERPRINTS[key]


def former_weights(file_model: str, fingerprint: bytes, *, cli: bool) -> str | None:
    """For a ``.taco`` file naming built-in ``file_model`` whose weights, ``fingerprint``, are not
    the built-in's: which weights of that name made it, when taco knows, and how to decode it
    with them, in one clause; None when taco does not know them (a checkpoint's). Weights that
    shipped under that name before the built-in's were replaced
    (:data:`taco.models.registry.REPLACED`): where their checkpoint is in taco's git history
    (:func:`~taco.models.registry.history_clause`). The seed-0 weights of the architecture of the
    same name (a built-in shipped under an architecture's name: before it shipped, ``--model
    NAME`` built those): ``taco.create_model(NAME)``, which in Python decodes it (the CLI has no
    name for them: its ``--model NAME`` is the built-in). ``cli``: the fix said for taco
    decompress, else for Python (as :func:`made_with_problem`)."""
    from .models.registry import REPLACED, history_clause

    name, rev = REPLACED.get(fingerprint.hex(), ("", ""))
    if name == file_model:
        return (f"it was made with the former weights of {file_model!r}, which "
                f"shipped up to commit {rev} and were replaced since; their checkpoint is in "
                f"taco's git history: {history_clause(file_model, rev, '--model' if cli else 'taco.decompress')}")
    if _seed0_fingerprint(file_model) == fingerprint:
        python = f"taco.decompress(data, taco.create_model({file_model!r}))"
        how = (f"taco decompress has no name for them (--model {file_model} is the built-in): "
               f"decode it in Python: {python}" if cli else f"decode it with them: {python}")
        return (f"it was made with the untrained seed-0 weights of the architecture {file_model!r}, "
                f"not with the trained built-in of that name: {how}")
    return None


def made_with_problem(file_model: str, fingerprint: bytes, model: ELIC | bytes, *,
                      given: str | None, cli: bool) -> str | None:
    """Why ``model`` cannot decode a ``.taco`` file naming model ``file_model`` and weights
    ``fingerprint`` (it did not make it), in one line that says what to do; None when it made it.
    ``model`` may be given as its fingerprint (:func:`taco.models.model_fingerprint`).

    The one check of taco decompress (which raises CheckpointError) and of ``taco.decompress``
    (TacoFormatError). ``given``: the model the caller gave, as it named it (``--model``'s value;
    in Python the model's ``model_id``); None when the caller left the model out and ``model`` is
    the one ``file_model`` names (:func:`resolve_model` with ``names_only``). ``cli``: the fix is
    said as taco decompress's options (``--model FILE``, "leave out --model"), else as Python
    (``taco.decompress(data, taco.load(FILE))``, or the model object that coded it, which in a
    notebook is the usual one: :data:`MODEL_OBJECT`; "leave the model out"). What else to say
    follows from what ``file_model`` is: a built-in trained model (taco finds it from the file;
    when the built-in's weights did not make it either, other weights of that name did, and the
    fix is their checkpoint: in Python the model given by that name may be the built-in itself;
    weights of that name taco knows are said as such, :func:`former_weights`: the built-in's
    before it was replaced, the untrained architecture's of the same name),
    an architecture (its untrained seed-0 weights, or a checkpoint of it), no model (``""``,
    model code 0: :data:`DEFAULT_MODEL` was tried), or another name. A ``--model`` given by
    another name (a checkpoint's path) whose model id is the file's is said to be another
    checkpoint of that model, with other weights; one that is the file's own model name, to be
    that name's untrained seed-0 weights (an architecture) or other weights of that name."""
    from .models import model_fingerprint

    if fingerprint == (model if isinstance(model, bytes) else model_fingerprint(model)):
        return None
    from .models.registry import classify_model_spec

    kind = classify_model_spec(file_model, names_only=True).kind
    if cli:
        leave_out, checkpoint = "leave out --model", "--model FILE (the checkpoint or its run folder)"
    else:  # in a notebook the usual cause: a model object that coded it and was never saved
        leave_out = "leave the model out"
        checkpoint = ("taco.decompress(data, taco.load(FILE)) (FILE: the checkpoint or its run "
                      f"folder), or {MODEL_OBJECT}")
    if not file_model:  # model code 0: its model's id was empty; DEFAULT_MODEL is tried for it
        head = "this file names no model (model code 0: its model's model_id was empty)"
        if given is None:
            return (f"{head}, and taco's default model {DEFAULT_MODEL!r}, which decodes such files, "
                    f"did not make it: decode it with the model that made it: {checkpoint}")
        with_given = (f"--model {given!r}" if cli else
                      f"the model given ({given!r})" if given else "the model given (with no model_id either)")
        return f"{head}, and {with_given} did not make it: give the checkpoint that made it: {checkpoint}"
    if given is None:  # the weights the file's name gives are not the ones that made it
        if kind == "architecture":  # seed-0 weights differ in their last bits between CPU kinds
            return (f"this file was made with a checkpoint's weights of {file_model!r}, or with its "
                    "untrained weights on another kind of CPU (they differ in their last bits "
                    "between CPU kinds) or by another taco version (whose "
                    f"{file_model!r} was defined otherwise), not with its untrained weights here: "
                    "decode it with the checkpoint, on the kind of CPU that made it, or with the "
                    f"taco version that made it: {checkpoint}")
        former = former_weights(file_model, fingerprint, cli=cli) if kind == "pretrained" else None
        if former:  # weights of that name taco knows: the former built-in's, the architecture's
            return f"this file names the built-in {file_model!r}, but {former}"
        return (f"this file was made with other weights of {file_model!r} (a checkpoint's), not "
                f"the built-in ones: decode it with them: {checkpoint}")
    if cli:  # a checkpoint of the file's model id with other weights: said as such
        same_id = given != file_model and not isinstance(model, bytes) and model.model_id == file_model
        other = ("its untrained seed-0 weights" if kind == "architecture" else "the same name, other "
                 "weights") if given == file_model else (
            f"another checkpoint of {file_model!r}: other weights, their fingerprints differ"
            if same_id else "")
        not_with = f"--model {given!r}" + (f" ({other})" if other else "")
    else:
        not_with = f"the model given ({given!r})" if given != file_model else (
            "the model given (the same name, other weights)")
    head = f"this file was made with model {file_model!r}, not with {not_with}"
    asks_checkpoint = True  # the fix asks for the checkpoint that made it (all but one branch)
    if cli and given == file_model:  # leaving --model out would give the very same weights
        former = former_weights(file_model, fingerprint, cli=cli) if kind == "pretrained" else None
        fix = former or f"give the checkpoint that made it: {checkpoint}"
        asks_checkpoint = former is None
    elif kind == "pretrained" and _builtin_fingerprint(file_model) not in (fingerprint, None):
        # leaving the model out would give the built-in's weights, which did not make it either
        # (in Python a model given by the file's name may be that very built-in)
        former = former_weights(file_model, fingerprint, cli=cli)
        fix = former or (f"it was made with other weights of {file_model!r} (a checkpoint's), not "
                         f"the built-in ones: give the checkpoint that made it: {checkpoint}")
        asks_checkpoint = former is None
    elif kind == "pretrained":
        taken = "taco decodes it" if cli else "taco.decompress(data) decodes it"
        fix = f"{leave_out}: {taken} with {file_model!r}, the built-in model it names"
        asks_checkpoint = False
    elif kind == "architecture":
        fix = (f"{leave_out} if it was made with the untrained {file_model!r}, else give the "
               f"checkpoint that made it: {checkpoint}")
    else:
        fix = f"give the checkpoint that made it: {checkpoint}"
    of_that_model = given == file_model or (not isinstance(model, bytes) and model.model_id == file_model)
    if of_that_model and asks_checkpoint:  # its weights in memory?
        fix += STALE_TABLES_HINT
    return f"{head}: {fix}"


#: Said where a model given did not make a file and the checkpoint that did is asked for: a file
#: coded in Python by a model whose weights changed after its coder tables were built (a
#: fine-tune) decodes with that model alone, not with a checkpoint saved from it (whose tables are
#: rebuilt: :func:`taco.models.save_checkpoint` warns so).
STALE_TABLES_HINT = ("; if it was coded in Python by a model whose weights changed after its "
                     "coder tables were built (a fine-tune without model.update(force=True)), only "
                     "that model in memory decodes it")
