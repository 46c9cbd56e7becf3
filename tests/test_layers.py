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
    ("core", ("taco.models.*", "taco.text.*", "taco.text_specs", "taco.bitstream.*", "taco.metrics",
              "taco.losses", "taco.data")),
    ("base", ("taco.version", "taco.atomic", "taco.checksums", "taco.images", "taco.distributed", "taco.devices",
              "taco.colour", "taco.shards", "taco.memory", "taco.progress", "taco.compressai_loader", "taco.lazy",
              "taco.suffixes", "taco.messages", "taco.captions_file", "taco.locks",
              "taco.checks", "taco.errors", "taco.fileobjects", "taco.filekinds", "taco.jsonfiles", "taco.samples",
              "taco.recipe", "taco.tensor_marks", "taco.draws")),
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
        self.defined: set[str] = set()  # the private names the module defines (defined_private)

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


def defined_private(tree: ast.AST) -> set[str]:
    """The private names a module defines as functions, methods, class attributes or ``self._x``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                targets = item.targets if isinstance(item, ast.Assign) else [getattr(item, "target", None)]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id == "self"):
            names.add(node.attr)
    return {name for name in names if _private(name)}


def _scan() -> dict[str, Imports]:
    out = {}
    for module, (path, is_pkg) in MODULES.items():
        visitor = Imports(module, is_pkg)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        visitor.visit(tree)
        visitor.defined = defined_private(tree)
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


# --------------------------------------------------------------------------- private names in tests

TESTS = Path(__file__).resolve().parent
_PROBES = frozenset({"setattr", "getattr", "delattr", "hasattr"})


class PrivateUses(ast.NodeVisitor):
    """The private names of taco (``taco.x._y``: a private module, function, class, attribute or
    method, dunders excepted) one test module uses: imported (``from taco.x import _y``), reached
    as attributes of names bound to taco (``import taco.x`` then ``taco.x._y``; ``from taco import
    x`` then ``x._y``; ``from taco.x import C`` then ``C._m``), named in strings
    (``monkeypatch.setattr("taco.x._y", ...)``), as the name of ``(monkeypatch.)setattr``,
    ``getattr``, ... (``setattr(x, "_y", ...)``), and in Python source held in a string (a child
    process's ``-c`` script). An attribute of any other object (``encoder._cache``) counts too if
    taco defines that private name (in ``attributes``): it is recorded as ``taco.*._cache``."""

    def __init__(self, attributes: frozenset[str] = frozenset()) -> None:
        self.attributes = attributes  # private names taco defines, not the test module itself
        self.bound: dict[str, str] = {}  # local name -> the dotted taco name bound to it
        self.uses: dict[str, int] = {}  # dotted private name -> first line

    def _use(self, dotted: str, line: int) -> None:
        if any(_private(part) for part in dotted.split(".")[1:]):
            self.uses.setdefault(dotted, line)

    def _dotted(self, node: ast.AST) -> str | None:
        """The taco name an expression ``a.b.c`` stands for, through the names bound to taco."""
        attrs = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.bound:
            return ".".join([self.bound[node.id], *reversed(attrs)])
        return None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "taco":
                self._use(alias.name, node.lineno)
                self.bound[alias.asname or "taco"] = alias.name if alias.asname else "taco"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or (node.module or "").split(".")[0] != "taco":
            return
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            self._use(full, node.lineno)
            self.bound[alias.asname or alias.name] = full

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._dotted(node)
        if dotted is not None:
            self._use(dotted, node.lineno)
        else:
            if node.attr in self.attributes:
                self._use(f"taco.*.{node.attr}", node.lineno)
            self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if (name in _PROBES and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)):
            owner = self._dotted(node.args[0])
            if owner is not None:
                self._use(f"{owner}.{node.args[1].value}", node.lineno)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or "taco" not in node.value:
            return
        if all(part.isidentifier() for part in node.value.split(".")):
            if node.value.startswith("taco."):
                self._use(node.value, node.lineno)
        elif "\n" in node.value:  # source run in a child process
            try:
                tree = ast.parse(node.value)
            except SyntaxError:
                return
            inner = PrivateUses(self.attributes)
            inner.visit(tree)
            for dotted in inner.uses:
                self.uses.setdefault(dotted, node.lineno)


TACO_PRIVATE = frozenset().union(*(s.defined for s in SCAN.values()))


def private_uses(source: str) -> dict[str, int]:
    tree = ast.parse(source)
    visitor = PrivateUses(TACO_PRIVATE - defined_private(tree))
    visitor.visit(tree)
    return visitor.uses

#: Test file (under tests/) -> the private taco names it may use, each with why. Tests go through
#: public names; these are white-box tests of a private helper, or fault injection where no public
#: seam exists yet. A new private use fails :func:`test_tests_use_no_private_name_unlisted`.
ALLOWED_IN_TESTS: dict[str, dict[str, str]] = {
    "conftest.py": {
        "taco.atomic._write_all": "fail_writes: the one fixture that makes atomic writes fail",
        "taco.*._forward_y": "a test architecture that reads text codes y through its base's hook",
    },
    "evaluation/test_atomic_writes.py": {
        "taco.evaluation.runner._merge": "the rank-shard merge is atomic; no public call merges alone",
    },
    "evaluation/test_eval_cli.py": {
        "taco.evaluation.cli._setting": "white-box: the setting words of each kind of summary line",
    },
    "evaluation/test_eval_notes_shown_paths.py": {
        "taco.evaluation.evaluate._load_models": "the notes of model loading, without a dataset to run",
    },
    "evaluation/test_results_csv_tail.py": {
        "taco.evaluation.runner._TAIL_STEP": "a small read-back step puts the torn row across steps",
    },
    "models/test_variable_rate.py": {
        "taco.models.entropy._inverse_gained": "white-box maths: the float64 product rounded once",
    },
    "test_atomic.py": {
        "taco.text.clip_vocab._write_files": "the CLIP vocab writer is atomic; reached only by a download",
    },
    "test_bench.py": {
        "taco.bench.latency._run_elic": "white-box: one latency run, without a whole benchmark",
        "taco.*._encode": "counts the captions the text network reads during a timed run",
    },
    "test_cli.py": {
        "taco.cli.models._training_line": "white-box: the training words of taco models, one line",
    },
    "test_cli_batches.py": {
        "taco.cli._signals_as_interrupts": "a forked child ends on SIGTERM under the command's handler",
        "taco.cli.files._case_blind": "a case-blind file system (macOS, Windows) on Linux",
    },
    "test_closed_streams.py": {
        "taco.evaluation.runner._CSVWriter": "a full disk under the results CSV's own file writes",
    },
    "test_decoding.py": {
        "taco.models.conv_bands._Banded": "white-box: which convolutions are run in bands",
    },
    "test_folder_lock.py": {
        "taco.locks._open": "the lock file released between its open and its lock (a race)",
    },
    "test_hostile_image_reads.py": {
        "taco.images._limit_inside": "white-box: a child forked inside pillow_pixel_limit counts right",
    },
    "test_metrics.py": {
        "taco.metrics._load_lpips_trunk": "white-box: the LPIPS trunk's checksum is checked on load",
        "taco.metrics._resize_bilinear_tf1": "white-box maths: TF1 bilinear resize against reference",
    },
    "test_pillow_pixel_limit.py": {
        "taco.images._limit_inside": "white-box: threads with different caps leave nobody counted inside",
    },
    "test_public_names.py": {
        "taco._LAZY": "the package's lazy names are __all__, checked against its table",
        "taco._SUBMODULES": "the package's lazy submodules, checked against its table",
    },
    "text/test_clip.py": {
        "taco.*._encode": "white-box: tokens bit-identical to transformers', the cache bypassed",
    },
    "text/test_minilm.py": {
        "taco.*._encode": "white-box: tokens bit-identical to transformers', the cache bypassed",
    },
    "text/test_service.py": {
        "taco.*._cache": "white-box: the caption cache's least-recently-used order and size",
        "taco.*._cache_lock": "a pickled or deep-copied encoder gets a lock of its own",
    },
    "train/test_checkpoint_before_validation.py": {
        "taco.train.trainer.Trainer._save": "the order of a step's checkpoint and its validation",
        "taco.train.trainer.Trainer._validate": "the order of a step's checkpoint and its validation",
        "taco.train.validation._real_coding": "a failing real coding inside a validation",
    },
    "train/test_img_per_s_window.py": {
        "taco.train.trainer.Trainer._save_together": "a slow save between two log records",
        "taco.train.trainer.Trainer._validate_together": "a slow validation between two log records",
    },
    "train/test_losses.py": {
        "taco.*._text_cache": "the text tower's caption cache stays within max_cached_captions",
    },
    "train/test_stop_signals.py": {
        "taco.cli._run": "a command stopped by a signal under torchrun, without a command's work",
    },
}


def _test_files() -> dict[str, Path]:
    """tests/ but this file, which names the private names it lists and its examples."""
    return {p.relative_to(TESTS).as_posix(): p for p in sorted(TESTS.rglob("*.py"))
            if p != Path(__file__).resolve()}


def _private_uses_in_tests() -> dict[str, dict[str, int]]:
    """Test file -> private taco name -> first line."""
    return {name: private_uses(path.read_text(encoding="utf-8")) for name, path in _test_files().items()}


def test_tests_use_no_private_name_unlisted():
    """Tests use taco's public names: a private one is listed in :data:`ALLOWED_IN_TESTS`."""
    unlisted = [f"tests/{f}:{line} uses {name}"
                for f, uses in _private_uses_in_tests().items() for name, line in uses.items()
                if name not in ALLOWED_IN_TESTS.get(f, {})]
    assert unlisted == []


def test_the_allowed_private_names_are_still_used():
    """An allowance no longer needed is taken out (it would let a new use in unseen)."""
    used = _private_uses_in_tests()
    stale = [f"tests/{f}: {name}" for f, names in ALLOWED_IN_TESTS.items() for name in names
             if name not in used.get(f, {})]
    assert stale == []


def test_the_test_check_can_fail():
    """Each way a test reaches a private name is seen; public names and dunders are not."""
    src = (
        "import taco.atomic\n"
        "import taco.cli as cli\n"
        "from taco import metrics\n"
        "from taco.locks import _open, hold_folder\n"
        "from taco.train.trainer import Trainer\n"
        "taco.atomic._write_all\n"
        "cli._run\n"
        "metrics._resize_bilinear_tf1(1)\n"
        "Trainer._save\n"
        "def test(monkeypatch):\n"
        "    monkeypatch.setattr(metrics, '_load_lpips_trunk', None)\n"
        "    monkeypatch.setattr('taco.cli.files._MAX_SIDES', {})\n"
        "    getattr(taco.atomic, 'write_bytes_atomic')\n"
        "    taco.__version__, cli.main, Trainer.__init__, hold_folder, '_x', 'taco.cli.main'\n"
        "CHILD = 'import taco.atomic as a\\na._write_all = print\\n'\n"
    )
    assert private_uses(src) == {
        "taco.locks._open": 4, "taco.atomic._write_all": 6, "taco.cli._run": 7,
        "taco.metrics._resize_bilinear_tf1": 8, "taco.train.trainer.Trainer._save": 9,
        "taco.metrics._load_lpips_trunk": 11, "taco.cli.files._MAX_SIDES": 12,
    }
    assert private_uses("from taco.models import _impl\nimport taco._private\n") == {
        "taco.models._impl": 1, "taco._private": 2}
    assert private_uses("CHILD = 'import taco.atomic as a\\na._write_all = print\\n'\n") == {
        "taco.atomic._write_all": 1}


def test_the_test_check_sees_private_attributes_of_objects():
    """``encoder._cache_lock`` on any object counts if taco defines the name; a third party's
    private (torch's) or one the test module defines itself does not."""
    src = (
        "encoder = get_text_encoder('clip-tiny')\n"
        "encoder._cache_lock, encoder.model._not_a_taco_name\n"
        "class Fake:\n"
        "    def _encode(self): ...\n"
        "Fake()._encode()\n"
        "CHILD = 'import taco\\ne = taco.make()\\ne._text_cache\\n'\n"
    )
    assert "_cache_lock" in TACO_PRIVATE and "_encode" in TACO_PRIVATE
    assert private_uses(src) == {"taco.*._cache_lock": 2, "taco.*._text_cache": 6}
