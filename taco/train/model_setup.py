"""The model a run trains: the preset's architecture, its starting weights, what is frozen.

    model = build_training_model(cfg)        # registry model + init_from + freezing, seeded
    main, aux = split_parameters(model)      # Adam groups: network weights / EB quantiles

``init_from`` (a checkpoint file, a sharded checkpoint's index, a run folder, or a built-in
trained name) loads weights like -> like or ELIC -> TACO (:func:`init_from_checkpoint`); the
optimiser starts fresh, and the trainer warms the learning rate up over ``warmup_steps``.
:func:`~taco.train.config.settings_from_init` fills in the model and λ a config leaves to its
``init_from`` (torch-free, in taco.train.config: :func:`~taco.train.config.load_config` and
``taco train`` both build a warm start's config with :func:`~taco.train.config.warm_start_values`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checks import is_int
from ..models import (
    ELIC,
    MODEL_CONFIGS,
    CheckpointError,
    ModelConfig,
    create_model,
    load,
    load_builtin,
)
from ..models.architecture import text_width
from ..models.checkpoint import TABLE_BUFFERS, load_model_state
from ..models.config import TEXTLESS_ARCHITECTURES
from ..models.registry import architecture_config, checkpoint_config
from ..shards import tensor_shapes
from ..text import TextEncoderUnavailable, text_encoder_dim
from .config import (
    ConfigError,
    TrainConfig,
    architecture_as_named,
    check_variable_rate_layout,
    init_from_file,
    locate_init_from,
    model_config,
    model_overrides,
    weights_digest,
)
from .state import load_train_state_meta


def elic_key_to_taco(key: str) -> str:
    """ELIC state-dict key -> TACO's: ``g_a.stageK.*`` -> ``g_a.base.stageK.*``, others equal."""
    return "g_a.base." + key[len("g_a.") :] if key.startswith("g_a.stage") else key


#: The warm starts across architectures, (source, target) -> how a source state-dict key is named
#: in the target; like -> like keeps every name. The target's modules the source lacks keep their
#: fresh initialisation (:func:`init_from_checkpoint`).
WARM_STARTS: dict[tuple[str, str], Callable[[str], str]] = {("elic", "taco"): elic_key_to_taco}


