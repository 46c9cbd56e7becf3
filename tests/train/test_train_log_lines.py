"""What ``taco train`` writes to a log (``nohup taco train ... > log``, a scheduler's output file):
a reader of ``tail -f log`` must tell a running job from a hung one. The caption encoding of a
run with ``data_on_device`` (an hour for COCO's 414,000 captions on a CPU) was silent: the first
line came once the set-up was done. Its step lines gave no times (``step 10/400: loss ... 4.81
img/s``), a checkpoint was not marked (after a SIGKILL the log did not say one was there), and a
run that reached its time limit did not say how to go on. A signal's announcement put a blank
line before itself."""

from __future__ import annotations

import io
import re
import shlex
import signal
import sys

import pytest

from taco import progress as progress_module
from taco.cli import main as taco_main
from taco.messages import shell_word
from taco.progress import bar_shown, clock
from taco.text import get_text_encoder
from taco.train import load_config, train
from taco.train.caption_embeddings import CaptionTable
from taco.train.run_log import NO_ESTIMATE_S, step_times
from taco.train.schedule import StopSignals, TimeBudget


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_caption_encoding_is_said_before_it_starts(tmp_path, tiny, capsys):
    train(load_config(None, tiny(tmp_path / "run", max_steps=1, k_j=0, data_on_device="true")))
    lines = capsys.readouterr().err.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("train: preset "))
    encoded = re.search(r"text clip-tiny \(([\d,]+) captions encoded once\)", lines[summary])
    assert encoded, lines[summary]
    said = [line for line in lines[:summary] if line.startswith("train: ")]
    assert said == ["train: decoding 4 images onto cpu (data_on_device) ...",
                    f"train: encoding {encoded[1]} captions with clip-tiny ..."], lines


