"""taco.fileobjects.read_file_within over a named pipe: a pipe holding more than the limit reports a
size over it (read to one byte past the limit), so the caller refuses it instead of taking its first
``limit`` bytes; ``taco train --print-config`` on such a pipe is refused so."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from taco.cli import main
from taco.fileobjects import read_file_within

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes (mkfifo) are POSIX")


def fifo_holding(path, data: bytes) -> threading.Thread:
    """A named pipe at ``path`` that a thread writes ``data`` into (as much as its reader takes)."""
    os.mkfifo(path)

    def write() -> None:
        try:
            with open(path, "wb") as f:
                f.write(data)
        except BrokenPipeError:  # the reader stopped at its limit
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def unblock(path, writer: threading.Thread) -> None:
    """Let a writer still waiting for a reader finish (a reader that never opened the pipe)."""
    if writer.is_alive():
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while os.read(fd, 1 << 16):
                pass
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
    writer.join(5)


@pytest.mark.parametrize("limit", [0, 1, 100])
def test_a_pipe_over_the_limit_reports_a_size_over_it(tmp_path, limit):
    path = tmp_path / "fifo"
    writer = fifo_holding(path, b"x" * 500)
    try:
        data, size = read_file_within(path, limit)
    finally:
        unblock(path, writer)
    assert size > limit, (len(data), size)
    assert len(data) == size == limit + 1


def test_a_pipe_within_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "fifo"
    writer = fifo_holding(path, b"x" * 100)
    try:
        data, size = read_file_within(path, 100)
    finally:
        unblock(path, writer)
    assert (data, size) == (b"x" * 100, 100)


def test_train_print_config_refuses_a_config_pipe_over_the_limit(tmp_path, capsys):
    """Its last line (batch_size: 3) lies past the 1 MiB a config may hold: refused, not cut."""
    path = tmp_path / "cfg.yaml"
    writer = fifo_holding(path, b"# " + b"x" * 1_200_000 + b"\nbatch_size: 3\n")
    try:
        status = main(["train", str(path), "--print-config"])
    finally:
        unblock(path, writer)
    captured = capsys.readouterr()
    assert status == 2
    assert "over 1,048,576 bytes" in captured.err, captured.err
    assert "batch_size" not in captured.out
