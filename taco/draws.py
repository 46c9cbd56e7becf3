"""Random draws kept off torch's process-wide generator, for the calling thread only.

    with private_draws(torch.Generator().manual_seed(0)):   # seeded weights, in any thread
        model = build_model(config)
    with private_draws():                                    # a throwaway init, overwritten
        skeleton = build_model(config)

torch has one CPU generator for the whole process. Seeding it for a build, or keeping a build's
throwaway draws off it with ``torch.random.fork_rng`` (save, draw, restore), acts on every
thread: concurrent builds change each other's weights, and the restore undoes what other threads
drew meanwhile (a user's seeded stream repeated itself). :func:`private_draws` instead hands its
own generator to the random functions and ``torch.nn.init`` initialisers the calling thread
calls (a ``TorchFunctionMode``, which is per thread), and leaves the global generator alone.

:func:`cpu_default_device`: the calling thread's tensors made without a device are made on the
CPU, whatever default device the caller set (``torch.set_default_device("cuda")``,
``with torch.device("meta"):``); taco's entry points run inside it (:func:`with_cpu_default_device`
for a whole function). :func:`coding_defaults` adds what coding needs besides: no autocast in this
thread, and a warning about process-wide reduced float32 precision (:func:`with_coding_defaults`
for a whole function).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ParamSpec, TypeVar

import torch
from torch.overrides import TorchFunctionMode

from .errors import ReducedPrecisionWarning, warn_at_caller
from .messages import docs_ref

__all__ = ["PrivateDraws", "cpu_default_device", "private_draws", "seeded_draws",
           "with_cpu_default_device"]


@functools.cache
def seeded_draws() -> tuple[frozenset[Any], dict[Any, int]]:
    """The torch functions :func:`private_draws` gives its generator to: torch's random functions
    and the ``nn.init`` initialisers that take a ``generator`` (with its position, so that one
    given by position stays). A draw not among them (dropout, ``torch.distributions`` beyond
    gamma/Dirichlet/binomial, a GPU tensor's) draws from torch's global generator."""
    inits = [f for f in vars(torch.nn.init).values()  # they pass it on to torch's own draws
             if inspect.isfunction(f) and "generator" in inspect.signature(f).parameters]
    draws = frozenset({
        torch.rand, torch.randn, torch.randint, torch.randperm, torch.normal, torch.bernoulli,
        torch.multinomial, torch.poisson, torch.binomial, torch._standard_gamma,
        torch._sample_dirichlet, torch.rand_like, torch.randn_like, torch.randint_like,
        torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.bernoulli_,
        torch.Tensor.bernoulli, torch.Tensor.random_, torch.Tensor.exponential_,
        torch.Tensor.geometric_, torch.Tensor.log_normal_, torch.Tensor.cauchy_,
        torch.Tensor.multinomial, *inits,
    })  # fmt: skip
    return draws, {f: list(inspect.signature(f).parameters).index("generator") for f in inits}


class PrivateDraws(TorchFunctionMode):
    """The mode :func:`private_draws` enters: a thread's own (other threads' calls are not seen)."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        draws, at = seeded_draws()
        given = kwargs.get("generator")
        if (func in draws and (given is None or given is torch.default_generator)
                and len(args) <= at.get(func, len(args))):
            first = args[0] if args else None
            device = kwargs.get("device") or (first.device if isinstance(first, torch.Tensor)
                                              else torch.get_default_device())
            if torch.device(device).type == "cpu":
                kwargs = {**kwargs, "generator": self.generator}
        return func(*args, **kwargs)


def private_draws(generator: torch.Generator | None = None) -> PrivateDraws:
    """A context in which the CPU draws of :func:`seeded_draws` that this thread makes without a
    generator of their own (or with ``torch.default_generator``) come from ``generator`` (None:
    a fresh, unseeded one, for draws that are thrown away); meta and GPU tensors draw as before."""
    return PrivateDraws(generator if generator is not None else torch.Generator())


@contextmanager
def cpu_default_device() -> Iterator[None]:
    """Inside it, this thread's tensors made without a device are made on the CPU: taco's
    entry points (``taco.load``, ``create_model``, ``compress``,
    ``decompress``, ...) build and load models on the CPU, as documented, and code on the
    model's device, whatever default device the caller set. Under ``torch.device("meta")`` a
    build made meta weights (``taco.load`` blamed the file: "Cannot copy out of meta tensor")
    and the coder's tables could not be read (``Tensor.item() cannot be called on meta
    tensors``). torch's default device is per thread (a ``DeviceContext``, a
    ``TorchFunctionMode`` on this thread's stack; ``set_default_device`` keeps one per thread
    too), so other threads keep theirs (only ``torch.compile``'s guards read the process-wide
    ``torch.utils._device.CURRENT_DEVICE`` it also sets). That mode sees every torch call made
    inside it: it is entered only when the default is not the CPU already, so the ordinary path
    pays one look at the mode stack (~13 us a call on a 2-core CPU)."""
    if torch.get_default_device().type == "cpu":
        yield
    else:
        with torch.device("cpu"):
            yield


