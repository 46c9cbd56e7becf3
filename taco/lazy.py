"""Names of a package that load their submodule on first use (PEP 562), so that importing the
package (and ``taco X --help``) imports no torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from typing import Any


def lazy_names(
    package: str, where: Mapping[str, str], namespace: dict[str, Any],
    submodules: Collection[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: name -> the module in ``where`` that defines
    it, imported on first use and then kept in ``namespace`` (the package's ``globals()``); each
    name in ``submodules`` is the package's submodule of that name (``taco.metrics``), imported on
    first use. ``__dir__`` lists the package's public names: its ``__all__`` (or, without one, the
    names in ``namespace`` not starting with ``_``), the lazy names and the submodules, not what
    the package imports for itself (``TYPE_CHECKING``, ``lazy_names``)."""

    def __getattr__(name: str) -> Any:  # noqa: N807
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        public = namespace.get("__all__") or [name for name in namespace if not name.startswith("_")]
        return sorted({*public, *where, *submodules})

    return __getattr__, __dir__
