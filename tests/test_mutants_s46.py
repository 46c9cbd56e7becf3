"""Mutation round M20 (session 46): what this session's new code outside evaluation and training
does that no other test held.

Each test here failed on a mutant of taco.cli.files that the existing tests let pass (the
progress-line ones are in tests/test_progress_bar.py).
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
