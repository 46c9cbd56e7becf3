"""``taco plot`` reads JSON and CSV files and draws: it imports no torch. Reading results is
:mod:`taco.evaluation.result_files` (numpy and taco's base modules); the writers of
:mod:`taco.evaluation.results` and the metrics of :mod:`taco.evaluation.measure` (torch, the
datasets) stay unloaded. Before, ``import taco.evaluation.plot`` took 2.6 s (torch, taco.data,
taco.metrics) against some 0.4 s for numpy and matplotlib.

Each command runs in a fresh interpreter that reports ``sys.modules`` afterwards, as in
tests/test_startup.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


#: What reading results and drawing them must not import (matplotlib brings numpy and PIL).
HEAVY = ("torch", "compressai", "transformers", "taco.data", "taco.metrics", "taco.evaluation.measure",
         "taco.evaluation.datasets", "taco.evaluation.results", "taco.evaluation.evaluate")


def test_plot_imports_no_torch(probe, tmp_path, rd_folder):
    folder = rd_folder(tmp_path / "runs")
    r = probe(tmp_path, "plot", str(folder), "-o", str(tmp_path / "rd"))
    assert r["code"] == 0, r["stderr"]
    assert (tmp_path / "rd.png").is_file() and (tmp_path / "rd.svg").is_file()
    assert "matplotlib" in r["modules"]  # it did draw, in this interpreter
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco plot imports {sorted(heavy)}"


def test_plot_with_a_bootstrapped_bd_table_imports_no_torch(probe, tmp_path, rd_folder):
    """The BD table's intervals read each run's per-image CSV (plot.image_curve)."""
    pytest.importorskip("bjontegaard")
    folder = rd_folder(tmp_path / "runs")
    r = probe(tmp_path, "plot", str(folder), "-o", str(tmp_path / "rd"), "--anchor", "AVIF",
              "--metrics", "psnr,lpips", "--bootstrap", "50")
    assert r["code"] == 0, r["stderr"]
    table = json.loads((tmp_path / "rd.bdrate.json").read_text())
    assert table["bootstrap"]["resamples"] == 50 and table["table"]["TACO"]["psnr"]["ci_images"] == 10
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco plot --anchor --bootstrap imports {sorted(heavy)}"


@pytest.mark.parametrize("code", ["import taco.evaluation.plot", "import taco.evaluation.result_files",
                                  "import runpy; runpy.run_path('scripts/check_targets.py', run_name='x')"])
def test_the_readers_import_no_torch(code):
    check = f"import sys; {code}; print(sorted(set(sys.modules) & set(sys.argv[1:])))"
    r = subprocess.run([sys.executable, "-c", check, *HEAVY], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_the_csv_metric_columns_are_the_metrics_modules():
    """One definition (taco.recipe, torch-free), read by the metrics and by the results reader."""
    import taco.metrics
    from taco.evaluation import measure, result_files

    assert result_files.IMAGE_METRICS is taco.metrics.IMAGE_METRICS is measure.IMAGE_METRICS
