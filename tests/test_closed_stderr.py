"""A stderr whose reader went away (``taco compress ... 2>&1 >log | true``) ended a whole batch
with status 141, writing nothing, though only notes and progress lines were lost: stderr is
then pointed at the null device and the work goes on (review A)."""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image

from taco.cli.progress_line import StageReporter
from taco.messages import note


def test_a_batch_goes_on_when_stderrs_reader_has_gone(photos, tmp_path):
    out = tmp_path / "out"
    # elic-tiny has no trained weights: its note is the first thing written to stderr, before the work
    with subprocess.Popen([sys.executable, "-m", "taco", "compress", str(photos), "-m", "elic-tiny",
                           "--caption", "", "-o", str(out)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        proc.stderr.close()  # the reader is gone before anything was written
        stdout = proc.stdout.read().decode()
    assert proc.returncode == 0, stdout
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]
    assert stdout.splitlines()[-1].startswith("compressed 3 images with elic-tiny")


def test_report_lines_to_a_closed_stderr_keep_the_data_on_stdout(photos, tmp_path):
    """With -o - the data is stdout and the report lines go to stderr: a closed stderr loses
    those lines only (it ended the command with status 141 after the data)."""
    image = tmp_path / "g.png"
    Image.new("RGB", (32, 32), (10, 200, 30)).save(image)
    with subprocess.Popen([sys.executable, "-m", "taco", "compress", str(image), "-m", "elic-small-q4",
                           "-o", "-"], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        proc.stderr.close()
        data = proc.stdout.read()
    assert proc.returncode == 0
    assert data.startswith(b"TACO")


def _closed_pipe():
    """A text stream into a pipe whose reader is gone."""
    read, write = os.pipe()
    os.close(read)
    return os.fdopen(write, "w")


def _to_null_device(stream) -> bool:
    return os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))


def test_progress_lines_and_notes_into_a_closed_pipe_go_nowhere(monkeypatch):
    with _closed_pipe() as stream:
        with StageReporter("x.png", delay=0.0, stream=stream) as progress:
            progress("analysis", 0, 1)  # EPIPE: the stream now writes to the null device
            progress("entropy coding", 0, 1)
        assert _to_null_device(stream)
    with _closed_pipe() as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        note("compress", "nobody reads this")
        note("compress", "nor this")
        assert _to_null_device(stream)


def test_the_exit_status_survives_a_closed_stderr(tmp_path):
    """The error line into a closed stderr raised BrokenPipeError inside main's handler, and the
    process ended with status 1 instead of 2 (review K)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "taco", "info", str(tmp_path / "nothere.taco")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=write,
                              timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 2


def test_stderr_lines_go_through_to_stderr():
    """A plain print to stderr raises BrokenPipeError when stderr's reader has gone: five were
    left after the others moved to taco.messages.to_stderr (taco evaluate's caption-mode table
    ended the run with 141 before its figure, review R). Only the progress bar's module names
    sys.stderr as a print's file."""
    from pathlib import Path

    import taco

    root = Path(taco.__file__).parent
    allowed = {"progress.py"}
    found = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if "file=sys.stderr" in line and str(path.relative_to(root).as_posix()) not in allowed]
    assert found == []
