"""taco.progress.progress_bar: the one tqdm bar of taco's long loops (on stderr, drawn only on a
terminal, as wide as it: tests/test_progress_width.py), and the four loops that draw it: ``taco
caption``, ``taco evaluate``'s jobs and its originals' features, ``taco train``; off a terminal,
the lines the first three say now and then instead (``lines_every``)."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import taco.progress
from taco.progress import LINES_EVERY, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def a_terminal_that_redraws(monkeypatch):
    """The terminal these tests' ``Terminal`` stands for takes redraws, whatever TERM the tests
    run under (an editor's compile buffer sets TERM=dumb)."""
    monkeypatch.setenv("TERM", "xterm-256color")


def test_no_bar_where_stderr_is_no_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = progress_bar(range(3), desc="d", unit="img")
    assert bar.disable and list(bar) == [0, 1, 2]
    assert sys.stderr.getvalue() == ""


def test_a_terminal_gets_a_bar_on_stderr(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(total=4, initial=1, desc="work", unit="step")
    assert not bar.disable and bar.dynamic_ncols
    bar.update(1)
    bar.close()
    assert "work" in sys.stderr.getvalue() and "2/4" in sys.stderr.getvalue()


def test_a_dumb_terminal_gets_no_bar(monkeypatch):
    """TERM=dumb (Emacs' compile and shell buffers, some CI log viewers) cannot take tqdm's
    ``\\r`` redraws: a 20-image ``taco evaluate`` there wrote one 1,954-byte line with 29 of
    them (``^M``). As the command line's stage line (StageReporter), it gets no bar, as a log
    file does."""
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(range(3), desc="d", unit="img")
    assert bar.disable and "tqdm" not in type(bar).__module__
    assert list(bar) == [0, 1, 2]
    bar = progress_bar(total=4, desc="train", unit="step")
    bar.update(2)
    bar.close()
    assert sys.stderr.getvalue() == ""


@pytest.fixture
def calls(monkeypatch):
    """Where each caller's progress_bar is replaced by one that notes its arguments."""
    seen: list[dict[str, object]] = []

    def noted(module: object) -> None:
        def bar(iterable=None, **kwargs):
            seen.append(kwargs)
            return progress_bar(iterable, **kwargs)

        monkeypatch.setattr(module, "progress_bar", bar)

    return seen, noted


def test_caption_draws_the_bar(tmp_path, calls):
    from taco.evaluation import caption
    from taco.evaluation.caption_plan import CaptionPlan

    seen, noted = calls
    noted(caption)
    plan = CaptionPlan(tmp_path / "captions.jsonl", (tmp_path / "missing.png",), 0, False)
    caption.run_caption_plan(plan, SimpleNamespace(name="stub"), progress=True)
    assert seen == [{"total": 1, "desc": "caption", "unit": "img", "lines_every": LINES_EVERY}]


def test_evaluation_jobs_draw_the_bar(tmp_path, calls):
    from taco.evaluation import runner

    seen, noted = calls
    noted(runner)
    runner.run_jobs([runner.Job(0, "a.png")], lambda job: runner.JobResult({"x": 1}),
                    tmp_path / "r.csv", ["image", "setting", "x"], progress=True, desc="jpeg")
    assert seen == [{"desc": "jpeg", "unit": "img", "lines_every": LINES_EVERY, "position": None}]


def test_original_features_draw_the_bar(tmp_path, calls):
    from taco.evaluation import measure

    seen, noted = calls
    noted(measure)
    sets = SimpleNamespace(feature_names=["f"], features=lambda x: {"f": np.zeros((1, 2))})
    sample = SimpleNamespace(name="a.png", image=torch.zeros(3, 2, 2))
    dataset = SimpleNamespace(names=["a.png"], images=[sample])
    assert set(measure.original_features(sets, dataset, tmp_path, progress=True)) == {"a.png"}
    assert seen == [{"desc": "features of the originals", "unit": "img", "lines_every": LINES_EVERY}]


def test_training_draws_the_bar(tmp_path, calls):
    from taco.train import run_log

    seen, noted = calls
    noted(run_log)
    log = run_log.RunLog(Path(tmp_path), is_main=True, progress=True, write_error=lambda p, e: e)
    log.progress_bar(10, 3).close()
    assert seen == [{"total": 10, "initial": 3, "desc": "train", "unit": "step"}]  # its own lines


# In a Jupyter kernel the stderr is no terminal, yet the cell shows what is written there: a bar
# is drawn (tqdm.auto's where ipywidgets imports, else a text bar); a log file still gets none.

@pytest.fixture
def kernel(monkeypatch):
    """A process that imported ipykernel (a fake one); its stderr, a stream of the cell's, is
    set in the test (pytest's capture sets sys.stderr again between a fixture and its test)."""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    return lambda: monkeypatch.setattr(sys, "stderr", io.StringIO())


def test_a_notebook_without_ipywidgets_gets_a_text_bar(kernel, monkeypatch):
    from tqdm import tqdm

    kernel()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets: ImportError
    bar = progress_bar(range(3), desc="work", unit="img")
    assert type(bar) is tqdm and not bar.disable
    assert list(bar) == [0, 1, 2]
    assert "work" in sys.stderr.getvalue() and "3/3" in sys.stderr.getvalue()


def test_a_notebook_with_ipywidgets_gets_tqdm_autos_bar(kernel, monkeypatch):
    import tqdm.auto

    kernel()
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    bar = progress_bar(total=4, initial=1, desc="train", unit="step")
    assert isinstance(bar, tqdm.auto.tqdm) and not bar.disable
    bar.update(1)
    bar.close()
    assert "train" in sys.stderr.getvalue()  # no real kernel here: tqdm.auto's text bar


def test_a_kernel_on_a_terminal_draws_as_before(monkeypatch):
    from tqdm import tqdm

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(range(2), desc="d", unit="img")
    assert type(bar) is tqdm and not bar.disable
    assert list(bar) == [0, 1] and "2/2" in sys.stderr.getvalue()


def test_a_notebook_under_term_dumb_still_gets_its_bar(kernel, monkeypatch):
    """TERM=dumb is about a terminal's redraws; a kernel's cell is none, and shows the bar."""
    from tqdm import tqdm

    kernel()
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    bar = progress_bar(range(3), desc="work", unit="img")
    assert type(bar) is tqdm and list(bar) == [0, 1, 2] and "3/3" in sys.stderr.getvalue()


def test_a_log_file_outside_a_notebook_still_gets_no_bar(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = progress_bar(range(3), desc="d", unit="img")
    assert bar.disable and list(bar) == [0, 1, 2]
    assert sys.stderr.getvalue() == ""


def test_evaluation_jobs_show_their_bar_in_a_notebook(kernel, monkeypatch, tmp_path):
    """What ``evaluate_model(..., progress=True)`` runs its images through."""
    from taco.evaluation import runner

    kernel()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    runner.run_jobs([runner.Job(0, "a.png"), runner.Job(0, "b.png")],
                    lambda job: runner.JobResult({"x": 1}), tmp_path / "r.csv",
                    ["image", "setting", "x"], progress=True, desc="jpeg")
    assert "jpeg" in sys.stderr.getvalue() and "2/2" in sys.stderr.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_kernel_on_a_terminal_with_ipywidgets_draws_a_plain_bar(monkeypatch):
    """ipykernel imported but stderr a terminal (a console on a kernel): tqdm's own bar, not
    tqdm.auto's, even where ipywidgets imports."""
    from tqdm import tqdm

    from taco.progress import progress_bar

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    monkeypatch.setattr(sys, "stderr", _Terminal())
    bar = progress_bar(range(2), desc="d", unit="img")
    assert type(bar) is tqdm
    assert list(bar) == [0, 1] and "2/2" in sys.stderr.getvalue()


def test_a_notebook_whose_ipywidgets_is_broken_gets_a_text_bar(monkeypatch, tmp_path):
    """An ipywidgets that fails to import with another error than ImportError (a version
    clash): a plain text bar, no failure."""
    from tqdm import tqdm

    from taco.progress import progress_bar

    package = tmp_path / "ipywidgets"
    package.mkdir()
    (package / "__init__.py").write_text("raise AttributeError('broken ipywidgets')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ipywidgets", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = progress_bar(range(3), desc="work", unit="img")
    assert type(bar) is tqdm and not bar.disable
    assert list(bar) == [0, 1, 2] and "3/3" in sys.stderr.getvalue()


class _ClosedStderr(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


def test_a_closed_stderr_gets_no_bar(monkeypatch):
    from taco.progress import progress_bar

    monkeypatch.setattr("sys.stderr", _ClosedStderr())
    bar = progress_bar(total=3, desc="x", unit="image")
    assert bar.disable is True
    assert "tqdm" not in type(bar).__module__
    bar.update(2)
    bar.close()


@pytest.mark.parametrize(("stderr", "term", "kernel", "drawn"), [
    (io.StringIO, "xterm", False, False), (Terminal, "xterm", False, True), (Terminal, "dumb", False, False),
    (io.StringIO, "dumb", True, True), (_ClosedStderr, "xterm", False, False), (None, "xterm", False, False)])
def test_draws_bar_says_whether_progress_bar_draws(monkeypatch, stderr, term, kernel, drawn):
    """The one rule of where a bar is drawn, which taco evaluate's line per finished run asks
    too: a log file, a dumb terminal, a closed or no stderr none; a terminal or a notebook's cell
    one."""
    from taco.progress import draws_bar

    monkeypatch.setenv("TERM", term)
    if kernel:
        monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
        monkeypatch.setitem(sys.modules, "ipywidgets", None)
    else:
        monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", stderr and stderr())
    assert draws_bar() is drawn
    bar = progress_bar(total=2, desc="d", unit="img")
    assert bar.disable is not drawn
    bar.close()


# Off a terminal (a log file, a pipe) no bar is drawn: a reviewer's 1,000-image taco evaluate
# 2>log said nothing for some 7 minutes between its start-up notes and its summary. With
# lines_every the counter says how far it is at most that often, by a fake clock here.


@pytest.fixture
def clock(monkeypatch):
    """The progress counter's clock, at 0 s: ``clock[0] += 25`` moves it on."""
    now = [0.0]
    monkeypatch.setattr(taco.progress, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """``log_file()`` makes stderr a file (no terminal) and returns a function that reads what
    was written to it (called in the test: pytest's capture sets sys.stderr again between a
    fixture and its test)."""
    path = tmp_path / "stderr.log"
    with path.open("w", encoding="utf-8") as stream:
        def install():
            monkeypatch.setattr(sys, "stderr", stream)
            return lambda: (stream.flush(), path.read_text())[1]

        yield install


def test_a_log_file_gets_a_line_at_most_every_lines_every(clock, log_file):
    written = log_file()
    bar = progress_bar(range(10), desc="jpeg on val", unit="img", lines_every=60.0)
    assert bar.disable
    for _ in bar:
        clock[0] += 25.0  # each image's work: a line after the 3rd (75 s), the 6th (150 s), the 9th
    assert written().splitlines() == [
        "jpeg on val: 3/10 img, 1:15 elapsed, ~2:55 left",
        "jpeg on val: 6/10 img, 2:30 elapsed, ~1:40 left",
        "jpeg on val: 9/10 img, 3:45 elapsed, ~0:25 left",
    ]
    assert bar.n == 10


def test_a_counter_updated_by_hand_says_its_lines_too(clock, log_file):
    """As taco caption's (a batch at a time); its pace from this run's count (``initial``), and
    without a total the count and time alone."""
    written = log_file()
    bar = progress_bar(total=2000, initial=1000, desc="caption", unit="img", lines_every=60.0)
    clock[0] = 59.0
    bar.update(8)  # not a minute yet
    clock[0] = 120.0
    bar.update(8)
    bar.close()
    bar = progress_bar(desc="features\x1b[2J\n", unit="img", lines_every=60.0)
    clock[0] = 3725.0
    bar.update(3)
    assert written().splitlines() == ["caption: 1,016/2,000 img, 2:00 elapsed, ~2:03:00 left",
                                      "features?[2J?: 3 img, 1:00:05 elapsed"]


def test_without_lines_every_or_on_a_terminal_no_line(clock, log_file, monkeypatch):
    written = log_file()
    for _ in progress_bar(range(3), desc="d", unit="img"):
        clock[0] += 100.0
    assert written() == ""
    monkeypatch.setattr(sys, "stderr", Terminal())
    for _ in progress_bar(range(3), desc="d", unit="img", lines_every=60.0):
        clock[0] += 100.0
    assert "elapsed" not in sys.stderr.getvalue() and "3/3" in sys.stderr.getvalue()  # the bar alone


def test_evaluation_jobs_say_lines_in_a_log_file(tmp_path, clock, log_file):
    from taco.evaluation import runner

    written = log_file()

    def work(job):
        clock[0] += 40.0
        return runner.JobResult({"x": 1})

    runner.run_jobs([runner.Job(i, f"{i}.png") for i in range(4)], work, tmp_path / "r.csv",
                    ["image", "setting", "x"], progress=True, desc="jpeg on val")
    assert written().splitlines() == ["jpeg on val: 2/4 img, 1:20 elapsed, ~1:20 left",
                                      "jpeg on val: 4/4 img, 2:40 elapsed, ~0:00 left"]


def test_a_stderr_gone_ends_the_lines_not_the_loop(clock, monkeypatch):
    class Gone(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            Gone.writes += 1
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stderr", Gone())
    done = []
    for i in progress_bar(range(5), desc="d", unit="img", lines_every=60.0):
        clock[0] += 100.0
        done.append(i)
    assert done == [0, 1, 2, 3, 4] and Gone.writes == 1


def test_a_line_is_said_once_lines_every_has_passed_to_the_second(clock, log_file):
    """Items of exactly ``lines_every`` (60 s) each: a line after every one, the minute reached
    counting as passed."""
    written = log_file()
    for _ in progress_bar(range(3), desc="d", unit="img", lines_every=60.0):
        clock[0] += 60.0
    assert written().splitlines() == ["d: 1/3 img, 1:00 elapsed, ~2:00 left",
                                      "d: 2/3 img, 2:00 elapsed, ~1:00 left",
                                      "d: 3/3 img, 3:00 elapsed, ~0:00 left"]


def test_a_line_before_anything_is_counted_gives_no_estimate(clock, log_file):
    """A counter updated by nothing (``update(0)``, a batch of no images) once a minute has passed
    says the count and the time, with no pace to estimate from (no division by its count)."""
    written = log_file()
    bar = progress_bar(total=10, initial=4, desc="caption", unit="img", lines_every=60.0)
    clock[0] = 61.0
    bar.update(0)
    bar.close()
    assert written().splitlines() == ["caption: 4/10 img, 1:01 elapsed"]


def test_a_run_of_over_a_day_says_its_days(clock, log_file):
    """From a day on, the time reads ``1 d 01:02:03`` (as taco train's step lines), not 25
    hours."""
    written = log_file()
    bar = progress_bar(desc="features", unit="img", lines_every=60.0)
    clock[0] = 86400 + 3723.0
    bar.update(5)
    clock[0] = 2 * 86400 + 5.0
    bar.update(5)
    bar.close()
    assert written().splitlines() == ["features: 5 img, 1 d 01:02:03 elapsed",
                                      "features: 10 img, 2 d 00:00:05 elapsed"]
