"""The resumable training state: safetensors, written atomically, never pickled.

One file, ``train_state.safetensors``, when it fits in :data:`taco.shards.SHARD_BYTES` (16 MB);
else shards of at most that size plus ``train_state.safetensors.index.json`` (see
:mod:`taco.shards`), so that a state can travel wherever a checkpoint can.

Tensors (model weights and tables, Adam moments and step counts, torch/CUDA RNG states of every
rank) are safetensors entries; everything else (step, epoch, position in the epoch, optimizer
hyper-parameters, Python/NumPy RNG states, the config) is a JSON document in the file's metadata
under ``"taco_train_state"``. Optimizer entries are keyed by parameter *name*, so a state
restores into a freshly built model and optimizer regardless of parameter order.

Layout::

    model/<name>                     every model.state_dict() entry
    optim/<param name>/<key>         Adam state (exp_avg, exp_avg_sq, step) of the main optimizer
    aux_optim/<param name>/<key>     the same for the auxiliary (quantiles) optimizer
    rng/torch                        (world, 5056) uint8, torch.get_rng_state() of each rank
    rng/cuda                         (world, n) uint8, torch.cuda.get_rng_state() of each rank
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import is_int, is_number
from ..errors import TacoError
from ..messages import count, some
from ..models.checkpoint import non_finite
from ..shards import (
    SHARD_BYTES,
    TRAIN_STATE_KEY,
    ShardedFileError,
    find,
    load_sharded,
    read_format_metadata,
    save_sharded,
)

STATE_FORMAT = "taco-train-state"
STATE_VERSION = 1
_META_KEY = TRAIN_STATE_KEY


class TrainStateError(TacoError, ValueError):
    """A training-state file is missing, malformed, or does not fit the run resuming from it."""


@dataclass
class TrainProgress:
    """Where a run is: optimizer steps done, the epoch, batches of that epoch done."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    wall_time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- optimizers


def optimizer_to_tensors(
    optimizer: torch.optim.Optimizer, names: dict[int, str], prefix: str
) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """Optimizer state -> (``{prefix/<param name>/<key>: tensor}``, JSON-able param groups).

    ``names`` maps ``id(param)`` to its name in the model.
    """
    tensors: dict[str, Tensor] = {}
    groups = []
    for group in optimizer.param_groups:
        hyper = {k: v for k, v in group.items() if k != "params"}
        groups.append({**_jsonable(hyper), "params": [names[id(p)] for p in group["params"]]})
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if not isinstance(value, Tensor):
                    value = torch.tensor(value)
                tensors[f"{prefix}/{names[id(p)]}/{key}"] = value.detach().cpu().contiguous()
    return tensors, groups


def optimizer_from_tensors(
    optimizer: torch.optim.Optimizer,
    params: dict[str, nn.Parameter],
    tensors: dict[str, Tensor],
    groups: list[dict[str, Any]],
    prefix: str,
    source: str | os.PathLike[str] | None = None,
) -> None:
    """Restore what :func:`optimizer_to_tensors` wrote into ``optimizer`` (same parameters), each
    state tensor of a parameter's shape laid out in memory like the parameter. A TrainStateError
    says what does not fit, after ``source`` (the state's file) and ``prefix``."""
    where = f"{source}: {prefix}" if source is not None else prefix
    if len(groups) != len(optimizer.param_groups):
        raise TrainStateError(
            f"{where}: {len(groups)} parameter groups saved, the optimizer has "
            f"{len(optimizer.param_groups)}"
        )
    name_of = {id(q): n for n, q in params.items()}
    index: dict[str, int] = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            index[name_of[id(p)]] = len(index)
    saved = [n for g in groups for n in g["params"]]
    if saved != list(index):
        missing, extra = set(index) - set(saved), set(saved) - set(index)
        raise TrainStateError(
            f"{where}: the saved optimizer trains other parameters than this run "
            f"(not saved: {sorted(missing)[:3]}, not in this run: {sorted(extra)[:3]}); "
            "was the preset or model changed?"
        )
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        if not key.startswith(prefix + "/"):
            continue
        name, _, slot = key[len(prefix) + 1 :].rpartition("/")
        if name not in index:
            raise TrainStateError(f"{where}: the saved optimizer state names {name!r:.80}, which "
                                  "it does not train")
        want = () if slot == "step" else tuple(params[name].shape)
        if tuple(value.shape) != want or not value.is_floating_point():
            raise TrainStateError(f"{where}: {name}/{slot} is {value.dtype} {list(value.shape)}, "
                                  f"the parameter's needs float {list(want)}")
        state.setdefault(index[name], {})[slot] = value
    for saved_group, group in zip(groups, optimizer.param_groups, strict=True):
        for k, v in _from_json(saved_group).items():
            if k in group and not _same_kind(v, group[k]):
                raise TrainStateError(f"{where}: hyper-parameter {k} is {v!r:.40}, this "
                                      f"optimizer's is {group[k]!r:.40}")
    param_groups = [
        {**_from_json(g), "params": [index[n] for n in g["params"]]} for g in groups
    ]
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})
    # load_state_dict keeps the saved, contiguous layout; a fresh run's Adam makes its moments
    # like each weight (channels_last for a conv weight under channels_last), and fused Adam walks
    # a weight, its gradient and its moments in step: moments in another layout paired the wrong
    # elements, a resumed run silently diverging from an uninterrupted one (measured on the CPU)
    for p, slots in optimizer.state.items():
        for slot, value in slots.items():
            if isinstance(value, Tensor) and value.shape == p.shape and value.stride() != p.stride():
                slots[slot] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def _same_kind(saved: Any, current: Any) -> bool:
    """Whether a saved hyper-parameter is of the kind of the optimizer's own: a number (not
    NaN), a tuple of as many numbers, text, or a flag (True, False, None: torch's defaults for
    ``foreach``, ``fused`` move between them). A learning rate of "x" failed at the first step."""
    flags = (bool, type(None))
    ks, kc = _kind(saved), _kind(current)
    return ks == kc or (ks in flags and kc in flags)


