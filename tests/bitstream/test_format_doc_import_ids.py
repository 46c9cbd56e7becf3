"""docs/format.md on the model id an imported checkpoint of the authors writes: it said
`custom` (every import was, before 54059f8); it is `taco-official` / `elic-official`
(``taco.official.import_checkpoint``: ``{architecture}-official``), ids outside the model-code
table, so written inline."""

from __future__ import annotations

import re
from pathlib import Path

from taco.bitstream import BUILTIN_MODEL_IDS

FORMAT_MD = Path(__file__).resolve().parents[2] / "docs" / "format.md"


def model_id_paragraph() -> str:
    text = FORMAT_MD.read_text(encoding="utf-8")
    start = text.index("**Model id and fingerprint.**")
    return " ".join(text[start:text.index("\n\n", start)].split())


def test_imports_are_not_said_to_be_custom():
    paragraph = model_id_paragraph()
    custom = re.search(r"`custom` \(code \d+\) for ([^;]*?), `NAME\+custom`", paragraph)
    assert custom and "import" not in custom.group(1), paragraph


def test_the_import_ids_named_are_written_inline():
    paragraph = model_id_paragraph()
    for name in ("taco-official", "elic-official"):
        assert f"`{name}`" in paragraph
        assert name not in BUILTIN_MODEL_IDS  # no code: inline, as the doc says
    assert re.search(r"`elic-official` \([^)]*\), written inline", paragraph), paragraph
