"""Checkpoint files: saving, checking and loading a model's weights, and its fingerprint.

A checkpoint is a single ``.safetensors`` file (or shards of one with an index): the weights
(entropy-coder tables included, but for the Gaussian conditionals' where ``compact_tables`` left
them out: a load rebuilds those from the scale tables) and, in its metadata under ``"taco"``, a JSON document with the
architecture config, the text encoder, λ, the training data and the taco version. Loading never
unpickles anything, and checks every shape and table before a tensor is read.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import itertools
import json
import os
import weakref
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn as nn

from ..atomic import save_safetensors_atomic
from ..bitstream.container import model_id_problem
from ..checks import positive_int_argument
from ..draws import private_draws, with_cpu_default_device
from ..errors import TacoValueError, TacoWarning, warn_at_caller
from ..fileobjects import checked_file_path
from ..jsonfiles import jsonable
from ..memory import allocation_failure
from ..messages import some
from ..shards import (
    READ_TRIES,
    CheckpointRead,
    CheckpointReplaced,
    ShardedFileError,
    base_path,
    index_path,
    load_sharded,
    save_sharded,
)
from ..tensor_marks import Marks, tensor_marks, unchanged
from ..version import __version__
from .architecture import (
    build_model,
    build_on_meta,
    checkpoint_text_dim,
    text_width,
    unbuildable_config,
)
from .config import BUILTIN_ARCHITECTURES, CheckpointError, ModelConfig
from .elic import (
    CODER_TABLES,
    ELIC,
    MAX_SCALE,
    MAX_SCALE_LEVELS,
    TABLE_BUFFERS,
    check_configured,
    float32_scale_table,
    load_state_resizing_tables,
    rebuildable_scale_table,
    standard_normal_quantile,
)
from .header import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    MAX_HEADER_CHARS,
    header_config,
    header_model_id,
    read_checkpoint,
    read_shapes,
)


def save_checkpoint(
    model: ELIC,
    path: str | os.PathLike[str],
    *,
    model_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    half: bool = False,
    compact_tables: bool | Literal["auto"] = False,
    max_shard_bytes: int | float | None = None,
    update_tables: bool = True,
    replace: bool = True,
) -> Path:
    """Write ``model`` as a self-describing safetensors checkpoint, atomically: one file, or
    shards plus an index with ``max_shard_bytes``.

    The file holds entropy-coder tables rebuilt from the weights (what ``update(force=True)``
    builds, with the model's own scale table: :meth:`ELIC.set_scale_levels`), so it can be used
    for real coding as is. They are built on copies of the model's entropy models: ``model``
    itself is left as it was, tables included, so the files it coded still decode with it.
    Where its tables were out of date (weights changed since they were built: a fine-tune in
    Python), the file's differ from them, and a :class:`~taco.errors.TacoWarning` says that
    files coded with the model in memory need its old tables (they decode with it, not with
    the checkpoint): call ``model.update(force=True)`` after changing weights, before coding.
    ``update_tables=False`` writes the model's tables as they are, for a caller that has just
    rebuilt them from these very weights (training's save, which writes them into its state
    first: one rebuild, ~0.16 s for the built-ins, not two).
    ``metadata`` (λ, training data, steps, ...) is stored beside the config; a header longer
    than a load reads (:data:`~taco.models.header.MAX_HEADER_CHARS`) is a
    :class:`~taco.errors.TacoValueError` before anything is written.
    ``half`` stores float weights as float16; they load back as float32. ``compact_tables``
    leaves out the Gaussian-conditional CDF tables (identical for every channel group and
    derived from the stored scale table: much of a small model's file) and stores their
    SHA-256; :func:`load_checkpoint` rebuilds them and refuses the file if the rebuilt tables
    differ. They are rebuilt here first, as a load does, and compared: where a load would not
    give the same tables (a scale table it does not rebuild from, such as one of more than
    :data:`MAX_SCALE_TABLE_ENTRIES` scales), ``True`` is a ValueError and ``"auto"`` (what
    training's checkpoints use) keeps them in the file, which then loads as any other.
    ``max_shard_bytes`` (e.g. :data:`taco.shards.SHARD_BYTES`): a checkpoint larger than that
    is written as shards + ``path.index.json`` (see :mod:`taco.shards`); ``load(path)`` reads
    either. A float ``max_shard_bytes`` that is a whole number (``2e9``, ``10_000_000.0``) is
    taken as that integer; any other that is no integer (``True`` neither) is a TypeError, one
    below 1, or a float that is not whole (``2000.5``, NaN, ±inf), a
    :class:`~taco.errors.TacoValueError`, and so is one too small for the largest tensor,
    naming the smallest that holds it; nothing is written then. ``replace=False``: an existing
    ``path`` is not replaced: the file is published
    only if nothing has that name then (:func:`taco.atomic.write_bytes_atomic`), else it is a
    :class:`FileExistsError` naming ``path`` (another process wrote it since the caller
    checked); a sharded save (``max_shard_bytes``) is checked for ``path`` and its index right
    before its files are written, not when they are published: a set written meanwhile by
    another process can still be replaced there. Folders missing on the way to ``path`` are created. Returns ``path``; an empty
    ``path``, one holding a null byte, or one that names a folder (``"."``, ``"/"``, ``"x/.."``,
    ``"runs/"``) is a :class:`~taco.errors.TacoValueError`
    (:func:`taco.fileobjects.checked_file_path`). A ``model`` that is no taco model (a
    ``torch.compile`` or ``DataParallel`` wrapper: the message names the model inside), one
    built bare, without a config (``ELIC(...)``: build it with :func:`taco.create_model`), one
    whose weights are on the meta device, and a ``path`` that is no str or ``os.PathLike`` (a
    file object) are TypeErrors naming them.
    """
    if not isinstance(model, ELIC):
        raise TypeError(f"save_checkpoint: model must be a taco model (from taco.load or "
                        f"taco.create_model), not {type(model).__name__}{wrapped_model_hint(model)}")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"save_checkpoint: path must be a str or os.PathLike, not "
                        f"{type(path).__name__}")
    if max_shard_bytes is not None:
        max_shard_bytes = positive_int_argument("save_checkpoint: max_shard_bytes", max_shard_bytes,
                                                "(bytes per shard) or None (one file)", whole_floats=True)
    check_configured(model, "save_checkpoint")
    check_has_data(model, "save_checkpoint")

    def refused(shown: str, reason: str) -> TacoValueError:
        return TacoValueError(f"save_checkpoint: cannot write to '{shown}': {reason}")

    path = checked_file_path(path, refused)
    model_id = model_id or getattr(model, "model_id", "custom")
    problem = model_id_problem(model_id)
    if problem:
        raise TacoValueError(f"model id {model_id!r}: {problem}")
    full = model.state_dict()
    if update_tables:
        stale = _with_rebuilt_tables(model, full)
        if stale:
            warn_at_caller(
                f"save_checkpoint: this model's entropy-coder tables were out of date for its "
                f"weights ({some(stale)}; weights changed since they were built): the checkpoint "
                "holds tables rebuilt from the weights, the model in memory keeps its own, so the "
                "files it has coded, and those it codes from now on, decode with it, not with the "
                "checkpoint, until model.update(force=True) rebuilds its tables (call it after "
                "changing weights, before coding)", TacoWarning)
    state = {}
    dropped = _tables_to_leave_out(model, full, compact_tables)
    # fp16 for network weights only: buffers (scale tables) and the entropy bottleneck's
    # quantiles define the coder's tables and stay exact
    halvable = {k for k, _ in model.named_parameters() if "entropy_bottleneck" not in k}
    for k, v in full.items():
        if k in dropped:
            continue
        v = v.detach().cpu().contiguous().clone()
        if half and k in halvable and v.is_floating_point():
            v = v.half()
        state[k] = v
    header: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "taco_version": __version__,
        "model_id": model_id,
        "config": model.config.to_dict(),
        "entropy_tables_updated": True,
        "metadata": {**getattr(model, "metadata", {}), **(metadata or {})},
    }
    if dropped:
        header["gaussian_tables_sha256"] = _tables_digest(full, dropped)
    text = _header_text(header)
    if max_shard_bytes is None:
        return save_safetensors_atomic(state, path, metadata={"taco": text}, replace=replace)
    if not replace:  # checked last thing before the shards are written (not on publishing them)
        for there in (base_path(path), index_path(path)):
            if os.path.lexists(there):
                raise FileExistsError(errno.EEXIST, "exists", str(there))
    save_sharded(state, path, {"taco": text}, max_bytes=max_shard_bytes)
    return path


def check_has_data(model: nn.Module, who: str = "") -> None:
    """A TypeError unless ``model``'s weights hold data: a model moved to the meta device
    (``model.to("meta")``) has shapes only, and would fail deep inside torch after the work
    before it (the analysis of an image, ...). ``who`` ("save_checkpoint") starts the message."""
    if any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers())):
        raise TypeError(f"{who + ': ' if who else ''}the model's weights are on the meta device "
                        "(no data): load it again (taco.load(...))")


def wrapped_model_hint(model: object) -> str:
    """For a wrapper of a taco model given where the model goes, how to pass the model itself:
    ``model._orig_mod`` for ``torch.compile``'s, ``model.module`` for ``DataParallel``'s and
    ``DistributedDataParallel``'s (the same weights: the same files); "" for anything else."""
    if not isinstance(model, nn.Module):
        return ""
    for attr, wrapper in (("_orig_mod", "torch.compile"), ("module", type(model).__name__)):
        if isinstance(getattr(model, attr, None), ELIC):
            return f"; pass the taco model it wraps: model.{attr} (what {wrapper} wrapped)"
    return ""


def _with_rebuilt_tables(model: ELIC, state: dict[str, torch.Tensor]) -> list[str]:
    """Put into ``state`` (``model``'s) the entropy-coder tables ``model.update(force=True)``
    builds, built on a copy of ``model``, so that ``model`` is left as it is (its tables are what
    the files it has coded decode with). Returns the keys of the tables that came out different
    from the model's own, built ones (empty tables, never built, left out): the weights changed
    since they were built."""
    # the copy shares the weights (update reads them, and builds buffers only)
    rebuilt = copy.deepcopy(model, memo={id(p): p for p in model.parameters()})
    with torch.no_grad():  # the class's update: not one set on the instance, which names model
        type(rebuilt).update(rebuilt, force=True)
    stale = []
    for key, value in rebuilt.state_dict().items():
        old = state.get(key)
        if key.rpartition(".")[2] not in TABLE_BUFFERS:
            continue
        if old is None or (old.shape == value.shape and torch.equal(old, value)):
            continue
        if old.numel():
            stale.append(key)
        state[key] = value
    return stale


def _header_text(header: dict[str, Any]) -> str:
    """``header`` as the strict JSON text a checkpoint stores (:func:`taco.jsonfiles.jsonable`:
    a NaN or infinite metadata value, such as an imported ``best_bpp`` of ``inf``, as null, not
    the ``Infinity`` other JSON readers refuse); a :class:`TacoValueError` naming its
    longest metadata entry when the text is longer than :func:`read_checkpoint_header` reads
    (:data:`MAX_HEADER_CHARS`): the file would be written, then refused by every load."""
    header = jsonable(header)
    text = json.dumps(header, allow_nan=False)
    if len(text) <= MAX_HEADER_CHARS:
        return text
    sizes = {k: len(json.dumps(v)) for k, v in header["metadata"].items()}
    longest = max(sizes, key=sizes.__getitem__, default=None)
    most = (f"; its longest metadata entry, {longest!r:.60}, takes {sizes[longest]:,}"
            if longest is not None else "")
    raise TacoValueError(f"the checkpoint's taco header would be {len(text):,} characters, over "
                         f"the {MAX_HEADER_CHARS:,} taco reads back{most}: shorten or leave out "
                         "long metadata (nothing was written)")


def load_model_state(model: nn.Module, state: dict[str, torch.Tensor], strict: bool = True) -> Any:
    """:func:`~taco.models.elic.load_state_resizing_tables` (:meth:`ELIC.load_state_dict`): each
    entropy-model table buffer (:data:`TABLE_BUFFERS`) whose shape differs from the one in
    ``state`` is resized first (their sizes depend on the learned densities, and CompressAI's
    ``load_state_dict`` resizes only empty ones); no table is rebuilt here (each caller checks
    the state, then builds or fills them: hostile quantiles would build huge tables).
    The one way taco loads weights into a model: :func:`load_checkpoint`, ``init_from``,
    resuming a run, ``taco import-checkpoint``. Returns ``load_state_dict``'s missing and
    unexpected keys; a mismatch it refuses is its RuntimeError."""
    return load_state_resizing_tables(model, state, strict=strict, rebuild=False)


def _gaussian_table_keys(model: torch.nn.Module) -> list[str]:
    from compressai.entropy_models import GaussianConditional

    return [f"{name}.{b}" for name, m in model.named_modules()
            if isinstance(m, GaussianConditional) for b in CODER_TABLES]


def _tables_digest(state: dict[str, torch.Tensor], keys: list[str]) -> str:
    h = hashlib.sha256()
    for k in sorted(keys):
        h.update(k.encode())
        h.update(state[k].detach().cpu().to(torch.int32).contiguous().numpy().tobytes())
    return h.hexdigest()


#: Bounds on a compact checkpoint's scale tables, from which :func:`load_checkpoint` rebuilds
#: CDF tables of (scales) x (~12 x the largest scale) entries before anything can check them:
#: 4x the levels (256 levels: docs/performance.md) and 2x the largest scale of CompressAI's and
#: the authors' tables (64 scales up to 256). Rebuilding the largest table allowed took 4.5 s and
#: 47 MiB (the built-ins' take 40 ms); unbounded, a 1.3 MB file whose scales were 100x took 15 s
#: and 390 MB to end in a RuntimeError. The most levels a model may be set to is the same number.
MAX_SCALE_TABLE_ENTRIES = MAX_SCALE_LEVELS


def _tables_to_leave_out(model: ELIC, state: dict[str, torch.Tensor],
                         compact: bool | Literal["auto"]) -> list[str]:
    """The Gaussian-conditional table keys a checkpoint of ``model`` (``state``, its state with
    the tables just updated) leaves out for ``save_checkpoint(compact_tables=compact)``: none
    for False; all of them for
    True or "auto" once they are rebuilt as :func:`load_checkpoint` rebuilds them and come out
    the same, bit for bit. Where they would not, True is a ValueError, "auto" keeps them."""
    if compact not in (False, True, "auto"):
        raise TypeError(f"save_checkpoint: compact_tables must be True, False or 'auto', not "
                        f"{compact!r}")
    if not compact:
        return []
    if compact is True:  # its ValueError names the scale table a load would not rebuild from
        _check_rebuildable(model, state)
    keys = _gaussian_table_keys(model)
    try:  # the rebuild refuses such a table too: "auto" keeps the tables then
        _rebuild_gaussian_tables(model, dict(state), _tables_digest(state, keys), "the model")
    except CheckpointError:
        if compact == "auto":
            return []
        raise TacoValueError(
            "save_checkpoint: the Gaussian-conditional tables a load would rebuild from this "
            "model's scale tables differ from its own: save it without compact_tables") from None
    return keys


def _check_rebuildable(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """ValueError unless a compact checkpoint of ``model`` (``state``) would load: a scale table
    set with ``update(scale_table=...)`` may be one :func:`load_checkpoint` refuses to rebuild."""
    from compressai.entropy_models import GaussianConditional

    for name, m in model.named_modules():
        if (isinstance(m, GaussianConditional)
                and not rebuildable_scale_table(state[f"{name}.scale_table"])):
            raise ValueError(
                f"{name}.scale_table: a compact checkpoint's scale tables have 1.."
                f"{MAX_SCALE_TABLE_ENTRIES} scales in (0, {MAX_SCALE:g}] (set_scale_levels gives "
                "such tables); save this model without compact_tables"
            )


def _rebuild_gaussian_tables(
    model: torch.nn.Module, state: dict[str, torch.Tensor], digest: str | None,
    path: str | os.PathLike[str],
) -> None:
    """Fill the Gaussian-conditional tables left out by ``compact_tables`` into ``state``.

    Each distinct scale table is built once (the CompressAI layout has one Gaussian conditional
    per channel group, all with the same table): the tables are a function of its values.
    ``digest`` None checks no digest.
    """
    from compressai.entropy_models import GaussianConditional

    class TableBuilder(GaussianConditional):
        # CompressAI takes the tail quantile from scipy.stats (1 s to import) for this one
        # number; the standard library's is the same double at tail_mass / 2 = 5e-10, and the
        # digest below refuses any table that comes out different.
        _standardized_quantile = staticmethod(standard_normal_quantile)
        # and in float32 whatever torch's default dtype, which another thread may change
        _prepare_scale_table = staticmethod(float32_scale_table)

    keys = _gaussian_table_keys(model)
    built: dict[bytes, GaussianConditional] = {}
    for name, m in model.named_modules():
        if not isinstance(m, GaussianConditional):
            continue
        scale_key = f"{name}.scale_table"
        if scale_key not in state:
            raise CheckpointError(f"{path}: missing tensor {scale_key}")
        scales = state[scale_key]
        if not rebuildable_scale_table(scales):
            raise CheckpointError(
                f"{path}: {scale_key} is not a scale table (1..{MAX_SCALE_TABLE_ENTRIES} scales "
                f"in (0, {MAX_SCALE:g}])"
            )
        key = scales.detach().cpu().contiguous().numpy().tobytes()
        if key not in built:
            built[key] = TableBuilder(None)
            built[key].update_scale_table(scales, force=True)
        for b in CODER_TABLES:
            state[f"{name}.{b}"] = getattr(built[key], b).clone()
    if digest is not None and _tables_digest(state, keys) != digest:
        raise CheckpointError(
            f"{path}: the entropy-coder tables rebuilt on this machine differ from those the model "
            "was saved with, so its files would not decode bit-exactly here"
        )


@with_cpu_default_device
def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu", *,
                    found: Path | None = None) -> ELIC:
    """Load a checkpoint written by :func:`save_checkpoint` (eval mode, tables loaded).

    ``found`` is the file :func:`taco.shards.find` gave for ``path`` where the caller looked it
    up already (:attr:`taco.models.registry.ModelSpec.checkpoint`): it is read as it is, and not
    looked up (nor warned about) again; errors still name ``path``, but for a file that cannot be
    opened, which is named itself (``run/checkpoint.safetensors: cannot be read (...)``).

    The file is trusted step by step: its header's config is validated, the architecture is
    built on the meta device (no memory) and every tensor's name, shape and dtype is compared
    with the file's safetensors header (:func:`check_checkpoint_shapes`); only then is that
    skeleton given memory (:func:`filled_whole`; or the model built, for a backbone whose state
    dict does not cover it) and the weights read. Once loaded, its entropy-coder tables are checked
    (:func:`check_entropy_tables`). Every failure is a :class:`CheckpointError` naming ``path``.

    Header, shapes and weights come from one read of the file (:func:`taco.shards.read_once`: a
    plain file's bytes, read in one go; a sharded one's index, its shards checked against it), so
    a checkpoint another process saves at ``path`` meanwhile (atomically, as :func:`save_checkpoint`
    does) gives the old model or the new one, never one's config and the other's weights; a
    sharded one replaced before its shards were read is read again (up to
    :data:`taco.shards.READ_TRIES` times). A plain file over
    :data:`taco.shards.READ_WHOLE_MAX_BYTES` (256 MiB) is mapped, in two reads (header, then
    weights), and is not covered: one replaced between them by a model of another architecture
    is refused, by one of the same loads that one's weights under the first file's header.

    Inside ``torch.inference_mode`` the model is loaded outside it all the same (grad off, as
    there): of normal tensors, which it can later be trained with or used outside it like any
    other model (inference tensors cannot be saved for backward nor written outside it). It is
    built and read on the CPU whatever default device the caller set
    (:func:`taco.draws.cpu_default_device`), then moved to ``map_location``.
    """
    if torch.is_inference_mode_enabled():
        with torch.inference_mode(False), torch.no_grad():
            return load_checkpoint(path, map_location, found=found)
    tries = 1
    while True:
        try:
            return _load_read(path, map_location, found)
        except CheckpointReplaced as exc:  # a sharded one saved again meanwhile: read the new one
            if tries >= READ_TRIES:
                raise CheckpointError(str(exc)) from None
        found, tries = None, tries + 1  # a try after the first looks again


def _load_read(path: str | os.PathLike[str], map_location: str | torch.device,
               found: Path | None) -> ELIC:
    """:func:`load_checkpoint` from one read of the file (:func:`read_checkpoint`): its header,
    shapes and tensors are one checkpoint's even while another process saves ``path`` again; a
    :class:`~taco.shards.CheckpointReplaced` where a sharded one was replaced meanwhile."""
    read, header = read_checkpoint(path, found=found)
    config = header_config(header, path)
    shapes = read_shapes(read)
    # the text width is the weights' own: the text encoder's folder is not needed to decode
    with text_width(checkpoint_text_dim(shapes)):
        try:
            skeleton = build_on_meta(config)
        except (TypeError, ValueError, KeyError, AssertionError, RuntimeError) as exc:
            # a bad value: groups, residual, heads not dividing a width (torch asserts that), ...;
            # or a registered backbone's code refusing it (a version it no longer implements)
            raise CheckpointError(f"{path}: {unbuildable_config(config, exc)}") from None
        check_checkpoint_shapes(skeleton, shapes, path,
                                tables_left_out="gaussian_tables_sha256" in header)
        try:
            model = filled_whole(skeleton)  # the checkpoint overwrites every tensor: no init to pay
            del skeleton
            if model is None:
                # its random init is overwritten: the caller's seeded draws stay as they were, in
                # every thread (taco.draws)
                with private_draws():
                    model = build_model(config)
        except (RuntimeError, MemoryError) as exc:
            what = allocation_failure(exc)
            if what is not None:  # the file's tensors fit on disk, not in memory
                raise CheckpointError(f"{path}: the model does not fit in memory ({what})") from None
            # not memory: the build failed for its config, which is all it was built from (the
            # meta-device build above took it)
            raise CheckpointError(f"{path}: {unbuildable_config(config, exc)}") from None
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in checkpoint_tensors(path, read=read).items()}
    del read  # its bytes (the file's size) are not kept beside the model they filled
    if "gaussian_tables_sha256" in header:
        _rebuild_gaussian_tables(model, state, header["gaussian_tables_sha256"], path)
    try:
        check_finite(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    expected = set(model.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:  # a file mapped (over READ_WHOLE_MAX_BYTES) replaced since its header was read
        raise CheckpointError(_names_mismatch(path, config, missing, unexpected))
    try:
        load_model_state(model, state)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: tensor shapes do not match the architecture: {exc}") from None
    try:
        check_quantiles(model)
        check_entropy_tables(model, from_file=True)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    model.model_id = header_model_id(header, path)
    model.metadata = header.get("metadata") or {}  # an object (read_checkpoint_header), or none
    model.to(map_location).eval()
    return model


def filled_whole(skeleton: ELIC) -> ELIC | None:
    """``skeleton`` (:func:`build_on_meta`'s) given memory, uninitialised, on the CPU
    (:func:`on_cpu_uninitialised`), when loading a state dict fills it whole: one of taco's own
    architectures (:data:`~taco.models.config.BUILTIN_ARCHITECTURES`; a registered backbone may
    keep tensors anywhere, in a list say, which would be left on the meta device), each of its
    parameters and buffers in its state dict once (none shared, none left out as
    non-persistent), and no module keeping a tensor of its own beside them. Else None: build the
    model for real. Skips the random initialisation a real build pays and the loaded weights
    overwrite (50-80 ms for a -small model)."""
    if skeleton.config.architecture not in BUILTIN_ARCHITECTURES:
        return None
    held = [name for name, _ in itertools.chain(skeleton.named_parameters(),
                                                skeleton.named_buffers())]
    if sorted(held) != sorted(skeleton.state_dict()):
        return None
    if any(isinstance(v, torch.Tensor) for m in skeleton.modules() for v in vars(m).values()):
        return None
    on_cpu_uninitialised(skeleton)
    return skeleton


def on_cpu_uninitialised(module: nn.Module) -> None:
    """Give each of ``module``'s parameters and buffers (on the meta device) uninitialised CPU
    memory of its shape and dtype, in place; parameters stay parameters, with their
    ``requires_grad``. Not ``module.to_empty``: its ``torch.empty_like`` of a meta tensor runs
    torch's Python meta kernels, which import sympy (0.3-0.5 s and ~35 MiB of every CLI run's
    first load); ``torch.empty`` of the shape runs none."""
    for m in module.modules():
        for name, p in list(m.named_parameters(recurse=False)):
            setattr(m, name, nn.Parameter(torch.empty(p.shape, dtype=p.dtype, device="cpu"),
                                          requires_grad=p.requires_grad))
        for name, b in list(m.named_buffers(recurse=False)):
            setattr(m, name, torch.empty(b.shape, dtype=b.dtype, device="cpu"))  # keeps it a (non-)persistent buffer


#: safetensors' dtype names of the dtypes a model holds; any float dtype loads into a float one.
_DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
                torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
                torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
_FLOAT_NAMES = frozenset({"F64", "F32", "F16", "BF16"})


def check_checkpoint_shapes(
    model: ELIC,
    shapes: dict[str, tuple[tuple[int, ...], str]],
    path: str | os.PathLike[str],
    *,
    tables_left_out: bool = False,
) -> None:
    """Raise :class:`CheckpointError` unless the tensors a checkpoint holds (``shapes``: name ->
    (shape, safetensors dtype), :func:`checkpoint_shapes`) are exactly ``model``'s state, by name,
    shape and dtype (float weights may be stored in any float dtype: ``save_checkpoint(half=True)``).

    ``model`` is typically :func:`build_on_meta`'s. ``tables_left_out``: the file was saved with
    ``compact_tables`` and holds no Gaussian-conditional tables. The entropy models' tables and
    scale tables are sized by training, not by the config (CompressAI resizes them on load): only
    their number of dimensions is checked here, their contents by :func:`check_entropy_tables`.
    """
    from compressai.entropy_models import EntropyBottleneck, GaussianConditional

    state = model.state_dict()
    if tables_left_out:
        for key in _gaussian_table_keys(model):
            del state[key]
    missing, unexpected = set(state) - set(shapes), set(shapes) - set(state)
    if missing or unexpected:
        raise CheckpointError(_names_mismatch(path, model.config, missing, unexpected))
    sized = set()  # buffers CompressAI sizes when a state dict is loaded (empty until then)
    for name, m in model.named_modules():
        if isinstance(m, GaussianConditional):
            sized |= {f"{name}.{b}" for b in TABLE_BUFFERS}
        elif isinstance(m, EntropyBottleneck):
            sized |= {f"{name}.{b}" for b in CODER_TABLES}
    wrong = []
    for key, tensor in state.items():
        shape, dtype = shapes[key]
        want = tuple(tensor.shape)
        if key in sized:
            want_dims = 2 if key.endswith("_quantized_cdf") else 1
            if len(shape) != want_dims:
                wrong.append(f"{key} has {len(shape)} dimensions in the file, {want_dims} in the model")
        elif shape != want:
            wrong.append(f"{key} is {list(shape)} in the file, {list(want)} in the model")
        float_ok = tensor.is_floating_point() and dtype in _FLOAT_NAMES
        if not float_ok and dtype != _DTYPE_NAMES.get(tensor.dtype):
            wrong.append(f"{key} is {dtype} in the file, {tensor.dtype} in the model")
    if wrong:
        raise CheckpointError(
            f"{path}: tensor shapes do not match the {model.config.architecture} architecture in "
            f"its header: {some(wrong, sep='; ')}"
        )


def _names_mismatch(path: str | os.PathLike[str], config: ModelConfig, missing: set[str],
                    unexpected: set[str]) -> str:
    return (
        f"{path}: weights do not match the {config.architecture} architecture in its header "
        f"(missing {sorted(missing)[:5]}{'...' if len(missing) > 5 else ''}, "
        f"unexpected {sorted(unexpected)[:5]}{'...' if len(unexpected) > 5 else ''})"
    )


#: model -> (config digest, state names, their tensors' marks, fingerprint); kept beside the
#: model, not on it, so that the weak references never travel with a pickled model.
_FINGERPRINTS: weakref.WeakKeyDictionary[Any, tuple[str, tuple[str, ...], Marks, bytes]] = (
    weakref.WeakKeyDictionary())


def model_fingerprint(model: ELIC) -> bytes:
    """8 bytes of SHA-256 over the model's config and every weight and table.

    Written into each ``.taco`` file so a file is never decoded by a different model. Cached per
    model and recomputed when a weight or table changes (:func:`taco.tensor_marks.unchanged`):
    when a tensor of its state is replaced (``update(force=True)``, ``p.data = ...``), written in
    place (an optimizer step, ``load_state_dict``, ``p.mul_()`` under ``no_grad``: torch counts
    those in its version counter), resized or moved. Writes through ``p.data`` are not counted:
    call :func:`invalidate_fingerprint` after those. A model with a tensor made under
    ``torch.inference_mode`` (built or ``update(force=True)``-ed there; :func:`load_checkpoint`
    makes none) is hashed anew on every call (10 ms for elic-small, ~1.5 ms cached: its state_dict is most of that): an inference
    tensor keeps no version counter, and in-place writes to it (allowed inside inference mode)
    would go unseen. A bare ``ELIC(...)`` (no config to hash) is a TypeError saying how to
    build one that has it.
    """
    check_configured(model, "model_fingerprint")
    digest = model.config.digest()
    state = model.state_dict(keep_vars=True)
    names, tensors = tuple(state), list(state.values())
    cached = _FINGERPRINTS.get(model)
    if cached is not None and cached[:2] == (digest, names) and unchanged(cached[2], tensors):
        return cached[3]
    h = hashlib.sha256(digest.encode())
    for name, t in sorted(state.items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    fp = h.digest()[:8]
    marks = tensor_marks(tensors)
    if marks is None:
        _FINGERPRINTS.pop(model, None)
    else:
        _FINGERPRINTS[model] = (digest, names, marks, fp)
    return fp


def invalidate_fingerprint(model: ELIC) -> None:
    _FINGERPRINTS.pop(model, None)


# --------------------------------------------------------------------------- sharded checkpoints


def checkpoint_tensors(path: str | os.PathLike[str], *, found: Path | None = None,
                       read: CheckpointRead | None = None) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint in either layout (shards checked against their index;
    ``found`` as for :func:`load_checkpoint`). ``read``: the checkpoint at ``path`` as
    :func:`read_checkpoint` read it, whose tensors are taken (from the same bytes as its header),
    not the file read anew; a :class:`~taco.shards.CheckpointReplaced` where a sharded one was
    replaced since."""
    try:
        return read.tensors() if read is not None else load_sharded(path, found=found)[0]
    except CheckpointReplaced:
        raise
    except ShardedFileError as exc:
        raise CheckpointError(str(exc)) from None


# --------------------------------------------------------------------------- weights' values


def non_finite(tensors: dict[str, torch.Tensor]) -> list[str]:
    """The names of the floating-point tensors that hold NaN or an infinity, in order. A tensor's
    sum is finite only if every element is (NaN and infinities carry through a sum), and it is
    ~15x quicker than ``isfinite(v).all()`` over a model (12 vs 200 ms for the default built-in's
    410 tensors); a sum that overflows from finite values is checked element by element."""
    return [k for k, v in tensors.items() if v.is_floating_point()
            and not bool(v.sum().isfinite()) and not bool(torch.isfinite(v).all())]


def check_finite(state: dict[str, torch.Tensor]) -> None:
    """Raise :class:`CheckpointError` naming the first tensors of ``state`` that hold NaN or an
    infinity. No trained model has one: a checkpoint with one coded nothing (NaN in g_a or the
    hyper-synthesis: latents the coder refuses) or decoded every image black (NaN in g_s)."""
    bad = non_finite(state)
    if bad:
        which = f"tensors {some(bad)} hold" if len(bad) > 1 else f"tensor {bad[0]} holds"
        raise CheckpointError(f"{which} NaN or infinite values: the weights are broken (no trained "
                              "model has one)")


#: The widest an entropy bottleneck's learned quantiles may span (upper - lower, per channel),
#: and the farthest a median may lie from 0. CompressAI's ``update`` builds a CDF of that many
#: entries per channel, in time that grows with its square: a span of 2^12 takes ~5 s for the
#: paper's N = 192 channels (0.02 s at the trained built-ins' span of 24); unchecked, a 535 KB
#: file with quantiles at ±10^6 ran for over 400 s and 2.9 GB, beyond SIGTERM's reach. Trained
#: models span ~24 (the built-ins; a new bottleneck spans 20): the bound leaves 170x.
MAX_QUANTILE_SPAN = 1 << 12


def check_quantiles(module: nn.Module) -> None:
    """Raise :class:`CheckpointError` unless every entropy bottleneck's quantiles (lower,
    median, upper per channel) are finite, ordered, span at most :data:`MAX_QUANTILE_SPAN` and
    have a median within it of 0. Checked before anything builds tables from them:
    :func:`load_checkpoint` (so ``init_from``'s ``update``), ``taco import-checkpoint``."""
    from compressai.entropy_models import EntropyBottleneck

    for name, em in module.named_modules():
        if not isinstance(em, EntropyBottleneck):
            continue
        q = em.quantiles.detach()
        if q.dim() != 3 or q.shape[1:] != (1, 3):
            raise CheckpointError(f"{name}.quantiles is {list(q.shape)}, not (channels, 1, 3)")
        lower, median, upper = q[:, 0, 0], q[:, 0, 1], q[:, 0, 2]
        ok = bool(torch.isfinite(q).all()) and bool(((lower <= median) & (median <= upper)).all())
        if not ok or bool(((upper - lower) > MAX_QUANTILE_SPAN).any()) or bool(
                (median.abs() > MAX_QUANTILE_SPAN).any()):
            raise CheckpointError(
                f"{name}.quantiles are not a trained entropy model's: each channel's lower, median "
                f"and upper quantiles must be finite, in that order, at most {MAX_QUANTILE_SPAN} "
                f"apart and within {MAX_QUANTILE_SPAN} of 0 (a trained model's span ~24)"
            )


# --------------------------------------------------------------------------- entropy-coder tables


#: entropy model -> (its channel count, its tables' marks) when they last passed
#: :func:`check_entropy_tables`; kept beside the model, not on it, so that the weak references
#: never travel with a copy or a pickle (a copy's tables are other tensors, checked anew).
_CHECKED_TABLES: weakref.WeakKeyDictionary[nn.Module, tuple[int | None, Marks]] = (
    weakref.WeakKeyDictionary())


def check_entropy_tables(module: nn.Module, from_file: bool = False) -> None:
    """Raise :class:`CheckpointError` unless every entropy model's coder tables are well formed.

    The C++ coder indexes them without bounds checks and divides by symbol frequencies: a
    checkpoint whose ``_cdf_length`` is 1 made ``taco.compress`` die with SIGFPE, one whose
    ``_offset`` was -2^30 made it loop for ever. Each CDF must start at 0, rise strictly and end
    at 2^16 at ``cdf_length - 1`` (>= 3 entries), each offset lie in [-(cdf_length - 3), 0] (as
    CompressAI's ``update`` makes them), and there must be one per scale-table entry (Gaussian
    conditional) or per channel (entropy bottleneck).
    Tables not built yet are a ValueError. Run by :func:`load_checkpoint` (``from_file``: the
    message of malformed tables blames the checkpoint) and by
    ``taco.models.coding.coding_codec`` (a model's tables can change after it is loaded: the
    message says to rebuild them with ``model.update(force=True)``).

    Each entropy model's tables that passed are remembered (the tensors, their version counters,
    data pointers and shapes), and checked again only once one of them has changed: replaced
    (``update(force=True)``, a new buffer), written in place (``load_state_dict``, ``fill_``:
    torch counts those in ``_version``), resized or moved. So the check costs nothing the second
    time on the same model's tables (~120 ms on the default model the first). Like
    :func:`model_fingerprint`, writes through ``t.data`` or ``t.numpy()`` are not counted.
    """
    from compressai.entropy_models import EntropyBottleneck, EntropyModel, GaussianConditional

    for name, em in module.named_modules():
        if not isinstance(em, EntropyModel):
            continue
        tables = [em.get_buffer(b) for b in TABLE_BUFFERS if hasattr(em, b)]
        channels = getattr(em, "channels", None)  # an entropy bottleneck's: its tables' length
        seen = _CHECKED_TABLES.get(em)
        if seen is not None and seen[0] == channels and unchanged(seen[1], tables):
            continue
        # on the CPU, where the coder reads them (a model on a GPU has its tables there too)
        cdf, lengths, offsets = (em._quantized_cdf.cpu(), em._cdf_length.cpu().reshape(-1),
                                 em._offset.cpu().reshape(-1))
        if cdf.numel() == 0:
            raise ValueError(f"the model's entropy-coder tables ({name}) are not built: "
                             "call model.update(force=True)")
        n = cdf.shape[0] if cdf.dim() == 2 else -1
        want = n  # indexes the coder is given are < want
        if isinstance(em, GaussianConditional):
            want = em.scale_table.numel()
        elif isinstance(em, EntropyBottleneck):
            want = em.channels
        ok = n == want and n > 0 and lengths.numel() == n and offsets.numel() == n
        if ok:
            ok = bool(((lengths >= 3) & (lengths <= cdf.shape[1])).all())
        if ok:  # CompressAI's update() puts each offset in [-(cdf_length - 3), 0]; one far outside
            # shifts every symbol past int32 and its escape coding loops for ever (uninterruptibly)
            ok = bool(((offsets <= 0) & (offsets >= -(lengths.long() - 3))).all())
        if ok:
            cols = torch.arange(cdf.shape[1])
            last = lengths.long()[:, None] - 1
            rising = (cdf[:, 1:] > cdf[:, :-1]) | (cols[None, 1:] > last)  # only inside each CDF
            end = cdf.gather(1, last)[:, 0]
            ok = bool(rising.all() and (cdf[:, 0] == 0).all() and (end == 1 << 16).all())
        if not ok:
            raise CheckpointError(
                f"the model's entropy-coder tables ({name}) are malformed: "
                + ("the checkpoint is corrupt or was not saved with save_checkpoint" if from_file
                   else "rebuild them from its state with model.update(force=True)")
            )
        marks = tensor_marks(tables)  # none for inference tensors: checked every time
        if marks is not None:
            _CHECKED_TABLES[em] = (channels, marks)
