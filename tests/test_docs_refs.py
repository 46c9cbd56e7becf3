"""What taco says to a user about its docs is true of a wheel: the wheel is the package alone
(docs/ is in a checkout and the sdist, MANIFEST.in), so every message and help text that names a
docs page says where it is, in one wording (taco.messages.docs_ref), and names a page and section
that exist; ``taco evaluate --help`` also says each dataset's layout itself."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taco.messages import docs_ref

ROOT = Path(__file__).resolve().parents[1]
WHERE = "in taco's source tree (a checkout or the sdist)"
CALL = re.compile(r"""docs_ref\(\s*["']([^"']+)["']\s*(?:,\s*["']([^"']+)["'])?\s*\)""")


def test_one_wording_with_and_without_a_section():
    assert docs_ref("evaluation.md") == f"docs/evaluation.md {WHERE}"
    assert docs_ref("models.md", "Adding a backbone") == f'docs/models.md, "Adding a backbone", {WHERE}'


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_no_message_names_a_docs_page_but_through_docs_ref():
    bare = [f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}"
            for path in sorted((ROOT / "taco").rglob("*.py")) if path.name != "messages.py"
            for line, text in _strings_outside_docstrings(path) if "docs/" in text]
    assert not bare, "\n".join(bare)


def test_every_page_and_section_named_exists():
    named = {m.groups() for path in sorted((ROOT / "taco").rglob("*.py"))
             for m in CALL.finditer(path.read_text(encoding="utf-8"))}
    assert {("evaluation.md", None), ("official.md", None), ("models.md", "Adding a backbone"),
            ("performance.md", None), ("reliability.md", None)} <= named
    for page, section in named:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        if section is not None:
            assert re.search(rf"^#+ {re.escape(section)}\s*$", text, re.M), (page, section)


def help_text(command: str) -> str:
    out = subprocess.run([sys.executable, "-m", "taco", command, "--help"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    return " ".join(out.stdout.split())


@pytest.mark.parametrize("command, page", [("evaluate", "evaluation.md"),
                                           ("import-captions", "evaluation.md"),
                                           ("import-checkpoint", "official.md")])
def test_help_texts_say_where_the_docs_are(command, page):
    text = help_text(command)
    assert f"docs/{page} {WHERE}" in text
    # every docs/ page named says where it is (WHERE may also follow other source-tree files)
    assert text.count("docs/") == len(re.findall(r'docs/[\w.]+(?:, "[^"]+",)? ' + re.escape(WHERE), text))


def test_evaluate_help_gives_every_dataset_layout():
    """docs/evaluation.md was the only place the kodak/clic/coco layouts were written."""
    from taco.evaluation.datasets import DATASET_KINDS

    text = help_text("evaluate")
    for layout in ("kodak:DIR DIR/kodim01.png ... DIR/kodim24.png + DIR/captions.jsonl",
                   "clic:DIR DIR/*.png", "ROOT/dataset_coco.json", "ROOT/val2014/",
                   "ROOT/annotations/captions_val2014.json", "samples the 4 captioned photos",
                   "need the eval extra"):
        assert layout in text, layout
    assert all(f"{kind}:" in text for kind in DATASET_KINDS if kind not in ("folder", "samples"))
