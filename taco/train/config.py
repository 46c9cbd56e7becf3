"""The training configuration: one dataclass whose defaults are the paper's recipe (§4.1), but
for the LPIPS input convention (``lpips_input``: "standard", the LPIPS evaluation reports;
"official" is the authors' loss, docs/training.md).

Loaded from YAML, JSON or TOML (:func:`load_config`), then ``key=value`` overrides (dotted keys reach
into ``data``/``val``/``model_overrides``; values are parsed as YAML, so ``k_j=0``,
``lr_milestones=[2,3]`` and ``bf16=true`` work). Unknown keys and wrongly typed values are
errors that name the key, never silently ignored. YAML anchors and aliases, and a key given
twice, are refused (:class:`ConfigLoader`).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import itertools
import json
import math
import numbers
import operator
import os
import re
import shlex
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..bitstream.container import model_id_problem
from ..checks import is_int
from ..devices import device_problem
from ..errors import TacoError, TacoWarning, warn_at_caller
from ..fileobjects import read_file_within
from ..jsonfiles import UTF16_TEXT, load_json, utf16_start
from ..messages import SOURCE_TREE, did_you_mean, one_line, shell_word, shown_path
from ..models.config import PAD_MULTIPLE, check_lambdas
from ..recipe import DEFAULT_BETA, DEFAULT_K_J, DEFAULT_K_P, LAMBDAS, check_lpips_input

if TYPE_CHECKING:
    from ..models.config import ModelConfig
    from ..models.registry import ModelSpec

#: The warm-up an ``init_from`` (``--init-from``) sets unless ``warmup_steps`` is given
#: (:func:`warm_start_values`): Adam starts with empty moments, and its first updates are
#: lr-sized whatever the gradients say.
INIT_WARMUP_STEPS = 100
#: Registry architecture each preset trains unless ``model`` says otherwise.
PRESET_MODELS = {"taco": "taco", "elic": "elic", "taco-frozen-base": "taco"}
#: The presets ``preset`` may name.
PRESETS = tuple(PRESET_MODELS)
#: What ``crop`` and ``val.crop`` must be multiples of: the codec's padding.
CROP_MULTIPLE = PAD_MULTIPLE
#: ``data.small_images``: what happens to images under ``crop`` px on the shorter side.
SMALL_IMAGES = ("drop", "upscale")
#: ``model_overrides`` keys that only a model with text has (the text modules' options).
TEXT_MODEL_KEYS = ("text_injection", "injector_at", "heads", "residual", "use_mask",
                   "learn_gamma", "gamma_init", "text_encoder")


class ConfigError(TacoError, ValueError):
    """A training configuration is malformed: unknown key, wrong type or impossible value.

    ``key``: the dotted config key the error is about, when it is about one (``data.kind``);
    :func:`file_named` uses it to name the config file that gave the key."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


#: The largest ``seed``: ``seed + rank`` seeds numpy (below 2**32) and torch on every rank,
#: as :func:`taco.train.trainer.stream_seed`'s seeds (below 2**31) do.
MAX_SEED = 2**31 - 1

#: The most characters of a value that a :class:`ConfigError` shows (a 900 kB ``model`` was
#: echoed whole, in one line).
SHOWN_VALUE_CHARS = 200


def shown(value: Any, limit: int = SHOWN_VALUE_CHARS) -> str:
    """``repr(value)`` as a config error shows it: one line, cut to ``limit`` characters (an int
    of over 4,300 digits, a TOML or YAML ``0xFFFF...``, which Python gives no decimal text, as
    those words)."""
    try:
        text = repr(value)
    except ValueError as e:
        text = _too_many_digits(e) or str(e)
    return one_line(text, limit)


@dataclass
class DataConfig:
    """Where the training images and captions are.

    kind="folder": ``root`` holds the images, e.g. ``shared/data/photos/train``, captioned as
    every command finds captions (:class:`taco.captions_file.CaptionLookup`): by ``captions``
    alone when it names a JSON-lines file (inside ``root``, or a path; an image it does not
    caption is skipped, as uncaptioned), else by each image's sidecar ``IMAGE.txt``, else by
    ``root/captions.jsonl``.
    kind="coco": ``root`` is the images folder (``train2014/``), ``captions`` the annotations
    file (``annotations/captions_train2014.json``); a relative ``captions`` is taken relative to
    ``root``'s parent.

    The defaults follow the paper's code (effl-lab/TACO ``datasets_MSCOCO.py``): images smaller
    than the crop on their shorter side are dropped (``small_images="drop"``; with the paper's
    crop of 256 that is their rule) and nothing is flipped (``hflip=False``).
    ``small_images="upscale"`` (upscale them to cover the crop) and ``hflip=True`` (random
    horizontal flips) are taco's earlier behaviour.

    ``exclude``: file-name patterns (shell-style, e.g. ``["lomiri-*"]``) never trained on; the
    recipes on ``shared/data/photos/train`` exclude the photos of sources held out for testing
    (docs/training.md, "Held-out sources").
    """

    kind: str = "folder"
    root: str | None = None
    captions: str | None = None
    small_images: str = "drop"  # "drop" | "upscale": images under `crop` px on the shorter side
    hflip: bool = False  # random horizontal flips (not in the paper's code)
    exclude: list[str] = field(default_factory=list)  # file-name patterns never trained on

    def captions_path(self) -> Path:
        assert self.root is not None
        if self.kind == "folder":
            return Path(self.root) / (self.captions or "captions.jsonl")
        assert self.captions is not None
        path = Path(self.captions)
        return path if path.is_absolute() else Path(self.root).parent / path