def test_the_caption_table_draws_a_bar_of_captions_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that draws bars (not TERM=dumb's)
    monkeypatch.setattr(sys, "stderr", Terminal())
    captions = [f"a photo of thing {i}" for i in range(5)]
    said: list[str] = []
    table = CaptionTable.encode(captions, get_text_encoder("clip-tiny"), {"name": "clip-tiny"}, "cpu",
                                batch_size=2, progress=True, say=said.append)
    assert len(table) == 5 and said == ["encoding 5 captions with clip-tiny ..."]
    drawn = sys.stderr.getvalue()
    assert "captions: 100%" in drawn and "5/5" in drawn and "caption/s" in drawn, drawn
    assert not bar_shown()  # closed


def test_a_log_is_told_how_far_the_caption_encoding_is(monkeypatch):
    """No bar in a log file: a line a minute instead (the counter's, taco.progress.LINES_EVERY)."""
    now = [0.0]

    def minutes() -> float:
        now[0] += 61
        return now[0]

    monkeypatch.setattr(progress_module, "monotonic", minutes)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    CaptionTable.encode([f"a photo of thing {i}" for i in range(5)], get_text_encoder("clip-tiny"),
                        {"name": "clip-tiny"}, "cpu", batch_size=2, progress=True)
    lines = sys.stderr.getvalue().splitlines()
    assert lines and all(re.fullmatch(r"captions: \d/5 caption, \d+:\d\d elapsed, ~\d+:\d\d left", line)
                         for line in lines), lines


@pytest.mark.parametrize("progress", [True, False])
def test_no_bar_where_stderr_is_a_log_or_none_is_asked(monkeypatch, progress):
    monkeypatch.setattr(progress_module, "monotonic", lambda: 0.0)  # no minute goes by
    monkeypatch.setattr(sys, "stderr", Terminal() if not progress else io.StringIO())
    CaptionTable.encode(["a cat", "a cup"], get_text_encoder("clip-tiny"), {"name": "clip-tiny"}, "cpu",
                        progress=progress)
    assert sys.stderr.getvalue() == ""


ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


@pytest.mark.parametrize("stderr", [io.StringIO, Terminal])
def test_progress_false_leaves_out_the_bar_not_the_step_lines(tmp_path, tiny, monkeypatch, stderr):
    """``progress: false`` (configs/taco-minilm-vr.yaml, elic-vr.yaml) took the step lines out of a
    log too: ``nohup taco train CONFIG > log`` said nothing between the summary and the end."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys, "stderr", stderr())
    train(load_config(None, tiny(tmp_path / "run", max_steps=2, progress="false", **ELIC)))
    err = sys.stderr.getvalue()
    steps = [line.split(":")[0] for line in err.splitlines() if line.startswith("step ")]
    assert steps == ["step 1/2", "step 2/2"] and "\r" not in err, err


def test_a_clock_reads_seconds_minutes_hours_and_days():
    assert [clock(s) for s in (0, 4.6, 75, 3599.4, 3723, 3 * 86400 + 3723)] == [
        "0:00", "0:05", "1:15", "59:59", "1:02:03", "3 d 01:02:03"]


def test_a_step_line_leaves_out_an_estimate_it_does_not_have():
    assert step_times(62, 190) == "1:02 elapsed, ~3:10 left"
    assert step_times(62, None) == step_times(62, float("inf")) == "1:02 elapsed"
    assert step_times(62, NO_ESTIMATE_S) == "1:02 elapsed"  # epochs: 1000000, no time_limit


def test_step_lines_give_the_times_and_checkpoints_are_marked(tmp_path, tiny, capsys):
    out = tmp_path / "run"
    train(load_config(None, tiny(out, max_steps=3, ckpt_interval=2, **ELIC)))
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith(("step ", "checkpoint "))]
    assert [re.split(r":| saved", line)[0] for line in lines] == [
        "step 1/3", "step 2/3", "checkpoint @ step 2", "step 3/3"], lines
    for line in lines[:2]:
        assert re.search(r" img/s; \d+:\d\d elapsed, ~\d+:\d\d left$", line), line
    assert re.search(r" img/s; \d+:\d\d elapsed$", lines[3]), lines[3]  # its end: no estimate
    assert lines[2] == f"checkpoint @ step 2 saved in {out} (go on from it with train(cfg, resume={str(out)!r}))"


def test_a_run_stopped_by_its_time_limit_says_how_to_go_on(tmp_path, tiny, capsys, monkeypatch):
    checks: list[int] = []

    def spent(self: TimeBudget, steps: int = 1, saves: int = 0, validations: int = 0) -> bool:
        checks.append(steps)
        return len(checks) > 2  # before step 1, after it; spent after step 2

    monkeypatch.setattr(TimeBudget, "spent", spent)
    out = tmp_path / "my run"
    argv = ["train", "--set", *tiny(out, max_steps=10, ckpt_interval=1, time_limit="1h", **ELIC)]
    assert taco_main(argv) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("done: time limit 1h reached; 2 steps (1.00 epochs) in "), lines[-1]
    go_on = lines[-1].rpartition("; go on with ")[2]
    assert go_on == f"taco train --resume {shell_word(out)}" and shlex.split(go_on)[-1] == str(out)
    assert f"checkpoint @ step 1 saved in {out} (go on from it with {go_on})" in lines
    monkeypatch.undo()  # an hour left
    assert taco_main(shlex.split(go_on)[1:]) == 0  # it goes on, to max_steps
    assert capsys.readouterr().err.splitlines()[-1].startswith("done: 10 steps ")


class Bar:
    """A progress bar as the announcement sees it: drawn, or not (taco.progress's counter)."""

    def __init__(self, disable: bool) -> None:
        self.disable = disable


@pytest.mark.parametrize("bar,first", [(None, "taco train: SIGTERM: stopping after this step"),
                                       (Bar(disable=True), "taco train: SIGTERM: stopping after this step"),
                                       (Bar(disable=False), "\ntaco train: SIGTERM: stopping after this step")])
def test_a_signals_announcement_leaves_a_log_no_blank_line(tmp_path, monkeypatch, bar, first):
    """The announcement began with a line feed, there to leave a bar's line, and every log got a
    blank line before it."""
    with (tmp_path / "log").open("w") as log:
        monkeypatch.setattr(sys, "stderr", log)
        with StopSignals(says="taco train") as stop:
            stop.bar = bar
            stop.request(signal.SIGTERM, None)
    said = (tmp_path / "log").read_text()
    assert said.startswith(first) and said.count("\n") == 1 + first.count("\n"), said
    assert said.endswith("(another SIGTERM stops at once, losing the steps since the last one)\n")