P = ParamSpec("P")
R = TypeVar("R")


def _run_inside(context: Callable[[], AbstractContextManager[Any]], func: Callable[P, R],
               before: Callable[[], None] | None = None) -> Callable[P, R]:
    """``func`` run inside a fresh ``context()``, after ``before()`` if given (called from the
    wrapper, not from inside the context: a warning there would blame ``contextlib``'s frame). A
    wrapper of taco's own, not ``contextlib``'s decorator: :func:`taco.errors.warn_at_caller`
    blames the first frame outside taco and torch, which ``contextlib``'s wrapper would have been."""
    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if before is not None:
            before()
        with context():
            return func(*args, **kwargs)
    return run


def with_cpu_default_device(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run inside :func:`cpu_default_device`."""
    return _run_inside(cpu_default_device, func)


#: torch's process-wide settings that let float32 convolutions and matrix products run in less
#: precision (bfloat16 or TF32), besides ``torch.get_float32_matmul_precision()``: (attribute path
#: under ``torch``, the values that do, whether torch derives it from
#: ``torch.set_float32_matmul_precision``). cuDNN's TF32 convolutions, on by default, are left
#: out: they are one of the reasons a GPU writes other bytes than a CPU (docs/reliability.md
#: "Determinism").
REDUCED_PRECISION_SETTINGS = (
    ("backends.mkldnn.fp32_precision", ("bf16", "tf32"), False),
    ("backends.mkldnn.conv.fp32_precision", ("bf16", "tf32"), False),
    ("backends.mkldnn.matmul.fp32_precision", ("bf16", "tf32"), True),
    ("backends.cuda.matmul.fp32_precision", ("tf32",), True),
    ("backends.cuda.matmul.allow_tf32", (True,), True),
)


def reduced_precision_settings() -> list[str]:
    """The process-wide torch settings now on that compute float32 convolutions or matrix
    products in less precision, as ``name = value``; those this torch lacks are skipped. Under
    ``torch.set_float32_matmul_precision('high')`` (or ``'medium'``) that one call is named, not
    the three backend settings torch derives from it."""
    try:
        matmul = torch.get_float32_matmul_precision()
    except RuntimeError:  # the legacy and per-backend settings mixed: torch names no one value
        matmul = "highest"
    found = [] if matmul == "highest" else [f"torch.set_float32_matmul_precision({matmul!r})"]
    for path, reduced, from_matmul in REDUCED_PRECISION_SETTINGS:
        if from_matmul and found:
            continue
        value: Any = torch
        for name in path.split("."):
            value = getattr(value, name, None)
        if value in reduced:
            found.append(f"torch.{path} = {value!r}")
    return found


def warn_reduced_precision() -> None:
    """Warn, at the caller's line, when a process-wide torch setting lowers float32 precision:
    g_a, the text adapter and g_s then compute other values, so the bytes written and the pixels
    decoded may differ from other machines'. Python's warning filters decide how often (under
    the default ones, once per calling line); the check costs a few microseconds a call. taco
    does not change the setting back: it is process-wide, and other threads may rely on it."""
    found = reduced_precision_settings()
    if found:
        warn_at_caller(f"{', '.join(found)}: float32 convolutions or matrix products run in less "
                       "precision in this process, so the bytes taco writes and the pixels it "
                       f"decodes may differ from other machines' "
                       f"({docs_ref('reliability.md', 'Guarantees')})", ReducedPrecisionWarning)


@contextmanager
def coding_defaults() -> Iterator[None]:
    """Coding as documented, whatever the calling thread set: inside :func:`cpu_default_device`,
    with autocast off for the CPU and CUDA (a caller's ``torch.autocast(..., torch.bfloat16)``
    ran taco's float32 g_a, adapter and g_s in bfloat16: other bytes, and a file decoded with a
    third of its pixels up to 3 levels off). Autocast is per thread, so this changes nothing
    for other threads. The process-wide settings it cannot safely undo are
    :func:`warn_reduced_precision`'s."""
    with cpu_default_device(), torch.autocast("cpu", enabled=False), torch.autocast("cuda", enabled=False):
        yield


def with_coding_defaults(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run inside :func:`coding_defaults`, after :func:`warn_reduced_precision`."""
    return _run_inside(coding_defaults, func, before=warn_reduced_precision)


def with_coding_defaults_no_warning(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run inside :func:`coding_defaults`, without :func:`warn_reduced_precision`: for
    what coding reuses but may run on another thread (the text encoder's cached tokens), where
    the warning would blame no caller; the coding call itself warns."""
    return _run_inside(coding_defaults, func)
