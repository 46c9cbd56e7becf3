"""A rerun of ``taco evaluate`` leaves the results JSON it finds until it has the new one.

A reviewer found a refused rerun (a ``jpeg.rank0.csv`` or ``jpeg.csv`` of other columns, checked
only once the run's header had replaced the JSON) and a rerun interrupted right after it started
(Ctrl-C) leave ``jpeg.json`` a header alone (``"complete": false``, no points: ``taco plot`` then
failed), the complete results lost. The columns are checked before anything is written, and a
JSON there is replaced only by the run's final summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import taco.evaluation.results as results_module
from taco.evaluation.evaluate import EvalConfig, run_evaluation
from taco.evaluation.runner import ResultsFileError

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted from its")


def _config(data: Path, out: Path, qualities: list[int]) -> EvalConfig:
    return EvalConfig(datasets=[str(data)], classic=["jpeg"], qualities={"jpeg": qualities}, output=out,
                      fid="off", progress=False, plot=False)


@pytest.fixture
def complete(tmp_path, folder_factory) -> tuple[Path, Path, bytes]:
    """A dataset, the output folder and the complete jpeg.json of a first run."""
    data = folder_factory(tmp_path / "val", size=32)
    out = tmp_path / "ev"
    run_evaluation(_config(data, out, [30, 70]))
    js = out / "val" / "jpeg.json"
    assert json.loads(js.read_text())["complete"] is True
    return data, out, js.read_bytes()


@pytest.mark.parametrize("name", ["jpeg.rank0.csv", "jpeg.csv"])
def test_a_refused_rerun_leaves_the_json_complete(complete, name):
    data, out, before = complete
    (out / "val" / name).write_text("a,b\n1,2\n")
    with pytest.raises(ResultsFileError, match=rf"{name} has columns \['a', 'b'\]"):
        run_evaluation(_config(data, out, [30, 70]))
    assert (out / "val" / "jpeg.json").read_bytes() == before


@pytest.mark.parametrize("qualities", [[30, 70], [30, 50, 70]])
def test_an_interrupted_rerun_leaves_the_json_complete(complete, monkeypatch, qualities):
    """Ctrl-C as the jobs start: of a complete run run again, or of one with a quality more."""
    data, out, before = complete

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results_module, "run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(_config(data, out, qualities))
    assert (out / "val" / "jpeg.json").read_bytes() == before


def test_the_rerun_then_completes_and_a_new_run_writes_its_header_first(complete, tmp_path, folder_factory,
                                                                         monkeypatch):
    data, out, _ = complete
    run_evaluation(_config(data, out, [30, 50, 70]))
    done = json.loads((out / "val" / "jpeg.json").read_text())
    assert done["complete"] is True
    assert [p["setting"] for p in done["points"]] == ["q30", "q50", "q70"]
    # a new run (no JSON yet) still records what it codes before coding: interrupted, its header
    monkeypatch.setattr(results_module, "run_jobs", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(_config(data, tmp_path / "new", [30]))
    header = json.loads((tmp_path / "new" / "val" / "jpeg.json").read_text())
    assert header["complete"] is False
    assert "points" not in header


@pytest.mark.parametrize("name", ["jpeg.rank0.csv", "jpeg.csv"])
def test_a_csv_of_other_columns_without_a_json_is_refused_before_a_header_is_written(tmp_path, folder_factory, name):
    """No JSON yet, a CSV (or rank shard) of other columns there: refused before the new run's
    header is written, so no JSON saying "complete": false is left behind."""
    data = folder_factory(tmp_path / "val", size=32)
    folder = tmp_path / "ev" / "val"
    folder.mkdir(parents=True)
    (folder / name).write_text("a,b\n1,2\n")
    with pytest.raises(ResultsFileError, match=rf"{name} has columns \['a', 'b'\]"):
        run_evaluation(_config(data, tmp_path / "ev", [30]))
    assert not (folder / "jpeg.json").exists()
    assert (folder / name).read_text() == "a,b\n1,2\n"
