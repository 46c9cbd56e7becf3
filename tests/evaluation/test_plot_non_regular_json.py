"""``taco plot`` on a folder where an entry named ``*.json`` is no regular file: a FIFO (open()
waited on it forever), a dangling link (it stopped the plot: no such file or directory), a link
loop (a RuntimeError traceback from resolve()). Each is skipped with a warning naming it now,
as a JSON that is not a result is skipped."""

from __future__ import annotations

import os

import pytest

from taco.errors import TacoWarning
from taco.evaluation.plot import load_results


def test_non_regular_json_entries_are_skipped(rd_folder, tmp_path):
    folder = rd_folder(tmp_path / "runs")
    n = len(load_results(folder))
    os.mkfifo(folder / "fifo.json")
    (folder / "dangling.json").symlink_to(tmp_path / "nothing.json")
    (folder / "loop.json").symlink_to(folder / "loop.json")
    with pytest.warns(TacoWarning) as caught:
        results = load_results(folder)  # a FIFO opened would wait here forever
    assert len(results) == n
    said = sorted(str(w.message) for w in caught)
    assert said == [f"{folder / name} skipped: not a regular file"
                    for name in ("dangling.json", "fifo.json", "loop.json")], said
