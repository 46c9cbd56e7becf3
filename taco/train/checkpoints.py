"""A run's two saved files and the way back into a run.

``checkpoint.safetensors``: the model for users (``taco.load``, ``taco compress --model``):
float16 network weights (the entropy model's quantiles and tables stay exact), entropy tables
updated, metadata (λ, steps, data, config). ``train_state.safetensors``: everything ``--resume``
needs, in float32 (weights, both Adam states, progress, schedule, RNG states of every rank; see
:mod:`taco.train.state`). Each is one file of at most 16 MB, or shards of at most 16 MB plus
``NAME.index.json`` (:mod:`taco.shards`); both are written atomically.

:func:`resume_source` decides where a run starts: a saved state, or (nothing saved yet in the
run's own folder) a clean start from step 0 with a message; a new run never overwrites a run's
files (:func:`held_files`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..atomic import remove_stale_temporaries
from ..errors import TacoWarning
from ..messages import shell_word, some, utf8_text
from ..models import ELIC, save_checkpoint
from ..models.checkpoint import load_model_state
from ..shards import (
    CHECKPOINT_FILE,
    RUN_CONFIG_FILE,
    RUN_FILES,
    RUN_LOG_FILE,
    SHARD_BYTES,
    TRAIN_STATE_FILE,
    find,
    remove_stale,
)
from .config import INIT_WARMUP_STEPS, PRESET_MODELS, ConfigError, TrainConfig, absolute_paths
from .distributed import DistEnv
from .schedule import lr_at
from .state import (
    TrainProgress,
    TrainStateError,
    load_train_state,
    load_train_state_meta,
    optimizer_from_tensors,
    optimizer_to_tensors,
    prefixed,
    python_numpy_rng_state,
    save_train_state,
    set_python_numpy_rng_state,
    state_exists,
)

__all__ = ["CHECKPOINT_FILE", "STATE_FILE", "RESUMABLE_CHANGES"]

STATE_FILE = TRAIN_STATE_FILE
#: Config keys that may differ when resuming (they do not change what the next step computes;
#: init_from only as written otherwise: another one is refused, check_resumed_init_from).
RESUMABLE_CHANGES = frozenset(
    {"max_steps", "epochs", "out_dir", "log_interval", "ckpt_interval", "val", "workers",
     "progress", "device", "compile", "time_limit", "init_from"}
)  # fmt: skip


def resume_source(out_dir: Path, resume: str | Path | None, *,
                  resume_with: str = "--resume") -> tuple[Path | None, str | None]:
    """Where a run starts: (the state to resume from, or None; a message for the user, or None).
    ``resume_with`` is how the caller gives ``resume``, said in a refusal that needs it: the
    command line's flag (``--resume``), whose words every refusal then uses (``--resume RUN``,
    ``--init-from``, ``--out-dir``), or from Python ``resume='runs/x'``
    (:class:`~taco.train.trainer.Trainer`), whose refusals speak Python (``resume='RUN'``,
    ``load_config(...)`` with ``init_from``, ``out_dir``: :func:`python_words`).

    ``resume=None`` (no ``--resume``) refuses a folder that already holds a run's files or
    files under their names (:func:`held_files`): a state, a checkpoint (e.g. the one a GPU
    slice brings back without its state), a ``config.yaml`` or ``log.jsonl`` (a run's, or the
    user's own), none of which a new run may overwrite. ``--resume`` with the run's own folder
    (or its state file) and nothing saved there yet, because the run was killed before its
    first checkpoint or never started, is a clean start from step 0 with a message; a folder
    with a checkpoint but no state is refused (:func:`no_state_to_resume`: its weights start a
    new run with ``--init-from``). Any other missing state is a :class:`TrainStateError`.
    Another run's state continues in ``out_dir`` only when ``out_dir`` holds none of those files
    (which it would overwrite): otherwise a :class:`ConfigError` names both folders.
    """
    python = python_words(resume_with)
    held = held_files(out_dir)
    if resume is None:
        if held is None:
            return None, None
        if held == STATE_FILE:
            todo = f"pass {resume_with} to continue it"
        elif held == CHECKPOINT_FILE:
            todo = (f"no {STATE_FILE} to continue it from; to train on from its weights: "
                    f"{init_from_command(out_dir, 'NEWDIR', python=python)}")
        else:
            raise ConfigError(
                f"{out_dir} already holds {held} (a run's, stopped before its first checkpoint, "
                "or a file of yours), which a new run would overwrite; choose another out_dir, "
                f"or pass {resume_with} to start that run again there"
            )
        raise ConfigError(f"{out_dir} already holds a run ({held}); {todo}, or choose another out_dir")
    path = Path(resume)
    if path.is_dir() or path.resolve() == out_dir.resolve():
        path = path / STATE_FILE
    elsewhere = path.parent.resolve() != out_dir.resolve()
    if elsewhere and held is not None:
        what = f"another run ({held})" if held in (STATE_FILE, CHECKPOINT_FILE) else held
        own = (f"out_dir={str(path.parent)!r} with resume={str(path.parent)!r}" if python
               else "--resume without --out-dir")
        raise ConfigError(
            f"{resume_named(path.parent, python)}: {out_dir} holds {what}, which "
            f"continuing {path.parent} there would overwrite; continue it in its own folder "
            f"({own}), or give an out_dir that holds no run"
        )
    if state_exists(path):
        return path, None
    if find(path.parent / CHECKPOINT_FILE) is not None:
        raise TrainStateError(no_state_to_resume(path.parent, out_dir if elsewhere else None,
                                                 python=python))
    if not elsewhere:
        return None, (
            f"nothing to resume in {out_dir} (no {STATE_FILE}: the run stopped before its first "
            "checkpoint, or never started); starting from step 0"
        )
    missing = f"resume={str(resume)!r}: {path}" if python else f"--resume: {path}"
    raise TrainStateError(f"{missing} does not exist")


def python_words(resume_with: str) -> bool:
    """Whether a caller that gives ``resume`` as ``resume_with`` is told things in Python's
    words (``resume='runs/x'``, ``resume=True``), not the command line's (a flag: ``--resume``)."""
    return not resume_with.startswith("--")


def resume_named(run: Path, python: bool = False) -> str:
    """``resume`` naming ``run`` as its caller gives it: ``--resume RUN``, or from Python
    ``resume='RUN'`` (the folder as a shell or Python reads it: :func:`taco.messages.shell_word`,
    ``repr``)."""
    return f"resume={str(run)!r}" if python else f"--resume {shell_word(run)}"


def held_files(out_dir: Path) -> str | None:
    """The name of the first of a run's files that ``out_dir`` holds (its state, checkpoint,
    config.yaml, log.jsonl; a sharded one by its index), or None: what a new run there would
    overwrite."""
    if state_exists(out_dir / STATE_FILE):
        return STATE_FILE
    if find(out_dir / CHECKPOINT_FILE) is not None:
        return CHECKPOINT_FILE
    return next((name for name in RUN_FILES if (out_dir / name).exists()), None)


def init_from_command(run: Path, out_dir: Path | str, *, python: bool = False) -> str:
    """The command that starts a new run in ``out_dir`` from the weights of the run in ``run``
    (its own config.yaml as the config, when it has one); ``python``: the ``train`` call that
    does (``train(load_config(CONFIG, ['init_from=RUN', 'warmup_steps=100', 'out_dir=NEWDIR']))``,
    the run ``--init-from`` makes: its lr warm-up, :data:`~taco.train.config.INIT_WARMUP_STEPS`,
    which the run's own config.yaml does not give it)."""
    has_config = (run / RUN_CONFIG_FILE).is_file()
    if python:
        config = repr(str(run / RUN_CONFIG_FILE)) if has_config else "CONFIG"
        keys = [f"init_from={run}", f"warmup_steps={INIT_WARMUP_STEPS}", f"out_dir={out_dir}"]
        return f"train(load_config({config}, {keys!r}))"
    config = shell_word(run / RUN_CONFIG_FILE) if has_config else "CONFIG"
    return f"taco train {config} --init-from {shell_word(run)} -o {shell_word(out_dir)}"


def no_state_to_resume(run: Path, out_dir: Path | None = None, *, python: bool = False) -> str:
    """Why ``--resume run`` cannot go on where ``run`` holds a checkpoint but no training
    state (a GPU slice's folder: only the float16 checkpoint comes back), and what starts a new
    run from its weights (in ``out_dir``, or a new folder); ``python``: in Python's words
    (``resume='RUN'``, :func:`init_from_command`)."""
    return (
        f"{resume_named(run, python)}: it holds a checkpoint ({CHECKPOINT_FILE}) but no "
        f"{STATE_FILE} to continue from (the optimiser state and progress are not in a "
        "checkpoint); to train on from its weights (fresh Adam, lr warm-up): "
        f"{init_from_command(run, out_dir or 'NEWDIR', python=python)}"
    )


def state_step(path: Path) -> int | None:
    """The step the training state at ``path`` continues from; None where there is none (or
    none that reads)."""
    try:
        return int(load_train_state_meta(path)["progress"]["step"])
    except (TrainStateError, OSError):
        return None


def clear_leftovers(out_dir: Path) -> None:
    """Remove what killed writes left: temporaries (the checkpoint's, the state's, config.yaml's
    and log.jsonl's), shards that no index refers to."""
    for name in (CHECKPOINT_FILE, STATE_FILE):
        remove_stale(out_dir / name)
    remove_stale_temporaries([out_dir / RUN_CONFIG_FILE, out_dir / RUN_LOG_FILE])


# --------------------------------------------------------------------------- writing


def write_checkpoint(model: ELIC, out_dir: Path, metadata: dict[str, Any], *,
                     update_tables: bool = True) -> Path:
    """The user's model: float16, entropy tables updated (the Gaussian conditionals' left out
    where a load rebuilds them bit-exactly: ``compact_tables="auto"``), shards of at most 16 MB.
    ``update_tables=False``: the caller has just rebuilt them (``update(force=True)``) from these
    weights, and they are written as they are (:func:`~taco.models.save_checkpoint`)."""
    return save_checkpoint(
        model, out_dir / CHECKPOINT_FILE, metadata=metadata, half=True,
        compact_tables="auto", max_shard_bytes=SHARD_BYTES, update_tables=update_tables,
    )  # fmt: skip


def write_state(
    out_dir: Path,
    model: nn.Module,
    optimizers: dict[str, torch.optim.Optimizer | None],
    rng: dict[str, Tensor | None],
    meta: dict[str, Any],
) -> Path:
    """The resumable state: float32 weights, each optimiser's state under its name
    (``optim``, ``aux_optim``), the gathered RNG rows, and ``meta`` (JSON)."""
    names = {id(q): n for n, q in model.named_parameters()}
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    groups: dict[str, list[dict[str, Any]]] = {}
    for prefix, optimizer in optimizers.items():
        if optimizer is None:
            groups[prefix] = []
            continue
        saved, groups[prefix] = optimizer_to_tensors(optimizer, names, prefix)
        tensors.update(saved)
    tensors.update({f"rng/{k}": v for k, v in rng.items() if v is not None})
    meta = {
        **meta, "optimizer": groups["optim"], "aux_optimizer": groups["aux_optim"],
        "rng": python_numpy_rng_state(),
    }  # fmt: skip
    return save_train_state(out_dir / STATE_FILE, tensors, meta, max_bytes=SHARD_BYTES)


def training_metadata(
    cfg: TrainConfig, progress: TrainProgress, model: nn.Module, loss_fn: nn.Module, env: DistEnv,
    device: torch.device, steps_per_epoch: int, images: int,
) -> dict[str, Any]:  # fmt: skip
    """The checkpoint header's metadata: λ (a variable-rate model: None, and its qualities' λ),
    loss weights, steps (and the total over warm starts), epochs, wall time, device, world size,
    training data, torch, the config; the model's warm-start record (``init_from``) as it has it.
    Its paths (the training folder, the config's) are absolute, as in ``config.yaml``
    (:func:`taco.train.config.absolute_paths`), so that ``taco models`` and ``taco evaluate`` read
    them the same from any folder.
    Every text in it is UTF-8 text (:func:`taco.messages.utf8_text`): a path whose bytes are not UTF-8 (the
    training folder, ``init_from``) is recorded with them escaped (``\\xff``), so that
    ``taco evaluate`` can copy the metadata into its UTF-8 results files."""
    p = progress
    init_from = getattr(model, "metadata", {}).get("init_from")
    before = (init_from or {}).get("trained_steps_total", 0)
    qualities = getattr(model, "qualities", None)
    config = absolute_paths(cfg.to_dict())  # as config.yaml and the state: read from any folder
    return utf8_text({
        **({"init_from": init_from} if init_from is not None else {}),
        "lambda": cfg.lmbda if qualities is None else None,  # variable rate: one λ per quality
        **({"qualities": list(qualities)} if qualities is not None else {}),
        "preset": cfg.preset,
        "loss": {"k_p": cfg.k_p, "k_j": loss_fn.k_j, "beta": cfg.beta},
        "trained_steps": p.step,
        "trained_steps_total": before + p.step,
        "epochs": p.step / steps_per_epoch,
        "wall_time_s": round(p.wall_time_s, 1),
        "device": str(device),
        "world_size": env.world_size,
        "global_batch": cfg.batch_size * env.world_size,
        "train_data": {
            "kind": cfg.data.kind, "root": config["data"]["root"], "captions": cfg.data.captions,
            "images": images,
        },  # fmt: skip
        "torch": torch.__version__,
        **({"replicas_in_sync": p.extra["replicas_in_sync"]} if "replicas_in_sync" in p.extra else {}),
        "config": config,
    })


def training_set(files: Iterable[str]) -> dict[str, Any]:
    """What a state records of its training images: their count and a digest of their sorted
    names, so that a resume on a changed folder is said (:func:`read_state`)."""
    names = sorted(files)
    digest = hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()
    return {"images": len(names), "digest": digest[:16]}


def state_meta(
    cfg: TrainConfig, progress: TrainProgress, env: DistEnv, steps_per_epoch: int, final: bool,
    *, stream_seed: int, init_from: dict[str, Any] | None, train_set: dict[str, Any],
) -> dict[str, Any]:
    """The JSON part of a training state (what :func:`read_state` checks on resume). With it,
    the run's stream seed and warm-start record: a resumed run takes them from here, not again
    from its ``init_from`` source, which may have trained on since (a state from before they
    were saved has neither: the run's are derived as at its start), and its training set
    (:func:`training_set`)."""
    return {
        "stream_seed": stream_seed,
        "init_from": init_from,
        "train_set": train_set,
        "progress": dataclasses.asdict(progress),
        "steps_per_epoch": steps_per_epoch,
        "world_size": env.world_size,
        "batch_size": cfg.batch_size,
        "scheduler": {
            "kind": "multistep-per-epoch", "milestones": cfg.lr_milestones,
            "gamma": cfg.lr_gamma, "epoch": progress.epoch, "lr": lr_at(cfg, progress.epoch),
        },  # fmt: skip
        "config": absolute_paths(cfg.to_dict()),  # what resuming compares, from any folder
        "final": final,
    }


# --------------------------------------------------------------------------- reading


def read_state(
    path: Path,
    cfg: TrainConfig,
    model: nn.Module,
    optimizers: dict[str, torch.optim.Optimizer | None],
    env: DistEnv,
    steps_per_epoch: int,
    device: torch.device,
    *,
    seed: int,
    train_set: dict[str, Any] | None = None,
) -> TrainProgress:
    """Load a state into ``model`` and the optimisers, set the RNGs from ``seed`` (the run's
    stream seed, :func:`taco.train.trainer.stream_seed`); -> where the run stands.

    The same layout (world size, batch, steps per epoch) on the same training set
    (``train_set``, :func:`training_set`; a state saved before it was recorded: not compared)
    continues bit-exactly; another one, or a changed set, continues from the same step with a
    warning that says what changed, its position in the epoch rescaled. A config
    that changes what the next step computes is warned about once the state has loaded; weights
    or optimiser state that do not fit are a :class:`TrainStateError` alone.
    """
    tensors, meta = load_train_state(path)
    try:
        load_model_state(model, prefixed(tensors, "model"))
    except RuntimeError as e:  # load_state_dict lists every key: one line instead
        raise TrainStateError(f"{path}: {model_misfit(cfg, meta.get('config', {}), e)}") from None
    changed_preset = preset_misfit(cfg, meta.get("config", {}))
    if changed_preset is not None:  # other parameters train: said before the optimizers' misfit
        raise TrainStateError(f"{path}: {changed_preset}")
    named = dict(model.named_parameters())
    keys = {"optim": "optimizer", "aux_optim": "aux_optimizer"}
    for prefix, optimizer in optimizers.items():
        if optimizer is not None:
            optimizer_from_tensors(optimizer, named, tensors, meta[keys[prefix]], prefix, path)
    check_resumed_config(cfg, meta.get("config", {}), path)  # after the refusals: not before one
    p = meta["progress"]
    progress = TrainProgress(
        step=p["step"], epoch=p["epoch"], batch_in_epoch=p["batch_in_epoch"],
        wall_time_s=p["wall_time_s"],
    )  # fmt: skip
    changes = layout_changes(meta, env.world_size, cfg.batch_size, steps_per_epoch, train_set)
    if not changes:
        set_python_numpy_rng_state(meta["rng"])
        torch.set_rng_state(tensors["rng/torch"][env.rank].clone())
        if device.type == "cuda" and "rng/cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng/cuda"][env.rank].clone(), device)
        return progress
    warnings.warn(f"{' and '.join(changes)}: continuing from the same step, but not bit-exactly",
                  TacoWarning, stacklevel=3)
    seen = p["batch_in_epoch"] * meta["batch_size"] * meta["world_size"]
    progress.batch_in_epoch = seen // (cfg.batch_size * env.world_size)
    if progress.batch_in_epoch >= steps_per_epoch:
        progress.epoch, progress.batch_in_epoch = progress.epoch + 1, 0
    torch.manual_seed(seed + env.rank + progress.step)
    return progress


