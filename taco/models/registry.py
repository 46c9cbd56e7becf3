"""Names: the architectures (:data:`MODEL_CONFIGS`), the trained models that ship
(:data:`PRETRAINED`), and the one way to build a model by name (:func:`create_model`) and to
load one by name or checkpoint path (:func:`load`).

Importing this module imports no torch (nor CompressAI): the names, configs and what
:func:`describe_model` says of them are known before a model is built, so ``taco models`` and a
mistyped ``--model`` answer at once; building and loading import torch when called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..bitstream.container import model_id_problem
from ..checks import is_number, seed_argument
from ..checksums import sha256_file
from ..errors import BackboneError, TacoError, TacoValueError
from ..fileobjects import checked_path
from ..messages import SPECIAL_FILE, did_you_mean, docs_ref, shell_word
from ..shards import (
    CHECKPOINT_FILE,
    INDEX_SUFFIX,
    TRAIN_STATE_FILE,
    base_path,
    files as shard_files,
    find,
    index_path,
)
from .config import (
    ARCHITECTURES,
    BUILTIN_ARCHITECTURES,
    PLUGINS_VARIABLE,
    QUALITY_LAMBDAS,
    TEXTLESS_ARCHITECTURES,
    CheckpointError,
    ModelConfig,
    PluginError,
    load_plugins,
    named_plugins,
)
from .header import (
    checkpoint_shapes,
    header_config,
    header_model_id,
    no_checkpoint_message,
    read_checkpoint_header,
)

if TYPE_CHECKING:
    import torch

    from .elic import ELIC

_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"


_TINY = dict(N=16, M=32, groups=[8, 8, 16], ctx_hidden=[16, 16], heads=2)
# Reduced width for models trained on a CPU: 2.84 M (ELIC) / 3.51 M (TACO, MiniLM); the shipped
# built-ins have it in the CompressAI layout (2.25 M / 2.92 M).
_SMALL = dict(N=48, M=96, groups=[8, 8, 16, 64], ctx_hidden=[48, 32])

# Variable-rate models for GPU training (issue 14; docs/models.md "Variable-rate models"): ELIC's
# transforms at CompressAI's low/mid-rate width N=128 in the authors' entropy-model layout, with
# M=160 latent channels and channel-context widths 96/64: 11.99 M parameters (TACO with MiniLM,
# 24.0 MB in fp16) / 11.11 M (ELIC, 22.3 MB). Under the 30 MB a built-in may ship in, and small
# enough that a checkpoint to continue from travels to a GPU machine beside the training photos
# (64 MiB in all). Seven qualities: the paper's six λ and 2e-4 (taco.models.gains).
_VR = dict(N=128, M=160, groups=[16, 16, 32, 48, 48], ctx_hidden=[96, 64],
           qualities=list(QUALITY_LAMBDAS))

class ModelConfigs(dict[str, ModelConfig]):
    """:data:`MODEL_CONFIGS`: a dict that imports the ``TACO_PLUGINS`` modules
    (:func:`load_plugins`) the first time it is asked for a name it lacks, so that every
    ``name in MODEL_CONFIGS`` and ``MODEL_CONFIGS[name]`` finds a plugin's names."""

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (load_plugins() and super().__contains__(key))

    def __missing__(self, key: str) -> ModelConfig:
        if load_plugins() and super().__contains__(key):
            return super().__getitem__(key)
        raise KeyError(key)


#: Architectures by name. The weights of these are random until trained (see PRETRAINED).
#: :func:`register_architecture` adds a backbone's.
MODEL_CONFIGS: dict[str, ModelConfig] = ModelConfigs({
    "taco": ModelConfig(),
    "taco-minilm": ModelConfig(text_encoder={"name": "minilm"}),
    "elic": ModelConfig(architecture="elic"),
    "taco-minilm-small": ModelConfig(text_encoder={"name": "minilm"}, **_SMALL),  # type: ignore[arg-type]
    "elic-small": ModelConfig(architecture="elic", **_SMALL),  # type: ignore[arg-type]
    "taco-tiny": ModelConfig(text_encoder={"name": "clip-tiny"}, **_TINY),  # type: ignore[arg-type]
    "taco-minilm-tiny": ModelConfig(text_encoder={"name": "minilm"}, **_TINY),  # type: ignore[arg-type]
    # Ablation (paper §4.4 Q1, issue 8): TGIC's image-text attention in place of the adapter.
    "taco-tgic": ModelConfig(text_injection="tgic"),
    "taco-tgic-minilm-small": ModelConfig(
        text_encoder={"name": "minilm"}, text_injection="tgic", **_SMALL),  # type: ignore[arg-type]
    "taco-tgic-tiny": ModelConfig(
        text_encoder={"name": "clip-tiny"}, text_injection="tgic", **_TINY),  # type: ignore[arg-type]
    "elic-tiny": ModelConfig(architecture="elic", **_TINY),  # type: ignore[arg-type]
    "taco-minilm-vr": ModelConfig(text_encoder={"name": "minilm"}, **_VR),  # type: ignore[arg-type]
    "elic-vr": ModelConfig(architecture="elic", **_VR),  # type: ignore[arg-type]
})


@dataclass(frozen=True)
class PretrainedEntry:
    """A trained checkpoint shipped in ``taco/assets/models`` (timm-style registry entry).

    ``lmbda``: the λ a single-rate model was trained with; None for a variable-rate model, whose
    λ per quality are its config's ``qualities``. ``fingerprint``: its weights' fingerprint as
    loaded (:func:`taco.models.model_fingerprint`, 16 hex digits: the 8 bytes each ``.taco`` file
    it makes carries), recorded so that ``taco info`` tells, without importing torch, a file the
    built-in made from one other weights of its name made (:func:`taco.resolve.decoding_needs`);
    ``""``: not recorded (then it hedges). A function of the file's bytes alone (the fp16 weights
    and the tables their load rebuilds, checked against the digest the file carries), so neither
    the torch/CompressAI version nor the device changes it; tests/test_decoding_needs.py checks
    each recorded one against the built-in loaded."""

    file: str
    sha256: str
    architecture: str
    lmbda: float | None
    trained_on: str
    description: str = ""
    fingerprint: str = ""


_SMALL_DESC = (
    "reduced width (N=48, M=96), trained on a shared 2-core CPU: 1,500 steps of batch 8, 128 px "
    "crops, Adam lr 3e-4, loss = rate + λ·255²·MSE + 3.5·LPIPS (no CLIP term: CLIP weights are "
    f"not available offline); see {docs_ref('models.md')}"
)

