"""taco.progress.progress_bar in a Jupyter kernel: its stderr is no terminal, yet the cell shows
what is written there. Before, tqdm's ``disable=None`` took it for a log file, and
``evaluate_model(..., progress=True)`` (the default) showed no bar in a notebook. Now a kernel
(``ipykernel`` imported) gets tqdm.auto's bar (the notebook widget) where ipywidgets imports,
else a plain text bar; a log file or pipe outside a notebook still gets none."""

from __future__ import annotations

import io
import sys
import types

import pytest

from taco.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


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