def layout_changes(
    meta: dict[str, Any], world_size: int, batch_size: int, steps_per_epoch: int,
    train_set: dict[str, Any] | None,
) -> list[str]:
    """What differs between a saved state's ``meta`` and the resuming run, in words: the
    layout (only the values that changed) and the training set; [] for an exact continuation."""
    layout = [f"{what} {meta[key]} -> {now}" for what, key, now in (
        ("world size", "world_size", world_size), ("batch", "batch_size", batch_size),
    ) if meta[key] != now]
    changes = [f"resuming with another layout ({', '.join(layout)})"] if layout else []
    saved = meta.get("train_set")
    changed = "the training set changed since the state was saved"
    if saved is not None and train_set is not None and saved != train_set:
        before, now = saved["images"], train_set["images"]
        changes.append(f"{changed} ({before} -> {now} images)" if before != now
                       else f"{changed} (other files, {now} images)")
    elif not layout and meta["steps_per_epoch"] != steps_per_epoch:  # a state saved before the set
        changes.append(f"{changed} ({meta['steps_per_epoch']} -> {steps_per_epoch} steps per epoch)")
    return changes


#: The config keys that make the model (its architecture and so its state dict).
MODEL_KEYS = ("model", "model_overrides", "text_encoder", "qualities")


def model_misfit(cfg: TrainConfig, saved: dict[str, Any], error: RuntimeError) -> str:
    """Why a saved model's weights do not load into the run's, in one line: the first of
    :data:`MODEL_KEYS` the config changes (the model by name, the preset's where it gives none)
    and what to do; else the first problem ``error`` (from ``load_state_dict``) lists."""
    now, default = absolute_paths(cfg.to_dict()), TrainConfig().to_dict()
    now["model"] = cfg.resolved_model()
    saved = absolute_paths(saved)  # a text encoder's folder saved relative before 38efefd
    before = {k: saved.get(k, default[k]) for k in MODEL_KEYS}
    if before["model"] is None:
        before["model"] = PRESET_MODELS.get(saved.get("preset", default["preset"]))
    for key in MODEL_KEYS:
        if before[key] != now[key]:
            what = f"that {key} from --set (or the config)"
            injection = [(d or {}).get("text_injection") if isinstance(d, dict) else None
                         for d in (before[key], now[key])]
            if key == "model_overrides" and injection[0] != injection[1]:
                what = "--text-injection (or model_overrides.text_injection from --set or the config)"
            return misfit_words(f"{key} {before[key]!r}", repr(now[key]),
                                "which its weights do not fit", what)
    lines = [f"{line.strip().rstrip('.'):.300}" for line in str(error).splitlines() if line.strip()]
    return f"the saved model does not fit this run: {some(lines[1:] or lines, 1, sep='; ')}"


