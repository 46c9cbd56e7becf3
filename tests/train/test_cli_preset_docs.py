"""docs/training.md's Presets section says that a text-free model given without a preset trains
with preset elic, quoting the start-up line ``taco train`` prints for it."""

from __future__ import annotations

import re
from pathlib import Path

from taco.train.config import preset_from_model

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_the_presets_section_quotes_the_line_a_text_free_model_gets():
    section = DOCS.read_text(encoding="utf-8").split("## Presets", 1)[1].split("\n## ", 1)[0]
    quoted = re.search(r"`taco train: note: (preset elic, as model elic-small reads no text) \(\.\.\.\)`",
                       " ".join(section.split()))
    assert quoted is not None
    values, notes = preset_from_model({"model": "elic-small"})
    assert values["preset"] == "elic"
    assert notes[0].startswith(quoted.group(1) + " (")