def init_from_checkpoint(model: ELIC, path: str | Path) -> list[str]:
    """Load a checkpoint's weights (file, index, run folder or built-in name) into ``model``;
    an ELIC checkpoint may initialise a TACO.

    ELIC -> TACO maps the analysis stages into ``g_a.base`` (:func:`elic_key_to_taco`); the text
    adapter keeps its fresh initialisation, and so do the gains of a variable-rate model started
    from a single-rate checkpoint. Returns the keys left at their initialisation. The
    source's name, trained steps and SHA-256 (:func:`~taco.train.config.weights_digest`) go into
    ``model.metadata["init_from"]`` (and so into every checkpoint and training state of the
    run): a chain of warm-started runs keeps its total step count, and a resume knows a copy of
    the source under another name.
    """
    # what init_source read its settings from (a name taco knows before a file or folder of that
    # name); a built-in trained name (elic-small-q4) loads by its name, which checks the
    # installed file's SHA-256
    found = locate_init_from(path)
    source = load_builtin(str(path)) if found.kind == "pretrained" else load(found.path)
    src_cfg, dst_cfg = source.config, model.config
    pair = (src_cfg.architecture, dst_cfg.architecture)
    if pair[0] != pair[1] and pair not in WARM_STARTS:
        across = "".join(f"{a} -> {b} and " for a, b in WARM_STARTS)
        raise CheckpointError(  # before the widths: another architecture's differ for that reason
            f"init_from {path}: cannot initialise {pair[1]} from {pair[0]} "
            f"(only {across}like -> like); {_fitting_model(source, dst_cfg)}"
        )
    check_variable_rate_layout(path, src_cfg.layout, dst_cfg.qualities)
    for name in ("N", "M", "groups", "ctx_hidden", "param_widths", "layout"):
        if getattr(src_cfg, name) != getattr(dst_cfg, name):
            raise CheckpointError(
                f"init_from {path}: {name}={getattr(src_cfg, name)} there, "
                f"{getattr(dst_cfg, name)} in the model being trained; {_fitting_model(source, dst_cfg)}"
            )
    if src_cfg.qualities is not None and src_cfg.qualities != dst_cfg.qualities:
        raise CheckpointError(
            f"init_from {path}: a variable-rate checkpoint (qualities {src_cfg.qualities}) "
            f"initialises only a model with the same qualities (this one: {dst_cfg.qualities})"
            + (" (a variable-rate checkpoint cannot start a single-rate model)"
               if dst_cfg.qualities is None else "")
        )
    state = source.state_dict()
    if pair in WARM_STARTS:
        state = {WARM_STARTS[pair](k): v for k, v in state.items()}
    # shapes first: load_state_dict would raise a RuntimeError on them (another text encoder's
    # adapter width), after copying what fits
    here = model.state_dict()
    resized = [f"{k} {tuple(v.shape)} there, {tuple(here[k].shape)} here" for k, v in state.items()
               if k in here and v.shape != here[k].shape and k.rsplit(".", 1)[-1] not in TABLE_BUFFERS]
    if resized:
        raise CheckpointError(f"init_from {path}: weights do not fit ({'; '.join(resized[:2])}); "
                              f"{_fitting_model(source, dst_cfg)}")
    result = load_model_state(model, state, strict=False)
    # fresh: the text adapter (ELIC -> TACO) and the gains (single-rate -> variable-rate)
    fresh = ("g_a.adapter.", "latent_codec.gains.")
    not_adapter = [k for k in result.missing_keys if not k.startswith(fresh)]
    if not_adapter or result.unexpected_keys:
        raise CheckpointError(
            f"init_from {path}: weights do not fit (missing {not_adapter[:3]}, "
            f"unexpected {result.unexpected_keys[:3]}); {_fitting_model(source, dst_cfg)}"
        )
    model.update(force=True)
    meta = getattr(source, "metadata", {}) or {}
    record: dict[str, Any] = {
        "source": str(path),
        "model_id": source.model_id,
        "trained_steps_total": _steps(meta.get("trained_steps_total", meta.get("trained_steps", 0))),
    }
    try:  # a copy of these bytes under another name is these weights (resuming: same_init_weights)
        record["sha256"] = weights_digest(init_from_file(path))
    except OSError:  # read a moment ago: gone since; the run records no digest, as older ones
        pass
    model.metadata = {**getattr(model, "metadata", {}), "init_from": record}
    return list(result.missing_keys)


def _fitting_model(source: ELIC, target: ModelConfig) -> str:
    """What to give for a model that ``source``'s weights initialise: for a warm start across
    architectures (:data:`WARM_STARTS`, ELIC -> TACO), the registered models of the target's
    architecture with the source's widths; else (or where none has them) the model it was
    trained as, with the preset that trains it where the target's would not."""
    src = source.config
    if (src.architecture, target.architecture) in WARM_STARTS:
        widths = ("N", "M", "groups", "ctx_hidden", "param_widths")
        fits = sorted(n for n, c in MODEL_CONFIGS.items() if c.architecture == target.architecture
                      and all(getattr(c, k) == getattr(src, k) for k in widths))
        if fits:
            return (f"a {target.architecture.upper()} model of its width: "
                    f"--set model={' or model='.join(fits)}")
    saved = (getattr(source, "metadata", {}) or {}).get("config") or {}
    name, overrides = architecture_as_named(src, saved.get("model"))
    extra = "".join(f" model_overrides.{k}={json.dumps(v, separators=(',', ':'))}"
                    for k, v in overrides.items())
    textless = src.architecture in TEXTLESS_ARCHITECTURES
    preset = (" preset=elic" if textless else
              " preset=taco" if target.architecture in TEXTLESS_ARCHITECTURES else "")
    return f"the model it was trained as: --set model={name}{extra}{preset}"


