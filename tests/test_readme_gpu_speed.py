"""README's one GPU speed claim is the stored H100 run's (review G): the whole codec (encode +
decode) of taco's ELIC against CompressAI's, which the run measured in CompressAI's entropy-model
layout, before issue 13 (it said "entropy path", whose ratio in that run is 2.6x)."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_readme_gpu_speed_is_the_h100_run_s_codec_ratio():
    run = json.loads((REPO / "benchmarks/results/h100-2026-11-25/bench-gpu.json").read_text())
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    claim = re.search(r"taco's ([^(;]*?) ([\d.]+)× faster than CompressAI's ELIC on an H100([^;]*);", text)
    assert claim, "README names taco's speed against CompressAI's ELIC on an H100"
    what, times, caveat = claim.groups()
    assert "codec" in what and "entropy path" not in what
    assert float(times) == round(1 / run["ratios"]["elic_codec/compressai_elic_codec"], 1)
    assert "CompressAI's entropy-model layout" in caveat
