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


# --------------------------------------------------------------------------- the stop line


@pytest.mark.parametrize(("stop", "signum"), [(KeyboardInterrupt(), signal.SIGINT),
                                              (Interrupted(signal.SIGTERM), signal.SIGTERM)],
                         ids=["ctrl-c", "sigterm"])
def test_the_interrupt_says_how_far_the_run_got(tmp_path, stop, signum):
    work, _ = _stopping_at(5, stop)
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(JOBS, work, tmp_path / "r.csv", COLUMNS, progress=False, desc="jpeg on val")
    assert isinstance(raised.value, Interrupted) and raised.value.signum == signum
    assert raised.value.progress == (" after 4 of 10 images of jpeg on val (their rows are kept); run the "
                                     "same command again to do the rest")
    # rerun, stopped again: counted from the whole run, rows of both runs
    work, _ = _stopping_at(3, Interrupted(signal.SIGHUP))
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(JOBS, work, tmp_path / "r.csv", COLUMNS, progress=False, desc="jpeg on val")
    assert str(raised.value) == ("stopped by SIGHUP after 6 of 10 images of jpeg on val (their rows are "
                                 "kept); run the same command again to do the rest")


def test_jobs_at_several_settings_and_none_done(tmp_path):
    jobs = [Job(i, f"im{i}.png", f"q{q}") for i in range(2) for q in (30, 50, 70)]
    work, _ = _stopping_at(1, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(jobs, work, tmp_path / "r.csv", COLUMNS, progress=False)
    assert raised.value.progress == (" after 0 of 6 jobs (2 images at 3 settings); run the same command "
                                     "again to do the rest")


def test_an_interrupt_that_says_how_far_already_is_raised_as_it_is(tmp_path):
    said = Interrupted(signal.SIGTERM, " at step 3")
    work, _ = _stopping_at(2, said)
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(JOBS, work, tmp_path / "r.csv", COLUMNS, progress=False)
    assert raised.value is said
    assert len(read_rows(tmp_path / "r.csv")) == 1


def test_taco_evaluate_stopped_says_how_far_and_the_rerun_completes(taco_main, folder_factory, tmp_path,
                                                                     monkeypatch, capsys):
    """SIGTERM (what taco's handler raises for it) while the third image is coded."""
    from taco.evaluation.classic import ClassicCodec

    data = folder_factory(tmp_path / "val", size=32)
    out = tmp_path / "ev"
    command = ["evaluate", str(data), "--classic", "jpeg", "--qualities", "jpeg=50", "--fid", "off",
               "--cmmd-clip", "off", "--no-plot", "-o", str(out), "--quiet"]
    real = ClassicCodec.code_timed
    calls = []

    def code_timed(self, image, quality):
        calls.append(quality)
        if len(calls) == 3:
            raise Interrupted(signal.SIGTERM)
        return real(self, image, quality)

    monkeypatch.setattr(ClassicCodec, "code_timed", code_timed)
    assert taco_main(command) == 128 + signal.SIGTERM
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == ("taco evaluate: stopped by SIGTERM after 2 of 4 images of JPEG on val (their rows "
                       "are kept); run the same command again to do the rest")
    assert len(read_rows(out / "val" / "jpeg.csv")) == 2
    monkeypatch.setattr(ClassicCodec, "code_timed", real)
    assert taco_main(command) == 0
    assert len(read_rows(out / "val" / "jpeg.csv")) == 4


def _captioner_stopping_at(n: int, stop: BaseException):
    class Stopping:
        name = "stub"
        calls = 0

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __call__(self, images: list) -> list[str]:
            Stopping.calls += 1
            if Stopping.calls == n:
                raise stop
            return ["a stub caption"] * len(images)

    return Stopping


def test_an_interrupted_caption_run_says_how_far_it_got(folder_factory, tmp_path):
    from taco.evaluation.caption import caption_folder

    folder = folder_factory(tmp_path / "photos", captions=False)
    with pytest.raises(KeyboardInterrupt) as raised:
        caption_folder(folder, _captioner_stopping_at(3, KeyboardInterrupt())(), batch_size=1, progress=False)
    assert str(raised.value) == (f"stopped by SIGINT after 2 of the 4 images to caption (their captions are "
                                 f"kept in {folder / 'captions.jsonl'}); run the same command again to do "
                                 "the rest")
    assert len((folder / "captions.jsonl").read_text().splitlines()) == 2
    with pytest.raises(KeyboardInterrupt) as raised:  # none done: nothing said kept
        caption_folder(folder, _captioner_stopping_at(1, KeyboardInterrupt())(), progress=False)
    assert raised.value.progress == " after 0 of the 2 images to caption; run the same command again to do the rest"


def test_taco_caption_stopped_says_how_far(taco_main, folder_factory, tmp_path, monkeypatch, capsys):
    from taco.evaluation import caption

    folder = folder_factory(tmp_path / "photos", captions=False)
    monkeypatch.setattr(caption, "Captioner", _captioner_stopping_at(2, Interrupted(signal.SIGTERM)))
    assert taco_main(["caption", str(folder), "--batch-size", "2", "--quiet", "--device", "cpu"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco caption: stopped by SIGTERM after 2 of the 4 images to caption (their captions are kept in "
        f"{folder / 'captions.jsonl'}); run the same command again to do the rest")
    assert len((folder / "captions.jsonl").read_text().splitlines()) == 2