def zero_tgic_outputs(model: nn.Module) -> int:
    """Zero the last fusion conv of every TGIC module: ``v + fuse([v; c])`` is then exactly
    ``v``, so a frozen-base TGIC starts from its ELIC, as the adapter does with gamma = 0
    (ControlNet-style zero conv; its weight still gets a gradient at the first step, the
    layers before it from the second). Returns how many modules were zeroed."""
    from ..models.tgic import TGICAttention

    n = 0
    for m in model.modules():
        if isinstance(m, TGICAttention):
            out = m.fuse[-1]
            with torch.no_grad():
                out.weight.zero_()  # type: ignore[operator]
                out.bias.zero_()  # type: ignore[operator]
            n += 1
    return n


def build_training_model(cfg: TrainConfig, *, resume: str | Path | None = None,
                         meta: dict[str, Any] | None = None) -> ELIC:
    """The model the preset trains, with its trainable parameters set (requires_grad).

    ``resume``: the training state the run goes on from (the trainer loads it into the model
    next); ``meta``: its JSON part as the trainer read it (:func:`load_train_state_meta`; read
    from ``resume`` where not given). Its weights replace ``init_from``'s, so a state that saved
    the run's stream seed and warm-start record (``stream_seed``, ``init_from``) makes the model
    without looking ``init_from`` up or loading it (a checkpoint deleted or moved since, a
    built-in that taco no longer ships), in the entropy-model layout the state's weights have
    (:func:`state_layout`)."""
    overrides = model_overrides(cfg)
    name = cfg.resolved_model()
    frozen = cfg.preset == "taco-frozen-base"
    state = None if resume is None else Path(resume)
    resumed = False
    if state is not None:  # one that saved them: the stream seed and warm-start record
        meta = meta if meta is not None else load_train_state_meta(state)
        resumed = meta.get("stream_seed") is not None
    if cfg.init_from and "layout" not in overrides:
        # the entropy-model layout follows the checkpoint it starts from (the built-in ELICs
        # have CompressAI's layout, new models the reference one: taco.models.elic): resumed,
        # the one the state's weights have, which that checkpoint gave them
        layout = state_layout(state) if resumed and state is not None else None
        overrides["layout"] = layout or checkpoint_config(init_from_file(cfg.init_from)).layout
        check_variable_rate_layout(cfg.init_from, overrides["layout"], overrides.get("qualities"))
    try:
        if frozen and name in MODEL_CONFIGS and (
                architecture_config(name, **overrides).text_injection == "adapter"):
            # gamma = 0 and an identity residual make the fresh adapter an exact no-op, so
            # training starts from the (frozen) ELIC it was initialised with; the paper's
            # LN residual would not. model_overrides: {residual: paper} restores it. (TGIC has
            # no residual option: its no-op start is the zeroed output conv below.)
            overrides.setdefault("residual", "identity")
        with text_width(table_width(cfg)):
            model = create_model(name, seed=cfg.seed, **overrides)
    except (ValueError, TypeError, CheckpointError) as e:
        raise ConfigError(f"model {name!r}: {e}") from None
    arch = model.config.architecture
    if (cfg.preset == "elic") != (arch in TEXTLESS_ARCHITECTURES):
        raise ConfigError(f"preset {cfg.preset!r} cannot train the {arch} model {name!r}")
    if frozen:
        zero_tgic_outputs(model)
    if cfg.init_from and not resumed:
        init_from_checkpoint(model, cfg.init_from)
    if cfg.preset == "taco-frozen-base":
        for key, p in model.named_parameters():
            p.requires_grad_(key.startswith("g_a.adapter.") and p.requires_grad)
    if cfg.model_id:
        model.model_id = cfg.model_id
    return model


