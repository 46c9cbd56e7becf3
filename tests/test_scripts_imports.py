"""Every name the scripts, benchmarks and examples import from taco exists: f981cd1 removed
``taco.demo.sample_caption`` while scripts/make_goldens.py (README's golden check) still imported
it, and no test ran that script; scripts/ablation_text_injection.sh's reuse check (a Python
heredoc) imported read_checkpoint_header from taco.models.checkpoint after 4a3e55c moved it to
taco.models.header, and SKIP_TRAINED=1 ended in an ImportError. Checked from the source (``from
taco... import NAME`` and ``import taco...``; in a shell script, of each heredoc and ``python -c``
text that reads as Python), without running the scripts, so it costs no start-up of theirs."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("scripts", "benchmarks", "examples") for ext in ("*.py", "*.sh")
                 for p in (ROOT / folder).rglob(ext))
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1\s*$")  # not <<<, a here-string
PYTHON_C = re.compile(r"\s-c\s+'([^']*)'")  # python -c '...' on one line


def _python_in_shell(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each heredoc of a shell script and each ``-c`` argument of one of
    its lines that parse as Python (an ``EOF`` of a ``cat`` is skipped that way)."""
    out: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = HEREDOC.search(lines[i])
        if match:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == match.group(2)), len(lines))
            out.append((i + 2, "\n".join(lines[i + 1:end])))
            i = end
        else:
            out += [(i + 1, m.group(1)) for m in PYTHON_C.finditer(lines[i])]
        i += 1
    parsed = []
    for line, source in out:
        try:
            ast.parse(source)
        except SyntaxError:
            continue
        parsed.append((line, source))
    return parsed


def _taco_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) of each import of a taco module in ``path``: a Python file,
    or the Python a shell script runs (line numbers: the script's)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".sh":
        return [(first + line - 1, module, name) for first, source in _python_in_shell(text)
                for line, module, name in _imports_in(source, str(path))]
    return _imports_in(text, str(path))


def _imports_in(source: str, name: str) -> list[tuple[int, str, str | None]]:
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "taco":
            out += [(node.lineno, node.module or "", alias.name) for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None) for alias in node.names if alias.name.split(".")[0] == "taco"]
    return out


def test_there_are_sources_to_check():
    assert any(p.name == "make_goldens.py" for p in SOURCES)
    assert any(_taco_imports(p) for p in SOURCES)
    ablation = ROOT / "scripts" / "ablation_text_injection.sh"
    assert (83, "taco.models.header", "read_checkpoint_header") in _taco_imports(ablation)


def test_python_of_a_shell_script_is_found(tmp_path):
    script = tmp_path / "x.sh"
    script.write_text("cat <<EOF\nnot python: $X\nEOF\n"
                      "python - <<'PY'\nimport sys\nfrom taco.a import (b,\n    c)\nPY\n"
                      "read -r -a w <<< \"$W\"\n"
                      "X=\"$(python -c 'import taco.d; print(1)' <<<\"$Y\")\"\n")
    assert _taco_imports(script) == [(6, "taco.a", "b"), (6, "taco.a", "c"), (10, "taco.d", None)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_taco_name_a_script_imports_exists(path):
    missing = []
    for line, module, name in _taco_imports(path):
        mod = importlib.import_module(module)
        if name is not None and not hasattr(mod, name):
            try:  # a submodule: from taco.models import fast_codec
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                missing.append(f"{path.name}:{line}: {module}.{name}")
    assert not missing, missing
