"""A model built from an architecture name builds its Gaussian-conditional tables without
``scipy.stats``: CompressAI takes one number from it (``norm.ppf(tail_mass / 2)``), 1 s and ~490
modules to import; :func:`taco.models.elic.standard_normal_quantile` gives the same double."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.models.elic import standard_normal_quantile

ROOT = Path(__file__).resolve().parents[2]


def test_the_tail_bound_is_scipys_double() -> None:
    assert standard_normal_quantile(5e-10) == -6.1094102048693975
    stats = pytest.importorskip("scipy.stats")
    for q in (5e-10, 1e-9, 0.025, 0.5, 0.975):
        assert standard_normal_quantile(q) == pytest.approx(float(stats.norm.ppf(q)), rel=1e-12)
    assert standard_normal_quantile(5e-10) == float(stats.norm.ppf(5e-10))


CREATE = r"""
import sys
import taco
from taco.compressai_loader import is_pending
model = taco.create_model(sys.argv[1])
model.set_scale_levels(32)
model.update(force=True)
stats = sys.modules.get("scipy.stats")
print(stats is not None and not is_pending(stats), model.scale_levels)
"""


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_create_model_runs_no_scipy_stats(name: str) -> None:
    r = subprocess.run([sys.executable, "-c", CREATE, name], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "32"]
