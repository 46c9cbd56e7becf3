"""The one way to build a model from its architecture (:class:`~taco.models.config.ModelConfig`):
:func:`build_model`, or :func:`build_on_meta` for its shapes without memory.

Names of architectures and of the trained models that ship are in :mod:`taco.models.registry`;
reading and writing checkpoints is :mod:`taco.models.checkpoint`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from ..draws import private_draws
from ..errors import BackboneError, TacoValueError
from ..messages import docs_ref
from . import config as model_config
from .config import BUILTIN_ARCHITECTURES, OWN_FIELDS, ModelConfig
from .elic import ELIC, float32_default
from .fast_codec import check_latent_codec
from .taco import TACO

#: The text width the model being built takes (:func:`text_width`), else None: the encoder's.
_KNOWN_TEXT_DIM: ContextVar[int | None] = ContextVar("taco_known_text_dim", default=None)

#: The weights whose last dimension is the text width d: TACO's injectors' ``text_proj`` (N, d),
#: TGIC's ``word_proj`` (N, d). Every text-guided TACO config has one of them.
TEXT_WIDTH_WEIGHTS = (".text_proj.weight", ".word_proj.weight")


def checkpoint_text_dim(shapes: dict[str, tuple[tuple[int, ...], str]]) -> int | None:
    """The text width d a checkpoint's weights were trained for, from their shapes (name ->
    (shape, dtype), :func:`taco.models.header.checkpoint_shapes`): the last dimension of its
    first :data:`TEXT_WIDTH_WEIGHTS` tensor; None for a model without one (ELIC)."""
    for name in sorted(shapes):
        shape = shapes[name][0]
        if name.endswith(TEXT_WIDTH_WEIGHTS) and len(shape) == 2:
            return int(shape[1])
    return None


@contextmanager
def text_width(dim: int | None) -> Iterator[None]:
    """Build TACO models (:func:`build_taco`) with text width ``dim`` inside the block, instead of
    asking the text encoder (:func:`taco.text.text_encoder_dim`, which reads a custom encoder's
    folder): a checkpoint's own width (:func:`checkpoint_text_dim`), so that decoding and
    ``taco models`` never need the encoder's files. ``None`` changes nothing."""
    token = _KNOWN_TEXT_DIM.set(dim)
    try:
        yield
    finally:
        _KNOWN_TEXT_DIM.reset(token)


def _text_dim(spec: dict[str, Any]) -> int:
    known = _KNOWN_TEXT_DIM.get()
    if known is not None:
        return known
    from ..text import text_encoder_dim

    return text_encoder_dim(**spec)


def _elic_widths(config: ModelConfig) -> dict[str, Any]:
    return dict(N=config.N, M=config.M, groups=config.groups, ctx_hidden=config.ctx_hidden,
                layout=config.layout, qualities=config.qualities, param_widths=config.param_widths)


def build_elic(config: ModelConfig) -> ELIC:
    """ELIC (architecture ``elic``) of ``config``'s widths, entropy-model layout and qualities."""
    return ELIC(**_elic_widths(config))


def build_taco(config: ModelConfig) -> ELIC:
    """TACO (architecture ``taco``): ELIC with ``config``'s text-guided analysis."""
    assert config.text_encoder is not None  # ModelConfig requires one for a text-guided model
    return TACO(
        **_elic_widths(config),
        text_dim=_text_dim(config.text_encoder),
        heads=config.heads,
        residual=config.residual,
        use_mask=config.use_mask,
        learn_gamma=config.learn_gamma,
        gamma_init=config.gamma_init,
        text_injection=config.text_injection,
        injector_at=config.injector_at,
    )


def class_arguments(model_class: type[ELIC], config: ModelConfig) -> dict[str, Any]:
    """The keyword arguments a backbone registered as a class is built with:
    ``N=config.N, M=config.M, **config.options``, with ``qualities=config.qualities`` for a
    variable-rate config. Arguments the class's signature cannot take (an option it lacks,
    ``qualities`` for a single-rate class) are a TacoValueError naming them, and so is a
    single-rate config for a class whose ``qualities`` default is not None
    (:func:`qualities_problem`: :func:`~taco.models.registry.register_architecture` refuses it
    before any build)."""
    settings: dict[str, Any] = dict(config.options)
    if config.qualities is not None:
        settings["qualities"] = config.qualities
    arguments = dict(N=config.N, M=config.M, **settings)
    signature = inspect.signature(model_class)
    keyword = signature.parameters.get("qualities")
    default = None if keyword is None or keyword.default is keyword.empty else keyword.default
    if config.qualities is None and default is not None:
        problem = qualities_problem(config.architecture, model_class, default, None)
        raise TacoValueError(problem)
    try:
        signature.bind(**arguments)
    except TypeError as exc:
        # a field of the config's own that the class takes no keyword for, else the options
        own = [k for k in OWN_FIELDS if k in arguments and k not in signature.parameters]
        given = (", ".join(f"{k}={arguments[k]!r:.100}" for k in own) if own
                 else f"options {config.options!r:.200}")
        raise TacoValueError(f"architecture {config.architecture!r} cannot be built with "
                             f"{given}: {model_class.__name__}() {exc}") from None
    return arguments