@dataclass
class ValConfig:
    """A short validation pass every ``interval`` steps on a held-out captioned folder.

    ``images`` centre crops of ``crop`` px give the loss parts in eval mode (true rounding);
    the first ``compress_images`` of them are also really coded (bpp from the bytes, PSNR of the
    decoded image). Photos under ``crop`` px follow ``data.small_images`` as in training
    (dropped with one warning, or upscaled). Validation is off with ``root=None`` or
    ``images=0`` (:attr:`enabled`): then ``root`` is not read at all.
    """

    root: str | None = None
    captions: str | None = None  # as data.captions: None = sidecars, then captions.jsonl
    interval: int = 1000
    images: int = 8
    compress_images: int = 2
    crop: int = 256

    @property
    def enabled(self) -> bool:
        """Whether the run validates: ``root`` is set and ``images`` is not 0."""
        return self.root is not None and self.images != 0


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults are the paper's recipe (§4.1, SPEC) but for
    ``lpips_input`` (module docstring).

    ``batch_size`` is per process: with ``torchrun --nproc_per_node=G`` the global batch is
    ``G * batch_size`` (the paper: one process, batch 4). ``epochs`` and ``lr_milestones`` count
    passes over the training set; ``max_steps`` (>= 1) stops earlier (None: no limit).

    ``qualities`` (the λ of each quality, ascending) makes the model variable-rate
    (``ModelConfig.qualities``, :mod:`taco.models.gains`; registry models such as
    ``taco-minilm-vr`` have them already): each step trains the quality drawn for it
    (:class:`taco.train.qualities.QualitySchedule`) with that quality's λ, and ``lmbda`` is unused.
    """

    # what to train
    preset: str = "taco"  # a mapping that gives none, with a text-free model: elic (preset_from_model)
    model: str | None = None  # registry name; None: the preset's (taco / elic)
    model_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {N: 128, M: 192}
    text_encoder: str | None = None  # "clip" | "minilm" | "clip-tiny": replaces the model's
    model_id: str | None = None  # name written into checkpoints and .taco headers
    init_from: str | None = None  # checkpoint (file, index, run folder) or built-in name
    # loss (paper Eq. 6-7)
    lmbda: float = LAMBDAS[2]  # a single-rate model's; a variable-rate one uses its qualities'
    qualities: list[float] | None = None  # λ per quality: makes the model variable-rate
    k_p: float = DEFAULT_K_P
    k_j: float = DEFAULT_K_J
    beta: float = DEFAULT_BETA
    lpips_input: str = "standard"  # LPIPS convention: "standard" ([-1, 1]) | "official" ([0, 1])
    clip_model: str | None = None  # CLIP for the joint term: folder / cached id / "tiny"
    # data
    data: DataConfig = field(default_factory=DataConfig)
    val: ValConfig = field(default_factory=ValConfig)
    crop: int = 256
    batch_size: int = 4
    workers: int = 4
    # optimisation
    epochs: int = 50
    max_steps: int | None = None
    lr: float = 1e-4
    lr_milestones: list[int] = field(default_factory=lambda: [45, 48])
    lr_gamma: float = 0.1
    aux_lr: float = 1e-3
    clip_grad: float = 1.0
    warmup_steps: int = 0  # linear lr warm-up over the run's first steps (--init-from: 100)
    seed: int = 0
    # machine
    device: str = "auto"  # "auto": cuda:LOCAL_RANK if available, else cpu
    bf16: bool = False  # autocast g_a/g_s to bfloat16; the latent codec (rate) stays float32
    channels_last: bool = False
    compile: bool = False
    fused_adam: bool = False  # torch's fused Adam kernels (one launch for all parameters)
    data_on_device: bool = False  # decode the training set once into device memory
    text_embeddings: str | None = None  # a caption-embeddings file (taco train --embed-captions)
    time_limit: str | None = None  # wall-clock budget, e.g. "8m", "90s", "1h30m": then stop
    # bookkeeping
    out_dir: str = "runs/taco"
    log_interval: int = 10
    ckpt_interval: int = 1000
    progress: bool = True

    def resolved_model(self) -> str:
        return self.model or PRESET_MODELS[self.preset]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> TrainConfig:
        """Check types and values; returns self. A config built in Python gets the type checks
        that parsing a file does (:func:`typed_fields`: a wrong type is a ConfigError naming
        the key, ``data``/``val`` must be a DataConfig/ValConfig), and its path keys may be
        ``os.PathLike`` (a ``pathlib.Path``): they are stored as ``str``. Idempotent."""
        typed_fields(self)
        if self.preset not in PRESETS:
            raise ConfigError(f"preset must be one of {', '.join(PRESETS)}, got {shown(self.preset)}"
                              f"{did_you_mean(str(self.preset), PRESETS)}", key="preset")
        if self.data.kind not in ("folder", "coco"):
            raise ConfigError(f"data.kind must be 'folder' or 'coco', got {shown(self.data.kind)}",
                              key="data.kind")
        if self.data.kind == "coco" and not self.data.captions:
            raise ConfigError("data.kind=coco needs data.captions (captions_train2014.json)")
        if self.data.small_images not in SMALL_IMAGES:
            raise ConfigError(f"data.small_images must be one of {', '.join(SMALL_IMAGES)}, got "
                              f"{shown(self.data.small_images)}", key="data.small_images")
        try:
            check_lpips_input(self.lpips_input)  # in evaluate's words
        except ValueError as e:
            raise ConfigError(one_line(str(e), SHOWN_VALUE_CHARS), key="lpips_input") from None
        if self.qualities is not None:
            if "qualities" in self.model_overrides:
                raise ConfigError("give qualities or model_overrides.qualities, not both")
            try:
                check_lambdas(self.qualities)
            except ValueError as e:
                raise ConfigError(f"qualities: {e}", key="qualities") from None
        if self.model_id is not None and (problem := model_id_problem(self.model_id)):
            # checked as the first checkpoint checks it, not ckpt_interval steps later there
            raise ConfigError(f"model_id {shown(self.model_id, 100)}: {problem}", key="model_id")
        if self.text_encoder is not None and self.preset == "elic":
            raise ConfigError("preset elic trains ELIC, which takes no text encoder")
        self._check_model_fits_preset()
        model_config(self)  # the values building the model checks, said before torch loads
        positive = dict(
            lmbda=self.lmbda, lr=self.lr, aux_lr=self.aux_lr, lr_gamma=self.lr_gamma,
            crop=self.crop, batch_size=self.batch_size, epochs=self.epochs,
            log_interval=self.log_interval, ckpt_interval=self.ckpt_interval,
            **{"val.interval": self.val.interval, "val.crop": self.val.crop},
        )  # fmt: skip
        non_negative = dict(
            k_p=self.k_p, k_j=self.k_j, beta=self.beta, clip_grad=self.clip_grad,
            workers=self.workers, **{"val.images": self.val.images,
                                     "val.compress_images": self.val.compress_images},
            warmup_steps=self.warmup_steps,
        )  # fmt: skip
        for values, holds, bound, whole in ((positive, operator.gt, "> 0", "positive"),
                                            (non_negative, operator.ge, ">= 0", ">= 0")):
            for key, value in values.items():
                if not (math.isfinite(value) and holds(value, 0)):  # inf is > 0: say finite (floats)
                    said = f"a finite number {bound}" if isinstance(value, float) else whole
                    raise ConfigError(f"{key} must be {said}, got {value}", key=key)
        if self.time_limit is not None:
            parse_duration(self.time_limit, "time_limit")
        if self.max_steps is not None and self.max_steps < 1:  # 0 wrote an untrained checkpoint
            raise ConfigError(f"max_steps must be >= 1 (or unset: epochs decide), got {self.max_steps}",
                              key="max_steps")
        for key, crop, why in (("crop", self.crop, " (the codec's padding)"),
                               ("val.crop", self.val.crop, "")):
            if crop % CROP_MULTIPLE:
                raise ConfigError(f"{key} must be a multiple of {CROP_MULTIPLE}{why}, got {crop}",
                                  key=key)
        if any(b < a for a, b in itertools.pairwise(self.lr_milestones)):
            # a repeat is a schedule: MultiStepLR multiplies the lr by lr_gamma once per copy
            raise ConfigError(f"lr_milestones must be in increasing order, got "
                              f"{shown(self.lr_milestones)}", key="lr_milestones")
        if self.lr_milestones and self.lr_milestones[0] < 1:  # epoch >= 0: the lr cut from step 1
            raise ConfigError(f"lr_milestones must each be >= 1 (the passes over the training set "
                              f"after which the lr drops; 0 drops it from the first step), got "
                              f"{shown(self.lr_milestones)}",
                              key="lr_milestones")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be from 0 to {MAX_SEED} (2**31 - 1), got {shown(self.seed)}",
                              key="seed")
        if problem := device_problem(self.device):  # spelling only: the run checks the machine
            raise ConfigError(f"device {shown(self.device)}: {problem}", key="device")
        _check_path_keys(self.to_dict())
        return self

    def _check_model_fits_preset(self) -> None:
        """An unknown model or architecture (``model_overrides.architecture``, in the words
        building the model uses), a text option on a model without text, an option of TACO's text
        modules on another architecture (a text-guided backbone's conditioning is its own: it
        reads only ``text_encoder``), a text preset on ELIC, preset elic on a model that reads
        text, or preset taco-frozen-base (TACO's adapter only) on any architecture but taco is
        an error here (not a silently ignored key, nor a late failure when the model is built);
        a text preset on ELIC names the ``--set`` that trains it and the TACO models of its
        width."""
        from ..models import MODEL_CONFIGS
        from ..models.config import (
            ARCHITECTURES,
            TEXTLESS_ARCHITECTURES,
            load_plugins,
            unknown_architecture_message,
        )

        name = self.resolved_model()
        if name not in MODEL_CONFIGS:
            raise ConfigError(unknown_model_text(name), key="model")
        known = MODEL_CONFIGS[name]
        arch = self.model_overrides.get("architecture", known.architecture)
        if arch not in ARCHITECTURES and not (load_plugins() and arch in ARCHITECTURES):
            # as building the model says it: not "reads text" (preset elic), nor "no TACO model"
            raise ConfigError(f"model {shown(name)}: {unknown_architecture_message(arch)}",
                              key="model_overrides")
        textless = arch in TEXTLESS_ARCHITECTURES
        text_keys = [k for k in TEXT_MODEL_KEYS if k in self.model_overrides
                     and arch != "taco" and (textless or k != "text_encoder")]
        if text_keys:
            flag = " (--text-injection)" if "text_injection" in text_keys else ""
            what = "reads no text" if textless else f"is no TACO model (architecture {shown(arch)})"
            raise ConfigError(
                f"model_overrides.{text_keys[0]}{flag}: model {shown(name)} {what}; text options "
                "apply to TACO models (e.g. taco-minilm-small, preset taco)"
            )
        if not textless and self.preset == "elic":
            encoder = self.model_overrides.get("text_encoder") or known.text_encoder or {}
            encoder = encoder.get("name") if isinstance(encoder, dict) else encoder
            raise ConfigError(
                f"preset 'elic' cannot train the {arch} model {shown(name)}: it reads text (text "
                f"encoder {shown(encoder)}): train it with --set preset=taco")
        if not textless and arch != "taco" and self.preset == "taco-frozen-base":
            raise ConfigError(
                f"preset 'taco-frozen-base' (--freeze-base) trains TACO's text adapter "
                f"(g_a.adapter.*), which model {shown(name)} (architecture {shown(arch)}) lacks: use "
                f"preset taco")
        if not textless:
            return
        if self.preset != "elic":
            frozen = self.preset == "taco-frozen-base"
            flag = " (--freeze-base)" if frozen else ""
            widths = ("N", "M", "groups", "qualities")
            changed = self.qualities is not None or any(k in self.model_overrides for k in widths)
            # TACO's own models only: a text-guided backbone carries ELIC's default groups
            # unread, so a width match says nothing, and --freeze-base trains TACO's adapter
            fits = [] if changed else [
                n for n, c in MODEL_CONFIGS.items() if c.architecture == "taco"
                and all(getattr(c, k) == getattr(known, k) for k in widths)]
            taco = f"a TACO model of its width (--set model={' or model='.join(fits)})" if fits else "a TACO model"
            raise ConfigError(
                f"preset {shown(self.preset)}{flag} trains a TACO model's text modules, but model "
                f"{shown(name)} reads no text: train it with --set preset=elic"
                f"{' (without --freeze-base)' if frozen else ''}, or train {taco}"
            )


def typed_fields(config: Any, prefix: str = "") -> None:
    """Check the type of each field of ``config`` (a :class:`TrainConfig`, :class:`DataConfig` or
    :class:`ValConfig`, sections in turn) as :func:`config_from_dict` checks a parsed value
    (:func:`_field_value`), storing back the value it takes: an ``os.PathLike`` as its ``str``,
    a NumPy integer or float as Python's, a tuple as a list. A value of the wrong type is a :class:`ConfigError`
    naming the dotted key; a section that is not its dataclass (``data={...}``) too."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        key, value, annotation = f"{prefix}{f.name}", getattr(config, f.name), hints[f.name]
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, annotation):  # type: ignore[arg-type]
                raise ConfigError(
                    f"{key} must be a {annotation.__name__}, got {shown(value)}: build it as "  # type: ignore[union-attr]
                    f"{annotation.__name__}(...), or the whole config from a mapping with "  # type: ignore[union-attr]
                    "taco.train.config.config_from_dict", key=key)
            typed_fields(value, f"{key}.")
            continue
        if isinstance(value, (list, tuple)):  # a list's items given as a tuple too
            value = [_plain(v) for v in value]
        setattr(config, f.name, _field_value(_plain(value), annotation, key))


