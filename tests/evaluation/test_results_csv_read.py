"""read_rows reads a results CSV row by row, within RESULTS_CSV_MAX_BYTES: a larger one (a
288 MB CSV took 3.5 GB in taco plot) is refused in one line before it is read, and a row cut by
a crash is still left out."""

from __future__ import annotations

import pytest

import taco.evaluation.runner as runner
from taco.evaluation.runner import UnreadableResultsCSV, read_rows

HEADER = "index,image,setting,value\n"


def test_a_csv_over_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "".join(f"{i},im{i}.png,,{i}\n" for i in range(100)))
    size = csv_path.stat().st_size
    monkeypatch.setattr(runner, "RESULTS_CSV_MAX_BYTES", size)
    assert len(read_rows(csv_path)) == 100  # at the cap: read
    monkeypatch.setattr(runner, "RESULTS_CSV_MAX_BYTES", size - 1)
    with pytest.raises(UnreadableResultsCSV) as info:
        read_rows(csv_path)
    message = str(info.value)
    assert str(csv_path) in message and f"{size:,} bytes, over the {size - 1:,}" in message
    assert "\n" not in message


@pytest.mark.parametrize(("tail", "kept"), [
    ("", ["0", "1"]),
    ("2,im2.png,,2", ["0", "1"]),  # every column, but no newline: cut inside its last field
    ("2,im2.p", ["0", "1"]),  # too few columns
    ("2,im2.png,,2\n", ["0", "1", "2"]),
])
def test_only_complete_rows_are_read(tmp_path, tail, kept):
    csv_path = tmp_path / "jpeg.csv"
    csv_path.write_text(HEADER + "0,im0.png,,0\n1,im1.png,,1\n" + tail)
    assert [r["value"] for r in read_rows(csv_path)] == kept


def test_the_recommended_largest_evaluation_fits_the_cap():
    assert runner.RESULTS_CSV_MAX_BYTES >= 2 * 40_000 * 30 * 400