def class_builder(model_class: type[ELIC]) -> Callable[[ModelConfig], ELIC]:
    """The builder of a backbone registered as a class
    (:func:`taco.models.register_architecture`): ``model_class(**class_arguments(...))``
    (:func:`class_arguments`: arguments its signature cannot take are a TacoValueError before it
    is called); what ``__init__`` itself raises is left as it is (a bug in the backbone, not a
    config it refuses)."""

    def build(config: ModelConfig) -> ELIC:
        return model_class(**class_arguments(model_class, config))

    # named as the class it builds: what a checkpoint's refusal names (unbuildable_config)
    build.__module__, build.__qualname__ = model_class.__module__, model_class.__qualname__
    return build


#: The methods a text-guided model (``uses_text``) is called with the text in second place:
#: ``model(x, text, quality=q)`` in training, ``model.analysis(x, text, stripe_rows=)`` in
#: :mod:`taco.codec`, and ``compress(x, text, quality=q)`` as TACO's; the text always by
#: position, so the second parameter may have any name, and quality and stripe_rows by keyword.
TEXT_METHODS = {"forward": "forward(self, x, text, quality=None)",
                "compress": "compress(self, x, text, quality=None)",
                "analysis": "analysis(self, x, text=None, *, stripe_rows=None)"}

#: The keyword each of :data:`TEXT_METHODS` is called with after ``(x, text)``.
TEXT_METHOD_KEYWORDS = {"forward": "quality", "compress": "quality", "analysis": "stripe_rows"}


def text_call_problem(method: Callable[..., Any], name: str) -> str | None:
    """Why ``method`` (a function of the class: ``self`` first) cannot be called as taco calls
    method ``name`` of :data:`TEXT_METHODS`, ``(self, x, text, <keyword>=...)``
    (``inspect.Signature.bind``'s words: a forward(self, x, q=None) takes the text as its q and
    no ``quality``); None when it can."""
    try:
        inspect.signature(method).bind(None, None, None, **{TEXT_METHOD_KEYWORDS[name]: None})
    except TypeError as exc:
        return str(exc)
    return None


def text_methods_problem(model_class: type) -> str | None:
    """What keeps a text-guided model class from taking the calls taco makes
    (:data:`TEXT_METHODS`: a class that inherits ELIC's forward and compress takes no text), in
    one sentence naming each method, where it comes from and why; None when nothing does."""
    problems = {name: text_call_problem(getattr(model_class, name), name) for name in TEXT_METHODS}
    missing = {name: why for name, why in problems.items() if why}
    if not missing:
        return None
    named = " and ".join(f"{model_class.__name__}.{name} ({getattr(model_class, name).__qualname__}: "
                         f"{why})" for name, why in missing.items())
    calls = ", ".join(f"{name}(x, text, {keyword}=...)" for name, keyword in TEXT_METHOD_KEYWORDS.items())
    return (f"{named} cannot take the text as taco passes it: a text-guided backbone "
            f"(textless=False) is called {calls}, the text second by position (TextTokens, or "
            f"None; any name), so it needs {', '.join(TEXT_METHODS.values())}, as TACO's "
            f"({docs_ref('models.md', 'Adding a backbone')})")


#: The builder of each architecture name (:data:`~taco.models.config.ARCHITECTURES`): a function
#: of the config that returns the model with random weights.
#: :func:`taco.models.register_architecture` adds a backbone's.
BUILDERS: dict[str, Callable[[ModelConfig], ELIC]] = {"elic": build_elic, "taco": build_taco}