def _plain(value: Any) -> Any:
    """``value`` as a config file gives it: a path as its text, a NumPy number or bool (or any
    ``numbers`` one) as Python's; anything else as it is."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if type(value).__name__ == "bool_":  # numpy.bool_, which is no numbers.Integral
        return bool(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
        return float(value)
    return value


def model_overrides(cfg: TrainConfig) -> dict[str, Any]:
    """``model_overrides`` with the top-level shortcuts (``text_encoder``, ``qualities``) in."""
    overrides = dict(cfg.model_overrides)
    if cfg.text_encoder is not None:
        overrides["text_encoder"] = {"name": cfg.text_encoder}
    if cfg.qualities is not None:
        overrides["qualities"] = list(cfg.qualities)
    return overrides


def model_config(cfg: TrainConfig) -> ModelConfig:
    """The architecture ``cfg`` trains (registry entry + overrides), without building it or
    importing torch: an unknown model, a field ModelConfig lacks, a value it refuses or a text
    encoder taco has not (:func:`~taco.text_specs.text_encoder_spec_problem`) is a
    :class:`ConfigError`, as building the model says it (:meth:`TrainConfig.validate` asks)."""
    from ..models import MODEL_CONFIGS, CheckpointError
    from ..models.registry import architecture_config
    from ..text_specs import text_encoder_spec_problem

    name = cfg.resolved_model()
    if name not in MODEL_CONFIGS:
        raise ConfigError(unknown_model_text(name))
    try:
        config = architecture_config(name, **model_overrides(cfg))
    except (ValueError, TypeError, CheckpointError) as e:
        raise ConfigError(f"model {name!r}: {e}") from None
    if config.text_encoder and (problem := text_encoder_spec_problem(config.text_encoder)):
        raise ConfigError(f"model {name!r}: {problem}")
    return config


def unknown_model_text(name: str) -> str:
    """Why ``model`` ``name`` is not one a run trains, in one line: the closest registry names
    (:func:`~taco.messages.did_you_mean`) and :func:`~taco.models.registry.plugin_hint` (a
    run of a backbone resumed without its module), or for a built-in trained name, the
    ``init_from`` that starts from it; for a built-in taco no longer ships
    (:data:`~taco.models.registry.RETIRED`), where its checkpoint is and how to start from it."""
    from ..models import MODEL_CONFIGS
    from ..models.registry import PRETRAINED, RETIRED, plugin_hint, retired_message

    if name in RETIRED and name not in MODEL_CONFIGS:
        return (f"model {shown(name)} is a trained model, not an architecture: "
                + retired_message(name, use="--init-from") + ", without model")
    if name in PRETRAINED:  # a name, not a path (no ./): one word, as --init-from=NAME if it starts with -
        flag = f"--init-from{'=' if name.startswith('-') else ' '}{shlex.quote(name)}"
        return (f"model {shown(name)} is a trained model, not an architecture: {flag} "
                "(without model) starts from its weights and trains its architecture")
    models = sorted(MODEL_CONFIGS)
    return (f"unknown model {shown(name)}{did_you_mean(name, models)}; models: {', '.join(models)}; "
            f"{plugin_hint()}")


def check_resumed_init_from(init_from: Any, saved: dict[str, Any], run: str | Path,
                            given: str = "init_from", record: object = None) -> bool:
    """Refuse an ``init_from`` (``given``: how the user gave it, e.g. ``--init-from``) that names
    other weights than the resumed ``run`` started from (``saved``: its state's config, or its
    config.yaml; ``record``: the warm-start record its state saved, ``{"model_id",
    "trained_steps_total", ...}``): the state's weights would replace them, so they would be
    recorded without being used. A warm start is a new run; none passes, and so do the weights
    the run started from (:func:`same_init_weights`): the same value as saved (a warm-started run
    resumed with its own config or command; paths compare absolute, :func:`absolute_paths`),
    or the same weights by another name (another name of the same checkpoint file, the file of
    a built-in that taco no longer ships, a copy of the file where the run recorded its digest:
    see :func:`same_init_weights`). Returns True for another name of the saved weights (the
    caller keeps the saved value), else False. Torch-free, for ``taco train`` before torch and for the
    trainer."""
    if init_from is None or init_from == "":
        return False
    before = absolute_paths(saved).get("init_from")
    if before is not None and same_path(str(init_from), str(before)):
        return False
    if before is not None and same_init_weights(init_from, before, record):
        return True
    source = "from scratch" if before is None else f"from {before}"
    raise ConfigError(
        f"{given} {init_from} starts a new run from other weights, and --resume continues "
        f"{run} from its own (it was started {source}): drop {given} to resume the run, or "
        f"start a new run from those weights without --resume, in another --out-dir"
    )


def init_from_found(init_from: Any) -> Path | None:
    """The checkpoint file (or sharded checkpoint's index) an ``init_from`` names
    (:func:`locate_init_from`: a built-in trained model's installed file); None where it names
    none now (gone, retired, unreadable). Torch-free."""
    from ..models import CheckpointError
    from ..models.registry import pretrained_file

    try:
        spec = locate_init_from(str(init_from))
        return pretrained_file(str(init_from)) if spec.kind == "pretrained" else spec.checkpoint
    except (CheckpointError, OSError, ValueError):
        return None


def init_weights_identity(path: Path) -> tuple[str, int] | None:
    """(model id, trained steps in all) of a checkpoint, from its header: what a warm start
    records of its source (:func:`~taco.train.model_setup.init_from_checkpoint`); None for a
    header that does not read. Torch-free."""
    from ..models import CheckpointError
    from ..models.header import header_model_id, read_checkpoint_header

    try:
        header = read_checkpoint_header(path)
        model_id = header_model_id(header, path)
    except (CheckpointError, OSError, ValueError):
        return None
    meta = header.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    steps = meta.get("trained_steps_total", meta.get("trained_steps", 0))
    return model_id, int(steps) if is_int(steps, 0) else 0


def weights_digest(checkpoint: str | os.PathLike[str]) -> str:
    """The SHA-256 (hex) of a checkpoint's bytes: the plain file's (for a built-in, the SHA-256
    taco checks it against), or a sharded one's index and shards, in that order. What a warm
    start records of its source (``sha256`` in the run's warm-start record), so that resuming
    knows a copy of those weights under another name. Torch-free; raises OSError."""
    from ..shards import files

    digest = hashlib.sha256()
    for file in files(checkpoint) or [Path(checkpoint)]:
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def same_init_weights(init_from: Any, before: Any, record: object = None) -> bool:
    """Whether ``init_from`` names the weights a run started from as ``before`` (its saved
    ``init_from``), though by another name: where ``before`` still names a checkpoint, the two
    name the same file (resolved, links followed: ``runs/a`` and ``runs/a/CHECKPOINT``, a
    symbolic link to the file); where ``before`` is a built-in that taco no longer ships
    (:data:`~taco.models.registry.RETIRED`), the checkpoint ``init_from`` names has that
    built-in's name as its model id and the trained steps the run's warm-start ``record``
    saved (the file its retirement message points at); where the ``record`` holds the SHA-256
    of the weights the run started from (``sha256``, :func:`weights_digest`: recorded by
    warm starts since it was added), ``init_from``'s bytes have that digest (a copy of the file
    under any name, even where ``before``'s file was deleted or overwritten since). False
    otherwise: ``init_from`` names no checkpoint, or another file, even one with the same bytes
    where the run recorded no digest (an older run: ``before``'s file may have been
    overwritten since, so its bytes today say nothing of the weights it started from), or
    ``before`` is a file deleted or moved since. Reads file headers, and with a recorded
    digest the bytes of the file ``init_from`` names; no torch."""
    from ..models.registry import RETIRED

    now = init_from_found(init_from)
    if now is None:
        return False
    digest = record.get("sha256") if isinstance(record, dict) else None
    if isinstance(digest, str):
        try:
            if weights_digest(now) == digest:
                return True
        except OSError:  # unreadable: not known to be the same (its name may still say it)
            pass
    then = init_from_found(before)
    if then is not None:
        try:
            return Path(now).resolve() == Path(then).resolve()
        except (OSError, RuntimeError):  # a link loop
            return False
    if str(before) not in RETIRED or not isinstance(record, dict) or record.get("model_id") != str(before):
        return False
    return init_weights_identity(now) == (str(before), record.get("trained_steps_total", 0))


def settings_from_run(values: dict[str, Any], saved: dict[str, Any], *,
                      lmbda: bool = True) -> tuple[dict[str, Any], list[str]]:
    """What :func:`settings_from_init` filled in when a warm-started
    run began, taken from the config its training state saved (``saved``) instead of from its
    ``init_from`` checkpoint, which resuming neither needs nor reads (the state holds every
    weight; the checkpoint may be gone since): the model (with the ``model_overrides`` that
    made its architecture, this config's own winning) where ``values`` gives none, and with
    ``lmbda`` the saved λ of a single-rate run where ``values`` gives none. Returns (values,
    notes for the user)."""
    out, taken = dict(values), []
    if out.get("model") is None and saved.get("model") is not None:
        mine = out.get("model_overrides") or {}
        out["model"] = saved["model"]
        out["model_overrides"] = {**(saved.get("model_overrides") or {}), **mine}
        taken.append(f"model {saved['model']}")
    if lmbda and "lmbda" not in out and run_qualities(out) is None and saved.get("lmbda") is not None:
        out["lmbda"] = saved["lmbda"]
        taken.append(f"λ={saved['lmbda']:g}" if isinstance(saved["lmbda"], (int, float)) else "lmbda")
    if not taken:
        return out, []
    return out, [f"{' and '.join(taken)} as the resumed run was started (from init_from "
                 f"{saved.get('init_from')})"]


def same_path(a: str, b: str) -> bool:
    """Whether two ``init_from`` values name the same thing: made absolute
    (:func:`absolute_paths`), ``~`` expanded, written alike (``runs/a/`` is ``runs/a``)."""
    def norm(value: str) -> str:
        return os.path.normpath(os.path.expanduser(absolute_paths({"init_from": value})["init_from"]))
    return norm(a) == norm(b)


def check_data_folders(cfg: TrainConfig) -> None:
    """Refuse a ``data.root`` folder (and, on the main process of a validating run, ``val.root``)
    that is not there (:func:`taco.suffixes.check_image_folder`, ``val.root:`` before the
    validation set's); torch-free: ``taco train`` calls it before torch and the trainer loads
    (seconds), as evaluate and bench check their folders, and the trainer for library callers."""
    from ..distributed import dist_env_from_environ
    from ..suffixes import check_image_folder

    if cfg.data.root is not None and cfg.data.kind == "folder":
        check_image_folder(cfg.data.root)
    if cfg.val.enabled and dist_env_from_environ().is_main:
        assert cfg.val.root is not None  # enabled
        try:
            check_image_folder(cfg.val.root)
        except OSError as e:  # named as the validation set's other refusals name it
            raise type(e)(f"val.root: {e}") from None


def locate_init_from(init_from: str | Path) -> ModelSpec:
    """What an ``init_from`` names, looked up as ``--model`` is
    (:func:`~taco.models.registry.locate_model`: a name taco knows before a file or folder of the
    same name, which ``./NAME`` gives): a built-in trained model (kind ``pretrained``) or a
    checkpoint (``checkpoint``: a checkpoint file, a sharded checkpoint's index, a run folder's
    checkpoint). A CheckpointError says why there is none, in one line beginning ``init_from:``,
    in the words ``--model`` and :func:`taco.load` give: a checkpoint whose header cannot be read
    (a ``.taco`` file, an image, a truncated file), a folder without a
    checkpoint (what it looked for), an architecture without trained weights (and the checkpoint
    ./NAME holds, when it holds one), a retired built-in (where its checkpoint is), or no such
    file nor built-in (did you mean ...?: the close files in its folder for a path-like one,
    the close names for a name: :func:`~taco.models.registry.unknown_model_message`). Reads names and file headers only, no
    torch: ``taco train`` refuses a mistyped ``init_from`` before torch loads."""
    from ..models import PRETRAINED, CheckpointError
    from ..models.header import read_checkpoint_header
    from ..models.registry import locate_model, shadow_clause, unknown_model_message

    key = str(init_from)
    trained = ", ".join(sorted(PRETRAINED)) or "none yet"

    def no_such() -> CheckpointError:  # the words --model and taco.load give, after init_from:
        return CheckpointError("init_from: " + unknown_model_message(init_from, trained_only=True))

    spec = locate_model(init_from, context="init_from: ", unknown=no_such, use="--init-from")
    if spec.kind == "architecture":
        hidden = shadow_clause(key, spec.shadowed)
        raise CheckpointError(
            f"init_from: {key!r} is an architecture without trained weights (model={key} trains it "
            f"from random weights); the built-in trained models: {trained}{hidden}"
        )
    if spec.kind == "checkpoint" and spec.checkpoint is not None:  # its header, read as load reads it
        try:
            read_checkpoint_header(spec.checkpoint)
        except CheckpointError as e:  # a .taco file, an image, a truncated file: what it is
            raise CheckpointError(f"init_from: {e}") from None
    return spec


def check_variable_rate_layout(init_from: str | Path, layout: str, qualities: object) -> None:
    """Refuse a variable-rate model (``qualities`` not None) started from a checkpoint of
    CompressAI's entropy layout (the built-in trained models'): the gains need the authors'
    layout (:class:`~taco.models.ModelConfig`), so no model of that checkpoint's layout takes
    them, and the layout mismatch alone would suggest a single-rate model."""
    from ..models import CheckpointError

    if qualities is not None and layout == "compressai":
        raise CheckpointError(
            f"init_from {init_from}: its entropy model has CompressAI's layout (the built-ins); a "
            "variable-rate model needs the authors' layout (reference): train it from scratch, or "
            "start from a reference-layout checkpoint"
        )


def init_from_file(init_from: str | Path) -> Path:
    """The checkpoint file an ``init_from`` names (:func:`locate_init_from`): a built-in trained
    model's installed file, or the checkpoint a path holds."""
    from ..models.registry import pretrained_file

    spec = locate_init_from(init_from)
    if spec.kind == "pretrained":
        return pretrained_file(str(init_from))
    assert spec.checkpoint is not None  # locate_init_from gives a checkpoint or a trained name
    return spec.checkpoint


def init_source(init_from: str | Path) -> tuple[ModelConfig, dict[str, Any]]:
    """(architecture, metadata) of an ``init_from`` checkpoint (file, index, run folder or
    built-in name), from its header alone."""
    from ..models.header import header_config, read_checkpoint_header

    path = init_from_file(init_from)
    header = read_checkpoint_header(path)
    meta = header.get("metadata")
    return header_config(header, path), meta if isinstance(meta, dict) else {}


def architecture_as_named(config: ModelConfig, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """``config`` as (registry name, model_overrides), the entropy-model layout left out (a
    warm start takes it from its checkpoint anyway): ``name`` (a checkpoint's own ``model``)
    where it has that architecture, else the registered architecture that needs the fewest
    overrides."""
    from ..models import MODEL_CONFIGS

    wanted = {k: v for k, v in config.to_dict().items() if k != "layout"}

    def overrides(candidate: str) -> dict[str, Any]:
        have = MODEL_CONFIGS[candidate].to_dict()
        return {k: v for k, v in wanted.items() if have.get(k) != v}

    same = [n for n, c in MODEL_CONFIGS.items() if c.architecture == config.architecture]
    if name in same:
        return name, overrides(name)
    best = min(same or list(MODEL_CONFIGS), key=lambda n: (len(overrides(n)), n))
    return best, overrides(best)


def settings_from_init(values: dict[str, Any], *, lmbda: bool = True) -> tuple[dict[str, Any], list[str]]:
    """A config mapping with what its ``init_from`` checkpoint was trained as filled in where
    ``values`` does not say: the model (``model``, with the ``model_overrides`` that make its
    architecture) and, with ``lmbda``, the λ of a single-rate checkpoint
    (:func:`~taco.models.registry.trained_lambda`: one recorded as no positive number is not
    taken; nor is any where the run is variable-rate, :func:`run_qualities`, which does not use
    ``lmbda``). Explicit settings win (``qualities: null`` too: a single-rate model, which a
    variable-rate checkpoint then cannot start); a TACO preset with an ELIC checkpoint
    (ELIC -> TACO) keeps its own model. A variable-rate run from a checkpoint of CompressAI's
    layout (the built-ins) is refused here (:func:`check_variable_rate_layout`). The preset of a text-free model is left to
    :func:`~taco.train.config.preset_from_model`, which sees the model filled in here. Returns
    (values, notes for the user)."""
    from ..models.config import TEXTLESS_ARCHITECTURES
    from ..models.registry import trained_lambda

    source = values.get("init_from")
    if not source:
        return values, []
    src_cfg, meta = init_source(source)
    saved: dict[str, Any] = meta["config"] if isinstance(meta.get("config"), dict) else {}
    out, taken, keys = dict(values), [], []
    textless = src_cfg.architecture in TEXTLESS_ARCHITECTURES
    preset = out.get("preset")
    if out.get("model") is None and (preset is None or (preset == "elic") == textless):
        name, overrides = architecture_as_named(src_cfg, saved.get("model"))
        mine = dict(out.get("model_overrides") or {})
        for key in ("text_encoder", "qualities"):  # given at the top level: those win
            if out.get(key) is not None or (key == "qualities" and key in out):  # null: single-rate
                overrides.pop(key, None)
        out["model"], out["model_overrides"] = name, {**overrides, **mine}
        taken.append(f"model {name}" + (f" (+ {overrides})" if overrides else ""))
        keys.append("model")
    qualities = run_qualities(out)
    check_variable_rate_layout(source, src_cfg.layout, qualities)
    take_lmbda = lmbda and "lmbda" not in out and qualities is None  # variable-rate: unused
    trained = trained_lambda(meta) if take_lmbda else None
    if trained is not None:  # none recorded, or no positive number: the config's λ
        out["lmbda"] = trained
        taken.append(f"λ={trained:g}")
        keys.append("lmbda")
    if not taken:
        return out, []
    sets = " ".join(f"{k}=..." for k in keys)
    return out, [f"{' and '.join(taken)} from init_from {source}, as it was trained (--set "
                 f"{sets} to change)"]


def warm_start_values(values: dict[str, Any], *, lmbda: bool = True,
                      warmup_steps: int = INIT_WARMUP_STEPS) -> tuple[dict[str, Any], list[str]]:
    """A config mapping as a warm start (its ``init_from``: a checkpoint file, a sharded
    checkpoint's index, a run folder or a built-in trained name) trains it, as ``taco train``
    builds it and :func:`load_config` too: ``init_from`` typed (:func:`typed_value`) and looked
    up (:func:`locate_init_from`: a typo refused before torch loads), ``warmup_steps`` where
    ``values`` gives none (Adam starts afresh: :data:`INIT_WARMUP_STEPS`), and the model and,
    with ``lmbda``, the λ it was trained as where ``values`` gives none
    (:func:`settings_from_init`). Keys ``values`` gives win. Returns (values, notes for the
    user); ``values`` as it is, no notes, without an ``init_from``."""
    if not values.get("init_from"):
        return values, []
    values = typed_value(values, "init_from")  # init_from: 2024 is the folder "2024"
    locate_init_from(values["init_from"])
    if "warmup_steps" not in values:
        values = {**values, "warmup_steps": warmup_steps}
    return settings_from_init(values, lmbda=lmbda)


def run_qualities(values: dict[str, Any]) -> object:
    """The qualities of the model a config mapping trains, as
    :func:`model_overrides` and the registry give them: the top-level
    ``qualities`` where not None, else ``model_overrides``' (an explicit None there:
    single-rate), else the registered model's (``model``, or the preset's); None for a
    single-rate model or an unknown name. Reads the registry's names only, no torch: ``taco
    train --print-config`` notes an unused ``lmbda`` before torch loads."""
    from ..models import MODEL_CONFIGS

    if values.get("qualities") is not None:
        return values["qualities"]
    overrides = values.get("model_overrides")
    if isinstance(overrides, dict) and "qualities" in overrides:
        return overrides["qualities"]
    name = values.get("model") or PRESET_MODELS.get(str(values.get("preset") or "taco"))
    config = MODEL_CONFIGS.get(str(name))
    return config.qualities if config is not None else None


def check_lambda_sweep(cfg: TrainConfig) -> None:
    """Refuse a λ sweep (:func:`taco.train.lambda_sweep`, ``taco train --lambda-sweep``,
    ``scripts/lambda_sweep.sh``, which asks ``--lambda-sweep --print-config``) of a config whose
    six runs would be one model, with a :class:`ConfigError`, before any run and without torch:
    a variable-rate model (:func:`run_qualities`: every quality is in one run), and preset
    ``taco-frozen-base`` (``--freeze-base``) with an ``init_from``: each λ would train the text
    modules of that one codec, whose frozen decoder, hyperprior and entropy model fix the
    rate."""
    if isinstance(run_qualities(cfg.to_dict()), list | tuple):
        raise ConfigError(
            "--lambda-sweep trains one single-rate model per λ, but this model is variable-rate "
            "(qualities): train it once, every quality is in it"
        )
    if cfg.preset == "taco-frozen-base" and cfg.init_from:
        raise ConfigError(
            f"--lambda-sweep with preset taco-frozen-base (--freeze-base) would train only the text "
            f"modules of one codec, {shown_path(cfg.init_from)}, at every λ: its frozen decoder, hyperprior and "
            "entropy model fix the rate, so the six runs are one rate point; train one run per λ, "
            "each from the codec trained at that λ (taco train CONFIG --freeze-base --init-from "
            "ELIC_OF_THAT_λ --set lmbda=λ -o DIR), as scripts/ablation_text_injection.sh does"
        )


def preset_from_model(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A config mapping that gives no ``preset`` (no config key, no ``--set``, no
    ``--freeze-base``) and whose ``model`` reads no text (its architecture is in
    ``TEXTLESS_ARCHITECTURES``: elic, elic-small, elic-vr, ...) nor asks for text
    (``text_encoder``, a text option in ``model_overrides``) gets ``preset: elic``: the default
    preset, taco, trains text modules such a model has not. A preset given is kept (a TACO one
    with such a model is refused by :meth:`TrainConfig.validate`). Returns (values, the note
    that says what was inferred; none when nothing was)."""
    from ..models import MODEL_CONFIGS
    from ..models.config import TEXTLESS_ARCHITECTURES

    name, overrides = values.get("model"), values.get("model_overrides")
    overrides = overrides if isinstance(overrides, dict) else {}
    if ("preset" in values or not isinstance(name, str) or name not in MODEL_CONFIGS
            or values.get("text_encoder") is not None or any(k in overrides for k in TEXT_MODEL_KEYS)):
        return values, []
    if overrides.get("architecture", MODEL_CONFIGS[name].architecture) not in TEXTLESS_ARCHITECTURES:
        return values, []
    return {**values, "preset": "elic"}, [
        f"preset elic, as model {name} reads no text (the default preset, taco, trains a TACO "
        "model's text modules)"]


# --------------------------------------------------------------------------- parsing

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([hms])")


def parse_duration(text: str | float, key: str = "duration") -> float:
    """``"8m"``, ``"90s"``, ``"1h30m"``, ``"1.5h"`` or a number of seconds -> seconds (> 0)."""
    value = str(text).strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or _DURATION.sub("", value).strip():
            raise ConfigError(
                f"{key} must be a duration like 8m, 90s, 1h30m or seconds, got {shown(text)}", key=key
            ) from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"{key} must be a positive duration, got {shown(text)}", key=key)
    return seconds



def _type_ok(value: Any, annotation: Any) -> bool:
    """Whether ``value`` (parsed YAML/TOML) fits the field annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is Any:
        return True
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return is_int(value)
    if annotation is float:
        return isinstance(value, float) or is_int(value)  # NaN too: validate() says what is wrong
    if annotation is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    raise TypeError(f"unsupported annotation {annotation!r}")  # pragma: no cover


def _coerce(value: Any, annotation: Any) -> Any:
    """Fix the YAML readings that are not what a user means for this field: ``1e-4`` (a string
    to YAML 1.1) for a float, a number for text (``out_dir: 2014``, ``data.exclude: [2024]``;
    :func:`load_yaml` gives a config file's or ``--set``'s as written), and a list of them."""
    if isinstance(value, str) and _type_ok(0.5, annotation) and not _type_ok("", annotation):
        try:  # YAML 1.1 reads 1e-4 (no dot) as a string
            return float(value)
        except ValueError:
            return value
    if isinstance(value, float) or is_int(value):
        if _type_ok("", annotation) and not _type_ok(value, annotation):
            try:
                return str(value)  # a folder named 2014
            except ValueError:  # an int of over 4,300 digits (0xFFFF...): refused as no str
                return value
    if isinstance(value, list) and _type_ok([0.5], annotation) and not _type_ok(value, annotation):
        return [_coerce(v, float) for v in value]  # qualities: [2e-4, 4e-4]
    if isinstance(value, list) and _type_ok([""], annotation) and not _type_ok(value, annotation):
        return [_coerce(v, str) for v in value]  # data.exclude: [2024], as out_dir: 2024
    return value


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from a mapping, refusing unknown keys and wrong types."""
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {shown(values)}",
                          key=prefix.rstrip(".") or None)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            hint = did_you_mean(str(key), fields, prefix=prefix)
            raise ConfigError(
                f"unknown config key {shown(prefix + str(key))}{hint}; known: {', '.join(sorted(fields))}",
                key=f"{prefix}{key}")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            section = {} if value is None else value  # data: 0, false, "", []: not a mapping
            kwargs[key] = _build(annotation, section, f"{prefix}{key}.")  # type: ignore[arg-type]
            continue
        kwargs[key] = _field_value(value, annotation, f"{prefix}{key}")
    return cls(**kwargs)


def _field_value(value: Any, annotation: Any, key: str) -> Any:
    """``value`` for a field of type ``annotation`` (dotted ``key``): coerced (:func:`_coerce`),
    else a ConfigError naming ``key`` for a value of the wrong type."""
    value = _coerce(value, annotation)
    if not _type_ok(value, annotation):
        # list[int], not list (a generic alias has the __name__ of its origin)
        name = (annotation.__name__ if isinstance(annotation, type) and not typing.get_args(annotation)
                else str(annotation).replace("typing.", ""))
        raise ConfigError(f"{key} must be {name}, got {shown(value)}", key=key)
    if any(is_int(v) and abs(v) > sys.float_info.max for v in (value if isinstance(value, list) else [value])):
        # 10**400: OverflowError in float() below, or in validate()'s math.isfinite
        raise ConfigError(f"{key} is too large a number, got {shown(value, 40)}", key=key)
    return float(value) if annotation is float else value


def typed_value(values: dict[str, Any], key: str) -> dict[str, Any]:
    """``values`` with its top-level ``key`` (a :class:`TrainConfig` field) coerced and checked
    as :func:`config_from_dict` will (``init_from: 2024`` is the folder ``"2024"``), for a caller
    that reads the key before that: a copy when ``values`` holds it. A value of the wrong type
    (``init_from: true``) is a ConfigError naming the key."""
    if key not in values:
        return values
    annotation = typing.get_type_hints(TrainConfig)[key]
    return {**values, key: _field_value(values[key], annotation, key)}


def config_from_dict(values: dict[str, Any], notes: list[str] | None = None) -> TrainConfig:
    """A validated :class:`TrainConfig` from a (nested) mapping; a mapping without a preset
    takes the one its model needs (:func:`preset_from_model`), and ``notes`` gets the line
    saying so."""
    if isinstance(values, dict) and isinstance(values.get("text_encoder"), dict):
        raise ConfigError(
            f"text_encoder must be an encoder's name (clip, minilm, clip-tiny), got "
            f"{shown(values['text_encoder'])}; an encoder with options (its own folder) goes in "
            "model_overrides: {text_encoder: {name: minilm, path: FOLDER}}")
    values, inferred = preset_from_model(absolute_encoder_path(home_paths(values)))
    if notes is not None:
        notes.extend(inferred)
    return _build(TrainConfig, values).validate()


def home_paths(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with a leading ``~`` of the :data:`PATH_KEYS` and of ``data.captions`` and
    ``val.captions`` expanded (``out_dir: ~/runs/a`` wrote into a folder named ``~`` in the
    current directory, and ``data.root: ~/photos`` was no folder): a copy when one changes;
    ``values`` otherwise."""
    if not any(node[name].startswith("~") for node, name in _path_slots(values, ALL_PATH_KEYS)):
        return values
    out = plain_copy(values)
    for node, name in _path_slots(out, ALL_PATH_KEYS):
        node[name] = os.path.expanduser(node[name])
    return out


def absolute_encoder_path(values: dict[str, Any], cwd: str | Path | None = None) -> dict[str, Any]:
    """``values`` with ``model_overrides.text_encoder.path`` absolute (``~`` expanded, resolved
    against ``cwd``, default the current directory), so that the checkpoints a run writes name
    the folder from anywhere; a CLIP ``path`` that is no existing path (a hub id, or ``./clip``
    not here) is left as it is. A copy when it changes; ``values`` otherwise. A ``path`` holding a
    null byte is a ConfigError naming the key, as the other path keys' (:meth:`TrainConfig.validate`)."""
    overrides = values.get("model_overrides") if isinstance(values, dict) else None
    if not isinstance(overrides, dict):
        return values
    encoder = overrides.get("text_encoder")
    if not isinstance(encoder, dict) or not isinstance(encoder.get("path"), str | os.PathLike) \
            or not os.fspath(encoder["path"]):
        return values
    _refuse_null_byte("model_overrides.text_encoder.path", os.fspath(encoder["path"]))
    path = (Path.cwd() if cwd is None else Path(cwd)) / Path(encoder["path"]).expanduser()
    if encoder.get("name") == "clip" and not path.exists():
        return values
    encoder = {**encoder, "path": str(path.resolve())}
    return {**values, "model_overrides": {**overrides, "text_encoder": encoder}}


class AliasRefused(yaml.YAMLError):
    """A YAML anchor (``&name``) or alias (``*name``) in a config, where :class:`ConfigLoader`
    refuses them; ``line`` and ``column`` are 1-based, and the message starts ``LINE:COL:``
    (after ``PATH:`` it reads like a syntax error, :func:`syntax_error_text`)."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: YAML anchors and aliases (&name, *name) are not "
                         "allowed in a config; write the value out")
        self.line, self.column = line, column


class KeyGivenTwice(yaml.YAMLError):
    """A key given twice in one mapping of a config, which :class:`ConfigLoader` refuses (plain
    YAML keeps the last copy: a second ``data:`` block wiped ``data.root``); the message starts
    ``LINE:`` (1-based) and names the line of the first copy, where they are known (not for a
    JSON config's key: :func:`_unique_keys`)."""

    def __init__(self, key: Any, line: int | None = None, first: int | None = None) -> None:
        text = f"key {shown(key)} given twice"
        super().__init__(text if line is None else f"{line}: {text} (first on line {first})")
        self.key, self.line, self.first = key, line, first


class TagRefused(yaml.YAMLError):
    """A ``!!binary``, ``!!timestamp`` or ``!!set`` value in a config, which
    :class:`ConfigLoader` refuses (they load as bytes, dates and sets, which no config key
    takes); the message is ``LINE:COL: REASON`` (1-based), as :class:`AliasRefused`'s, and
    ``reason`` is the part without the place."""

    def __init__(self, tag: str, line: int, column: int) -> None:
        self.reason = f"YAML tag !!{tag} is not allowed in a config; write the value as plain text"
        super().__init__(f"{line}:{column}: {self.reason}")
        self.line, self.column = line, column


class _WrittenInt(int):
    """An int as :class:`ConfigLoader` reads it, with its text as written (``text``: ``007``,
    ``0x1F``, ``+5``), which :func:`load_yaml` keeps where a key takes text."""

    text: str

    def __new__(cls, value: int, text: str) -> _WrittenInt:
        number = super().__new__(cls, value)
        number.text = text
        return number


class _WrittenFloat(float):
    """A float as :class:`ConfigLoader` reads it, with its text as written (``1.10``)."""

    text: str

    def __new__(cls, value: float, text: str) -> _WrittenFloat:
        number = super().__new__(cls, value)
        number.text = text
        return number


def _written_int(loader: yaml.SafeLoader, node: yaml.Node) -> _WrittenInt:
    return _WrittenInt(loader.construct_yaml_int(node), str(node.value).strip())  # type: ignore[arg-type]


def _written_float(loader: yaml.SafeLoader, node: yaml.Node) -> _WrittenFloat:
    return _WrittenFloat(loader.construct_yaml_float(node), str(node.value).strip())  # type: ignore[arg-type]


def _refuse_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise TagRefused(node.tag.rpartition(":")[2], node.start_mark.line + 1,
                     node.start_mark.column + 1)


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases (:class:`AliasRefused`), a key
    given twice in one mapping (:class:`KeyGivenTwice`), as tomllib does, and the tags
    ``!!binary``, ``!!timestamp`` and ``!!set`` (:class:`TagRefused`). A bare date
    (``out_dir: 2024-06-01``) is the string it reads as, not a ``datetime.date``: YAML 1.1's
    implicit timestamps are not resolved; nor are its base-60 numbers (``1:30`` is a string,
    not 90). Each int and float keeps its text as written (``.text``), for :func:`load_yaml`.

    A config has no use for anchors and aliases, and they are a "billion laughs": ten nested
    aliases in 500 bytes load as shared references but expand to 10**10 values when the mapping
    is copied or printed (GBs of memory, never finishing)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # "<<": merged keys are meant to be overridden
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in first_line:
                        raise KeyGivenTwice(key, line, first_line[key])
                    first_line[key] = line
                except TypeError:  # unhashable: the SafeLoader says so below
                    pass
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise AliasRefused(event.start_mark.line + 1, event.start_mark.column + 1)
        return super().compose_node(parent, index)


#: YAML 1.1's ints and floats without their base-60 forms: ``time_limit: 1:30`` is the string
#: it reads as (refused as a duration, as ``--time-limit 1:30`` is), not 90 seconds.
_NUMBERS = {
    "tag:yaml.org,2002:int": re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+)$""", re.X),
    "tag:yaml.org,2002:float": re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
}
ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, _NUMBERS.get(tag, regexp)) for tag, regexp in resolvers
            if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _tag in ("binary", "timestamp", "set"):
    ConfigLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
ConfigLoader.add_constructor("tag:yaml.org,2002:int", _written_int)
ConfigLoader.add_constructor("tag:yaml.org,2002:float", _written_float)


def load_yaml(text: str, key: str = "") -> Any:
    """YAML text (the value of the dotted config ``key``; "": a whole config) -> plain data, by
    :class:`ConfigLoader` (no anchors or aliases), each number as written where a config key takes
    text (:func:`numbers_as_written`: ``out_dir: 007`` is the folder ``007``, not 7)."""
    return numbers_as_written(yaml.load(text, Loader=ConfigLoader), key)  # a SafeLoader: plain data


@functools.cache
def _text_keys() -> frozenset[str]:
    """The dotted keys of :class:`TrainConfig` and its sections that take text and no number (a
    path, a name: ``out_dir``, ``data.root``, ``model_id``), and ``KEY[]`` for those whose items
    do (``data.exclude[]``)."""
    keys = set()
    for prefix, cls in (("", TrainConfig), ("data.", DataConfig), ("val.", ValConfig)):
        for name, annotation in typing.get_type_hints(cls).items():
            if dataclasses.is_dataclass(annotation):
                continue
            if _type_ok("", annotation) and not _type_ok(0, annotation):
                keys.add(f"{prefix}{name}")
            elif _type_ok([""], annotation) and not _type_ok([0], annotation):
                keys.add(f"{prefix}{name}[]")
    return frozenset(keys)


def numbers_as_written(value: Any, key: str = "") -> Any:
    """Data :class:`ConfigLoader` read for the dotted config ``key`` ("": a whole config), with
    each number where a key takes text (:func:`_text_keys`) as its text as written: YAML reads
    ``007`` as 7, ``0755`` as 493, ``2019_01`` as 201901 and ``1.10`` as 1.1, which as text
    were another folder or name than the one written (and ``time_limit: 010`` 8 s where
    ``--time-limit 010`` is 10 s); every other number a plain ``int`` or ``float``."""
    if isinstance(value, dict):
        return {numbers_as_written(k): numbers_as_written(v, f"{key}.{k}" if key else str(k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_as_written(v, f"{key}[]") for v in value]
    if isinstance(value, (_WrittenInt, _WrittenFloat)):
        if key in _text_keys():
            return value.text
        return int(value) if isinstance(value, int) else float(value)
    return value


_TOML_AT = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


def syntax_error_text(path: Path, kind: str, error: Exception) -> str:
    """A YAML or TOML parse error as one line, ``PATH:LINE:COL: not valid KIND: PROBLEM``.

    PyYAML's message spans several lines (the context, the problem, each with its mark and a
    snippet of the file): its ``problem`` and ``problem_mark`` (0-based) are kept, and its
    ``context`` and ``context_mark`` where it has them, as `` (CONTEXT at LINE:COL)``: an
    unclosed quote or bracket is found at the end of the file, and the context says where it
    opened. tomllib ends its one line with ``(at line N, column M)``, moved to the front. Any
    other error gives the first line of its message after ``PATH:``."""
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is not None and problem:
        text = f"{path}:{mark.line + 1}:{mark.column + 1}: not valid {kind}: {problem}"
        where, context = getattr(error, "context_mark", None), getattr(error, "context", None)
        if where is not None and context:
            text += f" ({context} at {where.line + 1}:{where.column + 1})"
        return text
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    toml = _TOML_AT.match(first)
    if toml:
        return f"{path}:{toml[2]}:{toml[3]}: not valid {kind}: {toml[1]}"
    return f"{path}: not valid {kind}: {first}"


def _too_many_digits(error: Exception) -> str | None:
    """What a YAML or TOML value of over ``sys.get_int_max_str_digits()`` digits (4,300 unless
    changed) was, in taco's words, when ``error`` is Python's refusal of it (a ValueError whose
    text asks the user to raise that limit); None for any other error."""
    if not (isinstance(error, ValueError) and "int_max_str_digits" in str(error)):
        return None
    return _digits_words()


def _digits_words() -> str:
    limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
    return f"a number of over {limit:,} digits"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members as a dict (``object_pairs_hook``); a key given twice is a
    :class:`KeyGivenTwice` without lines (json keeps the last copy, as YAML does)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise KeyGivenTwice(key)
        out[key] = value
    return out


def read_json_config(path: Path, text: str) -> Any:
    """The data of a .json config's ``text``, read as JSON (:func:`taco.jsonfiles.load_json`;
    YAML alone refused tab indentation, ``jq --tab``'s and ``json.dumps(indent="\\t")``'s, and
    read an escaped surrogate pair, ``"\\ud83d\\udcf7"``, as two lone surrogates); None for an
    empty file. Text that JSON does not parse but YAML reads as a mapping, as a hand-edited
    config with a trailing comma, ``#`` comments or 'single quotes' is, is that mapping, with a
    :class:`~taco.errors.TacoWarning` saying where JSON stopped (such files loaded when .json
    was read as YAML alone). A key given twice in one object (``PATH:LINE: key 'K' given twice
    (first on line N)``, the lines where YAML finds them in the text), JSON that does not parse
    (``PATH:LINE:COL: not valid JSON: PROBLEM``), a number of over 4,300 digits or nesting too
    deep is a :class:`ConfigError` naming the file."""
    if not text.strip():
        return None
    try:
        return load_json(text, object_pairs_hook=_unique_keys)
    except KeyGivenTwice as e:
        try:  # without its tabs (whitespace: a JSON string holds none) JSON is YAML, which has lines
            load_yaml(text.replace("\t", " "))
        except KeyGivenTwice as where:
            raise ConfigError(f"{path}:{where}") from None
        except (yaml.YAMLError, ValueError, RecursionError):
            pass
        raise ConfigError(f"{path}: {e}") from None
    except json.JSONDecodeError as e:
        place = f"{path}:{e.lineno}:{e.colno}: not valid JSON"
        data = _yaml_mapping(text)
        if data is None:
            raise ConfigError(f"{place}: {e.msg}") from None
        warn_at_caller(f"{place} ({e.msg}): read as YAML, which takes a trailing comma, "
                       "# comments and 'single quotes'", TacoWarning)
        return data
    except ValueError as e:  # load_json's words: nested too deeply, a number of too many digits
        words = _digits_words() if "digits" in str(e) else one_line(str(e), SHOWN_VALUE_CHARS)
        raise ConfigError(f"{path}: not valid JSON: {words}") from None


def _yaml_mapping(text: str) -> dict[str, Any] | None:
    """The mapping YAML (:func:`load_yaml`) reads ``text`` as, or None where it reads no mapping
    or refuses the text (a syntax error, an alias, a key given twice: the JSON error is said)."""
    try:
        data = load_yaml(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


#: The largest config file taco reads, in bytes (1 MiB; the shipped ones are under 3 kB): a
#: 300 MB one was parsed for minutes in 1.4 GB before its first error.
CONFIG_MAX_BYTES = 1 << 20

#: The suffixes of a config file (:func:`read_config_file`), in any case.
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML (.yaml/.yml), JSON (.json: :func:`read_json_config`) or TOML (.toml) file, the
    suffix in any case, UTF-8 with or without a byte-order mark -> mapping (not yet validated).
    Every failure is one :class:`ConfigError` line naming the file: one that cannot be read, is
    over :data:`CONFIG_MAX_BYTES` (read no further), is not UTF-8, does not parse, nests deeper
    than Python's recursion limit, uses YAML anchors/aliases or gives a key twice
    (:class:`ConfigLoader`, :func:`read_json_config`); a syntax error is ``PATH:LINE:COL: ...``
    (:func:`syntax_error_text`). An empty file (or one of comments only) is an empty mapping;
    any other top-level value (``[]``, ``0``, ``false``, a string) is a :class:`ConfigError`."""
    path = Path(path)
    try:
        raw, size = read_file_within(path, CONFIG_MAX_BYTES)
    except OSError as e:
        # a folder of photos given as the config (taco train PHOTOS): say where photos go
        hint = (f"; a folder of training photos is data.root: taco train --set {_set_word('data.root', str(path))}"
                if path.is_dir() else "")
        if path.parts[:1] == ("configs",) and not Path("configs").is_dir():
            # the README's and docs' example configs, run where there are none (a pip install)
            hint = (f"; the example configs/ ship {SOURCE_TREE}, not in a pip install; taco train "
                    "--help ends with how to train without a config file")
        raise ConfigError(f"{path}: cannot read config ({e.strerror}){hint}") from None
    if size > CONFIG_MAX_BYTES:
        raise ConfigError(f"{path}: over {CONFIG_MAX_BYTES:,} bytes, more than a config holds "
                          "(the shipped ones are under 3 kB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        if utf16_start(raw):  # PowerShell 5's > writes UTF-16 LE with a byte-order mark
            raise ConfigError(f"{path}: {UTF16_TEXT}") from None
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}: {e.reason})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark: PowerShell 5.1 and old Notepad write one
    suffix = path.suffix.lower()  # up.YAML: suffixes are case-blind, as images' are
    kind = suffix[1:].upper()
    if suffix not in CONFIG_SUFFIXES:
        raise ConfigError(f"{path}: config files are .yaml, .yml, .json or .toml")
    if suffix == ".json":
        data = read_json_config(path, text)
        return _config_mapping(path, {} if data is None else data)
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            data = toml_dates_as_text(tomllib.loads(text))
        else:
            data = load_yaml(text)
            if data is None:  # an empty file, or one of comments only: an empty config
                data = {}
    except (AliasRefused, KeyGivenTwice, TagRefused) as e:
        raise ConfigError(f"{path}:{e}") from None
    except RecursionError:  # the parsers recurse once (or more) per level of [ or {
        raise ConfigError(f"{path}: not valid {kind}: nested too deeply") from None
    except (yaml.YAMLError, ValueError) as e:
        if isinstance(e, ConfigError):  # a TOML date-time: toml_dates_as_text
            raise ConfigError(f"{path}: {e}") from None
        too_many = _too_many_digits(e)
        if too_many is not None:
            raise ConfigError(f"{path}: not valid {kind}: {too_many}") from None
        raise ConfigError(syntax_error_text(path, kind, e)) from None
    return _config_mapping(path, data)


def _config_mapping(path: Path, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys to values")
    return data


def toml_dates_as_text(value: Any, key: str = "") -> Any:
    """TOML values with each local date (``out_dir = 2024-06-01``) as its text, ``"2024-06-01"``,
    as YAML reads it (:class:`ConfigLoader`); a time or date-time, whose text Python does not
    give back as written, is a :class:`ConfigError` naming its key."""
    if isinstance(value, dict):
        return {k: toml_dates_as_text(v, f"{key}{k}.") for k, v in value.items()}
    if isinstance(value, list):
        return [toml_dates_as_text(v, key) for v in value]
    if isinstance(value, (datetime.datetime, datetime.time)):
        raise ConfigError(f"{key.rstrip('.')}: a TOML date/time; quote it (\"{value.isoformat()}\")")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def plain_copy(value: Any, key: str = "") -> Any:
    """A deep copy of config data (mappings, lists, strings, numbers, booleans, None); any other
    value (bytes, a date, a set: none comes from :func:`read_config_file`, but a caller's mapping
    may hold one) is a :class:`ConfigError` naming its key."""
    if isinstance(value, dict):
        return {str(k): plain_copy(v, f"{key}{k}.") for k, v in value.items()}
    if isinstance(value, (list, tuple)):  # a tuple: a pair of YAML's !!omap
        return [plain_copy(v, key) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ConfigError(f"{key.rstrip('.') or 'config'}: a {type(value).__name__} value, which no "
                      "config key takes; write it as text")


def _comment_start(raw: str) -> int | None:
    """Where a YAML comment starts in ``raw`` (a ``--set`` value that YAML read), or None: a
    ``#`` outside every token YAML found (first, or after a space)."""
    if "#" not in raw:
        return None
    end = 0
    try:
        for token in yaml.scan(raw, Loader=ConfigLoader):
            found = raw.find("#", end, token.start_mark.index)
            if found >= 0:
                return found
            end = max(end, token.end_mark.index)
    except yaml.YAMLError:  # not so: the text given is the value
        return None
    found = raw.find("#", end)
    return found if found >= 0 else None


def _comment_text(key: str, raw: str, at: int, value: Any) -> str:
    """Why the ``--set`` value ``raw`` for ``key`` is refused: the YAML comment that starts at
    character ``at`` cut it to ``value``; and how to give it whole."""
    text = f"'#' starts a YAML comment there (character {at + 1}), which cuts the value to {shown(value)}"
    if value is not None and not isinstance(value, str):
        return f"{text}; drop the comment, or quote the text that holds the #"
    quoted = shlex.quote(f"{key}={json.dumps(raw.strip(), ensure_ascii=False)}")
    flag = " (or -o, which takes the folder as written)" if key == "out_dir" else ""
    return f"{text}; quote the value: --set {quoted}{flag}"


#: An item of a YAML flow list or mapping that starts with ``*`` (an alias to YAML): a
#: file-name pattern, as in ``--set 'data.exclude=[*.png]'``.
_STAR_ITEM = re.compile(r"(?<=[\[{,:])(\s*)(\*[^,\]}]*?)(\s*)(?=[,\]}]|$)")
#: An item that starts with ``&``: a YAML anchor, so the ``*`` items are meant as aliases.
_ANCHOR_ITEM = re.compile(r"[\[{,:]\s*&")


def _flow_problem(raw: str, error: yaml.YAMLError) -> str:
    """Why ``raw``, a ``--set`` value starting with ``[`` or ``{``, is not a list or mapping, in
    one line: an item starting with ``*`` (a pattern, to YAML an alias) with the value quoted,
    else YAML's problem and the character it is at (``[1, 2``: expected ',' or ']')."""
    if _STAR_ITEM.search(raw) and not _ANCHOR_ITEM.search(raw):
        quoted = _STAR_ITEM.sub(lambda m: f"{m[1]}'{m[2].replace(chr(39), chr(39) * 2)}'{m[3]}", raw.strip())
        return f"* starts a YAML alias; quote a pattern starting with *: {one_line(quoted, SHOWN_VALUE_CHARS)}"
    if isinstance(error, AliasRefused):
        return str(error).partition(": ")[2]
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    text = f"not valid YAML: {one_line(problem or str(error), SHOWN_VALUE_CHARS)}"
    if mark is not None:
        text += f" (character {mark.index + 1})"
    if " #" in raw or "\t#" in raw:
        text += "; '#' after a space starts a YAML comment: quote the text that holds it"
    return text


def _set_word(key: str, text: str) -> str:
    """``KEY=TEXT`` as one word of a suggested ``--set`` that, pasted, gives the config ``key``
    (dotted) the text ``text`` (a path): ``TEXT`` as it is where :func:`apply_overrides` reads it
    back so, else JSON-quoted (YAML would read ``photos #2`` as ``photos``, ``true`` as a bool,
    ``- x`` as a list), written as :func:`taco.messages.shell_word` writes a path (``'my photos'``,
    ``./-photos``)."""
    node: Any = None
    try:
        section, name = _section_of(apply_overrides({}, [f"{key}={text}"]), key)
        node = None if section is None else section.get(name)
    except ConfigError:
        pass
    value = text if node == text else json.dumps(text, ensure_ascii=False)
    return f"{key}={shell_word(value)}"


def apply_overrides(values: dict[str, Any], overrides: list[str],
                    typed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply ``key=value`` strings (dotted keys for nested sections, YAML values) to a copy, then
    the items of ``typed`` (dotted key: value as it is, not read as YAML: ``taco train -o DIR``'s
    folder, ``my runs #1`` or ``yes``, is that text). A value that is no YAML is the text given,
    but for one starting with ``[`` or ``{`` for a key that takes no text (``data.exclude=[*.png]``:
    YAML's problem is said); a value YAML would cut at a comment (``data.root=photos #2``) is a
    ConfigError saying how to quote it."""
    out = plain_copy(values)
    items: list[tuple[str, Any]] = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            # a config file given after --set, which takes every word after it, is said as such
            hint = (" (a config file? give it before --set: taco train CONFIG --set ...)"
                    if not sep and item.lower().endswith(CONFIG_SUFFIXES) else "")
            raise ConfigError(f"override {shown(item)} is not key=value{hint}")
        try:
            value = load_yaml(raw, key.strip()) if raw.strip() else None
        except KeyGivenTwice as e:  # {a: 1, a: 2}: not a string either
            raise ConfigError(f"override {shown(key.strip())}: key {shown(e.key)} given twice") from None
        except yaml.constructor.ConstructorError as e:  # any other tag (!foo, !!python/...): as in a file
            raise ConfigError(f"override {shown(key.strip())}: not valid YAML: {e.problem}") from None
        except TagRefused as e:  # as in a config file: not the string given either
            raise ConfigError(f"override {shown(key.strip())}: {e.reason}") from None
        except yaml.YAMLError as e:  # aliases too: a text given unquoted (a: b: c) is that text
            if raw.lstrip().startswith(("[", "{")) and key.strip() not in _text_keys():
                # meant as a list or mapping (not a folder '[2024] photos'): what is wrong with it
                raise ConfigError(f"override {shown(key.strip())}: {_flow_problem(raw, e)}") from None
            value = raw
        except RecursionError:
            raise ConfigError(f"override {shown(key.strip())}: nested too deeply") from None
        except ValueError as e:  # 5,000 digits: Python's text asks for sys.set_int_max_str_digits
            too_many = _too_many_digits(e)
            if too_many is None:
                raise
            raise ConfigError(f"override {shown(key.strip())}: {too_many}") from None
        else:
            comment = _comment_start(raw)
            if comment is not None:  # data.root=photos #2 was the folder 'photos'
                raise ConfigError(f"override {shown(key.strip())}: "
                                  f"{_comment_text(key.strip(), raw, comment, value)}")
        items.append((key, value))
    for key, value in [*items, *(typed or {}).items()]:
        parts = key.strip().split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if child is None:  # an empty section (data: with its keys commented out)
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override {shown(key)}: {shown(part)} is not a section")
            node = child
        node[parts[-1]] = value
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Defaults <- config file (YAML/TOML, optional) <- ``key=value`` overrides, validated
    (without a preset, a text-free model is trained with preset elic: :func:`preset_from_model`),
    as ``taco train CONFIG --set ...`` builds it: with an ``init_from``, the model and λ the
    file and overrides do not give are the checkpoint's, and ``warmup_steps`` where none is given
    :data:`INIT_WARMUP_STEPS` (:func:`warm_start_values`). An ``init_from`` that cannot be read
    now (a later stage of a recipe, whose checkpoint an earlier stage makes: configs/taco-coco.yaml)
    leaves the config as written: training looks it up when it starts, and refuses it then. An
    error about a key the file gave starts with the file's path (:func:`file_named`)."""
    from ..models.config import CheckpointError

    values = read_config_file(path) if path is not None else {}
    try:
        merged = apply_overrides(values, overrides or [])
        try:
            merged = warm_start_values(merged)[0]
        except CheckpointError:  # not there yet (or no checkpoint): the run start says so
            pass
        return config_from_dict(merged)
    except ConfigError as e:
        if path is None:
            raise
        raise file_named(e, path, values, overrides or []) from None


def file_named(error: ConfigError, path: str | Path, file_values: dict[str, Any],
               overrides: Iterable[str]) -> ConfigError:
    """``error`` as ``PATH: MESSAGE`` when the key it is about (``error.key``) has its value from
    the config file ``path`` (which gave ``file_values``), not from an override: a ``key=value``
    string of ``overrides`` or a bare key that names it or a section above it (``data`` for
    ``data.kind``). ``error`` itself otherwise (no key, or the key came from elsewhere)."""
    if error.key is None:
        return error
    given = {item.partition("=")[0].strip() for item in overrides}
    if any(error.key == g or error.key.startswith(f"{g}.") for g in given):
        return error
    section, name = _section_of(file_values, error.key)
    if section is None or name not in section:
        return error
    return ConfigError(f"{path}: {error}", key=error.key)


def dump_config(config: TrainConfig, *, absolute: bool = False) -> str:
    """The config as YAML (loadable by load_config). ``absolute``: its paths made absolute
    (:func:`absolute_paths`), as a run writes its ``config.yaml``."""
    values = config.to_dict()
    return yaml.safe_dump(absolute_paths(values) if absolute else values, sort_keys=False)


#: Config keys that name files or folders: relative values are taken relative to the current
#: directory (a config file's too), so a run's own config.yaml holds them absolute.
PATH_KEYS = ("out_dir", "data.root", "val.root", "init_from", "text_embeddings", "clip_model")
#: Every config key that names a file or folder: :data:`PATH_KEYS` and the captions files (taken
#: relative to ``data.root``). A leading ``~`` of each is expanded (:func:`home_paths`), and
#: none may be empty or hold a null byte (:meth:`TrainConfig.validate`).
ALL_PATH_KEYS = (*PATH_KEYS, "data.captions", "val.captions")


def _path_slots(values: Any, keys: Iterable[str] = PATH_KEYS) -> Iterator[tuple[dict[str, Any], str]]:
    """``(section, name)`` of each key of ``keys`` (:data:`PATH_KEYS`) in ``values`` that holds a
    string."""
    for key in keys:
        section, name = _section_of(values, key)
        if section is not None and isinstance(section.get(name), str):
            yield section, name


def _check_path_keys(values: dict[str, Any]) -> None:
    """A ConfigError for the first key of :data:`ALL_PATH_KEYS` in ``values`` (a config mapping)
    that is empty or holds a null byte."""
    for key in ALL_PATH_KEYS:  # "" is the current folder: out_dir "" wrote the run there
        section, name = _section_of(values, key)
        given = section.get(name) if section is not None else None
        if given == "":
            raise ConfigError(f"{key}: empty: give a path or name (the current folder is .)",
                              key=key)
        if isinstance(given, str):
            _refuse_null_byte(key, given)


def _refuse_null_byte(key: str, path: str | bytes) -> None:
    """A ConfigError naming ``key`` where its ``path`` holds a null byte: os calls raise
    ValueError on it, late (``Path.resolve``: a traceback)."""
    if isinstance(path, str) and "\0" in path:
        raise ConfigError(f"{key}: the path holds a null byte (character {path.index(chr(0)) + 1}), "
                          "which no file name can", key=key)


def _section_of(values: Any, key: str) -> tuple[dict[str, Any] | None, str]:
    """The mapping of ``values`` that holds the dotted ``key``'s last part (``data`` for
    ``data.root``; None when a section on the way is missing or not a mapping), and that part."""
    *sections, name = key.split(".")
    node = values
    for section in sections:
        node = node.get(section) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), name


def absolute_paths(values: dict[str, Any], cwd: str | Path | None = None) -> dict[str, Any]:
    """A copy of a config mapping (:meth:`TrainConfig.to_dict`) with the relative paths of
    :data:`PATH_KEYS` made absolute against ``cwd`` (default: the current directory).

    What a run writes into its ``config.yaml`` and training state, so that ``taco train --resume
    RUN`` finds the run's data and folder from any directory. ``init_from`` and ``clip_model``
    may be names (a built-in model, ``tiny``, a Hugging Face id): they change only when they
    name an existing file or folder. ``data.captions`` is left as it is: it is relative to
    ``data.root`` (or its parent, for COCO).
    """
    base = Path.cwd() if cwd is None else Path(cwd)
    out = plain_copy(values)
    for node, name in _path_slots(out):
        value = node[name]
        path = Path(value).expanduser()
        if path.is_absolute() or not value:
            continue
        if name in ("init_from", "clip_model") and not (base / path).exists():
            continue  # a name, not a path
        node[name] = str(base / path)
    return absolute_encoder_path(out, base)