#: Where a model's entropy-model layout shows in its state-dict names (taco.models.elic):
#: CompressAI's ``latent_codec.hyper`` / ``latent_codec.y``, the reference layout's
#: ``latent_codec.entropy_bottleneck``.
LAYOUT_MARKS = {"compressai": "latent_codec.hyper.", "reference": "latent_codec.entropy_bottleneck."}


def state_layout(state: Path) -> str | None:
    """The entropy-model layout of the model a training state holds, from its tensors' names
    (safetensors headers: no tensor read); the layout of the run's checkpoint beside it where
    the names say none (a backbone of its own); None where neither says."""
    from ..shards import CHECKPOINT_FILE, find

    names = tensor_shapes(state)
    found = [layout for layout, mark in LAYOUT_MARKS.items()
             if any(n.startswith("model/" + mark) for n in names)]
    if len(found) == 1:
        return found[0]
    checkpoint = find(state.parent / CHECKPOINT_FILE)
    try:
        return checkpoint_config(checkpoint).layout if checkpoint is not None else None
    except (CheckpointError, OSError, ValueError):
        return None


def table_width(cfg: TrainConfig) -> int | None:
    """The text width to build the model with when it trains from a caption-embeddings file
    (``text_embeddings``): its text encoder's (:func:`~taco.text.text_encoder_dim`, which
    :func:`~taco.train.caption_embeddings.text_inputs` checks the file against), or the file's
    tokens' when the encoder cannot say its own (a folder that is not on this machine). None
    otherwise: the model asks its encoder."""
    spec = text_encoder_spec(cfg) if cfg.text_embeddings else None
    if spec is None or cfg.text_embeddings is None:
        return None
    try:
        return text_encoder_dim(**spec)
    except TextEncoderUnavailable:
        return _table_text_dim(cfg.text_embeddings)


def _table_text_dim(path: str) -> int | None:
    """The token width d of a caption-embeddings file's tokens (K, m, d), read from its
    safetensors header (no tensor is loaded); None when the file cannot say
    (:meth:`~taco.train.caption_embeddings.CaptionTable.load` then says why)."""
    try:
        shape = tensor_shapes(path)["tokens"][0]
    except (OSError, ValueError, KeyError):  # ShardedFileError is a ValueError
        return None
    return int(shape[2]) if len(shape) == 3 else None


def frozen_base_note(cfg: TrainConfig) -> str | None:
    """What to say when preset taco-frozen-base (``--freeze-base``) has no ``init_from``: the
    frozen codec is then the model's random initial weights, untrained, and the text modules
    learn around a codec that does not compress. Not refused (tests and smoke runs do this);
    None when ``init_from`` gives the codec or the preset freezes nothing."""
    if cfg.preset != "taco-frozen-base" or cfg.init_from:
        return None
    return (f"--freeze-base without init_from: the frozen codec is {cfg.resolved_model()}'s random "
            f"weights (seed {cfg.seed}), untrained; to train the text modules on a trained codec, "
            "give it with --init-from MODEL (a checkpoint, a run folder or a built-in name such as "
            "elic-small-q4; --set init_from=MODEL)")


def split_parameters(model: nn.Module) -> tuple[dict[str, nn.Parameter], dict[str, nn.Parameter]]:
    """(main, aux) trainable parameters by name; aux = the entropy bottleneck's quantiles."""
    main: dict[str, nn.Parameter] = {}
    aux: dict[str, nn.Parameter] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            (aux if name.endswith(".quantiles") else main)[name] = p
    return main, aux


def text_encoder_spec(cfg: TrainConfig) -> dict[str, Any] | None:
    """The text encoder (``{"name": ..., **options}``) of the model ``cfg`` trains, without
    building it; None for ELIC."""
    config = model_config(cfg)
    return dict(config.text_encoder) if config.text_encoder else None


def _steps(value: object) -> int:
    """A checkpoint's recorded step count, or 0 where its training record holds no whole number
    (an odd record must not stop a warm start: the weights are what it takes)."""
    return value if is_int(value, 0) else 0
