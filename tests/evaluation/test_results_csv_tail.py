"""A results CSV's half-written last row (a crash mid-write) is cut before a resumed run appends,
reading the file from its end only: its job runs again, every complete row is kept."""

from __future__ import annotations

import pytest

import taco.evaluation.runner as runner
from taco.evaluation.runner import Job, JobResult, read_rows, run_jobs

COLUMNS = ["index", "image", "setting", "value"]
HEADER = ",".join(COLUMNS) + "\n"


def _resume(csv_path, n: int) -> list[str]:
    coded: list[str] = []

    def work(job: Job) -> JobResult:
        coded.append(job.image)
        return JobResult({"index": job.index, "value": 10 * job.index})

    run_jobs([Job(i, f"im{i}.png") for i in range(n)], work, csv_path, COLUMNS, progress=False)
    return coded


@pytest.mark.parametrize("step", [1, 3, 7, 1 << 16])  # reads that split the rows anywhere
@pytest.mark.parametrize("torn", ["", "2,im2.p", "2,im2.png,,2", "2,im2.png,," + "9" * 100])
def test_a_torn_last_row_is_cut_and_coded_again(tmp_path, monkeypatch, step, torn):
    monkeypatch.setattr(runner, "_TAIL_STEP", step)
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "0,im0.png,,0\n1,im1.png,,10\n" + torn)
    assert _resume(csv_path, 3) == ["im2.png"]
    assert csv_path.read_text() == HEADER + "0,im0.png,,0\n1,im1.png,,10\n2,im2.png,,20\n"


def test_a_torn_header_starts_the_file_again(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_TAIL_STEP", 4)
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER)  # the header alone, whole: rows are appended after it
    assert _resume(csv_path, 1) == ["im0.png"]
    assert [r["value"] for r in read_rows(csv_path)] == ["0"]