def _kind(v: Any) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return type(v)
    if isinstance(v, (int, float)):
        return float if v == v else "NaN"
    if isinstance(v, (tuple, list)):
        return tuple(_kind(x) for x in v)
    return type(v)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, Tensor):
            v = v.item()
        if isinstance(v, tuple):
            v = {"__tuple__": list(v)}
        out[k] = v
    json.dumps(out)  # fail here, not at write time, on a value JSON cannot hold
    return out


def _from_json(d: dict[str, Any]) -> dict[str, Any]:
    return {
        k: tuple(v["__tuple__"]) if isinstance(v, dict) and "__tuple__" in v else v
        for k, v in d.items()
        if k != "params"
    }


# --------------------------------------------------------------------------- RNG


def python_numpy_rng_state() -> dict[str, Any]:
    """Python's and NumPy's global RNG states as JSON-able data."""
    version, internal, gauss = random.getstate()
    state: Any = np.random.get_state()
    kind, keys, pos, has_gauss, cached = state
    return {
        "python": [version, list(internal), gauss],
        "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)],
    }


def set_python_numpy_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))


# --------------------------------------------------------------------------- file


def save_train_state(
    path: str | os.PathLike[str],
    tensors: dict[str, Tensor],
    meta: dict[str, Any],
    max_bytes: int | None = SHARD_BYTES,
) -> Path:
    """Write ``tensors`` + JSON ``meta`` at ``path`` atomically (one file, or shards + index
    when over ``max_bytes``). Returns ``path``.

    A failed write (``OSError``, e.g. ``ENOSPC``) leaves the previous state as it was.
    """
    header = {"format": STATE_FORMAT, "version": STATE_VERSION, **meta}
    save_sharded(tensors, path, {_META_KEY: json.dumps(header)}, max_bytes=max_bytes)
    return Path(path)


def state_exists(path: str | os.PathLike[str]) -> bool:
    """Whether a training state is saved at ``path`` (either layout)."""
    return find(path) is not None


