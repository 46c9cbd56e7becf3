"""Constants written once: the paper's λ (taco.recipe.LAMBDAS) and the tiny test CLIP's text
tower (taco.text.clip.TINY_CONFIG) are where the values that repeat them come from, so that a
change to one reaches the other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "taco"

FOLLOWS = """
import taco.recipe, taco.text.clip
taco.recipe.LAMBDAS = (0.5, 0.25, 0.125)
taco.text.clip.TINY_CONFIG["hidden_size"] = 48
from taco.models.config import QUALITY_LAMBDAS
from taco.losses import TINY_CLIP_TEXT
print(QUALITY_LAMBDAS, TINY_CLIP_TEXT["hidden_size"], "projection_dim" in TINY_CLIP_TEXT)
"""


def test_the_repeating_values_follow_their_source():
    """In a fresh process, the sources changed before the modules that repeat them load."""
    out = subprocess.run([sys.executable, "-c", FOLLOWS], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(0.0002,", "0.5,", "0.25,", "0.125)", "48", "False"]


def test_the_paper_lambdas_are_imported_from_the_recipe():
    """taco.losses re-exports LAMBDAS for its users; taco's own modules take it from taco.recipe."""
    from_losses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and (node.module or "").endswith("losses")
                    and any(a.name == "LAMBDAS" for a in node.names)):
                from_losses.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not from_losses
