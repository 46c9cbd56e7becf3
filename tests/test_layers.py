"""The package reads top-down: no import cycle, no import into a higher layer, no private name
used across modules. Every module is parsed (ast), function-local and TYPE_CHECKING imports
included, and so are imports by name (``importlib.import_module("taco.x")``, ``COMMAND_MODULES``,
the package's lazy attributes): any string that names a taco submodule counts as an import of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "taco"

#: Layers, top to bottom. A module may import modules of its own layer or of lower ones.
#: The first layer with a matching pattern wins (see :func:`_matches`).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("entry", ("taco", "taco.__main__", "taco.cli.*", "taco.*.cli", "taco.*.__main__")),
    ("library", ("taco.codec", "taco.pipeline", "taco.demo", "taco.resolve", "taco.evaluation.*",
                 "taco.train.*", "taco.bench.*", "taco.official.*")),
    ("core", ("taco.models.*", "taco.text.*", "taco.bitstream.*", "taco.metrics", "taco.losses",
              "taco.data")),
    ("base", ("taco.version", "taco.atomic", "taco.checksums", "taco.images", "taco.distributed", "taco.devices",
              "taco.shards", "taco.memory", "taco.progress", "taco.compressai_loader", "taco.lazy",
              "taco.suffixes", "taco.messages", "taco.captions_file", "taco.locks",
              "taco.checks", "taco.errors", "taco.fileobjects", "taco.jsonfiles", "taco.samples",
              "taco.recipe", "taco.tensor_marks")),
]
RANK = {name: len(LAYERS) - i for i, (name, _) in enumerate(LAYERS)}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _matches(pattern: str, module: str) -> bool:
    """``x.*``: x and everything under it; else component by component, ``*`` = any one."""
    if pattern.endswith(".*") and "*" not in pattern[:-2]:
        return module == pattern[:-2] or module.startswith(pattern[:-1])
    parts, names = pattern.split("."), module.split(".")
    return len(parts) == len(names) and all(p in ("*", n) for p, n in zip(parts, names, strict=True))


def layer(module: str) -> str:
    for name, patterns in LAYERS:
        if any(_matches(p, module) for p in patterns):
            return name
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def _existing(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


class Imports(ast.NodeVisitor):
    """The taco modules one module imports (line numbers), and private names it takes from them."""

    def __init__(self, module: str, is_pkg: bool) -> None:
        self.module = module
        self.package = module if is_pkg else module.rpartition(".")[0]
        self.edges: dict[str, int] = {}
        self.private: list[str] = []
        self.module_names: dict[str, str] = {}  # local name -> taco module it is bound to

    def _edge(self, target: str | None, line: int) -> None:
        if target and target != self.module:
            self.edges.setdefault(target, line)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = self.package.split(".")
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "taco":
                self._edge(_existing(alias.name), node.lineno)
                if alias.asname:
                    self.module_names[alias.asname] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node)
        if source.split(".")[0] != "taco":
            return
        for alias in node.names:
            full = f"{source}.{alias.name}"
            if full in MODULES:
                self._edge(full, node.lineno)
                self.module_names[alias.asname or alias.name] = full
            else:
                self._edge(_existing(source), node.lineno)
                if _private(alias.name):
                    self.private.append(f"{self.module}:{node.lineno} imports {alias.name} from {source}")
        parts = source.split(".")
        for i, part in enumerate(parts):
            owner = ".".join(parts[:i])  # a private module is private to its package
            if _private(part) and not self.module.startswith(owner + "."):
                self.private.append(f"{self.module}:{node.lineno} imports from private module {source}")

    def visit_Constant(self, node: ast.Constant) -> None:
        # imported by name ("taco" alone is also a word: an architecture, a system name)
        if isinstance(node.value, str) and node.value in MODULES and "." in node.value:
            self._edge(node.value, node.lineno)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if (isinstance(node.value, ast.Name) and node.value.id in self.module_names
                and _private(node.attr)):
            self.private.append(f"{self.module}:{node.lineno} uses "
                                f"{self.module_names[node.value.id]}.{node.attr}")
        self.generic_visit(node)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _scan() -> dict[str, Imports]:
    out = {}
    for module, (path, is_pkg) in MODULES.items():
        visitor = Imports(module, is_pkg)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out[module] = visitor
    return out


SCAN = _scan()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _is_own_package(importer: str, target: str) -> bool:
    # a package's __init__ importing its own submodules is how packages work (a submodule that
    # takes a name from its package's __init__, though, depends on everything the package does)
    return target.startswith(importer + ".")


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer(module)


def test_no_import_cycles():
    edges = {m: {t for t in s.edges if not _is_own_package(m, t)} for m, s in SCAN.items()}
    assert _cycles(edges) == []


def test_no_import_into_a_higher_layer():
    upward = [
        f"{m}:{line} ({layer(m)}) imports {t} ({layer(t)})"
        for m, s in SCAN.items()
        for t, line in s.edges.items()
        if not _is_own_package(m, t) and RANK[layer(t)] > RANK[layer(m)]
    ]
    assert upward == []


def test_no_private_name_crosses_modules():
    assert [p for s in SCAN.values() for p in s.private] == []


@pytest.mark.parametrize("module,expected", [
    ("taco", "entry"), ("taco.cli", "entry"), ("taco.cli.files", "entry"), ("taco.evaluation.cli", "entry"),
    ("taco.bench.cli", "entry"), ("taco.train.__main__", "entry"), ("taco.codec", "library"),
    ("taco.evaluation.evaluate", "library"), ("taco.bench.latency", "library"),
    ("taco.models.registry", "core"), ("taco.text.worker", "core"), ("taco.images", "base"),
])
def test_layer_patterns(module, expected):
    assert layer(module) == expected


def test_the_checks_can_fail():
    """The scanner sees what it must: function-local imports, imports by name, private names."""
    src = (
        "import importlib\n"
        "def f():\n"
        "    from ..cli import main\n"
        "    from .fast_codec import _scale_indexes\n"
        "    from . import fast_codec\n"
        "    fast_codec._symbols\n"
        "    importlib.import_module('taco.codec')\n"
    )
    v = Imports("taco.models.x", is_pkg=False)
    v.visit(ast.parse(src))
    assert {"taco.cli", "taco.codec", "taco.models.fast_codec"} <= set(v.edges)
    assert len(v.private) == 2
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