#: Trained checkpoints shipped with the package (fp16 weights, compact tables; SHA-256 checked on
#: load). q3/q4 are the paper's 3rd and 4th rate points (λ = 0.0016, 0.004).
PRETRAINED: dict[str, PretrainedEntry] = {
    "taco-minilm-small-q4": PretrainedEntry(
        file="taco-minilm-small-q4.safetensors",
        sha256="c117797a36aa5bcff1c7ddd0f1f01e2eb9bb062eaa258a0f8965e1ac550f09c0",
        fingerprint="bac73911571da2eb",  # taco.models.model_fingerprint as loaded
        architecture="taco",
        lmbda=0.004,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "taco-minilm-small-q3": PretrainedEntry(
        file="taco-minilm-small-q3.safetensors",
        sha256="ebfb5722da6f26fb949abddc6948cda906b866047757c7170f6543ec23781283",
        fingerprint="b597a0870b38c578",  # taco.models.model_fingerprint as loaded
        architecture="taco",
        lmbda=0.0016,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "elic-small-q4": PretrainedEntry(
        file="elic-small-q4.safetensors",
        sha256="bd0468c44915a4d3e349cfe0ed95c4b7facaa3141983072fe17acff9519a7f76",
        fingerprint="9b2c3816941fccc5",  # taco.models.model_fingerprint as loaded
        architecture="elic",
        lmbda=0.004,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "elic-small-q3": PretrainedEntry(
        file="elic-small-q3.safetensors",
        sha256="d5a97c3f4946bc57bc8a6210a688b83d1970159cfb7435452d94e41379c43ba6",
        fingerprint="1eb8dc41b328e370",  # taco.models.model_fingerprint as loaded
        architecture="elic",
        lmbda=0.0016,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
}


#: Built-in trained models the package no longer ships, by name: the last commit whose package
#: had them (git history keeps their files). Their names keep their one-byte codes
#: (``BUILTIN_MODEL_IDS``), so their files still name them; :func:`retired_message` then says
#: where the checkpoint is, instead of a "did you mean" pointing at an untrained architecture.
RETIRED: dict[str, str] = {}

#: Former weights of a built-in that still ships under the same name with other weights, by their
#: fingerprint (:func:`taco.models.model_fingerprint`, 16 hex digits: ``taco info FILE`` of a file
#: they made shows it): ``(name, commit)``, the last commit whose package shipped them. A file
#: they made fails the fingerprint check with the new weights; :func:`taco.resolve.made_with_problem`
#: then says where the former checkpoint is (:func:`history_clause`), as for a retired name.
REPLACED: dict[str, tuple[str, str]] = {}


#: Parameters of every name :func:`list_models` gives, so that :func:`describe_model` (``taco
#: models``) need not import torch to build each on the meta device. The meta build is the
#: truth: tests/models/test_registry.py checks every entry against it, and a name missing here
#: is counted that way.
PARAMETERS: dict[str, int] = {
    "elic": 36_932_427,
    "elic-small": 2_837_371,
    "elic-small-q3": 2_253_089,
    "elic-small-q4": 2_253_089,
    "elic-tiny": 312_777,
    "elic-vr": 11_111_929,
    "taco": 38_579_275,
    "taco-minilm": 38_045_643,
    "taco-minilm-small": 3_505_339,
    "taco-minilm-small-q3": 2_921_057,
    "taco-minilm-small-q4": 2_921_057,
    "taco-minilm-tiny": 926_857,
    "taco-minilm-vr": 11_986_297,
    "taco-tgic": 37_940_811,
    "taco-tgic-minilm-small": 2_925_115,
    "taco-tgic-tiny": 319_497,
    "taco-tiny": 321_065,
}


def register_architecture(
    name: str, build: Callable[..., ELIC], *, textless: bool = True,
    configs: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Add a backbone to taco (docs/models.md, "Adding a backbone"): architecture ``name`` in
    :data:`~taco.models.config.ARCHITECTURES` (and ``TEXTLESS_ARCHITECTURES`` when
    ``textless``: the ``elic`` training preset trains it, text options are refused), its builder
    (what :func:`~taco.models.architecture.build_model` calls), and ``configs``, the named
    configs to add to :data:`MODEL_CONFIGS` (``{"mine-tiny": {"N": 32, "M": 48}}``: ModelConfig
    fields, ``architecture`` set to ``name``).

    ``build`` is a model class (a subclass of :class:`taco.models.ELIC`), called as
    ``build(N=config.N, M=config.M, **config.options)`` with ``qualities=config.qualities``
    added for a variable-rate config, or a function ``build(config: ModelConfig) -> model``.
    The tables are updated in place (``ARCHITECTURES`` and ``TEXTLESS_ARCHITECTURES`` are
    lists, ``BUILDERS`` and ``MODEL_CONFIGS`` dicts), so every module that holds them sees the
    backbone. Registering ``name`` again replaces its builder (a TacoWarning naming both when the
    new one has another module or qualified name: not the same module re-imported);
    :class:`~taco.errors.BackboneError` (a TypeError) for a ``build`` that is not callable;
    TacoValueError for taco's own architectures, for a class whose ``uses_text`` contradicts ``textless``
    (:func:`~taco.models.architecture.uses_text_problem`), for a text-guided class
    (``textless=False``) whose ``forward``, ``compress`` or ``analysis`` cannot take taco's calls,
    the text second (:func:`~taco.models.architecture.text_methods_problem`; a builder function's model is checked
    when built), for a config name that a trained model or another architecture has or that
    checkpoints and ``.taco`` files cannot carry as their model id
    (:func:`~taco.bitstream.container.model_id_problem`: empty, unprintable, over 255 bytes),
    for a config that ModelConfig refuses (a field it lacks points to ``options``; a text-guided
    architecture's config without ``text_encoder``, a textless one's with it), and, for a
    class, for a config whose arguments its signature cannot take
    (:func:`~taco.models.architecture.class_arguments`: an option it lacks): then no table is
    changed. A BackboneError naming it for a class that is no subclass of ELIC (a builder
    function's model is refused when it is built)."""
    model_class = _check_backbone(name, build, textless)
    _check_config_names(name, configs or {})
    from .architecture import (  # imports torch: a backbone does anyway
        BUILDERS,
        builder_name,
        class_builder,
        text_methods_problem,
    )

    if model_class is not None and not textless and (problem := text_methods_problem(model_class)):
        raise TacoValueError(problem)

    # the configs are checked against the architecture lists as they will be, and the lists
    # put back if one fails: a refused registration leaves no half of itself behind
    saved = list(ARCHITECTURES), list(TEXTLESS_ARCHITECTURES)
    if name not in ARCHITECTURES:
        ARCHITECTURES.append(name)
    if name in TEXTLESS_ARCHITECTURES:
        TEXTLESS_ARCHITECTURES.remove(name)
    if textless:
        TEXTLESS_ARCHITECTURES.append(name)
    try:
        named = _checked_configs(name, model_class, configs or {})
    except BaseException:
        ARCHITECTURES[:], TEXTLESS_ARCHITECTURES[:] = saved
        raise
    builder = class_builder(model_class) if model_class is not None else build
    old = BUILDERS.get(name)
    if old is not None and builder_name(old) != builder_name(builder):  # not the same one reloaded
        from ..errors import TacoWarning, warn_at_caller

        warn_at_caller(f"architecture {name!r} registered again: its builder {builder_name(old)} "
                       f"is replaced by {builder_name(builder)}, for every config registered "
                       f"under it", TacoWarning)
    BUILDERS[name] = builder
    MODEL_CONFIGS.update(named)
    global _registrations
    _registrations += 1


def _check_backbone(name: str, build: Callable[..., ELIC], textless: bool) -> type[ELIC] | None:
    """:func:`register_architecture`'s checks of ``name`` and ``build``, before its configs':
    the model class ``build`` is (a subclass of ELIC whose ``uses_text`` agrees with
    ``textless``), or None for a builder function."""
    if name in BUILTIN_ARCHITECTURES:
        raise TacoValueError(f"architecture {name!r} is taco's own: give the backbone another name")
    if not name or looks_like_path(name):
        raise TacoValueError(f"architecture name {name!r} must be a plain, non-empty name")
    if not callable(build):
        raise BackboneError(f"register_architecture({name!r}): build must be a model class or a "
                            f"function of the config, got {type(build).__name__} {build!r:.100}")
    if not isinstance(build, type):
        return None
    # imports torch: a backbone's class did
    from .architecture import not_elic_problem, uses_text_problem
    from .elic import ELIC

    bind_annotation_names()
    if not issubclass(build, ELIC):
        raise BackboneError(not_elic_problem(build.__name__))
    if problem := uses_text_problem(build.__name__, build.uses_text, textless):
        raise TacoValueError(problem)
    return build


def _check_config_names(name: str, configs: Mapping[str, Mapping[str, Any]]) -> None:
    """TacoValueError for a config name :func:`register_architecture` cannot add under
    architecture ``name``: no model id (:func:`~taco.bitstream.container.model_id_problem`),
    a trained model's or another architecture's, or one that reads as a file path."""
    for key in configs:
        # a model's name is its id in checkpoints and .taco headers: refused here, not there
        problem = model_id_problem(key)
        if problem:
            raise TacoValueError(f"model name {key!r:.100}: {problem}: give the config another name")
        taken = MODEL_CONFIGS.get(key)  # get, not `in`: that would import TACO_PLUGINS modules
        if key in PRETRAINED or (taken is not None and taken.architecture != name):
            raise TacoValueError(f"model name {key!r} is taken: give the config another name")
        if looks_like_path(key):
            raise TacoValueError(f"model name {key!r} reads as a file path: give it another name")


def _checked_configs(name: str, model_class: type[ELIC] | None,
                     configs: Mapping[str, Mapping[str, Any]]) -> dict[str, ModelConfig]:
    """The ModelConfig of each of :func:`register_architecture`'s ``configs`` under
    architecture ``name`` (already in the architecture lists); every config is made first
    (:func:`_registered_config`), then, for a ``model_class``, each one's arguments are checked
    against its signature (:func:`~taco.models.architecture.class_arguments`: a TacoValueError
    starting "config 'key':")."""
    named = {key: _registered_config(key, fields, name) for key, fields in configs.items()}
    if model_class is not None:
        from .architecture import class_arguments

        for key, config in named.items():
            try:
                class_arguments(model_class, config)
            except TacoValueError as exc:
                raise TacoValueError(f"config {key!r}: {exc}") from None
    return named


#: How many registrations :func:`register_architecture` has made (see :func:`registrations`).
_registrations = 0


def registrations() -> int:
    """How many registrations :func:`register_architecture` has made in this process: what a
    name builds may change when it changes (a backbone registered again replaces its builder),
    so a cache of what names build (:func:`taco.codec.named_model`'s fingerprints) keys on it."""
    return _registrations


def plugin_hint(failure: str | None = None) -> str:
    """What to say after a model name taco does not know, which a backbone's module may
    register (:func:`register_architecture`) if imported: to import that module (or name it
    in ``TACO_PLUGINS``), or that the modules named there register no such name, which is said
    only once they all imported: ``failure``, the message of the
    :class:`~taco.models.config.PluginError` of one that could not be (``TACO_PLUGINS: cannot
    import 'X': ...``), is said instead; without it, the named modules that are not imported
    (their import failed before in this process, where it is tried once) are named."""
    import sys

    if failure:
        return failure
    named = os.environ.get(PLUGINS_VARIABLE, "").strip()
    if not named:
        return f"a registered backbone? import its module (or name it in {PLUGINS_VARIABLE})"
    missing = [n for n in named_plugins() if n not in sys.modules]
    if missing:
        return (f"a registered backbone? {PLUGINS_VARIABLE}={named:.200}: "
                f"{', '.join(repr(n) for n in missing):.200} could not be imported")
    return f"a registered backbone? {PLUGINS_VARIABLE}={named:.200} registers none of that name"


def _registered_config(key: str, fields: Mapping[str, Any], architecture: str) -> ModelConfig:
    """The ModelConfig of a config ``key`` given to :func:`register_architecture`; a field
    ModelConfig lacks is a TacoValueError naming the config and pointing to ``options``, and so
    is a text-guided architecture's config without ``text_encoder`` (not CLIP by default) and a
    textless one's with it."""
    if architecture not in TEXTLESS_ARCHITECTURES and "text_encoder" not in fields:
        # ModelConfig's default (CLIP) would be taken silently, and fail offline at compress
        raise TacoValueError(f"config {key!r}: a text-guided backbone's config (textless=False) "
                             f"names its text encoder: add \"text_encoder\": {{\"name\": \"minilm\"}} "
                             f"or {{\"name\": \"clip\"}}")
    if architecture in TEXTLESS_ARCHITECTURES and fields.get("text_encoder") is not None:
        # ModelConfig would drop it silently, and the builder fail on what it expected of it
        raise TacoValueError(f"config {key!r}: a textless backbone (textless=True) reads no text: "
                             f"drop \"text_encoder\" or register with textless=False")
    fields = {**fields, "architecture": architecture}
    problem = ModelConfig.unknown_fields_problem(fields)
    if problem:
        raise TacoValueError(f"config {key!r}: {problem}")
    return ModelConfig(**fields)


#: How a caller takes the checkpoint file a refusal points to (:func:`history_clause`), by the
#: way it takes a model: the CLI's ``--model`` (also ``taco models``), ``taco train``'s
#: ``init_from``, Python's :func:`load`, a ``.taco`` file's own name (``taco decompress`` and
#: ``taco.decompress`` alike: both ways), ``taco.decompress`` given a model (Python alone).
#: ``{word}`` is the file as a command names it (:func:`~taco.messages.shell_word`), ``{file!r}``
#: as Python does.
HISTORY_USES: dict[str, str] = {
    "--model": "then give that file as the model (--model {word})",
    "--init-from": "then start from that file (--init-from {word})",
    "taco.load": "then load that file: taco.load({file!r})",
    "decode": ("then decode with that file: taco decompress --model {word}, or in Python "
               "taco.decompress(data, taco.load({file!r}))"),
    "taco.decompress": "then decode with that file: taco.decompress(data, taco.load({file!r}))",
}


def history_clause(name: str, rev: str, use: str = "--model") -> str:
    """How to take built-in ``name``'s checkpoint as it shipped at commit ``rev`` out of taco's
    git history and use it, ``use`` being how the caller takes a model (:data:`HISTORY_USES`);
    the commands name the file as a shell reads it pasted (:func:`~taco.messages.shell_word`)."""
    file = f"{name}.safetensors"
    word = shell_word(file)
    return (f"git show {shell_word(f'{rev}:taco/assets/models/{file}')} > {word}, "
            + HISTORY_USES[use].format(file=file, word=word))


def retired_message(name: str, shadowed: str | os.PathLike[str] | None = None, *,
                    use: str = "--model") -> str:
    """Where a :data:`RETIRED` built-in's checkpoint is, in one sentence for a person, and how to
    use it where the caller takes a model (``use``: :data:`HISTORY_USES`); with ``shadowed``
    (:attr:`ModelSpec.shadowed`), how to use the checkpoint of that name here."""
    rev = RETIRED[name]
    hidden = shadow_clause(name, shadowed)
    return (f"{name!r} was a built-in model of taco up to commit {rev} and no longer ships; its "
            f"checkpoint is in taco's git history: {history_clause(name, rev, use)}{hidden}")


#: The endings of a checkpoint file's name: a model argument ending so is a path, not a name.
CHECKPOINT_SUFFIXES = (".safetensors", INDEX_SUFFIX, ".pt", ".pth", ".ckpt")
_SHARD = re.compile(r"-\d{5}-of-\d{5}\.safetensors$")  # a piece of a sharded file, not a model


def looks_like_path(key: str) -> bool:
    """Whether a model argument reads as a file path rather than a model name: it has a folder
    part (``/`` or the system's separator) or a checkpoint file's ending
    (:data:`CHECKPOINT_SUFFIXES`). No built-in name has either."""
    return "/" in key or os.sep in key or key.lower().endswith(CHECKPOINT_SUFFIXES)


def without_ending(name: str) -> str:
    """A file name without its checkpoint ending (:data:`CHECKPOINT_SUFFIXES`, a sharded file's
    index's too): what a did-you-mean compares of two file names."""
    name = name.removesuffix(INDEX_SUFFIX)
    ending = next((s for s in CHECKPOINT_SUFFIXES if name.lower().endswith(s)), "")
    return name[: len(name) - len(ending)]


def not_a_file_message(path: str | os.PathLike[str], prefix: str = "") -> str | None:
    """One line for a checkpoint path that is there but is no file to read, looked at as
    :func:`taco.shards.find` looks (the plain file and its sharded index): ``NAME is a broken
    symbolic link to TARGET`` or ``NAME is not a regular file (a pipe, a device or a socket)``, each
    ``..., not a checkpoint file``, with ``NAME`` shown after ``prefix`` (the folder part as
    the user typed it); None where neither form is there, or one is a file or a folder."""
    path = Path(path)
    for there in dict.fromkeys((path, base_path(path), index_path(path))):
        if not os.path.lexists(there) or os.path.isfile(there) or os.path.isdir(there):
            continue
        shown = prefix + there.name
        try:
            target = os.readlink(there)
        except OSError:  # not a link
            target = None
        if target is not None and not os.path.exists(there):
            return f"{shown} is a broken symbolic link to {target!r}, not a checkpoint file"
        link = f"a symbolic link to {target!r}: " if target is not None else ""
        return f"{shown} is not a regular file ({link}{SPECIAL_FILE}), not a checkpoint file"
    return None


def no_such_file_message(key: str) -> str:
    """One line for a path-like model argument (:func:`looks_like_path`) that names nothing on
    disk: ``PATH: no such checkpoint file``, then the closest checkpoint files and folders in
    its folder (did you mean ...?; the names compared without their endings:
    :func:`without_ending`), shown with the folder part as ``key`` has it; a training state is
    no model, so its file is not among them, nor is an entry that is no file to read (a broken
    link, a FIFO, a device) nor the typed name itself. A path that is there but is no file to
    read is said as such instead (:func:`not_a_file_message`)."""
    typed = key.rstrip("/" + os.sep)
    name = Path(typed).name
    prefix = typed[: len(typed) - len(name)]
    try:
        path = Path(typed).expanduser()
    except RuntimeError:  # ~user of no such user: the text as it is
        path = Path(typed)
    if name and (problem := not_a_file_message(path, prefix)):
        return problem
    folder = path.parent
    try:
        held = [p.name.removesuffix(INDEX_SUFFIX) for p in folder.iterdir()
                if p.is_dir() or (p.name.endswith((".safetensors", ".safetensors" + INDEX_SUFFIX))
                                  and p.is_file())]
    except OSError:  # no such folder, or an unreadable one: nothing to suggest from it
        held = []
    candidates = sorted({n for n in held if n not in (TRAIN_STATE_FILE, name, name.removesuffix(INDEX_SUFFIX))
                         and not _SHARD.search(n)})
    hint = did_you_mean(name, candidates, prefix=prefix, key=without_ending) if name else ""
    return f"{key}: no such checkpoint file{hint}"


def unknown_model_message(spec: str | os.PathLike[str], *, untrained_use: str = "random weights",
                          trained_only: bool = False) -> str:
    """One line for a model argument that is neither a checkpoint nor a name taco knows: for a
    ``pathlib.Path`` (always a path: :func:`classify_model_spec`) whose text is a name taco knows,
    that it was read as a path and to pass the name as a str; for a path
    (:func:`looks_like_path`), that no such file exists and the close names in its folder
    (:func:`no_such_file_message`); for a name, the closest names, then the trained models and
    the architectures (``untrained_use``: what the architectures are for where this is said),
    then :func:`plugin_hint`; with ``trained_only`` (where only trained weights will do:
    ``init_from``), the closest trained names and the trained models alone."""
    key = os.fspath(spec)
    if not isinstance(spec, str) and classify_model_spec(key, names_only=True).kind != "unknown":
        return (f"Path({key!r}) is read as a path and ./{key} does not exist; pass the str "
                f"{key!r} for the built-in")
    if looks_like_path(key):
        return no_such_file_message(key)
    trained, untrained = sorted(PRETRAINED), sorted(set(MODEL_CONFIGS) - set(PRETRAINED))
    if trained_only:  # an architecture suggested would be refused next
        return (f"model {key!r} is neither a checkpoint file nor a built-in trained model"
                f"{did_you_mean(key, trained)}; trained: {', '.join(trained) or 'none yet'}")
    return (f"model {key!r} is neither a checkpoint file nor a built-in model"
            f"{did_you_mean(key, [*trained, *untrained])}; "
            f"trained: {', '.join(trained) or 'none yet'}; "
            f"untrained ({untrained_use}): {', '.join(untrained)}; {plugin_hint()}")


#: What a model argument names (:func:`classify_model_spec`): the first three are names.
SpecKind = Literal["pretrained", "retired", "architecture", "checkpoint", "folder", "unknown"]
_NAME_KINDS = ("pretrained", "retired", "architecture")


@dataclass(frozen=True)
class ModelSpec:
    """A model argument, classified (:func:`classify_model_spec`)."""

    kind: SpecKind
    path: Path  # the argument read as a path (``~`` expanded)
    #: the checkpoint file ``path`` holds (a sharded one's index, a run folder's checkpoint), or
    #: None; for a name, the taco checkpoint that the name hides (:attr:`shadowed`; a file of the
    #: name that is no checkpoint is not one)
    checkpoint: Path | None = None

    @property
    def shadowed(self) -> Path | None:
        """For a name: the taco checkpoint a file or folder of the same name holds, which the
        name hides (given as ``./NAME`` it is that checkpoint); else None."""
        return self.checkpoint if self.kind in _NAME_KINDS else None


def classify_model_spec(spec: str | os.PathLike[str], *, names_only: bool = False) -> ModelSpec:
    """What a model argument names: the one lookup that :func:`load`, :func:`describe_model`
    (``taco models``), :func:`taco.resolve.resolve_model` (``--model``) and ``init_from`` make
    (through :func:`locate_model`, which refuses what none of them can use), so that they agree.

    A name taco knows comes first: a shipped trained model (``pretrained``), a built-in that no
    longer ships (``retired``), an architecture (``architecture``). A name means the same in every
    folder: a file or folder of that name in the working directory does not change it (it is
    reached as ``./NAME``); when it holds a taco checkpoint (its headers say so:
    :func:`holds_checkpoint`), that is :attr:`ModelSpec.shadowed`, for a note. Other text
    is a path: a checkpoint file, a sharded one's index or a folder holding ``checkpoint.safetensors``
    (``checkpoint``), a folder without one (``folder``), or nothing (``unknown``). A
    ``pathlib.Path`` (any ``PathLike``) is always a path. With ``names_only`` (the name a
    ``.taco`` file gives, which must not choose a file to read) the disk is not looked at: what
    is not a name is ``unknown``. A path that cannot be looked at is a :class:`CheckpointError`
    saying why: empty (which would be the current folder), holding a null byte
    (:func:`taco.fileobjects.checked_path`), or refused by the system (too long, not permitted)."""
    key = os.fspath(spec)
    try:
        path = Path(key).expanduser()
    except RuntimeError:  # ~user of no such user: the text as it is
        path = Path(key)
    kind: SpecKind | None = None
    if isinstance(spec, str) and not looks_like_path(key):  # no name reads as a path: no plugin import
        kind = ("pretrained" if key in PRETRAINED else "retired" if key in RETIRED
                else "architecture" if key in MODEL_CONFIGS else None)
    if names_only:
        return ModelSpec(kind or "unknown", path)
    if kind is not None:  # what ./NAME holds is named in a note only if it is a taco checkpoint
        try:
            checkpoint = find(path)
        except OSError:  # ./NAME cannot be looked at: the name alone
            return ModelSpec(kind, path)
        return ModelSpec(kind, path, checkpoint if checkpoint and holds_checkpoint(checkpoint) else None)

    def refused(shown: str, reason: str) -> CheckpointError:
        return CheckpointError(f"model '{shown}': {reason}")

    checked_path(key, refused, takes_bytes=False)
    try:
        checkpoint = find(path)
        folder = checkpoint is None and path.is_dir()
    except OSError as exc:  # too long, a folder on the way not permitted, ...
        reason = exc.strerror or str(exc)
        raise refused(key, reason[:1].lower() + reason[1:]) from None
    if checkpoint is not None:
        return ModelSpec("checkpoint", path, checkpoint)
    return ModelSpec("folder" if folder else "unknown", path)


def locate_model(spec: str | os.PathLike[str], *, context: str = "", names_only: bool = False,
                 unknown: Callable[[], Exception] | None = None, use: str | None = None) -> ModelSpec:
    """A model argument looked up (:func:`classify_model_spec`) for a caller that uses what it
    names: the spec of a trained name (``pretrained``), a checkpoint (``checkpoint``) or an
    architecture (``architecture``). What no caller can use is refused here, in the same words
    for :func:`load`, :func:`describe_model`, ``--model`` (:func:`taco.resolve.resolve_model`)
    and ``init_from``: a retired built-in (where its checkpoint is: :func:`retired_message`) and
    a folder without a checkpoint (:func:`~taco.models.header.no_checkpoint_message`) as a
    CheckpointError whose text follows ``context`` (``"init_from: "``); an argument that names
    nothing as ``unknown()``, by default a CheckpointError (``context`` and
    :func:`unknown_model_message`). ``use``: how the caller takes a model, which the retired
    built-in's message ends with (:data:`HISTORY_USES`: ``"--init-from"`` for ``init_from``);
    None: a ``.taco`` file's for ``names_only``, else ``--model``."""
    found = classify_model_spec(spec, names_only=names_only)
    if found.kind == "retired":
        if use is None:
            use = "decode" if names_only else "--model"
        raise CheckpointError(context + retired_message(os.fspath(spec), found.shadowed, use=use))
    if found.kind == "folder":  # a run that has not written its checkpoint yet, or not a run
        problem = not_a_file_message(found.path / CHECKPOINT_FILE, os.path.join(os.fspath(spec), ""))
        raise CheckpointError(context + (problem or no_checkpoint_message(found.path)))
    if found.kind == "unknown":
        raise unknown() if unknown else CheckpointError(context + unknown_model_message(spec))
    return found


def holds_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (a file, or a sharded checkpoint's index) is a taco checkpoint: its
    headers alone are read (:func:`~taco.models.header.read_checkpoint_header`), not its weights."""
    try:
        read_checkpoint_header(path)
    except CheckpointError:
        return False
    return True


def shadow_note(name: str, checkpoint: str | os.PathLike[str]) -> str:
    """One line for a built-in ``name`` that a checkpoint of the same name in the working
    directory (:attr:`ModelSpec.shadowed`) does not change."""
    return (f"./{name} holds a checkpoint ({checkpoint}), but {name!r} is the built-in name: "
            f"give ./{name} to use that checkpoint")


def shadow_clause(name: str, checkpoint: str | os.PathLike[str] | None) -> str:
    """:func:`shadow_note` as a clause a refusal ends with: ``" (./NAME holds ...)"``, or ""
    when no checkpoint is shadowed (``checkpoint`` None)."""
    return f" ({shadow_note(name, checkpoint)})" if checkpoint is not None else ""


def architecture_config(name: str, **overrides: Any) -> ModelConfig:
    """The registered model ``name`` (a key of :data:`MODEL_CONFIGS`, else KeyError) with
    ``overrides`` (ModelConfig fields) in, checked as ModelConfig checks any config: ValueError or
    TypeError for a bad value, TacoValueError for a field ModelConfig lacks (no checkpoint is
    read here: :meth:`ModelConfig.from_dict`'s CheckpointError is for a file's config)."""
    fields = {**MODEL_CONFIGS[name].to_dict(), **overrides}
    problem = ModelConfig.unknown_fields_problem(fields)
    if problem:
        raise TacoValueError(problem)
    return ModelConfig.from_dict(fields)


def bind_annotation_names() -> None:
    """Bind ``torch`` and :class:`ELIC` into this module's globals: its annotations name them,
    but it imports them for type checkers only (it imports no torch: ``taco --help``), so
    ``typing.get_type_hints(taco.load)`` raised NameError. Building, loading and registering a
    model import both anyway and bind them, so the hints resolve from then on."""
    import torch

    from .elic import ELIC

    globals().update(torch=torch, ELIC=ELIC)


def create_model(name: str, *, seed: int | None = 0, **overrides: Any) -> ELIC:
    """Build a registered architecture, e.g. ``create_model("taco-tiny", use_mask=True)``.

    Weights are random (seeded by ``seed`` for reproducibility: an integer from 0 to 2**64 - 1,
    NumPy's included; None: unseeded) and the entropy-coder tables are built, so the model can
    compress at once; another ``seed`` is a TypeError (``"1"``, ``1.0``, ``True``) or a
    :class:`~taco.errors.TacoValueError` (-1, 2**64: :func:`taco.checks.seed_argument`).
    Trained models come from :func:`load`. A name that is no registered model
    (:data:`MODEL_CONFIGS`) is a :class:`taco.errors.TacoValueError` (a ``ValueError``) listing
    them; for an architecture whose models have other names (a
    backbone's ``mine``, whose configs are ``mine-tiny``, ...), listing its own; for a built-in
    taco no longer ships (:data:`RETIRED`), saying where its checkpoint is. ``overrides``
    are checked as :func:`architecture_config` checks them.
    """
    if not isinstance(name, str):
        raise TypeError(f"create_model: name must be a model's name (str), not {type(name).__name__}")
    if name not in MODEL_CONFIGS:  # `in` imports the TACO_PLUGINS modules: ARCHITECTURES is whole
        models = sorted(MODEL_CONFIGS)
        if name in ARCHITECTURES:
            own = [m for m in models if MODEL_CONFIGS[m].architecture == name]
            raise TacoValueError(f"{name!r} is an architecture; " + (
                f"create one of its models: {', '.join(own)}" if own else
                "no model of it is registered (register_architecture(..., configs=...) names them)"))
        if name in RETIRED:  # a built-in that no longer ships: where its checkpoint is
            raise TacoValueError(f"{name!r} is a trained model, not an architecture: "
                                 + retired_message(name, use="taco.load")
                                 + f"; or create an untrained one: models: {', '.join(models)}")
        head = (f"{name!r} is a trained model: load it with taco.load({name!r}), or create an "
                f"untrained one" if name in PRETRAINED else f"unknown model {name!r}")
        hint = "" if name in PRETRAINED else f"; {plugin_hint()}"
        raise TacoValueError(f"{head}{did_you_mean(name, models)}; models: {', '.join(models)}{hint}")
    if seed is not None:
        seed = seed_argument("create_model: seed", seed)
    from ..draws import cpu_default_device
    from .architecture import build_model

    bind_annotation_names()
    cfg = architecture_config(name, **overrides)
    with cpu_default_device():  # on the CPU whatever the caller's default device
        model = build_model(cfg) if seed is None else build_seeded(cfg, seed)
        # overrides that change nothing (the layout a warm start repeats) keep the plain name
        model.model_id = name if cfg == MODEL_CONFIGS[name] else f"{name}+custom"
        model.eval()
        model.update(force=True)
    return model


def build_seeded(config: ModelConfig, seed: int) -> ELIC:
    """``build_model(config)`` with every CPU draw the build makes (torch's random functions,
    ``nn.init``'s initialisers: :func:`taco.draws.seeded_draws`) taken from
    ``torch.Generator().manual_seed(seed)`` (:func:`taco.draws.private_draws`): the weights
    ``torch.manual_seed(seed)`` gave, without reading or reseeding torch's process-wide
    generators. Those are shared by all threads: seeding them here let concurrent builds, or
    another thread drawing meanwhile, change the weights (a seed-0 file then failed to decode
    as "made with trained weights"), and restoring them undid other threads' draws. Draws
    outside :func:`~taco.draws.seeded_draws` are not seeded."""
    import torch

    from ..draws import private_draws
    from .architecture import build_model

    with private_draws(torch.Generator().manual_seed(seed)):
        return build_model(config)


def list_models() -> list[str]:
    """Every model name taco knows, sorted: the trained built-ins (``PRETRAINED``, which
    :func:`taco.load` loads) and the registered architectures (``MODEL_CONFIGS``, which
    :func:`taco.create_model` builds with random weights; ``taco.load`` refuses those)."""
    load_plugins()
    return sorted(set(MODEL_CONFIGS) | set(PRETRAINED))


class UnknownModelError(TacoError, KeyError):
    """:func:`describe_model`'s KeyError for an argument that names no model: ``args[0]`` is the
    argument's text, as in any KeyError; ``str()`` says it for a person
    (:func:`unknown_model_message`)."""

    def __init__(self, key: str, message: str = "") -> None:
        super().__init__(key, message)
        self.message = message or unknown_model_message(key)

    def __str__(self) -> str:
        return self.message


def spec_config(name: str | os.PathLike[str], *, unknown: Callable[[], Exception] | None = None,
                ) -> tuple[ModelSpec, ModelConfig, dict[str, Any]]:
    """What model argument ``name`` names (:func:`locate_model`, with its errors: ``unknown``
    as there), its config and, for a checkpoint file or run folder, its taco header ({} for a
    built-in trained name or an architecture), without weights or torch: a built-in's config is
    its file's header's (:func:`checkpoint_config`), an architecture's :data:`MODEL_CONFIGS`
    entry. What :func:`describe_model` and :func:`taco.models.rates.named_rates` read."""
    key = str(name)
    spec = locate_model(name, unknown=unknown)
    if spec.kind == "pretrained":
        return spec, checkpoint_config(key), {}
    if spec.kind == "architecture":
        return spec, MODEL_CONFIGS[key], {}
    # a checkpoint file, or a sharded one's index
    assert spec.checkpoint is not None  # classify_model_spec gives a checkpoint its file
    header = read_checkpoint_header(spec.checkpoint)
    return spec, header_config(header, spec.checkpoint), header


def describe_model(name: str | os.PathLike[str]) -> dict[str, Any]:
    """What a user may want to know about a built-in trained model, an architecture or a
    checkpoint file, without loading weights (a checkpoint file's architecture is built on the
    meta device to count its parameters; the names' counts are :data:`PARAMETERS`): ``name``,
    ``trained``, ``architecture``, ``text_encoder``, ``parameters``, ``qualities`` (the λ of each quality of a variable-rate model, else None),
    ``lmbda`` (a single-rate trained model's), ``config``; for a built-in or a checkpoint also
    ``file``, ``file_bytes``; for a built-in ``sha256``, ``trained_on``, ``description``; for a
    checkpoint ``model_id`` and ``training`` (steps, wall time, device, data: what the training
    wrote into it); for a name that a checkpoint of the same name in the working directory does
    not change (:func:`classify_model_spec`) ``shadowed_checkpoint``, that file. ``name`` is
    looked up as :func:`load` and ``--model`` look it up. KeyError (:class:`UnknownModelError`,
    whose text says why) for an argument that is none of them; CheckpointError for a retired
    built-in (where its checkpoint is), for a folder without a checkpoint, for a file that is not
    a checkpoint and for one whose config its architecture cannot be built with (as :func:`load`
    says it); :class:`~taco.models.config.PluginError` for a registered name whose builder
    refuses its config or fails building it (naming the architecture and the builder's error)."""
    key = str(name)
    spec, config, header = spec_config(
        name, unknown=lambda: UnknownModelError(key, unknown_model_message(name)))
    entry = PRETRAINED[key] if spec.kind == "pretrained" else None
    file: Path | None = (pretrained_file(key) if entry else
                         spec.checkpoint if spec.kind == "checkpoint" else None)
    trained_with = header.get("metadata") or {}  # a dict: read_checkpoint_header checks
    # a file's count is its own: its path may read like a name (pathlib.Path("elic-tiny"))
    named = spec.kind != "checkpoint" and key in PARAMETERS
    width = None
    if not named and header and file is not None:
        # the text width of the file's weights (not its text encoder's folder), read before the
        # build: a shard that cannot be read is said as such, not as a config that cannot be built
        from .architecture import checkpoint_text_dim

        width = checkpoint_text_dim(checkpoint_shapes(file))
    try:
        parameters = PARAMETERS[key] if named else _count_parameters(config, width)
    except (TypeError, ValueError, KeyError, AssertionError, RuntimeError) as exc:
        if not header:  # a config a TACO_PLUGINS module (or a script) registered
            # a ValueError is a config refused (class_builder's for arguments the class cannot
            # take); anything else came from inside the builder: a bug there, said as such
            how = "its builder refuses the config" if isinstance(exc, ValueError) else "building it failed"
            raise PluginError(f"model {key!r}, registered for architecture {config.architecture!r}: "
                              f"{how} ({type(exc).__name__}: {exc})") from exc
        from .architecture import unbuildable_config  # torch is imported by now

        # what loading the file says of a config its architecture cannot be built with
        raise CheckpointError(f"{file}: {unbuildable_config(config, exc)}") from None
    info: dict[str, Any] = {
        "name": key,
        "trained": entry is not None or bool(header),
        "architecture": config.architecture,
        "text_encoder": (config.text_encoder or {}).get("name"),
        "parameters": parameters,
        "qualities": config.qualities,
        "lmbda": entry.lmbda if entry else trained_lambda(trained_with),
        "config": config.to_dict(),
    }
    if file is not None:
        info.update(file=str(file), file_bytes=sum(f.stat().st_size for f in shard_files(file)))
    if entry:
        info.update(sha256=entry.sha256, trained_on=entry.trained_on, description=entry.description)
    if header:
        info.update(model_id=header_model_id(header, file or key), training={
            k: v for k, v in trained_with.items() if k in _TRAINING_FIELDS and _of_its_type(k, v)})
    if spec.shadowed is not None:
        info.update(shadowed_checkpoint=str(spec.shadowed))
    return info


def trained_lambda(metadata: dict[str, Any]) -> float | None:
    """The λ a single-rate checkpoint was trained with, from its header's ``metadata``
    (``lambda``; ``lmbda`` in early files); None where it records none or no finite positive
    number: what the training wrote is text from a file, and a λ of "abc", true, NaN or -1 is
    none (:func:`describe_model` shows it as absent, a warm start does not take it)."""
    lmbda = metadata.get("lambda", metadata.get("lmbda"))
    return float(lmbda) if is_number(lmbda) and lmbda > 0 else None


#: What :func:`describe_model` shows of a checkpoint's training record; the numbers among them
#: (a field of the wrong type, "steps": "abc", is left out as absent).
_TRAINING_NUMBERS = ("trained_steps", "trained_steps_total", "epochs", "wall_time_s",
                     "world_size", "global_batch")
_TRAINING_FIELDS = (*_TRAINING_NUMBERS, "device", "train_data", "torch")


def _of_its_type(field: str, value: Any) -> bool:
    """Whether a training record's ``field`` holds what taco writes there (a number, the data's
    description as an object, text)."""
    if field in _TRAINING_NUMBERS:
        return is_number(value)
    return isinstance(value, dict) if field == "train_data" else isinstance(value, str)


def _count_parameters(config: ModelConfig, width: int | None = None) -> int:
    """The parameters of ``config``'s architecture, built on the meta device (imports torch);
    with text width ``width`` when given (a checkpoint's own, not its text encoder's folder's)."""
    from .architecture import build_on_meta, text_width

    with text_width(width):
        return sum(p.numel() for p in build_on_meta(config).parameters())


def checkpoint_config(path_or_name: str | os.PathLike[str]) -> ModelConfig:
    """The architecture of a checkpoint file or built-in trained model, without its weights."""
    key = str(path_or_name)
    path = pretrained_file(key) if key in PRETRAINED else Path(key)
    return header_config(read_checkpoint_header(path), path)


def pretrained_file(name: str) -> Path:
    """Where the shipped trained model ``name`` (a key of :data:`PRETRAINED`) is installed."""
    return _ASSETS / PRETRAINED[name].file


def load_builtin(name: str, device: str | torch.device = "cpu") -> ELIC:
    """The shipped trained model ``name`` (a key of :data:`PRETRAINED`) on ``device``, its
    installed file checked against the registry's SHA-256 first: :func:`load` for a name it
    knows to be built in, without the lookup (a :class:`CheckpointError` for a missing or
    changed file; a KeyError for a name that is not built in)."""
    from ..devices import resolve_device
    from .checkpoint import load_checkpoint

    entry, file = PRETRAINED[name], pretrained_file(name)
    if not file.is_file():
        raise CheckpointError(f"built-in model {name!r}: {file} is missing from the installation")
    digest = sha256_file(file)
    if digest != entry.sha256:
        raise CheckpointError(f"built-in model {name!r}: SHA-256 mismatch ({digest} != "
                              f"{entry.sha256}); the installed file is corrupt")
    model = load_checkpoint(file, resolve_device(device))
    model.model_id = name
    return model


def load(path_or_name: str | os.PathLike[str], device: str | torch.device = "cpu", *,
         map_location: str | torch.device | None = None) -> ELIC:
    """Load a shipped trained model by name, or a checkpoint file by path, onto ``device``
    (``cpu``, ``auto``, ``cuda``, ``cuda:1``, ``mps``, a ``torch.device``: resolved and checked
    by :func:`taco.devices.resolve_device`, as everywhere in taco; ``DeviceUnavailable`` for
    one this machine lacks, before the file is read).

    Architecture names without trained weights (``"taco"``, ``"elic-tiny"``, ...) are refused
    here with a pointer to :func:`create_model`: loading should never silently give random weights.
    The argument is looked up by :func:`locate_model`, as ``--model`` and ``taco models``
    look it up: a name taco knows before a file or folder of the same name (``"./elic-tiny"`` or
    ``pathlib.Path("elic-tiny")`` loads that one; the refusal of the name says it is there, and
    a built-in name loads with a :class:`taco.errors.TacoWarning` saying so).
    ``map_location`` is the former name of ``device``: it still works, with a DeprecationWarning
    (a TypeError beside a ``device`` other than the default).
    """
    import warnings

    from ..devices import resolve_device

    if not isinstance(path_or_name, str | os.PathLike):
        raise TypeError(f"taco.load: path_or_name must be a model's name or a checkpoint's path "
                        f"(str or os.PathLike), not {type(path_or_name).__name__}")
    if map_location is not None:
        if str(device) != "cpu":
            raise TypeError("taco.load: give device= only (map_location is its former name)")
        warnings.warn("taco.load(map_location=...) is deprecated: give device=... (as the rest of "
                      "taco's API takes it)", DeprecationWarning, stacklevel=2)
        device = map_location
    target = resolve_device(device)
    from .checkpoint import load_checkpoint

    bind_annotation_names()

    key = str(path_or_name)
    spec = locate_model(path_or_name, use="taco.load", unknown=lambda: CheckpointError(
        unknown_model_message(path_or_name, untrained_use="for taco.create_model")))
    if spec.kind == "pretrained":
        if spec.shadowed is not None:  # the CLI says it as a note (taco.resolve)
            from ..errors import TacoWarning, warn_at_caller

            warn_at_caller(shadow_note(key, spec.shadowed), TacoWarning)
        return load_builtin(key, target)
    if spec.kind == "checkpoint":
        return load_checkpoint(spec.path, target, found=spec.checkpoint)  # looked up once
    hidden = shadow_clause(key, spec.shadowed)  # an architecture
    raise CheckpointError(
        f"{key!r} is an architecture without trained weights; use taco.create_model({key!r}) "
        f"for a randomly initialised one. Trained models: {sorted(PRETRAINED) or 'none yet'}{hidden}"
    )
