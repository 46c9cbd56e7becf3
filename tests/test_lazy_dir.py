"""``dir()`` of a lazy package (taco.lazy.lazy_names) lists its public names: its ``__all__``, the
lazy names and the submodules, not what the package imports for itself (dir(taco) had grown from
29 names to 62: TYPE_CHECKING, annotations, lazy_names, _LAZY, compressai_loader, ...)."""

from __future__ import annotations

import importlib
import types

import pytest

from taco.lazy import lazy_names

PACKAGES = ["taco", "taco.official", "taco.models", "taco.train", "taco.evaluation"]
INTERNALS = {"TYPE_CHECKING", "annotations", "lazy_names", "importlib", "compressai_loader",
             "lazy", "version"}


@pytest.mark.parametrize("package", PACKAGES)
def test_dir_lists_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    names = dir(module)
    assert set(module.__all__) <= set(names)
    assert [n for n in names if n.startswith("_") and n not in module.__all__] == []
    assert INTERNALS.isdisjoint(names), sorted(INTERNALS & set(names))


def test_dir_taco_adds_only_its_submodules_to_all() -> None:
    import taco

    assert "__version__" in dir(taco)
    assert set(dir(taco)) - set(taco.__all__) == {
        "bitstream", "codec", "data", "demo", "devices", "errors", "evaluation", "fileobjects",
        "images", "memory", "messages", "metrics", "models", "official", "pipeline", "progress",
        "resolve", "text", "train"}


def test_a_package_without_all_lists_its_names_without_underscores() -> None:
    package = types.ModuleType("pkg")
    namespace = vars(package)
    namespace.update(_private=1, public=2)
    _, dir_ = lazy_names("pkg", {"lazy": "pkg.mod"}, namespace, ["sub"])
    assert dir_() == ["lazy", "public", "sub"]
