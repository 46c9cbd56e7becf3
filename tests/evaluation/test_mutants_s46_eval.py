"""Mutation round M20 (session 46): what the evaluation's new code does that no other test held.

Each test here failed on a mutant of taco.evaluation.runner or taco.evaluation.import_captions
that the existing tests let pass: the FLUSH_SECONDS clock restarted at each flush and its value
a minute, a rank's own stop raised as it is, the rank named in the stop line, and a JSON Lines
file with CRLF line ends read without the ``\\r`` in its refusals' columns.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from taco.distributed import DistEnv, SilentInterrupted, StoppedTogether
from taco.evaluation import runner
from taco.evaluation.import_captions import CaptionImportError, read_caption_json
from taco.evaluation.runner import FLUSH_SECONDS, Job, JobResult, read_rows, run_jobs

COLUMNS = ["image", "setting", "index", "bpp"]
JOBS = [Job(i, f"im{i}.png") for i in range(6)]


def _work(job: Job) -> JobResult:
    return JobResult({"index": job.index, "bpp": 0.25 * (job.index + 1)},
                     features={"f": np.full((1, 3), job.index, np.float32)})


def _stopped_after_two(stop: BaseException) -> Callable[[Job], JobResult]:
    """A work function that codes two jobs, then raises ``stop``."""
    done: list[Job] = []

    def work(job: Job) -> JobResult:
        if len(done) == 2:
            raise stop
        done.append(job)
        return _work(job)

    return work


class _Clock:
    """A stand-in for ``time.monotonic`` in the runner, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rows_seen(out: Path, monkeypatch: pytest.MonkeyPatch, seconds: Callable[[Job], float]) -> list[int]:
    """Run JOBS into ``out``, each job taking ``seconds(job)`` by a fake runner clock; how many
    rows were on disk as each job began."""
    clock = _Clock()
    monkeypatch.setattr(runner.time, "monotonic", clock)
    on_disk: list[int] = []

    def work(job: Job) -> JobResult:
        on_disk.append(len(read_rows(out)))
        clock.now += seconds(job)
        return _work(job)

    run_jobs(JOBS, work, out, COLUMNS, progress=False)
    return on_disk


def test_flush_seconds_count_from_the_last_flush_not_from_the_start(tmp_path, monkeypatch):
    """The first job takes past FLUSH_SECONDS, so its row is written after it; the jobs after it
    take no time, so theirs wait for the end (FLUSH_EVERY is 16): the clock starts again at each
    flush (counted from the start, every later job would be written on its own)."""
    out = tmp_path / "r.csv"
    assert _rows_seen(out, monkeypatch, lambda job: FLUSH_SECONDS + 1 if job.index == 0 else 0.0) == [
        0, 1, 1, 1, 1, 1]
    assert len(read_rows(out)) == 6


def test_flush_seconds_is_a_minute(tmp_path, monkeypatch):
    """As the docstring says: rows wait at most a minute, not FLUSH_EVERY (16) jobs. A job of 61 s
    is written before the next starts; jobs of 59 s each are written after the second."""
    assert FLUSH_SECONDS == 60.0
    assert _rows_seen(tmp_path / "r.csv", monkeypatch, lambda job: 59.0 if job.index else 61.0) == [
        0, 1, 1, 3, 3, 5]


@pytest.mark.parametrize("stop", [SilentInterrupted(signal.SIGTERM), StoppedTogether(signal.SIGHUP)],
                         ids=["silent", "together"])
def test_a_stop_of_its_own_kind_is_raised_as_it_is(tmp_path, stop):
    """A rank's shared stop (StoppedTogether, SilentInterrupted on ranks other than 0) says no
    ``progress`` of its own, yet is no plain interrupt: raised as it is (taco.cli.main prints
    nothing for a SilentInterrupted), not made a new Interrupted; the finished rows are kept."""
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(JOBS, _stopped_after_two(stop), tmp_path / "r.csv", COLUMNS, progress=False)
    assert raised.value is stop
    assert [r["image"] for r in read_rows(tmp_path / "r.csv")] == ["im0.png", "im1.png"]


def test_a_rank_of_several_says_which_rank_stopped(tmp_path, monkeypatch):
    """Rank 1 of 2 (no process group here: the barriers are nothing) codes every other job into
    its shard; stopped, it says so, counting its own rows."""
    monkeypatch.setattr(runner, "barrier", lambda env: None)
    with pytest.raises(KeyboardInterrupt) as raised:
        run_jobs(JOBS, _stopped_after_two(KeyboardInterrupt()), tmp_path / "r.csv", COLUMNS,
                 progress=False, desc="jpeg on val", dist=DistEnv(rank=1, local_rank=1, world_size=2))
    assert str(raised.value) == ("stopped by SIGINT on rank 1 after 2 of 6 images of jpeg on val (their "
                                 "rows are kept); run the same command again to do the rest")
    assert [r["image"] for r in read_rows(tmp_path / "r.rank1.csv")] == ["im1.png", "im3.png"]


def _crlf(tmp_path: Path, lines: list[str]) -> Path:
    src = tmp_path / "x.jsonl"
    src.write_bytes("".join(line + "\r\n" for line in lines).encode())
    return src


def test_json_lines_with_crlf_ends_are_read_as_with_lf(tmp_path):
    """BLIP's keys, one object a line, each line ended by CRLF (a file saved on Windows)."""
    src = _crlf(tmp_path, ['{"file_name": "b.png", "text": "a boat"}', '{"file_name": "a.png", "text": "an apple"}'])
    assert read_caption_json(src) == {"a.png": ["an apple"], "b.png": ["a boat"]}


def test_a_crlf_line_that_is_no_json_is_named_at_its_own_column(tmp_path):
    """The ``\\r`` of a CRLF line end is no part of the line: the column said is the one of the
    line as an editor shows it (34, as for the same file with LF ends), not one past it."""
    src = _crlf(tmp_path, ['{"image": "a.png", "caption": "x"}', '{"image": "b.png", "caption": "y"'])
    with pytest.raises(CaptionImportError) as refused:
        read_caption_json(src)
    assert str(refused.value).endswith("line 2 is not valid JSON (Expecting ',' delimiter, column 34); "
                                       "the file is read as JSON Lines, one object a line")
