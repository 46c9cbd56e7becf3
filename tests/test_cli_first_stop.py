"""A signal that comes while an earlier stop is on its way out (raised
in a ``finally`` or ``except`` of it) does not replace that stop in ``taco.cli.main``'s line and
status: torchrun's SIGTERM to rank 0, once another rank of a shared stop has exited, arriving
after rank 0 left the process group (589c29a covered the leave itself) but before its line,
ended the job with ``taco train: stopped by SIGTERM`` instead of ``stopped by SIGHUP at step N``."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from taco.cli import main
from taco.distributed import SilentInterrupted, StoppedTogether
from taco.errors import Interrupted

STEP = " at step 4; resume with: taco train --resume run"


def _command(monkeypatch: pytest.MonkeyPatch, body: Callable[[], None]) -> None:
    """``taco info X`` runs ``body`` instead of its work."""
    def cmd(args: object) -> int:
        body()
        return 0

    monkeypatch.setattr("taco.cli.info.cmd_info", cmd)


def _sigterm_while(stop: BaseException) -> Callable[[], None]:
    def body() -> None:
        try:
            raise stop
        finally:  # rank 0 on its way out (Trainer.close, train's own finally ...)
            raise Interrupted(signal.SIGTERM)  # what main's handler raises for torchrun's SIGTERM
    return body


def test_a_sigterm_while_a_shared_stop_leaves_keeps_its_step(monkeypatch, capsys):
    _command(monkeypatch, _sigterm_while(StoppedTogether(signal.SIGHUP, STEP)))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    # was: taco info: stopped by SIGTERM (status 143)
    assert capsys.readouterr().err == f"taco info: stopped by SIGHUP{STEP}\n"


def test_the_other_ranks_stay_silent_with_the_shared_status(monkeypatch, capsys):
    _command(monkeypatch, _sigterm_while(SilentInterrupted(signal.SIGHUP, STEP)))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("first", "said", "status"), [
    (Interrupted(signal.SIGHUP, " after 3 of 20 images"), "stopped by SIGHUP after 3 of 20 images",
     128 + signal.SIGHUP),
    (Interrupted(signal.SIGHUP), "stopped by SIGHUP", 128 + signal.SIGHUP),  # none with a step: the first
    (KeyboardInterrupt(), "interrupted", 128 + signal.SIGINT),  # Ctrl-C, then a SIGTERM
])
def test_the_first_stop_is_said(monkeypatch, capsys, first, said, status):
    _command(monkeypatch, _sigterm_while(first))
    assert main(["info", "x"]) == status
    assert capsys.readouterr().err == f"taco info: {said}\n"


def test_through_an_error_of_the_way_out_and_a_cause(monkeypatch, capsys):
    """The stop is found through an error raised while leaving (a failed cleanup), and as an
    explicit cause; a SIGTERM alone is said as before."""
    def body() -> None:
        try:
            raise StoppedTogether(signal.SIGHUP, STEP)
        except StoppedTogether:
            try:
                raise OSError("cleanup failed")
            except OSError as exc:
                raise Interrupted(signal.SIGTERM) from exc

    _command(monkeypatch, body)
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == f"taco info: stopped by SIGHUP{STEP}\n"

    def alone() -> None:
        raise Interrupted(signal.SIGTERM)

    _command(monkeypatch, alone)
    assert main(["info", "x"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "taco info: stopped by SIGTERM\n"


def test_a_real_sigterm_on_the_way_out(monkeypatch, capsys):
    """The signal itself, through main's handler, while a shared stop unwinds."""
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM is handled here: main installs no handler over it")

    def body() -> None:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # not the main thread
            pytest.skip("main installed no SIGTERM handler")
        try:
            raise StoppedTogether(signal.SIGHUP, STEP)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises in here

    _command(monkeypatch, body)
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == f"taco info: stopped by SIGHUP{STEP}\n"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # main put it back


def _command_raising(monkeypatch, first: BaseException, then: BaseException) -> None:
    """``taco info X`` raises ``first``, then ``then`` in its ``finally``."""
    def cmd(args: object) -> int:
        try:
            raise first
        finally:
            raise then

    monkeypatch.setattr("taco.cli.info.cmd_info", cmd)


def test_a_later_stop_that_says_how_far_it_got_is_said_over_an_earlier_bare_one(monkeypatch, capsys):
    _command_raising(monkeypatch, KeyboardInterrupt(), Interrupted(signal.SIGTERM, " at step 4"))
    assert main(["info", "x"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "taco info: stopped by SIGTERM at step 4\n"


def test_a_shared_stop_is_said_over_an_earlier_bare_signal_even_without_progress(monkeypatch, capsys):
    _command_raising(monkeypatch, Interrupted(signal.SIGTERM), StoppedTogether(signal.SIGHUP))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == "taco info: stopped by SIGHUP\n"


def test_a_silent_rank_s_shared_stop_stays_silent_after_a_ctrl_c(monkeypatch, capsys):
    _command_raising(monkeypatch, KeyboardInterrupt(), SilentInterrupted(signal.SIGHUP))
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == ""


def test_a_stop_raised_from_an_earlier_one_keeps_the_earlier(monkeypatch, capsys):
    """The chain is followed through ``__cause__`` (``raise ... from stop``) too."""
    def cmd(args: object) -> int:
        raise Interrupted(signal.SIGTERM) from StoppedTogether(signal.SIGHUP, " at step 4")

    monkeypatch.setattr("taco.cli.info.cmd_info", cmd)
    assert main(["info", "x"]) == 128 + signal.SIGHUP
    assert capsys.readouterr().err == "taco info: stopped by SIGHUP at step 4\n"
