"""taco embedded in a host without a stderr (``pythonw``, a windowed PyInstaller app, a process
started with ``2>&-``: Python makes ``sys.stderr`` None). ``train()`` wrote its summary line to
the caller's stdout (``tqdm.write(file=None)`` falls back to stdout), then raised AttributeError
('NoneType' object has no attribute 'flush'); ``evaluate_codec`` with its default progress bar
raised AttributeError inside tqdm. Now notes and bars go nowhere and the calls work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tqdm  # noqa: F401  (loaded: a note above a bar would go through tqdm.write)

from taco.messages import note, to_stderr, warning_printer
from taco.progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]


def test_to_stderr_without_a_stderr_writes_nothing_anywhere(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", None)
    to_stderr("a line", above_bar=True)
    to_stderr("another", end="")
    note("train", "a note")
    warning_printer("train")("a warning", UserWarning, __file__, 1)
    monkeypatch.undo()
    assert capsys.readouterr() == ("", "")


def test_progress_bar_without_a_stderr_counts_and_draws_nothing(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", None)
    bar = progress_bar(range(3), desc="d", unit="img")
    assert bar.disable and list(bar) == [0, 1, 2]
    bar = progress_bar(total=4, initial=1, desc="train", unit="step")
    bar.update(1)
    bar.set_postfix_str("loss 1", refresh=False)
    bar.close()
    monkeypatch.undo()
    assert capsys.readouterr() == ("", "")


def test_a_notebook_kernel_without_a_stderr_gets_no_bar(monkeypatch):
    """A kernel (ipykernel imported) took a None stderr for the cell's and handed tqdm None."""
    import types

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setattr(sys, "stderr", None)
    bar = progress_bar(range(2), desc="d", unit="img")
    assert bar.disable and list(bar) == [0, 1]


HOST = """
import sys
assert sys.stderr is None
from taco.evaluation import evaluate_codec, get_codec, open_dataset
from taco.samples import SAMPLES_DIR
from taco.train import DataConfig, TrainConfig, train
cfg = TrainConfig(preset="elic", model="elic-tiny", k_j=0, clip_model=None, crop=64, batch_size=2,
                  max_steps=1, workers=0, progress={progress}, data=DataConfig(root=SAMPLES_DIR),
                  out_dir=sys.argv[1] + "/run")
try:
    print("train", train(cfg).step)
    evaluate_codec(get_codec("jpeg"), open_dataset("samples"), sys.argv[1] + "/eval", qualities=[50])
    print("evaluate_codec ok")
except BaseException:  # no stderr to show it: stdout
    import traceback
    traceback.print_exc(file=sys.stdout)
"""


def _host(tmp_path: Path, progress: bool) -> subprocess.CompletedProcess[str]:
    """The host program run with its stderr closed (fd 2: ``sys.stderr`` is None there)."""
    return subprocess.run([sys.executable, "-c", HOST.format(progress=progress), str(tmp_path)],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(2), timeout=300, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def test_train_and_evaluate_codec_in_a_host_without_a_stderr(tmp_path):
    done = _host(tmp_path, progress=True)
    assert done.returncode == 0 and done.stdout == "train 1\nevaluate_codec ok\n", done.stdout
    assert (tmp_path / "eval" / "jpeg.csv").is_file()
