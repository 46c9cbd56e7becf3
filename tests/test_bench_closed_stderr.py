"""``taco bench`` whose stderr's reader has gone stopped with status 141 at its first progress
line, printing no table, though stderr carries only those lines: they now go nowhere and the
table comes on stdout (review K)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import taco.bench.latency
import taco.bench.report
from taco.cli import main as taco_main


def test_progress_lines_into_a_closed_pipe_go_nowhere(monkeypatch, capsys):
    said = []

    def run_bench(cfg, log):
        log("building models on cpu ...")
        said.append("built")
        log("run 1/1")
        return {}

    monkeypatch.setattr(taco.bench.latency, "run_bench", run_bench)  # the lines, not the work
    monkeypatch.setattr(taco.bench.report, "format_table", lambda result: "the table")
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w", buffering=1) as stream:  # line-buffered, as stderr is
        monkeypatch.setattr(sys, "stderr", stream)
        assert taco_main(["bench", "--quick", "--device", "cpu"]) == 0
        assert os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))
    assert said == ["built"] and capsys.readouterr().out == "the table\n"


@pytest.mark.slow
def test_the_table_comes_when_stderrs_reader_has_gone():
    """The real bench in its own process (~8 s)."""
    with subprocess.Popen([sys.executable, "-m", "taco", "bench", "--quick", "--device", "cpu", "--runs", "1",
                           "--warmup", "0", "--crop", "64", "--batch", "0", "--no-clip-b",
                           "--images", "skimage-chelsea.png"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        proc.stderr.close()  # the reader is gone before the first progress line
        stdout = proc.stdout.read().decode()
    assert proc.returncode == 0, stdout
    assert "ratios (of medians)" in stdout