def misfit_words(before: str, now: str, why: str, drop: str) -> str:
    """One line for a resume whose config changes what the saved state fits (:func:`model_misfit`,
    :func:`preset_misfit`): what the run was trained with, what is asked, why it cannot go on, and
    what to drop."""
    return (f"the run was trained with {before} and this config asks for {now}, {why}: to resume "
            f"the run, drop {drop}; to train that, start a new run (without --resume, in another "
            "--out-dir)")


def preset_misfit(cfg: TrainConfig, saved: dict[str, Any]) -> str | None:
    """Why a saved state's optimisers cannot go on under this run's preset, in one line (the
    preset says which parameters train: ``taco-frozen-base``, ``--freeze-base``, only TACO's text
    modules); None when the preset is the saved one."""
    before = saved.get("preset", TrainConfig().preset)
    if before == cfg.preset:
        return None
    flag = " (--freeze-base)" if cfg.preset == "taco-frozen-base" else ""
    drop = "--freeze-base" if flag else "that preset from --set (or the config)"
    return misfit_words(f"preset {before!r}", f"{cfg.preset!r}{flag}",
                        "which trains other parameters than its saved optimizer", drop)


def check_resumed_config(cfg: TrainConfig, saved: dict[str, Any], path: Path) -> None:
    """Warn (not fail) when keys that change what the next step computes differ from the saved.
    Paths compare absolute (a state saved before they were saved so: against this directory).
    ``data.root`` is left out: the same photos moved or copied elsewhere (``--set data.root=NEW``)
    continue exactly, and other photos are said by the training set's check (:func:`layout_changes`)."""
    now, default = absolute_paths(cfg.to_dict()), TrainConfig().to_dict()  # newer keys: default
    saved = absolute_paths(saved)
    for values in (now, saved, default):
        if isinstance(values.get("data"), dict):
            values["data"] = {k: v for k, v in values["data"].items() if k != "root"}
    changed = sorted(
        k for k in now if k not in RESUMABLE_CHANGES and saved.get(k, default[k]) != now[k]
    )
    if changed:
        warnings.warn(
            f"resuming {path} with a different configuration ({', '.join(changed)}); "
            "the run will not continue exactly as it started",
            TacoWarning,
            stacklevel=4,
        )
