"""Standard error that cannot be written for another reason than a closed pipe -- a full disk
(``2>/dev/full``: ENOSPC) or a terminal that hung up (EIO) -- ended a command with Python's status
1 and lost its output (review SC 1): any OSError writing to stderr now drops it, as EPIPE does,
and the work and its exit status go on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from taco.cli.progress_line import StageReporter
from taco.messages import note

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


def _to_null_device(stream) -> bool:
    return os.path.samestat(os.fstat(stream.fileno()), os.stat(os.devnull))


def test_notes_and_progress_lines_into_a_full_device_go_nowhere(monkeypatch):
    with open("/dev/full", "w") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        note("compress", "nobody reads this")  # ENOSPC: the stream now writes to the null device
        note("compress", "nor this")
        assert _to_null_device(stream)
    with open("/dev/full", "w") as stream:
        with StageReporter("x.png", delay=0.0, stream=stream) as progress:
            progress("analysis", 0, 1)
            progress("entropy coding", 0, 1)
        assert _to_null_device(stream)


def _taco_stderr_full(*args: str, **kwargs) -> subprocess.CompletedProcess:
    with open("/dev/full", "w") as full:
        return subprocess.run([sys.executable, "-m", "taco", *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=full, text=True, timeout=120, **kwargs)


def test_a_batch_goes_on_with_stderr_on_a_full_device(photos, tmp_path):
    out = tmp_path / "out"
    # elic-tiny has no trained weights: its note goes to stderr first, before the work
    done = _taco_stderr_full("compress", str(photos), "-m", "elic-tiny", "--caption", "", "-o", str(out))
    assert done.returncode == 0, done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]
    assert done.stdout.splitlines()[-1].startswith("compressed 3 images with elic-tiny")


def test_the_exit_status_survives_an_error_line_into_a_full_device(tmp_path):
    done = _taco_stderr_full("info", str(tmp_path / "nothere.taco"))
    assert done.returncode == 2
    assert done.stdout == ""
