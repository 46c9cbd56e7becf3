"""When the learning rate changes and when a run stops: the step schedule, the warm-up after a
warm start, the wall-clock budget (``time_limit``) and the signals that ask a run to stop.

    lr = lr_at(cfg, epoch, step)              # paper: lr x lr_gamma per milestone epoch reached
    budget = TimeBudget(parse_duration("8m")) # stop early enough to write the last checkpoint
    with StopSignals() as stop: ...           # Ctrl-C: stop after this step, with a checkpoint
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from types import FrameType
from typing import Any

from ..messages import warning_printer
from .config import TrainConfig, parse_duration


def lr_at(cfg: TrainConfig, epoch: int, step: int | None = None) -> float:
    """The paper's step schedule, ``lr`` times ``lr_gamma`` for each milestone epoch reached,
    times ``(step + 1) / warmup_steps`` during the run's first ``warmup_steps`` steps (step
    counted from 0; None: after the warm-up)."""
    lr = cfg.lr * cfg.lr_gamma ** sum(epoch >= m for m in cfg.lr_milestones)
    if step is not None and step < cfg.warmup_steps:
        lr *= (step + 1) / cfg.warmup_steps
    return lr


#: How many of the latest steps' times, and of the latest checkpoint writes' and validations',
#: :class:`TimeBudget` takes the median of: one slow outlier (a process suspended with SIGSTOP
#: for a while, a machine swapping) does not stand for the steps after it.
STEP_WINDOW = 20
PAUSE_WINDOW = 5


class TimeBudget:
    """A wall-clock budget for one run, measured from construction.

    :meth:`spent` says whether to stop before the next step: when what is left no longer covers
    the next step plus the end of the run, which writes the final checkpoint and then runs the
    final validation. A step is reckoned at the median of the last :data:`STEP_WINDOW` steps'
    times, a checkpoint write and a validation at the higher median of the last
    :data:`PAUSE_WINDOW` of each (the larger of two: a write that is slow every time is reserved
    in full, a single slow one only while it is one of two). So the final checkpoint normally
    lands inside the budget, and the validation after it too. Under torchrun the processes decide
    together at some steps only (:func:`next_shared_check`): there ``steps`` looks ahead to the
    next such check.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()
        self.step_times: list[float] = []  # the latest steps' (STEP_WINDOW at most)
        self.save_times: list[float] = []  # the latest checkpoint writes' (PAUSE_WINDOW at most)
        self.validation_times: list[float] = []  # the latest validations' (none: none ran yet)

    @classmethod
    def from_config(cls, cfg: TrainConfig) -> TimeBudget:
        return cls(parse_duration(cfg.time_limit, "time_limit") if cfg.time_limit else None)

    @property
    def step_time(self) -> float:
        """A step's seconds: the median of the latest steps' (0 before the first)."""
        return statistics.median(self.step_times) if self.step_times else 0.0

    @property
    def save_time(self) -> float:
        """A checkpoint write's seconds: the higher median of the latest (0 before the first)."""
        return statistics.median_high(self.save_times) if self.save_times else 0.0

    @property
    def validation_time(self) -> float:
        """A validation's seconds: the higher median of the latest (0 before the first)."""
        return statistics.median_high(self.validation_times) if self.validation_times else 0.0

    @property
    def reserve(self) -> float:
        """The seconds the end of the run takes: a checkpoint, then a validation."""
        return self.save_time + self.validation_time

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def note_step(self, seconds: float) -> None:
        _keep(self.step_times, seconds, STEP_WINDOW)

    def note_save(self, seconds: float) -> None:
        _keep(self.save_times, seconds, PAUSE_WINDOW)

    def note_validation(self, seconds: float) -> None:
        _keep(self.validation_times, seconds, PAUSE_WINDOW)

    def spent(self, steps: int = 1, saves: int = 0, validations: int = 0) -> bool:
        """Whether ``steps`` more steps, with ``saves`` checkpoint writes and ``validations``
        validations among them, and then the end of the run no longer fit in what is left."""
        if self.seconds is None:
            return False
        ahead = (self.step_time * steps + self.save_time * saves
                 + self.validation_time * validations)
        return self.elapsed() + self.reserve + ahead >= self.seconds


def _keep(times: list[float], seconds: float, window: int) -> None:
    times.append(seconds)
    del times[:-window]