def unbuildable_config(config: ModelConfig, exc: BaseException) -> str:
    """Why a checkpoint's ``config`` was not built (``exc``: what building it raised), for the
    refusal that names the file: for an architecture a backbone registered, that its code
    refuses it (a config of a version it no longer implements: docs/models.md, "Changing a
    backbone's code"), naming its builder; for taco's own, that the header's config is invalid."""
    builder = BUILDERS.get(config.architecture)
    if builder is None or config.architecture in BUILTIN_ARCHITECTURES:
        return f"invalid model config in the taco header ({exc})"
    reason = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    return (f"the registered architecture {config.architecture!r} "
            f"({builder_name(builder)}) cannot build this checkpoint's config: {reason}")


def builder_name(builder: Callable[..., Any]) -> str:
    """``module.qualname`` of a builder (a registered class's is the class's:
    :func:`class_builder`; a callable object without them, its type's)."""
    module = getattr(builder, "__module__", None) or type(builder).__module__
    return f"{module}.{getattr(builder, '__qualname__', type(builder).__qualname__)}"


#: What ELIC's inherited methods read of a backbone, which its ``__init__`` sets when it does
#: not run ELIC's (docs/models.md, "Adding a backbone", item 2): N (``tiling_width``), groups
#: (``latent_shapes``), g_a and g_s. ``M`` and ``layout`` are ELIC's own, read by none of them.
MODEL_ATTRIBUTES = ("N", "groups", "g_a", "g_s")


def not_elic_problem(name: str) -> str:
    """The refusal of class ``name``, no subclass of :class:`ELIC`: :func:`check_backbone`'s
    for a built model, :func:`~taco.models.registry.register_architecture`'s for a class."""
    return (f"{name} is not a subclass of taco.models.ELIC: the codec, the trainer "
            f"and the CLI take ELIC models ({docs_ref('models.md', 'Adding a backbone')})")


def uses_text_problem(name: str, uses_text: bool, textless: bool) -> str | None:
    """The refusal of model class ``name`` whose ``uses_text`` contradicts the ``textless`` it
    is registered with (:func:`~taco.models.registry.register_architecture`'s for a class,
    :func:`build_model`'s for a builder function's model); None when they agree."""
    if bool(uses_text) != textless:
        return None
    return f"{name}.uses_text is {uses_text}: register it with textless={not uses_text}"


def qualities_problem(architecture: str, builder: Callable[..., Any], built: object,
                      configured: Sequence[float] | None) -> str | None:
    """The refusal of the builder of ``architecture`` whose model's qualities (``built``: the
    model's ``qualities``, or a class's default for them) are not its config's
    (``configured``): checkpoints' headers and ``taco compress``'s early -q check read the
    config, so a model that is variable-rate only by its class's default would be called
    single-rate there (:func:`build_model`'s, and :func:`class_arguments`' for a class's
    default); None when they agree. A model whose qualities are None from a variable-rate
    config keeps its gains where ELIC's ``qualities`` does not read them (it reads
    ``latent_codec.gains``): the refusal says that, not to put qualities already there in the
    config."""
    def as_list(value: object) -> object:
        return list(value) if isinstance(value, list | tuple) else value

    if as_list(built) == as_list(configured):
        return None
    if built is None and configured is not None:
        return (f"the builder of architecture {architecture!r} ({builder_name(builder)}) builds a "
                f"model whose qualities are None from a config with qualities "
                f"{as_list(configured)!r:.200}: ELIC's qualities property reads "
                f"latent_codec.gains; keep a taco.models.gains.QualityGains as "
                f"latent_codec.gains, or override the qualities property "
                f"({docs_ref('models.md', 'Adding a backbone')})")
    return (f"the builder of architecture {architecture!r} ({builder_name(builder)}) builds a "
            f"model with qualities {as_list(built)!r:.200} from a config with qualities "
            f"{as_list(configured)!r:.200}: put the model's qualities in the config (checkpoints "
            f"and taco compress -q read them from it; "
            f"{docs_ref('models.md', 'Adding a backbone')})")


