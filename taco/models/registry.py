"""One way to build a model (:func:`create_model`) and one way to load one (:func:`load`).

A checkpoint is a single ``.safetensors`` file: the weights (entropy-coder tables included) and,
in its metadata under ``"taco"``, a JSON document with the architecture config, the text encoder,
λ, the training data and the taco version. Loading never unpickles anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from ..atomic import save_safetensors_atomic
from ..checksums import sha256_file
from ..shards import (
    ShardedFileError,
    find,
    load_sharded,
    read_metadata,
    save_sharded,
    tensor_shapes,
)
from ..version import __version__
from .elic import ELIC, LAYOUTS, MAX_SCALE_LEVELS
from .gains import QUALITY_LAMBDAS, check_qualities
from .taco import TACO

CHECKPOINT_FORMAT = "taco-checkpoint"
CHECKPOINT_VERSION = 1
#: The largest channel count (N, M, a group, a context width, attention heads) a config may
#: give: 200x the paper's M (320). It bounds what checking a checkpoint's shapes costs before
#: the file is trusted (16 MB): CompressAI's entropy bottleneck allocates its N channels'
#: parameters (244 bytes each) even when the rest of the model is built on the meta device.
MAX_WIDTH = 1 << 16
_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"


class CheckpointError(ValueError):
    """A checkpoint is missing, malformed, or does not match the model it is loaded into."""


#: ModelConfig fields added after the first release, with the value a config written before the
#: field existed means. At that value a field is left out of :meth:`ModelConfig.digest`, so the
#: first checkpoints (and every ``.taco`` file made with them) keep their fingerprints. ``layout``:
#: those checkpoints have CompressAI's entropy-model layout; new configs default to the authors'.
#: ``qualities``: None is a single-rate model, as every model was before variable rate.
_ADDED_FIELDS: dict[str, Any] = {"text_injection": "adapter", "injector_at": "both",
                                 "layout": "compressai", "qualities": None}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture (not its weights).

    ``text_encoder`` is ``None`` for ELIC, else ``{"name": ..., **options}`` as accepted by
    :func:`taco.text.get_text_encoder`; the adapter's input width follows it.
    ``text_injection`` ("adapter" | "tgic") and ``injector_at`` ("both" | "h4" | "h8") select the
    ablation variants of issue 8 (see :class:`taco.models.TextGuidedAnalysis`). ``layout`` is the
    entropy model's: "reference" (the authors' code, their checkpoints import into it) or
    "compressai" (CompressAI's ``Elic2022Official``: the first built-in models); see
    :mod:`taco.models.elic`. A config read from a file without the field is "compressai".
    ``qualities``: the λ of each quality of a variable-rate model (ascending; quality q = 1..Q is
    trained with ``qualities[q - 1]``; reference layout only; :mod:`taco.models.gains`), or None
    for a single-rate model (one λ, in its checkpoint's metadata).
    """

    architecture: str = "taco"  # "taco" | "elic"
    N: int = 192
    M: int = 320
    groups: list[int] = field(default_factory=lambda: [16, 16, 32, 64, 192])
    ctx_hidden: list[int] = field(default_factory=lambda: [224, 128])
    text_encoder: dict[str, Any] | None = field(default_factory=lambda: {"name": "clip"})
    heads: int = 8
    residual: str = "paper"
    use_mask: bool = False
    learn_gamma: bool = True
    gamma_init: float = 0.0
    text_injection: str = "adapter"
    injector_at: str = "both"
    layout: str = "reference"
    qualities: list[float] | None = None

    def __post_init__(self) -> None:
        if self.architecture not in ("taco", "elic"):
            raise ValueError(f"unknown architecture {self.architecture!r} (taco, elic)")
        for name in ("N", "M", "heads"):
            if not _is_width(getattr(self, name)):
                raise ValueError(f"{name} must be an integer 1..{MAX_WIDTH}, got {getattr(self, name)!r}")
        for name, count in (("groups", None), ("ctx_hidden", 2)):
            widths = getattr(self, name)
            if not (isinstance(widths, (list, tuple)) and len(widths) == (count or len(widths)) > 0
                    and all(_is_width(v) for v in widths)):
                raise ValueError(f"{name} must be a list of {f'{count} ' if count else ''}"
                                 f"integers 1..{MAX_WIDTH}, got {widths!r}")
        if sum(self.groups) != self.M:
            raise ValueError(f"groups {self.groups} must sum to M={self.M}")
        if self.architecture == "elic":
            self.text_encoder = None
        elif not self.text_encoder or "name" not in self.text_encoder:
            raise ValueError("a TACO model needs text_encoder={'name': ...}")
        if self.residual not in ("paper", "identity"):
            raise ValueError(f"residual must be 'paper' or 'identity', got {self.residual!r}")
        if self.text_injection not in ("adapter", "tgic"):
            raise ValueError(f"text_injection must be 'adapter' or 'tgic', got {self.text_injection!r}")
        if self.injector_at not in ("both", "h4", "h8"):
            raise ValueError(f"injector_at must be 'both', 'h4' or 'h8', got {self.injector_at!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.qualities is not None:
            if isinstance(self.qualities, (str, bytes)) or not hasattr(self.qualities, "__len__"):
                raise ValueError(f"qualities must be a list of λ values, got {self.qualities!r}")
            self.qualities = check_qualities(self.qualities)
            if self.layout != "reference":
                raise ValueError("a variable-rate model (qualities) needs layout='reference'")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise CheckpointError(f"unknown model config fields: {sorted(unknown)}")
        return cls(**{**_ADDED_FIELDS, **d})

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of this config.

        Fields added after the first release are left out while at their defaults, so existing
        models keep their digest (and every ``.taco`` file written with them its fingerprint).
        """
        d = self.to_dict()
        for name, default in _ADDED_FIELDS.items():
            if d[name] == default:
                del d[name]
        blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


def _is_width(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WIDTH


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

#: Architectures by name. The weights of these are random until trained (see PRETRAINED).
MODEL_CONFIGS: dict[str, ModelConfig] = {
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
}


@dataclass(frozen=True)
class PretrainedEntry:
    """A trained checkpoint shipped in ``taco/assets/models`` (timm-style registry entry).

    ``lmbda``: the λ a single-rate model was trained with; None for a variable-rate model, whose
    λ per quality are its config's ``qualities``."""

    file: str
    sha256: str
    architecture: str
    lmbda: float | None
    trained_on: str
    description: str = ""


_SMALL_DESC = (
    "reduced width (N=48, M=96), trained on a shared 2-core CPU: 1,500 steps of batch 8, 128 px "
    "crops, Adam lr 3e-4, loss = rate + λ·255²·MSE + 3.5·LPIPS (no CLIP term: CLIP weights are "
    "not available offline); see docs/models.md"
)

#: Trained checkpoints shipped with the package (fp16 weights, compact tables; SHA-256 checked on
#: load). q3/q4 are the paper's 3rd and 4th rate points (λ = 0.0016, 0.004).
PRETRAINED: dict[str, PretrainedEntry] = {
    "taco-minilm-small-q4": PretrainedEntry(
        file="taco-minilm-small-q4.safetensors",
        sha256="c117797a36aa5bcff1c7ddd0f1f01e2eb9bb062eaa258a0f8965e1ac550f09c0",
        architecture="taco",
        lmbda=0.004,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "taco-minilm-small-q3": PretrainedEntry(
        file="taco-minilm-small-q3.safetensors",
        sha256="ebfb5722da6f26fb949abddc6948cda906b866047757c7170f6543ec23781283",
        architecture="taco",
        lmbda=0.0016,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "elic-small-q4": PretrainedEntry(
        file="elic-small-q4.safetensors",
        sha256="bd0468c44915a4d3e349cfe0ed95c4b7facaa3141983072fe17acff9519a7f76",
        architecture="elic",
        lmbda=0.004,
        trained_on="shared/data/photos/train (158 captioned photos)",
        description=_SMALL_DESC,
    ),
    "elic-small-q3": PretrainedEntry(
        file="elic-small-q3.safetensors",
        sha256="d5a97c3f4946bc57bc8a6210a688b83d1970159cfb7435452d94e41379c43ba6",
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


def retired_message(name: str) -> str:
    """Where a :data:`RETIRED` built-in's checkpoint is, in one sentence for a person."""
    rev = RETIRED[name]
    return (f"{name!r} was a built-in model of taco up to commit {rev} and no longer ships; its "
            f"checkpoint is in taco's git history: git show {rev}:taco/assets/models/{name}.safetensors "
            f"> {name}.safetensors, then give that file as the model (--model {name}.safetensors)")


def _text_dim(spec: dict[str, Any]) -> int:
    from ..text import text_encoder_dim

    return text_encoder_dim(**spec)


def build_model(config: ModelConfig) -> ELIC:
    """Instantiate the architecture described by ``config`` (random weights)."""
    common = dict(N=config.N, M=config.M, groups=config.groups, ctx_hidden=config.ctx_hidden,
                  layout=config.layout, qualities=config.qualities)
    model: ELIC
    if config.architecture == "elic":
        model = ELIC(**common)  # type: ignore[arg-type]
    else:
        assert config.text_encoder is not None
        model = TACO(
            **common,  # type: ignore[arg-type]
            text_dim=_text_dim(config.text_encoder),
            heads=config.heads,
            residual=config.residual,  # type: ignore[arg-type]
            use_mask=config.use_mask,
            learn_gamma=config.learn_gamma,
            gamma_init=config.gamma_init,
            text_injection=config.text_injection,  # type: ignore[arg-type]
            injector_at=config.injector_at,  # type: ignore[arg-type]
        )
    model.config = config
    model.model_id = "custom"
    model.metadata = {}
    return model


def create_model(name: str, *, seed: int | None = 0, **overrides: Any) -> ELIC:
    """Build a registered architecture, e.g. ``create_model("taco-tiny", use_mask=True)``.

    Weights are random (seeded by ``seed`` for reproducibility) and the entropy-coder tables are
    built, so the model can compress at once. Trained models come from :func:`load`.
    """
    if name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODEL_CONFIGS))}")
    cfg = ModelConfig.from_dict({**MODEL_CONFIGS[name].to_dict(), **overrides})
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(cfg)
    else:
        model = build_model(cfg)
    model.model_id = name if not overrides else f"{name}+custom"
    model.eval()
    model.update(force=True)
    return model


def list_models() -> list[str]:
    return sorted(set(MODEL_CONFIGS) | set(PRETRAINED))


def save_checkpoint(
    model: ELIC,
    path: str | os.PathLike[str],
    *,
    model_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    half: bool = False,
    compact_tables: bool = False,
    max_shard_bytes: int | None = None,
) -> Path:
    """Write ``model`` as one self-describing safetensors file, atomically.

    The entropy-coder tables are rebuilt (``update(force=True)``, with the model's own scale
    table: :meth:`ELIC.set_scale_levels`) first, so the file can be used for real coding as is.
    ``metadata`` (λ, training data, steps, ...) is stored beside the config.
    ``half`` stores float weights as float16; they load back as float32. ``compact_tables``
    leaves out the Gaussian-conditional CDF tables (identical for every channel group and
    derived from the stored scale table: most of a small model's file) and stores their SHA-256;
    :func:`load_checkpoint` rebuilds them and refuses the file if the rebuilt tables differ.
    ``max_shard_bytes`` (e.g. :data:`taco.shards.SHARD_BYTES`): a checkpoint larger than that
    is written as shards + ``path.index.json`` (see :mod:`taco.shards`); ``load(path)`` reads
    either. Returns ``path``.
    """
    path = Path(path)
    model.update(force=True)
    invalidate_fingerprint(model)
    state = {}
    dropped = _gaussian_table_keys(model) if compact_tables else []
    if compact_tables:
        _check_rebuildable(model)
    # fp16 for network weights only: buffers (scale tables) and the entropy bottleneck's
    # quantiles define the coder's tables and stay exact
    halvable = {k for k, _ in model.named_parameters() if "entropy_bottleneck" not in k}
    for k, v in model.state_dict().items():
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
        "model_id": model_id or getattr(model, "model_id", "custom"),
        "config": model.config.to_dict(),
        "entropy_tables_updated": True,
        "metadata": {**getattr(model, "metadata", {}), **(metadata or {})},
    }
    if dropped:
        header["gaussian_tables_sha256"] = _tables_digest(model.state_dict(), dropped)
    if max_shard_bytes is None:
        return save_safetensors_atomic(state, path, metadata={"taco": json.dumps(header)})
    save_sharded(state, path, {"taco": json.dumps(header)}, max_bytes=max_shard_bytes)
    return path


_TABLE_BUFFERS = ("_quantized_cdf", "_offset", "_cdf_length")


def _gaussian_table_keys(model: torch.nn.Module) -> list[str]:
    from compressai.entropy_models import GaussianConditional

    return [f"{name}.{b}" for name, m in model.named_modules()
            if isinstance(m, GaussianConditional) for b in _TABLE_BUFFERS]


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
MAX_SCALE = 512.0


def _rebuildable(scales: torch.Tensor) -> bool:
    """Whether :func:`load_checkpoint` rebuilds Gaussian tables from this scale table."""
    return (scales.dim() == 1 and 1 <= scales.numel() <= MAX_SCALE_TABLE_ENTRIES
            and bool(((scales > 0) & (scales <= MAX_SCALE)).all()))


def _check_rebuildable(model: torch.nn.Module) -> None:
    """ValueError unless a compact checkpoint of ``model`` would load: a scale table set with
    ``update(scale_table=...)`` may be one :func:`load_checkpoint` refuses to rebuild."""
    from compressai.entropy_models import GaussianConditional

    for name, m in model.named_modules():
        if isinstance(m, GaussianConditional) and not _rebuildable(m.scale_table):
            raise ValueError(
                f"{name}.scale_table: a compact checkpoint's scale tables have 1.."
                f"{MAX_SCALE_TABLE_ENTRIES} scales in (0, {MAX_SCALE:g}] (set_scale_levels gives "
                "such tables); save this model without compact_tables"
            )


def _rebuild_gaussian_tables(
    model: torch.nn.Module, state: dict[str, torch.Tensor], digest: str, path: str | os.PathLike[str]
) -> None:
    """Fill the Gaussian-conditional tables left out by ``compact_tables`` into ``state``.

    Each distinct scale table is built once (the CompressAI layout has one Gaussian conditional
    per channel group, all with the same table): the tables are a function of its values.
    """
    from compressai.entropy_models import GaussianConditional

    class TableBuilder(GaussianConditional):
        # CompressAI takes the tail quantile from scipy.stats (1 s to import) for this one
        # number; the standard library's is the same double at tail_mass / 2 = 5e-10, and the
        # digest below refuses any table that comes out different.
        @staticmethod
        def _standardized_quantile(quantile: float) -> float:
            return NormalDist().inv_cdf(quantile)

    keys = _gaussian_table_keys(model)
    built: dict[bytes, GaussianConditional] = {}
    for name, m in model.named_modules():
        if not isinstance(m, GaussianConditional):
            continue
        scale_key = f"{name}.scale_table"
        if scale_key not in state:
            raise CheckpointError(f"{path}: missing tensor {scale_key}")
        scales = state[scale_key]
        if not _rebuildable(scales):
            raise CheckpointError(
                f"{path}: {scale_key} is not a scale table (1..{MAX_SCALE_TABLE_ENTRIES} scales "
                f"in (0, {MAX_SCALE:g}])"
            )
        key = scales.detach().cpu().contiguous().numpy().tobytes()
        if key not in built:
            built[key] = TableBuilder(None)
            built[key].update_scale_table(scales, force=True)
        for b in _TABLE_BUFFERS:
            state[f"{name}.{b}"] = getattr(built[key], b).clone()
    if _tables_digest(state, keys) != digest:
        raise CheckpointError(
            f"{path}: the entropy-coder tables rebuilt on this machine differ from those the model "
            "was saved with, so its files would not decode bit-exactly here"
        )


def read_checkpoint_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a checkpoint, validated, without loading weights."""
    path = Path(path)
    meta = checkpoint_metadata(path)
    if "taco" not in meta:
        raise CheckpointError(f"{path}: safetensors file without a taco header (not a taco checkpoint)")
    try:
        header = json.loads(meta["taco"])
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: corrupt taco header ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt taco header (not a JSON object)")
    if header.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a taco checkpoint")
    if header.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {header.get('version')} is not supported "
            f"(this taco reads version {CHECKPOINT_VERSION})"
        )
    return header


def checkpoint_config(path_or_name: str | os.PathLike[str]) -> ModelConfig:
    """The architecture of a checkpoint file or built-in trained model, without its weights."""
    key = str(path_or_name)
    path = pretrained_file(key) if key in PRETRAINED else Path(key)
    header = read_checkpoint_header(path)
    if not isinstance(header.get("config"), dict):
        raise CheckpointError(f"{path}: the taco header has no model config")
    try:
        return ModelConfig.from_dict(header["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid model config in the taco header ({exc})") from None


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> ELIC:
    """Load a checkpoint written by :func:`save_checkpoint` (eval mode, tables loaded).

    The file is trusted step by step: its header's config is validated, the architecture is
    built on the meta device (no memory) and every tensor's name, shape and dtype is compared
    with the file's safetensors header (:func:`check_checkpoint_shapes`); only then is the
    model built and the weights read. Once loaded, its entropy-coder tables are checked
    (:func:`check_entropy_tables`). Every failure is a :class:`CheckpointError` naming ``path``.
    """
    header = read_checkpoint_header(path)
    if not isinstance(header.get("config"), dict):
        raise CheckpointError(f"{path}: the taco header has no model config")
    try:
        config = ModelConfig.from_dict(header["config"])
        skeleton = build_on_meta(config)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (TypeError, ValueError, KeyError, AssertionError) as exc:
        # a bad value: groups, residual, heads not dividing a width (torch asserts that), ...
        raise CheckpointError(f"{path}: invalid model config in the taco header ({exc})") from None
    check_checkpoint_shapes(skeleton, checkpoint_shapes(path), path,
                            tables_left_out="gaussian_tables_sha256" in header)
    del skeleton
    try:
        model = build_model(config)
    except (RuntimeError, MemoryError) as exc:  # the file's tensors fit on disk, not in memory
        raise CheckpointError(f"{path}: the model does not fit in memory ({exc})") from None
    state = {k: v.float() if v.is_floating_point() else v
             for k, v in checkpoint_tensors(path).items()}
    if "gaussian_tables_sha256" in header:
        _rebuild_gaussian_tables(model, state, header["gaussian_tables_sha256"], path)
    expected = set(model.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:  # the shards changed since their headers were read
        raise CheckpointError(_names_mismatch(path, config, missing, unexpected))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: tensor shapes do not match the architecture: {exc}") from None
    try:
        check_entropy_tables(model)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    model.model_id = header.get("model_id", "custom")
    model.metadata = header.get("metadata", {})
    model.to(map_location).eval()
    return model


class _MetaTensors(TorchFunctionMode):
    """Tensor factories called without a device make meta tensors: shapes, no memory.

    Factories given sizes (``torch.empty``, ``zeros``, ..., what layers allocate weights with)
    and ``torch.tensor`` make meta tensors; ``linspace``/``arange`` stay on the CPU: CompressAI
    sizes the CompressAI layout's parameter networks from a ``torch.linspace``
    (``compressai.layers.sequential_channel_ramp`` reads it with ``.tolist()``). Legacy
    constructors (``torch.Tensor(n, 3, 3)``, as CompressAI's entropy bottleneck uses) are not
    torch functions and stay on the CPU: O(N), bounded by :data:`MAX_WIDTH`.

    The operations the constructors run on meta tensors are answered here from shapes alone:
    torch implements their meta kernels in Python, whose first call imports sympy (0.4-0.7 s,
    once per process: the CLI's first load) and whose decompositions took half the time of a
    -small model's meta build. Initialisers and in-place arithmetic return their tensor,
    ``*_like``, ``repeat``, elementwise arithmetic and ``mean()`` a new meta tensor of the
    result's shape. Any other operation runs as torch has it (slower, still correct).
    """

    FACTORIES = frozenset({
        torch.empty, torch.empty_strided, torch.zeros, torch.ones, torch.full, torch.eye,
        torch.rand, torch.randn, torch.randint, torch.randperm, torch.normal, torch.tensor,
    })  # fmt: skip
    LIKE = frozenset({torch.empty_like, torch.zeros_like, torch.ones_like, torch.full_like,
                      torch.rand_like, torch.randn_like})
    SAME_SHAPE = frozenset({
        torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.mul_, torch.Tensor.add_,
        torch.Tensor.sub_, torch.Tensor.div_, torch.Tensor.copy_, torch.Tensor.clamp_,
        torch.Tensor.fill_, torch.Tensor.zero_, torch.Tensor.masked_fill_,
        *(f for name, f in vars(nn.init).items()
          if name.endswith("_") and not name.startswith("_") and callable(f)),
    })  # fmt: skip
    ELEMENTWISE = frozenset({
        torch.Tensor.log, torch.Tensor.exp, torch.Tensor.sqrt, torch.Tensor.neg,
        torch.Tensor.reciprocal, torch.Tensor.__neg__, torch.Tensor.__truediv__,
        torch.Tensor.__rtruediv__, torch.Tensor.__rdiv__, torch.Tensor.div, torch.Tensor.__mul__,
        torch.Tensor.__rmul__, torch.Tensor.mul, torch.Tensor.__add__, torch.Tensor.__radd__,
        torch.Tensor.add, torch.Tensor.__sub__, torch.Tensor.__rsub__, torch.Tensor.sub,
    })  # fmt: skip
    CASTS = {torch.Tensor.float: torch.float32, torch.Tensor.double: torch.float64}

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func in self.FACTORIES:
            if kwargs.get("device") is None:
                kwargs = {**kwargs, "device": "meta"}
            return func(*args, **kwargs)
        first = args[0] if args else kwargs.get("tensor", kwargs.get("input"))
        if not (isinstance(first, torch.Tensor) and first.is_meta):
            return func(*args, **kwargs)
        shape: Any = None
        dtype = first.dtype
        if func in self.SAME_SHAPE:
            return first
        if func in self.LIKE and kwargs.get("device") is None:
            shape, dtype = first.shape, kwargs.get("dtype") or first.dtype
        elif func in self.CASTS and len(args) == 1 and not kwargs:
            shape, dtype = first.shape, self.CASTS[func]
        elif func is torch.Tensor.mean and len(args) == 1 and not kwargs:
            shape = ()
        elif func is torch.Tensor.repeat and not kwargs:
            sizes = args[1] if len(args) == 2 and not isinstance(args[1], int) else args[1:]
            padded = (1,) * (len(sizes) - first.dim()) + tuple(first.shape)
            shape = [s * r for s, r in zip(padded, sizes, strict=True)]
        elif func in self.ELEMENTWISE and len(args) <= 2 and not kwargs:
            other = args[1] if len(args) == 2 else None
            shape = _broadcast(first.shape, getattr(other, "shape", ()))
            dtype = first.dtype if other is None else torch.result_type(first, other)
        if shape is None:
            return func(*args, **kwargs)
        return torch.empty(shape, dtype=dtype, device="meta")


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> list[int]:
    """``torch.broadcast_shapes(a, b)`` (which imports sympy on its first call)."""
    a, b = (1,) * (len(b) - len(a)) + tuple(a), (1,) * (len(a) - len(b)) + tuple(b)
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
        raise RuntimeError(f"shapes {list(a)} and {list(b)} do not broadcast")
    return [y if x == 1 else x for x, y in zip(a, b, strict=True)]


def build_on_meta(config: ModelConfig) -> ELIC:
    """The architecture of ``config`` with its weights on the meta device: every parameter and
    buffer has its shape and dtype but no memory (CompressAI's entropy bottleneck excepted:
    :class:`_MetaTensors`), to compare a checkpoint with before building it for real. The
    global RNG is left as it was (the CPU-side initialisers draw from it)."""
    with torch.random.fork_rng(devices=[]), _MetaTensors():
        return build_model(config)


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
            sized |= {f"{name}.{b}" for b in (*_TABLE_BUFFERS, "scale_table")}
        elif isinstance(m, EntropyBottleneck):
            sized |= {f"{name}.{b}" for b in _TABLE_BUFFERS}
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
        more = f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else ""
        raise CheckpointError(
            f"{path}: tensor shapes do not match the {model.config.architecture} architecture in "
            f"its header: {'; '.join(wrong[:3])}{more}"
        )


def _names_mismatch(path: str | os.PathLike[str], config: ModelConfig, missing: set[str],
                    unexpected: set[str]) -> str:
    return (
        f"{path}: weights do not match the {config.architecture} architecture in its header "
        f"(missing {sorted(missing)[:5]}{'...' if len(missing) > 5 else ''}, "
        f"unexpected {sorted(unexpected)[:5]}{'...' if len(unexpected) > 5 else ''})"
    )


def pretrained_file(name: str) -> Path:
    """Where the shipped trained model ``name`` (a key of :data:`PRETRAINED`) is installed."""
    return _ASSETS / PRETRAINED[name].file


def load(path_or_name: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> ELIC:
    """Load a shipped trained model by name, or a checkpoint file by path.

    Architecture names without trained weights (``"taco"``, ``"elic-tiny"``, ...) are refused
    here with a pointer to :func:`create_model`: loading should never silently give random weights.
    """
    key = str(path_or_name)
    if key in PRETRAINED:
        entry = PRETRAINED[key]
        file = pretrained_file(key)
        if not file.is_file():
            raise CheckpointError(f"built-in model {key!r}: {file} is missing from the installation")
        digest = sha256_file(file)
        if digest != entry.sha256:
            raise CheckpointError(
                f"built-in model {key!r}: SHA-256 mismatch ({digest} != {entry.sha256}); "
                "the installed file is corrupt"
            )
        model = load_checkpoint(file, map_location)
        model.model_id = key
        return model
    path = Path(key)
    if is_checkpoint(path):
        return load_checkpoint(path, map_location)
    if key in RETIRED:
        raise CheckpointError(retired_message(key))
    if key in MODEL_CONFIGS:
        raise CheckpointError(
            f"{key!r} is an architecture without trained weights; use taco.create_model({key!r}) "
            f"for a randomly initialised one. Trained models: {sorted(PRETRAINED) or 'none yet'}"
        )
    raise CheckpointError(
        f"{key!r} is neither a checkpoint file nor a built-in model "
        f"(built-in: {', '.join(list_models())})"
    )


#: model -> (config digest, (name, tensor, _version, data_ptr) per state entry, fingerprint); kept
#: beside the model, not on it, so that the weak references never travel with a pickled model.
_FINGERPRINTS: weakref.WeakKeyDictionary[Any, tuple[str, list[Any], bytes]] = weakref.WeakKeyDictionary()


def model_fingerprint(model: ELIC) -> bytes:
    """8 bytes of SHA-256 over the model's config and every weight and table.

    Written into each ``.taco`` file so a file is never decoded by a different model. Cached per
    model and recomputed when a weight or table changes: when a tensor of its state is replaced
    (``update(force=True)``, ``p.data = ...``) or written in place (an optimizer step,
    ``load_state_dict``, ``p.mul_()`` under ``no_grad``: torch counts those in ``_version``). Writes
    through ``p.data`` are not counted: call :func:`invalidate_fingerprint` after those.
    """
    digest = model.config.digest()
    state = model.state_dict(keep_vars=True)
    cached = _FINGERPRINTS.get(model)
    if cached is not None and cached[0] == digest and _same_tensors(cached[1], state):
        return cached[2]
    h = hashlib.sha256(digest.encode())
    for name, t in sorted(state.items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    fp = h.digest()[:8]
    marks = [(name, weakref.ref(t), t._version, t.data_ptr()) for name, t in state.items()]
    _FINGERPRINTS[model] = (digest, marks, fp)
    return fp


def _same_tensors(marks: list[tuple[str, Any, int, int]], state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` holds the very tensors of ``marks``, unwritten since."""
    return len(marks) == len(state) and all(
        name in state and ref() is state[name] and version == state[name]._version
        and ptr == state[name].data_ptr()
        for name, ref, version, ptr in marks
    )


def invalidate_fingerprint(model: ELIC) -> None:
    _FINGERPRINTS.pop(model, None)


# --------------------------------------------------------------------------- sharded checkpoints


def is_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a checkpoint on disk: a file, or a sharded checkpoint given by its
    index (``X.safetensors.index.json``) or by the name it was saved under (``X.safetensors``)."""
    return find(path) is not None


@contextmanager
def _reading_headers(path: str | os.PathLike[str]) -> Iterator[None]:
    """Failures to read a checkpoint's headers (index or safetensors) as CheckpointError."""
    try:
        yield
    except ShardedFileError as exc:
        raise CheckpointError(str(exc)) from None
    except Exception as exc:  # safetensors raises several types for a bad file
        raise CheckpointError(f"{path}: not a safetensors file ({exc})") from None


def checkpoint_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The safetensors metadata of a checkpoint in either layout, as CheckpointError on failure."""
    if find(path) is None:
        raise CheckpointError(f"{path}: no such checkpoint file")
    with _reading_headers(path):
        return read_metadata(path)


def checkpoint_tensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint in either layout (shards checked against their index)."""
    try:
        return load_sharded(path)[0]
    except ShardedFileError as exc:
        raise CheckpointError(str(exc)) from None


def checkpoint_shapes(path: str | os.PathLike[str]) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, safetensors dtype) of every tensor of a checkpoint in either layout, read
    from the safetensors headers only (no weight is loaded)."""
    with _reading_headers(path):
        return tensor_shapes(path)


# --------------------------------------------------------------------------- entropy-coder tables


def check_entropy_tables(module: nn.Module) -> None:
    """Raise :class:`CheckpointError` unless every entropy model's coder tables are well formed.

    The C++ coder indexes them without bounds checks and divides by symbol frequencies: a
    checkpoint whose ``_cdf_length`` is 1 made ``taco.compress`` die with SIGFPE. Each CDF must
    start at 0, rise strictly and end at 2^16 at ``cdf_length - 1`` (>= 3 entries), and there must
    be one per scale-table entry (Gaussian conditional) or per channel (entropy bottleneck).
    Tables not built yet are a ValueError. Run by :func:`load_checkpoint` and by
    ``taco.codec.coding_codec`` (a model's tables can change after it is loaded).
    """
    from compressai.entropy_models import EntropyBottleneck, EntropyModel, GaussianConditional

    for name, em in module.named_modules():
        if not isinstance(em, EntropyModel):
            continue
        cdf, lengths, offsets = em._quantized_cdf, em._cdf_length.reshape(-1), em._offset.reshape(-1)
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
        if ok:
            cols = torch.arange(cdf.shape[1])
            last = lengths.long()[:, None] - 1
            rising = (cdf[:, 1:] > cdf[:, :-1]) | (cols[None, 1:] > last)  # only inside each CDF
            end = cdf.gather(1, last)[:, 0]
            ok = bool(rising.all() and (cdf[:, 0] == 0).all() and (end == 1 << 16).all())
        if not ok:
            raise CheckpointError(
                f"the model's entropy-coder tables ({name}) are malformed: the checkpoint is "
                "corrupt or was not saved with save_checkpoint"
            )
