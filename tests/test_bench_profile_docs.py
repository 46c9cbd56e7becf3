"""docs/performance.md's entropy-coding profile says how many calls it averages: its command
passes that many ``--runs`` (``taco bench --profile`` makes ``--runs`` calls, default 5; the
docs said 3 calls for a command without ``--runs``; review G)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def test_the_profile_table_s_command_makes_the_calls_it_says():
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    section = text[text.index("## Where the entropy-coding time went"):]
    command = re.search(r"`(taco bench --profile[^`]*)`", section).group(1)
    calls = re.search(r"(\d+) calls each", section).group(1)
    assert f"--runs {calls}" in command