def check_backbone(model: object, builder: Callable[..., Any] | None = None,
                   architecture: str | None = None) -> None:
    """:class:`~taco.errors.BackboneError` (a TypeError) naming ``model``'s class unless it is
    a :class:`ELIC` that has every one of :data:`MODEL_ATTRIBUTES` (naming those it lacks):
    :func:`build_model` calls it, so a backbone finds out when it is built, not at its first
    compress (``tiling_width`` reads N). With ``builder`` (what built it for ``architecture``), a model that is no ELIC (None: a
    builder function without ``return``) is said to be what that builder returned."""
    name = type(model).__name__
    if not isinstance(model, ELIC):
        if builder is None:
            raise BackboneError(not_elic_problem(name))
        what = "None (a missing return?)" if model is None else f"a {name}"
        raise BackboneError(f"the builder of architecture {architecture!r} "
                            f"({builder_name(builder)}) returned {what}: {not_elic_problem(name)}")
    guide = docs_ref("models.md", "Adding a backbone")
    missing = [a for a in MODEL_ATTRIBUTES if not hasattr(model, a)]
    if missing:
        raise BackboneError(f"{name} does not set {', '.join(f'self.{a}' for a in missing)}: a "
                            f"backbone that does not run ELIC.__init__ sets N, groups (the y "
                            f"channel groups: [M] for one), g_a and g_s, which ELIC's methods "
                            f"read ({guide})")


def float32_weights(model: nn.Module) -> None:
    """Convert ``model``'s floating-point parameters and buffers that are not float32 to float32,
    in place: what the build made while another thread had set torch's process-wide default dtype
    (float64, say) inside :func:`float32_default`. taco's models hold only float32 ones (none is
    float64 by design: :func:`taco.codec.check_model` refuses those), so this is what the
    architecture made them; a mixed model was refused by every compress ("this model's weights
    are float64"), or ``create_model`` failed building its coder tables ("expected scalar type
    Double but found Float"). Exact for a checkpoint's weights, copied in after the build; seeded
    random weights drawn in float64 meanwhile are rounded, but not the seed's usual draws."""
    if any(t.is_floating_point() and t.dtype != torch.float32
           for t in (*model.parameters(), *model.buffers())):
        model.float()


def build_model(config: ModelConfig) -> ELIC:
    """Instantiate the architecture described by ``config`` (random weights) with its builder
    in :data:`BUILDERS`; ValueError for a name without one (a config changed after it was
    checked) and, naming the architecture and what it refuses, for a class that cannot take
    the config's arguments (:func:`class_builder`: a backbone's ``options`` that its class does
    not take: a checkpoint's header is text from a file). A :class:`~taco.errors.BackboneError`
    (a TypeError), naming the class, for a model whose latent codec
    :mod:`taco.models.fast_codec` cannot code (:func:`~taco.models.fast_codec.check_latent_codec`),
    for a text-guided one
    whose forward, compress or analysis cannot take the call taco makes (:func:`text_methods_problem`), for a model whose
    ``uses_text`` contradicts its architecture's registration (``textless``:
    :func:`uses_text_problem`), for a model whose ``qualities`` are not its config's (a class
    variable-rate by its own default: :func:`qualities_problem`), and for a model that is no ELIC (None included, naming its
    builder) or lacks what ELIC's methods read (:func:`check_backbone`): a new backbone finds out
    here, not at its first compress or training step. The model is float32 whatever torch's
    default dtype (:func:`float32_default`), even when another thread changes that default
    during the build (:func:`float32_weights`)."""
    build = BUILDERS.get(config.architecture)
    if build is None:
        raise model_config.UnknownArchitectureError(
            model_config.unknown_architecture_message(config.architecture))
    with float32_default():
        model = build(config)
    check_backbone(model, build, config.architecture)  # before its weights: None has none
    float32_weights(model)
    check_latent_codec(model)
    if problem := qualities_problem(config.architecture, build, model.qualities, config.qualities):
        raise BackboneError(problem)
    textless = config.architecture in model_config.TEXTLESS_ARCHITECTURES
    if problem := uses_text_problem(type(model).__name__, model.uses_text, textless):
        raise BackboneError(problem)  # a builder function's model (a class's: when registered)
    if model.uses_text and (problem := text_methods_problem(type(model))):
        raise BackboneError(problem)
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
    torch functions and stay on the CPU: O(N), bounded by :data:`~taco.models.config.MAX_WIDTH`.

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
    global RNG is left as it was (the CPU-side initialisers draw from it).

    A layer whose construction mixes meta and CPU tensors (CompressAI's GDN: its pedestal comes
    from a legacy constructor, on the CPU) is built for real instead, in memory bounded by
    :data:`~taco.models.config.MAX_WIDTH`: a new backbone's layers need not be meta-safe."""
    with private_draws():  # thrown away, off the caller's generator (not fork_rng: see taco.draws)
        try:
            with _MetaTensors():
                return build_model(config)
        except (RuntimeError, NotImplementedError):
            return build_model(config)
