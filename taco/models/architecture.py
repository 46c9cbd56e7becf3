"""A model's architecture as data (:class:`ModelConfig`) and the one way to build it
(:func:`build_model`, or :func:`build_on_meta` for its shapes without memory).

Names of architectures and of the trained models that ship are in :mod:`taco.models.registry`;
reading and writing checkpoints is :mod:`taco.models.checkpoint`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from .elic import ELIC, LAYOUTS
from .gains import check_qualities
from .taco import TACO

#: The largest channel count (N, M, a group, a context width, attention heads) a config may
#: give: 200x the paper's M (320). It bounds what checking a checkpoint's shapes costs before
#: the file is trusted (16 MB): CompressAI's entropy bottleneck allocates its N channels'
#: parameters (244 bytes each) even when the rest of the model is built on the meta device.
MAX_WIDTH = 1 << 16


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
