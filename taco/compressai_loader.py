"""Import CompressAI's codec modules without running its heavy package roots.

``from compressai.entropy_models import EntropyBottleneck`` first runs ``compressai/__init__.py``,
which imports *every* subpackage: ``compressai.transforms`` and ``compressai.registry`` import
``torch_geometric`` (which loads ``torch._dynamo`` and calls ``torch.jit.script``, printing a
FutureWarning) and torchvision, ``compressai.datasets`` its image, video and point-cloud datasets.
Measured on a 2-core CPU: 3.8 s of the 5 s ``import compressai`` is code taco never runs. And
``compressai.entropy_models`` imports ``scipy.stats`` (1 s) for one ``norm.ppf`` call, made only
when Gaussian-conditional tables are rebuilt.

:func:`install` (called once by ``taco/__init__.py``, so every taco module goes through it) adds
an import hook that *defers* those packages (:data:`DEFERRED`): the package module exists at once,
with its ``__path__``, so ``import compressai.datasets.image`` works as usual, but its
``__init__.py`` runs only when code first asks the package for a name it does not have yet
(``from compressai.datasets import ImageFolder``, ``compressai.registry.TRANSFORMS``,
``dir(compressai.transforms)``). ``compressai.registry`` answers the names its ``__init__`` takes
from the light ``registry.torch`` (``register_module``, ``MODELS``, ...) without running the
rest. ``scipy.stats`` is deferred the same way, and only when CompressAI's entropy models are what
first imports it.

Nothing is copied or patched: the modules, classes and registries are CompressAI's own, and a
user's ``import compressai`` afterwards behaves as before (tests/test_startup.py checks both).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Sequence

__all__ = ["DEFERRED", "CompressAIFinder", "install", "is_pending"]

#: Package -> its light submodules: the names its ``__init__`` imports from them are given out
#: before that ``__init__`` has run. It runs on first use of any other name. Measured: with these
#: four deferred, the rest of CompressAI's root (models, zoo, ...) imports in ~0.05 s.
DEFERRED: dict[str, tuple[str, ...]] = {
    "compressai.datasets": (),  # image/video/point-cloud datasets: ~0.5 s
    "compressai.losses": (),  # pytorch_msssim
    "compressai.registry": ("torch",),  # .transforms: torchvision + torch_geometric
    "compressai.transforms": (),  # .point: torch_geometric (+ torch._dynamo, jit warnings)
}

#: Imported by this module of CompressAI -> deferred as well, if that import is the first one.
_DEFER_WHILE_LOADING: dict[str, tuple[str, ...]] = {
    "compressai.entropy_models.entropy_models": ("scipy.stats",),
}


class _DeferredPackage(importlib.abc.Loader):
    """Creates the package module now and runs the real loader's ``exec_module`` on first use."""

    def __init__(self, loader: importlib.abc.Loader, light: Sequence[str]) -> None:
        self.loader = loader
        self.light = tuple(light)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def offers(self, module: types.ModuleType) -> dict[str, tuple[str, str]]:
        """``{name: (submodule, its name there)}`` for what ``__init__`` takes from ``light``."""
        if not self.light:
            return {}
        source = self.loader.get_source(module.__name__)  # type: ignore[attr-defined]
        out: dict[str, tuple[str, str]] = {}
        for node in ast.parse(source or "").body:
            if (isinstance(node, ast.ImportFrom) and node.level == 1
                    and node.module in self.light):
                for alias in node.names:
                    out[alias.asname or alias.name] = (f"{module.__name__}.{node.module}",
                                                       alias.name)
        return out

    def exec_module(self, module: types.ModuleType) -> None:
        lock = threading.RLock()
        loader = self.loader
        offers = self.offers(module)
        hooks: dict[str, object] = {}

        def run_init() -> None:
            with lock:
                if module.__dict__.get("__getattr__") is not hooks["__getattr__"]:
                    return  # ran already, or is running (a name asked for during it is missing)
                for key in hooks:
                    del module.__dict__[key]
                module.__loader__ = loader
                if module.__spec__ is not None:
                    module.__spec__.loader = loader
                try:
                    loader.exec_module(module)  # type: ignore[attr-defined]
                except BaseException:
                    module.__dict__.update(hooks)  # try again on the next use
                    raise

        def __getattr__(name: str) -> object:  # noqa: N807
            if name in offers:
                sub, there = offers[name]
                value = getattr(importlib.import_module(sub), there)
                setattr(module, name, value)
                return value
            run_init()
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(
                    f"module {module.__name__!r} has no attribute {name!r}") from None

        def __dir__() -> list[str]:  # noqa: N807
            run_init()
            return sorted(module.__dict__)

        hooks.update(__getattr__=__getattr__, __dir__=__dir__)
        module.__dict__.update(hooks)


class _DeferWhileLoading(importlib.abc.Loader):
    """Runs a module while ``finder`` also defers the given packages, if they get imported then."""

    def __init__(self, loader: importlib.abc.Loader, finder: CompressAIFinder,
                 names: Sequence[str]) -> None:
        self.loader = loader
        self.finder = finder
        self.names = tuple(names)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        extra = {n: () for n in self.names if n not in sys.modules}
        self.finder.extra.update(extra)
        try:
            self.loader.exec_module(module)  # type: ignore[attr-defined]
        finally:
            for n in extra:
                self.finder.extra.pop(n, None)


class CompressAIFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder for the packages in :data:`DEFERRED`; every other name is left alone.

    It asks the finders after it for the real spec and only wraps that spec's loader, so
    CompressAI installed normally, editable or from another path is found the same way.
    """

    def __init__(self) -> None:
        self.extra: dict[str, tuple[str, ...]] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        light = DEFERRED.get(fullname, self.extra.get(fullname))
        also = _DEFER_WHILE_LOADING.get(fullname)
        if light is None and also is None:
            return None
        spec = self._real_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        if light is not None:
            if spec.submodule_search_locations is None:  # not a package: nothing to defer
                return spec
            spec.loader = _DeferredPackage(spec.loader, light)
        else:
            spec.loader = _DeferWhileLoading(spec.loader, self, also or ())
        return spec

    def _real_spec(self, fullname: str, path: Sequence[str] | None,
                   target: types.ModuleType | None) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, CompressAIFinder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                return spec
        return None


def install() -> None:
    """Put :class:`CompressAIFinder` first on ``sys.meta_path`` (once). Imports nothing.

    Packages already imported (a program that imported CompressAI before taco) stay as they are.
    """
    if not any(isinstance(f, CompressAIFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, CompressAIFinder())


def is_pending(module: types.ModuleType) -> bool:
    """Whether ``module`` is a deferred package whose ``__init__`` has not run yet."""
    return isinstance(vars(module).get("__loader__"), _DeferredPackage)

