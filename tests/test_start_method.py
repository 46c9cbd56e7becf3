"""taco embedded in a host program leaves the host's multiprocessing start method alone.
``train()`` and an evaluation with its default progress bar fixed it: tqdm's first bar (even a
disabled one) and ``tqdm.write`` create tqdm's multiprocessing lock, which sets the default
context, so the host's later ``multiprocessing.set_start_method("spawn")`` raised "context has
already been set". Now a bar that would not be drawn is a plain counter (no tqdm built), and a
line goes through ``tqdm.write`` only while a bar is on the line."""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.messages import to_stderr
from taco.progress import bar_shown, progress_bar

ROOT = Path(__file__).resolve().parents[1]

AFTER = """
import multiprocessing
print("start method", multiprocessing.get_start_method(allow_none=True))
multiprocessing.set_start_method("spawn")
print("spawn set")
"""

WRITE = """
import sys
import tqdm
from taco.messages import note, to_stderr
to_stderr("a line", above_bar=True)
note("train", "a note")
"""

HOST = """
import sys
import tqdm
from taco.evaluation import evaluate_codec, get_codec, open_dataset
from taco.samples import SAMPLES_DIR
from taco.train import DataConfig, TrainConfig, train
cfg = TrainConfig(preset="elic", model="elic-tiny", k_j=0, clip_model=None, crop=64, batch_size=2,
                  max_steps=1, workers=0, data=DataConfig(root=SAMPLES_DIR), out_dir=sys.argv[1] + "/run")
train(cfg)
evaluate_codec(get_codec("jpeg"), open_dataset("samples"), sys.argv[1] + "/eval", qualities=[50])
"""


def _host(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` then the host's own ``set_start_method("spawn")``, stderr a pipe (no bar)."""
    return subprocess.run([sys.executable, "-c", script + AFTER, str(tmp_path)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def test_a_line_above_no_bar_leaves_the_start_method_alone(tmp_path):
    done = _host(tmp_path, WRITE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "start method None\nspawn set\n"
    assert done.stderr == "a line\ntaco train: note: a note\n"


def test_train_and_evaluate_codec_leave_the_start_method_alone(tmp_path):
    done = _host(tmp_path, HOST)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "start method None\nspawn set\n"
    assert (tmp_path / "eval" / "jpeg.csv").is_file()
    assert "step 1/1: loss" in done.stderr  # no bar: train's lines instead, as before


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_bar_left() -> None:
    """An earlier test's bar left unclosed goes with its last reference (tqdm's ``__del__``
    closes it), which a reference cycle may put off until the collector runs."""
    gc.collect()
    assert not bar_shown()


def test_no_bar_is_a_counter_with_the_bars_interface(monkeypatch, no_bar_left):
    from tqdm import tqdm

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = progress_bar(range(3), desc="d", unit="img")
    assert not isinstance(bar, tqdm)
    assert bar.disable and bar.total == 3 and len(bar) == 3 and list(bar) == [0, 1, 2]
    bar = progress_bar(total=4, initial=1, desc="train", unit="step")
    bar.update(1)
    bar.set_postfix_str("loss 1", refresh=False)
    bar.close()
    assert bar.n == 2 and not bar_shown()
    assert sys.stderr.getvalue() == ""


def test_a_line_goes_above_a_drawn_bar_only_while_it_is_drawn(monkeypatch, no_bar_left):
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that draws bars (not TERM=dumb's)
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress_bar(total=4, desc="work", unit="img")
    bar.update(1)
    assert bar_shown()
    to_stderr("a note", above_bar=True)
    assert "\ra note\n\rwork:" in sys.stderr.getvalue()  # the bar cleared, the line, the bar again
    bar.close()
    assert not bar_shown()
    to_stderr("after", above_bar=True)
    assert sys.stderr.getvalue().endswith("\nafter\n")
