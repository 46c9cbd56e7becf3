"""docs/format.md (the format spec) and docs/performance.md said the scale table is CompressAI's
``get_scale_table`` (``torch.exp`` of ``torch.linspace``), which differs in the last bit between
CPUs; taco builds it with :func:`taco.models.entropy.portable_scale_table`. The spec now names
that and describes it in one sentence, which this test follows independently."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from taco.models.entropy import portable_scale_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


def f32(x: Fraction | float) -> Fraction:
    return Fraction(float(np.float32(float(x))))


def table_as_the_spec_says(levels: int) -> list[float]:
    start, end = f32(math.log(0.11)), f32(math.log(256))
    step = f32((end - start) / (levels - 1))
    with localcontext() as ctx:
        ctx.prec = 40
        xs = [f32(start + step * i if i < levels // 2 else end - step * (levels - 1 - i)) for i in range(levels)]
        # exp to 40 digits, then to float32 (through float64: a double rounding, rare enough here)
        return [float(np.float32(float((Decimal(x.numerator) / Decimal(x.denominator)).exp()))) for x in xs]


@pytest.mark.parametrize("levels", [64, 256, 5])
def test_the_spec_sentence_gives_the_table(levels: int) -> None:
    assert table_as_the_spec_says(levels) == portable_scale_table(levels).tolist()


def test_the_docs_name_the_portable_table() -> None:
    spec = (DOCS / "format.md").read_text(encoding="utf-8")
    assert "`taco.models.entropy.portable_scale_table()`" in spec
    assert "`get_scale_table()` = exp(linspace" not in spec
    performance = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert "portable_scale_table(256)" in performance
    assert "get_scale_table(levels=256)" not in performance