def load_train_state(path: str | os.PathLike[str]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """(tensors, meta) from a file written by :func:`save_train_state`, validated."""
    meta = load_train_state_meta(path)
    try:
        tensors = load_sharded(path)[0]
    except ShardedFileError as e:
        raise TrainStateError(str(e)) from None
    problem = _tensors_problem(tensors, meta)
    if problem:
        raise TrainStateError(f"{path}: corrupt training state ({problem})")
    return tensors, meta


def _tensors_problem(tensors: dict[str, Tensor], meta: dict[str, Any]) -> str | None:
    """What is wrong with a state's tensors as resuming uses them (None: nothing): the RNG
    rows of every rank (torch's are :func:`torch.get_rng_state`'s size) and finite weights and
    moments (a NaN resumed only to stop the run at its first step)."""
    rows = meta["world_size"]
    for key, cols in (("rng/torch", torch.get_rng_state().numel()), ("rng/cuda", None)):
        t = tensors.get(key)
        if t is None and key == "rng/torch":
            return "no rng/torch: the torch RNG states are missing"
        if t is not None and (t.dtype != torch.uint8 or t.dim() != 2 or t.shape[0] != rows
                              or (cols is not None and t.shape[1] != cols)):
            return (f"{key} is {t.dtype} {list(t.shape)}, not {count(rows, 'RNG state')} of "
                    f"{cols or 'n'} bytes")
    for prefix, key in (("optim", "optimizer"), ("aux_optim", "aux_optimizer")):
        trained = {n for g in meta[key] for n in g["params"]}
        for k, v in tensors.items():
            if not k.startswith(prefix + "/"):
                continue
            name, _, slot = k[len(prefix) + 1 :].rpartition("/")
            weight = tensors.get(f"model/{name}")
            if name not in trained or weight is None:
                return f"{k}: {name!r:.80} is not a parameter its {key} trains"
            want = () if slot == "step" else tuple(weight.shape)
            if tuple(v.shape) != want or not v.is_floating_point():
                return f"{k} is {v.dtype} {list(v.shape)}, its parameter's needs float {list(want)}"
    bad = non_finite(tensors)
    if bad:
        return f"{some(bad, 1)} hold NaN or infinite values"
    return None


def load_train_state_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON part of a file written by :func:`save_train_state`, validated, from its header
    alone (no tensor read)."""
    path = Path(path)
    if find(path) is None:
        raise TrainStateError(f"{path}: no training state to resume from")
    try:
        meta = read_format_metadata(path, _META_KEY, STATE_FORMAT, STATE_VERSION, "taco training state")
    except ShardedFileError as e:
        raise TrainStateError(str(e)) from None
    problem = _meta_problem(meta)
    if problem:
        raise TrainStateError(f"{path}: corrupt training state ({problem})")
    return meta


def _meta_problem(meta: dict[str, Any]) -> str | None:
    """What is wrong with the JSON part of a state, as resuming reads it (None: nothing)."""
    p = meta.get("progress")
    if not isinstance(p, dict) or not all(is_int(p.get(k), 0) for k in ("step", "epoch", "batch_in_epoch")):
        return "progress must hold step, epoch and batch_in_epoch as integers >= 0"
    wall = p.get("wall_time_s")
    if not (is_number(wall) and wall >= 0):
        return "progress.wall_time_s must be a number of seconds"
    for k in ("world_size", "batch_size", "steps_per_epoch"):
        if not is_int(meta.get(k), 1):
            return f"{k} must be an integer >= 1"
    # an epoch's batches end at steps_per_epoch (a resume with another layout rescales the
    # position below it): one past them would be an epoch with no batch, resumed for ever
    if p["batch_in_epoch"] >= meta["steps_per_epoch"]:
        return (f"progress.batch_in_epoch is {p['batch_in_epoch']}, not below steps_per_epoch "
                f"({meta['steps_per_epoch']})")
    for k in ("optimizer", "aux_optimizer"):
        groups = meta.get(k)
        if not isinstance(groups, list) or not all(
            isinstance(g, dict) and isinstance(g.get("params"), list)
            and all(isinstance(n, str) for n in g["params"]) for g in groups
        ):
            return f"{k} must list parameter groups, each with its parameters' names"
    rng = meta.get("rng")
    if not isinstance(rng, dict):
        return "rng must hold the Python and NumPy RNG states"
    try:  # as resuming sets them, on RNGs of their own
        version, internal, gauss = rng["python"]
        random.Random().setstate((version, tuple(internal), gauss))
        kind, keys, pos, has_gauss, cached = rng["numpy"]
        np.random.RandomState().set_state((kind, np.asarray(keys, dtype=np.uint32), pos,
                                           has_gauss, cached))
    except (KeyError, TypeError, ValueError, OverflowError):
        return "rng holds no valid Python and NumPy RNG states"
    if not isinstance(meta.get("config", {}), dict):
        return "config must be a JSON object"
    if not isinstance(meta.get("init_from"), (dict, type(None))):
        return "init_from must be a JSON object or null"
    seed = meta.get("stream_seed")
    if seed is not None and not is_int(seed):
        return "stream_seed must be an integer"
    return None


def prefixed(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under ``prefix/`` with the prefix removed."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
