"""Mutation round M20 (session 46): what this session's new code outside evaluation and training
does that no other test held.

Each test here failed on a mutant that the existing tests let pass (taco.cli.files,
taco.progress, taco.evaluation.datasets, taco.distributed, taco.filekinds, taco.messages).
"""

from __future__ import annotations

import os
import pty
import sys

import pytest

from taco.cli.files import stderr_joins_stdout, stdout_data_problem


@pytest.fixture
def terminal():
    """A pseudo-terminal's follower end as a text stream."""
    leader, follower = pty.openpty()
    stream = os.fdopen(follower, "w", encoding="utf-8")
    try:
        yield stream
    finally:
        stream.close()
        os.close(leader)


def test_stdout_and_stderr_on_one_terminal_do_not_join(terminal, monkeypatch):
    """Standard output and standard error both the one terminal (the usual interactive shell,
    where ``2>&1`` changes nothing): the two descriptors are one file, yet a person reads text
    there: JSON (``taco bench --json -``, ``taco evaluate ... -o -``) is written on the terminal,
    as taco's notes are, not refused as if stderr were sent into a file of data."""
    monkeypatch.setattr(sys, "stdout", terminal)  # here: pytest's capture sets them for the test
    monkeypatch.setattr(sys, "stderr", terminal)
    assert os.path.samestat(os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno()))
    assert stderr_joins_stdout() is False
    assert stdout_data_problem("--json FILE", text=True) is None
    # binary data there is refused for the terminal, not for the joined streams
    assert stdout_data_problem("-o FILE") == ("standard output is a terminal: redirect it (> FILE, | ...) "
                                              "or give -o FILE")


def test_a_dev_that_cannot_be_asked_is_taken_for_the_systems(monkeypatch):
    """Where /dev cannot be looked at (a sandbox that hides it: os.stat refused), a name under it
    is still taken for the system's, refused as an -o, not for a folder of the user's."""
    import taco.cli.files as files

    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path) == "/dev":
            raise PermissionError(13, "Permission denied", "/dev")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "stat", stat)
    assert files.system_name("/dev/x.png") is True
    assert files.system_name("/tmp/x.png") is False  # not under /dev or /proc: nothing asked


# --------------------------------------------------------------------------- progress lines


@pytest.fixture
def clock(monkeypatch):
    """The progress counter's clock (taco.progress.monotonic), at 0 s: ``clock[0] += 60``."""
    import taco.progress

    now = [0.0]
    monkeypatch.setattr(taco.progress, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def log_file(tmp_path, monkeypatch):
    """``log_file()`` makes stderr a file and returns a function reading what was written there
    (called in the test: pytest's capture sets sys.stderr again between a fixture and its test)."""
    path = tmp_path / "stderr.log"
    with path.open("w", encoding="utf-8") as stream:
        def install():
            monkeypatch.setattr(sys, "stderr", stream)
            return lambda: (stream.flush(), path.read_text())[1]

        yield install


def test_a_line_is_said_once_lines_every_has_passed_to_the_second(clock, log_file):
    """Items of exactly ``lines_every`` (60 s) each: a line after every one, the minute reached
    counting as passed."""
    from taco.progress import progress_bar

    written = log_file()
    for _ in progress_bar(range(3), desc="d", unit="img", lines_every=60.0):
        clock[0] += 60.0
    assert written().splitlines() == ["d: 1/3 img, 1:00 elapsed, ~2:00 left",
                                      "d: 2/3 img, 2:00 elapsed, ~1:00 left",
                                      "d: 3/3 img, 3:00 elapsed, ~0:00 left"]


def test_a_line_before_anything_is_counted_gives_no_estimate(clock, log_file):
    """A counter updated by nothing (``update(0)``, a batch of no images) once a minute has passed
    says the count and the time, with no pace to estimate from (no division by its count)."""
    from taco.progress import progress_bar

    written = log_file()
    bar = progress_bar(total=10, initial=4, desc="caption", unit="img", lines_every=60.0)
    clock[0] = 61.0
    bar.update(0)
    bar.close()
    assert written().splitlines() == ["caption: 4/10 img, 1:01 elapsed"]


def test_a_run_of_over_a_day_says_its_days(clock, log_file):
    """From a day on, the time reads ``1 d 01:02:03`` (as taco train's step lines), not 25
    hours."""
    from taco.progress import progress_bar

    written = log_file()
    bar = progress_bar(desc="features", unit="img", lines_every=60.0)
    clock[0] = 86400 + 3723.0
    bar.update(5)
    clock[0] = 2 * 86400 + 5.0
    bar.update(5)
    bar.close()
    assert written().splitlines() == ["features: 5 img, 1 d 01:02:03 elapsed",
                                      "features: 10 img, 2 d 00:00:05 elapsed"]
