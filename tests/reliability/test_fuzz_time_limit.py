"""``scripts/fuzz_decoder.py run`` stopped early -- by ``--seconds`` or by Ctrl-C / SIGTERM -- ends
cleanly: the summary of the cases that ran is printed and written as JSON, no traceback, no
worker process and no work folder left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FUZZ_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_decoder.py"



def env(tmp_path: Path) -> dict[str, str]:
    """The script's environment: its work folder goes in the test's own TMPDIR (so that tests run
    side by side, under pytest-xdist, see only their own)."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp")}


def start(tmp_path: Path, *args: str) -> subprocess.Popen:
    """The fuzz script in its own process group (as a shell runs it: Ctrl-C reaches the group)."""
    return subprocess.Popen([sys.executable, str(FUZZ_SCRIPT), "run", "--cases", "100000", "--seed", "5",
                             "--json", str(tmp_path / "fuzz.json"), *args], env=env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def group_members(pgid: int) -> list[str]:
    """The processes of a process group still running (zombies aside): their /proc stat lines."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            line = stat.read_text()
        except OSError:
            continue
        state, _, pgrp = line.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            found.append(line[:120])
    return found


def finish(proc: subprocess.Popen, tmp_path: Path) -> tuple[dict, str]:
    """Wait for the run; check what it leaves behind -> (its JSON summary, its stderr)."""
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # multiprocessing's resource tracker exits just after the run
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_members(proc.pid)  # no worker left running
    assert not list((tmp_path / "tmp").iterdir())  # its work folder is removed
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode == 0, err[-3000:]
    s = json.loads((tmp_path / "fuzz.json").read_text())
    assert s["cases"] == sum(s["outcomes"].values()) + len(s["crashes"]) + len(s["hangs"])
    assert s["cases_requested"] == 100000 and s["cases"] < 100000
    assert not s["crashes"] and not s["hangs"] and not s["exceptions_by_type"]
    assert '"stopped"' in out  # the summary was printed too
    return s, err


@pytest.mark.timeout(180)
def test_seconds_stops_the_run_on_its_time_limit_with_a_summary(tmp_path):
    t0 = time.monotonic()
    s, _ = finish(start(tmp_path, "--seconds", "3"), tmp_path)
    assert time.monotonic() - t0 < 3 + 15  # start-up and one case at most past the limit
    assert s["stopped"] == "time limit" and s["time_limit_seconds"] == 3


@pytest.mark.timeout(180)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_writes_its_partial_summary(tmp_path, signum):
    """Ctrl-C (SIGINT to the process group, worker included) or ``timeout``'s SIGTERM, sent once
    the worker is running cases: it finishes its case, and the run reports what ran."""
    proc = start(tmp_path)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "tmp").glob("taco-fuzz-*/case.taco")):
        assert time.monotonic() < deadline and proc.poll() is None, "the worker ran no case"
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(proc.pid, signum)
    s, _ = finish(proc, tmp_path)
    assert s["stopped"] == signal.Signals(signum).name and s["cases"] > 0
    assert s["time_limit_seconds"] is None
