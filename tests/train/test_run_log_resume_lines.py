"""A resumed run keeps the lines of its log.jsonl up to the step it resumes from
(:func:`taco.train.run_log.records_up_to`): a line that is no JSON object with an integer step
(``"step": Infinity``, JSON nested deeper than Python reads) is dropped like a line cut short by
a kill, where it raised OverflowError or RecursionError out of ``taco train --resume``."""

from __future__ import annotations

import json

import pytest

from taco.train.run_log import RunLog, records_up_to

GOOD = [json.dumps({"kind": "train", "step": step, "loss": 1.0}) for step in (1, 2, 3)]


@pytest.mark.parametrize("bad", [
    "[" * 2000 + "]" * 2000,  # RecursionError in json.loads
    '{"kind": "val", "step": ' + "[" * 2000 + "]" * 2000 + "}",
    '{"kind": "train", "step": Infinity}',  # OverflowError in int()
    '{"kind": "train", "step": -Infinity}',
    '{"kind": "train", "step": NaN}',
    '{"kind": "train", "step": 1.5}',
    '{"kind": "train", "step": "1"}',
    '{"kind": "train", "step": true}',
    '{"kind": "train", "step": null}',
    '{"kind": "train"}',
    "[1, 2]",
    '{"kind": "train", "st',
])
def test_a_line_without_an_integer_step_is_dropped(bad):
    kept, dropped = records_up_to("\n".join([GOOD[0], bad, *GOOD[1:]]) + "\n", 2)
    assert kept == GOOD[:2] and dropped


def test_lines_up_to_the_step_are_kept_as_they_are():
    assert records_up_to("".join(f"{line}\n" for line in GOOD), 3) == (GOOD, False)
    assert records_up_to("".join(f"{line}\n" for line in GOOD), 1) == (GOOD[:1], True)


def test_resuming_over_a_log_with_such_lines_rewrites_it_without_them(tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)  # no tensorboard
    (tmp_path / "log.jsonl").write_text("\n".join([GOOD[0], '{"kind": "train", "step": Infinity}',
                                                   "[" * 5000 + "]" * 5000, *GOOD[1:]]) + "\n")
    log = RunLog(tmp_path, is_main=True, progress=False, write_error=lambda p, e: e)
    log.open("model: elic-tiny\n", start_step=2)
    log.close()
    assert (tmp_path / "log.jsonl").read_text().splitlines() == GOOD[:2]
