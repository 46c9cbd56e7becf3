"""taco.cli.files.report_to: each report line flushed as it is written, and a failed write named
as standard output's only when the error names no file of its own."""

from __future__ import annotations

import pytest


class _Stdout:
    """A standard output that records its flushes, or fails each write with ``error``."""

    def __init__(self, error: OSError | None = None) -> None:
        self.error, self.text, self.flushed = error, "", ""

    def write(self, s: str) -> int:
        if self.error is not None:
            raise self.error
        self.text += s
        return len(s)

    def flush(self) -> None:
        self.flushed = self.text


def test_report_to_flushes_each_line(monkeypatch) -> None:
    from taco.cli.files import report_to

    out = _Stdout()
    monkeypatch.setattr("sys.stdout", out)
    report_to()("one line")
    assert out.flushed == "one line\n"  # on its way now, not at exit


def test_report_to_names_stdout_only_for_an_error_that_names_no_file(monkeypatch) -> None:
    import errno

    from taco.cli.files import report_to

    monkeypatch.setattr("sys.stdout", _Stdout(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError) as caught:
        report_to()("x")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "<stdout>"
    named = OSError(errno.EIO, "Input/output error", "elsewhere.txt")
    monkeypatch.setattr("sys.stdout", _Stdout(named))
    with pytest.raises(OSError) as caught:
        report_to()("x")
    assert caught.value is named  # an error that names its own file is left as it is
