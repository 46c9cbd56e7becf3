"""An interrupted ``taco evaluate`` keeps the rows of the images it finished.

A reviewer stopped ``taco evaluate ds20 -m elic-small-q4 -o ev3`` with SIGTERM (``timeout -s
TERM 15``): the bar stood at 11/20, and the CSV held its header alone, as ``run_jobs`` wrote rows
every :data:`~taco.evaluation.runner.FLUSH_EVERY` (16) jobs and an interrupt lost the ones not
yet written; on images that take minutes each, 16 of them were an hour's work. The finished
rows (and their features) are now written when the loop is interrupted, before the interrupt
goes on up, and at least every :data:`~taco.evaluation.runner.FLUSH_SECONDS`.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path

import numpy as np
import pytest

from taco.errors import Interrupted
from taco.evaluation import runner
from taco.evaluation.runner import FeatureStore, Job, JobResult, read_rows, run_jobs

COLUMNS = ["image", "setting", "index", "bpp"]
JOBS = [Job(i, f"im{i}.png") for i in range(10)]


def _work(job: Job) -> JobResult:
    return JobResult({"index": job.index, "bpp": 0.25 * (job.index + 1)},
                     features={"f": np.full((1, 3), job.index, np.float32)})


def _run(out: Path, work=_work) -> runner.RunReport:
    return run_jobs(JOBS, work, out / "r.csv", COLUMNS, features_dir=out / "r.features", progress=False)


def _stopping_at(n: int, stop: BaseException):
    """A work function that codes as :func:`_work` until its ``n``-th job, where it raises ``stop``."""
    seen: list[Job] = []

    def work(job: Job) -> JobResult:
        seen.append(job)
        if len(seen) == n:
            raise stop
        return _work(job)

    return work, seen


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), Interrupted(signal.SIGTERM)],
                         ids=["ctrl-c", "sigterm"])
def test_an_interrupt_writes_the_rows_finished_and_a_rerun_completes_the_same(tmp_path, stop):
    whole = tmp_path / "whole"
    _run(whole)
    out = tmp_path / "stopped"
    work, seen = _stopping_at(5, stop)
    with pytest.raises(KeyboardInterrupt) as raised:
        _run(out, work)
    assert isinstance(raised.value, type(stop))
    assert [r["image"] for r in read_rows(out / "r.csv")] == [f"im{i}.png" for i in range(4)]
    assert sorted(FeatureStore.load(out / "r.features")) == [j.key for j in JOBS[:4]]
    # the rerun codes the other six only, and ends where an uninterrupted run did
    again, redone = _stopping_at(0, KeyboardInterrupt())  # never: it counts from 1
    report = _run(out, again)
    assert [j.image for j in redone] == [f"im{i}.png" for i in range(4, 10)]
    assert report.coded == 6
    assert (out / "r.csv").read_bytes() == (whole / "r.csv").read_bytes()
    got, want = FeatureStore.load(out / "r.features"), FeatureStore.load(whole / "r.features")
    assert sorted(got) == sorted(want)
    for key in want:
        np.testing.assert_array_equal(got[key]["f"], want[key]["f"])


def test_a_half_written_row_is_cut_before_the_rows_are_written(tmp_path, monkeypatch):
    """A flush the interrupt cut short leaves half a row at the end of the CSV (here the work
    function writes it, then is interrupted): it is cut before the finished rows go after it,
    which would otherwise run on from it, a row of too many fields, read as none."""
    out = tmp_path / "o"
    monkeypatch.setattr(runner, "FLUSH_EVERY", 3)

    def torn(job: Job) -> JobResult:
        if job.index == 5:
            with (out / "r.csv").open("a", encoding="utf-8") as f:
                f.write("im9.png,,9")
            raise KeyboardInterrupt
        return _work(job)

    with pytest.raises(KeyboardInterrupt):
        _run(out, torn)
    assert [r["image"] for r in read_rows(out / "r.csv")] == [f"im{i}.png" for i in range(5)]
    assert "im9.png" not in (out / "r.csv").read_text()


@pytest.mark.parametrize(("seconds", "seen"), [(0.0, list(range(10))), (math.inf, [0] * 10)])
def test_rows_are_written_once_flush_seconds_have_passed(tmp_path, monkeypatch, seconds, seen):
    """With FLUSH_SECONDS 0 every job's row is on disk before the next job starts, well short of
    FLUSH_EVERY (16) jobs; with it never reached, none is until the end."""
    monkeypatch.setattr(runner, "FLUSH_SECONDS", seconds)
    out = tmp_path / "o"
    on_disk: list[int] = []

    def counted(job: Job) -> JobResult:
        on_disk.append(len(read_rows(out / "r.csv")))
        return _work(job)

    _run(out, counted)
    assert on_disk == seen
    assert len(read_rows(out / "r.csv")) == 10
    assert sorted(FeatureStore.load(out / "r.features")) == sorted(j.key for j in JOBS)