def spent_at_shared_check(budget: TimeBudget, cfg: TrainConfig, step: int, start: int,
                          total_steps: int, validates: bool) -> bool | None:
    """A torchrun rank's part of the stop decision after ``step`` of a run that started (or
    resumed) at ``start``: None when the step is no shared check (:func:`is_shared_check`: the
    ranks go on without deciding), else whether ``budget`` is spent for the steps up to the next
    shared check (or to ``total_steps``, the run's end), with the checkpoint writes and, when
    the run ``validates``, the validations due before it (one due at that check is the end's,
    which the budget reserves anyway), and then the end of the run."""
    if not is_shared_check(step, start, cfg.log_interval):
        return None
    upto = min(next_shared_check(step, start, cfg.log_interval), total_steps)
    saves = _due(step, upto, cfg.ckpt_interval)
    validations = _due(step, upto, cfg.val.interval) if validates else 0
    return budget.spent(upto - step, saves, validations)


def _due(step: int, upto: int, interval: int) -> int:
    """How many of the steps after ``step`` and before ``upto`` are multiples of ``interval``."""
    return max(0, (upto - 1) // interval - step // interval)


def is_shared_check(step: int, start: int, interval: int) -> bool:
    """Whether the processes of a torchrun job decide together, after ``step``, whether to stop
    (one all-reduce, which waits for the device): at every ``interval``-th step (the log steps),
    and at the steps ``start`` + 1, 2, 4, 8, ... of a run that started (or resumed) at
    ``start``, so that its first steps, before a step's time is known, are not run blind for a
    whole interval."""
    gone = step - start
    return step % interval == 0 or (gone > 0 and gone & (gone - 1) == 0)


def next_shared_check(step: int, start: int, interval: int) -> int:
    """The first step after ``step`` at which :func:`is_shared_check` holds."""
    gone, power = step - start, 1
    while power <= gone:
        power *= 2
    return min((step // interval + 1) * interval, start + power)


#: The signals that ask a training run to stop: Ctrl-C, a ``kill`` or a scheduler's stop, a
#: closed terminal.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))  # Windows has no SIGHUP


#: A signal that repeats the first within this many seconds is the same request, not a second:
#: a scheduler that signals every process of a job reaches a torchrun worker twice (directly,
#: and forwarded by torchrun).
REPEAT_S = 1.0


class StopSignals:
    """While a run trains: the first SIGINT, SIGTERM or SIGHUP asks it to stop after the step
    in hand, with a checkpoint (:attr:`signum` says which came; with ``announce``, one line on
    standard error says so, written straight to the stream: a handler must not wait for a lock
    the interrupted code may hold, as a progress bar's, so it starts on a line of its own only
    where :attr:`bar`, the run's progress bar, is drawn, and a log file gets no blank line before
    it); a second one (not the first repeated
    within :data:`REPEAT_S`) stops it at once, as it would have without this (the handler from
    before runs: a KeyboardInterrupt, or the signal's default action). The line starts with
    ``says`` (``taco train: SIGINT: stopping after this step, ...``).

    Installed in the main thread only (the only one Python runs handlers in), over every
    handler but an ignored signal's (``nohup``), and put back on exit. A process forked
    meanwhile (a DataLoader worker) inherits the handler: there the signal that a terminal's
    Ctrl-C, ``timeout`` or a scheduler sends to every process of the job is left to the run,
    which stops its loader (a worker killed under it would end the run with a RuntimeError);
    a second SIGTERM or SIGHUP (not the first repeated within :data:`REPEAT_S`) ends the
    worker (the loader's last-resort ``terminate()``).
    torch's workers set their own SIGTERM handler: :func:`worker_signals` puts this rule back."""

    def __init__(self, announce: bool = True, says: str = "taco train") -> None:
        self.announce = announce
        self.says = says  # the announcement's prefix (a train() called from Python: "train")
        self.signum: int | None = None
        #: The run's progress bar (a tqdm bar, or taco.progress's counter where none is drawn),
        #: set by the run once it has one: the announcement leaves its line where it is drawn.
        #: Read from its ``disable`` alone: taco.progress.bar_shown takes a lock, which the code
        #: a signal interrupts may hold.
        self.bar: Any = None
        self.first_at = 0.0  # when the first signal came (time.monotonic)
        self.previous: dict[int, Any] = {}
        self.pid = os.getpid()

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                handler = signal.getsignal(signum)
                if handler is not None and handler != signal.SIG_IGN:
                    self.previous[signum] = signal.signal(signum, self.request)
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def take(self, signum: int) -> None:
        """Take ``signum``, noted before this was entered (:func:`noting_stop_signals`), as the
        first request: the run stops before its first step."""
        if self.signum is None:
            self.signum, self.first_at = signum, time.monotonic()

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    def request(self, signum: int, frame: FrameType | None) -> None:
        if os.getpid() != self.pid:  # in a forked DataLoader worker: the run stops its loader
            if signum != signal.SIGINT:
                leave_to_the_run(signum, frame)
            return
        if self.signum is None:
            self.signum, self.first_at = signum, time.monotonic()
            if self.announce:
                name = signal.Signals(signum).name
                drawn = self.bar is not None and not getattr(self.bar, "disable", True)
                line = (("\n" if drawn else "")  # below the bar's line; a log gets no blank line
                        + f"{self.says}: {name}: stopping after this step, with a checkpoint "
                        f"(another {name} stops at once, losing the steps since the last one)\n")
                with contextlib.suppress(OSError, ValueError):
                    os.write(sys.stderr.fileno(), line.encode())
            return
        if signum == self.signum and time.monotonic() - self.first_at < REPEAT_S:
            return  # the same request again: a scheduler signals every process, torchrun too
        previous = self.previous.get(signum, signal.SIG_DFL)
        self.restore()
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)


@contextlib.contextmanager
def noting_stop_signals(seen: list[int]) -> Iterator[None]:
    """While a run sets up (before :class:`StopSignals`): each stop signal that comes is noted in
    ``seen``, then its handler runs as before (Ctrl-C's KeyboardInterrupt ends the set-up at
    once). Third-party code can swallow that KeyboardInterrupt: torch's first optimiser imports
    triton, whose C extension turns an exception in its initialisation into an ImportError that
    torch takes as "no triton", and ``taco train`` then trained to its end as if no Ctrl-C had
    come. Noted here, the signal stops the run before its first step (:meth:`StopSignals.take`).
    Main thread only, over handlers that are Python functions (a default action or an ignored
    signal is left as it is)."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            handler = signal.getsignal(signum)
            if callable(handler):
                previous[signum] = signal.signal(signum, _noting(seen, handler))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _noting(seen: list[int], handler: Any) -> Any:
    def note(signum: int, frame: FrameType | None) -> Any:
        seen.append(signum)
        return handler(signum, frame)
    return note


#: When a DataLoader worker got its first SIGTERM and SIGHUP (time.monotonic), by signal.
_worker_first_at: dict[int, float] = {}


def leave_to_the_run(signum: int, frame: FrameType | None) -> None:
    """A DataLoader worker's handler of SIGTERM or SIGHUP: the first is left to the run, which
    stops its loader, and so is that signal repeated within :data:`REPEAT_S` (the same request,
    as in the run: sent to the job's process group twice, it killed the worker and ended the run
    with a RuntimeError); a later one (the loader's last-resort ``terminate()``) ends the
    worker."""
    first_at = _worker_first_at.setdefault(signum, time.monotonic())
    if time.monotonic() - first_at < REPEAT_S:
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def worker_signals(worker_id: int) -> None:
    """A DataLoader's ``worker_init_fn``: its worker leaves the first SIGTERM or SIGHUP to the
    run (:func:`leave_to_the_run`) and ignores Ctrl-C (the run stops its loader), whatever the
    start method (a forked worker inherits :class:`StopSignals`' handler, a spawned one does
    not). torch's workers die of a SIGTERM that their loader did not send; sent to every process
    of the job (``timeout``, a scheduler's stop), it ended the run with "DataLoader worker (pid
    N) is killed by signal: Terminated" instead of letting it stop with a checkpoint.

    A spawned worker (macOS's and Windows's start method) starts with Python's own
    ``showwarning`` too, which printed a photo's colour-profile warning with its file, line
    number and a stray source line: it gets ``taco train``'s (:func:`taco.messages.warning_printer`),
    as a forked one inherits it."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN if signum == signal.SIGINT else leave_to_the_run)
    if warnings.showwarning.__module__ == "warnings":  # Python's own: not inherited from the run
        warnings.showwarning = warning_printer("train")
