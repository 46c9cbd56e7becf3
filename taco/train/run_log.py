"""What a run tells: ``config.yaml``, ``log.jsonl``, TensorBoard scalars, the progress bar and
messages on stderr. Only rank 0 writes; other ranks get a silent log.

``log.jsonl`` holds one JSON record per line (``"kind": "train"`` per log interval, ``"val"``
per validation), each with its ``step``; strict JSON, a value that is not a finite number (a
validation whose real coding failed) written as null. A resumed run first drops the records after the step it
resumes from (the killed run logged them, the resumed one computes them again), so every step
appears once; a fresh run starts an empty log.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import shutil
import stat
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..atomic import folder_write_error, write_bytes_atomic
from ..checks import is_int
from ..errors import TacoError
from ..fileobjects import own_file_problem
from ..jsonfiles import jsonable
from ..messages import shown_path, to_stderr
from ..progress import clock, progress_bar
from ..shards import (
    CHECKPOINT_FILE,
    INDEX_SUFFIX,
    RUN_CONFIG_FILE,
    RUN_LOG_FILE,
    TRAIN_STATE_FILE,
    TRAIN_STATE_KEY,
    read_metadata,
)

LOG_FILE = RUN_LOG_FILE
CONFIG_FILE = RUN_CONFIG_FILE

#: Builds the exception raised for a file that cannot be written (the trainer's, with context).
WriteError = Callable[[Path, OSError], Exception]


#: The files a run writes in its folder by a fixed name (it replaces each, appends to the log):
#: none of them is written through a symbolic link (:func:`refuse_linked_run_file`).
RUN_OWN_FILES = (CONFIG_FILE, LOG_FILE, CHECKPOINT_FILE, CHECKPOINT_FILE + INDEX_SUFFIX,
                 TRAIN_STATE_FILE, TRAIN_STATE_FILE + INDEX_SUFFIX)


class RunFilesNotWritable(TacoError, OSError):
    """A run's folder holds a file the run would append to or replace, and cannot (or, a
    symbolic link, will not): said before the run builds anything (:func:`check_run_files`)."""


def refuse_linked_run_file(path: Path) -> None:
    """Refuse, with :class:`RunFilesNotWritable`, a run's own file ``path`` (one of
    :data:`RUN_OWN_FILES` in its folder) that is a symbolic link, dangling or not, or, for the
    log it appends to, a hard link (:func:`taco.fileobjects.own_file_problem`); and one that is
    there and no regular file (a named pipe, a socket, a device, a folder: by its lstat, before
    anything opens it, as opening a pipe blocked ``taco train --resume`` for ever). A run
    replaces its files and appends to its log in its own folder, never through a link: a run
    folder one downloads and resumes could hold ``log.jsonl -> ~/.bashrc``, and the resumed run
    rewrote the file the link named with its log (an output a user names on the command line is
    written through a link, as ``cp`` does: docs/reliability.md)."""
    why = own_file_problem(path, in_place=path.name == LOG_FILE,  # the log is appended to
                           writer="a run writes its own files in its folder",
                           otherwise="go on in another folder (--out-dir DIR)")
    if why is not None:
        raise RunFilesNotWritable(why)
    kind = _not_regular(path)
    if kind is not None:
        raise RunFilesNotWritable(f"{shown_path(path)} is not a regular file ({kind}): a run writes its own "
                                  "files in its folder; remove it, or go on in another folder (--out-dir DIR)")


def _not_regular(path: Path) -> str | None:
    """What ``path`` is when it is there and neither a regular file nor a symbolic link (``a named
    pipe``, ``a socket``, ``a device``, ``a folder``), by its lstat; None otherwise (missing, or
    it cannot be looked at: the write says why)."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    return ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a folder" if stat.S_ISDIR(mode) else "a device")


def check_run_files(out_dir: Path, *, appends: bool = True) -> None:
    """Refuse, with :class:`RunFilesNotWritable` naming the file or folder and the reason, a run
    folder whose files the run could not write: a run file that is a symbolic link (never
    written through: :func:`refuse_linked_run_file`), the folder itself (each checkpoint, state
    and config.yaml replaces its file there), the log it appends to (``log.jsonl``: opened for
    appending, which changes nothing in it), and ``tb/`` (TensorBoard, where installed). Without
    it a resumed run built its model and data (minutes) and stopped at its first write (exit 3).
    A folder not made yet passes (nothing in it to write over).

    ``appends=False``: a run that will log nothing (a finished run resumed, which only says so:
    :func:`run_finished`), whose ``log.jsonl`` and ``tb/`` are not checked; they may be
    read-only. Its files that are links are refused all the same (it may still write its
    checkpoint)."""
    if not out_dir.is_dir():
        return
    for name in RUN_OWN_FILES:
        refuse_linked_run_file(out_dir / name)
    error = folder_write_error(out_dir)
    if error is not None:
        raise RunFilesNotWritable(f"cannot write into {out_dir}: {_reason(error)}")
    log = out_dir / LOG_FILE
    if appends and log.is_file():
        try:
            os.close(os.open(log, os.O_WRONLY | os.O_APPEND))
        except OSError as e:
            raise RunFilesNotWritable(
                f"cannot write {log}: {_reason(e)} (the run appends its records to it): make "
                "it writable, or go on in another folder (--out-dir DIR)"
            ) from None
    tb = out_dir / "tb"
    if appends and tb.is_dir() and importlib.util.find_spec("tensorboard") is not None:
        error = folder_write_error(tb)
        if error is not None:
            raise RunFilesNotWritable(f"cannot write into {tb} (TensorBoard's scalars): {_reason(error)}")


def run_finished(progress: Mapping[str, Any] | None, epochs: int, max_steps: int | None) -> bool:
    """Whether a run that resumes from a state saved at ``progress`` (its ``step`` and ``epoch``;
    None: no state) is already finished under ``epochs`` and ``max_steps``, so that it trains
    no step and writes no log record: a step > 0 that reaches ``max_steps``, or an ``epoch`` that
    reaches ``epochs``, as :class:`~taco.train.trainer.Trainer` decides it (which also counts
    the steps of ``epochs`` in the run's steps per epoch, known once its data is read: a run this
    says is not finished may still be)."""
    if not progress:
        return False
    step, epoch = progress.get("step"), progress.get("epoch")
    if not (is_int(step, 1) and is_int(epoch, 0)):
        return False
    return (max_steps is not None and step >= max_steps) or epoch >= epochs


def saved_progress(state: Path) -> dict[str, Any] | None:
    """The ``progress`` (step, epoch, ...) a training state records (``train_state.safetensors``,
    either layout), read from its header alone, without torch; None where there is none or it
    cannot be read (the run says why where it loads the state), or is no regular file (a named
    pipe would block the read for ever: :func:`check_run_files` refuses it, unopened)."""
    if _not_regular(state) is not None:
        return None
    try:
        with warnings.catch_warnings():  # both layouts: said where the run loads it
            warnings.simplefilter("ignore")
            raw = read_metadata(state).get(TRAIN_STATE_KEY)
        progress = json.loads(raw).get("progress") if isinstance(raw, str) else None
    except (OSError, ValueError, AttributeError, TacoError, RecursionError):
        return None
    return progress if isinstance(progress, dict) else None


def _reason(error: OSError) -> str:
    """An OSError's reason in words (``permission denied``)."""
    text = error.strerror or str(error)
    return text[:1].lower() + text[1:]


def records_up_to(text: str, step: int) -> tuple[list[str], bool]:
    """The lines of a log whose record has ``step <= step``; and whether any line was dropped
    (a later record, or one cut short by a kill or a full disk). A line that is no JSON object
    with an integer ``step`` (taco writes nothing else: ``"step": Infinity``, ``1.5``, ``"3"``,
    JSON nested deeper than Python can read) is dropped like a line cut short."""
    kept, dropped = [], False
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            record = None
        keep = isinstance(record, dict) and is_int(record.get("step")) and record["step"] <= step
        if keep:
            kept.append(line)
        else:
            dropped = True
    return kept, dropped


class RunLog:
    """The run's log files and messages. ``open`` before the first record, ``close`` at the end.
    Made (rank 0), it checks that the run can write its files (:func:`check_run_files`; its
    log and ``tb/`` only where it ``appends``: not for a finished run resumed, which never opens
    them)."""

    def __init__(self, out_dir: Path, is_main: bool, progress: bool, write_error: WriteError, *,
                 appends: bool = True) -> None:
        self.out_dir = out_dir
        self.is_main = is_main
        self.progress = progress
        self.write_error = write_error
        self._file: Any = None
        self._tb: Any = None
        self._made: list[Path] = []  # what open() created in out_dir (discard removes it)
        if is_main:  # before the run builds its model and data (minutes) to fail at a write
            check_run_files(out_dir, appends=appends)

    # ----------------------------------------------------------------- files

    def open(self, config_yaml: str, start_step: int) -> None:
        """Write config.yaml; keep the log's records up to ``start_step`` (none when 0). Either
        file a symbolic link is refused (:func:`refuse_linked_run_file`: checked when the run
        was set up, again here), and the log is opened for appending without following one.
        What was not there before (config.yaml, log.jsonl, ``tb/``) is noted: :meth:`discard`."""
        if not self.is_main:
            return
        for name in (CONFIG_FILE, LOG_FILE):
            refuse_linked_run_file(self.out_dir / name)
        self._made = [self.out_dir / name for name in (CONFIG_FILE, LOG_FILE, "tb")
                      if not os.path.lexists(self.out_dir / name)]
        path = self.out_dir
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / CONFIG_FILE
            write_bytes_atomic(path, config_yaml.encode("utf-8"))
            path = self.out_dir / LOG_FILE
            old = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            kept, dropped = records_up_to(old, start_step)
            if dropped or not path.is_file():
                write_bytes_atomic(path, "".join(f"{line}\n" for line in kept).encode("utf-8"))
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            self._file = open(os.open(path, flags, 0o666), "a", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            raise self.write_error(path, e) from None
        if importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(str(self.out_dir / "tb"), purge_step=start_step + 1)

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:  # a full disk: already reported by the failed write
                pass
            self._file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def discard(self) -> None:
        """Close, and remove what :meth:`open` created (config.yaml, log.jsonl, ``tb/``), never
        what was there before (a resumed run's files): a run that ends before its first step
        leaves no folder that looks like a run, and the same command can run again. The folder
        itself, if the run made it, goes with the run's lock (:class:`~taco.locks.FolderLock`)."""
        self.close()
        made, self._made = self._made, []
        for path in made:
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (a dict with ``kind`` and ``step``) to log.jsonl and TensorBoard."""
        if self._file is not None:
            try:
                self._file.write(json.dumps(jsonable(record), allow_nan=False) + "\n")
                self._file.flush()
            except OSError as e:
                raise self.write_error(self.out_dir / LOG_FILE, e) from None
        if self._tb is not None:
            kind = record["kind"]
            for k, v in record.items():
                if isinstance(v, int | float) and k not in ("step", "epoch"):
                    self._tb.add_scalar(f"{kind}/{k}", v, record["step"])

    # ----------------------------------------------------------------- terminal

    def say(self, message: str) -> None:
        """One line on stderr (rank 0), above the progress bar if there is one; the file names in
        it (the run's folder) shown as :func:`taco.messages.shown_path` shows them. A stderr whose
        reader went away does not stop the run (:func:`taco.messages.to_stderr`)."""
        if self.is_main:
            to_stderr(shown_path(message), above_bar=True)

    def progress_bar(self, total: int, initial: int) -> Any:
        """A tqdm bar on stderr (rank 0, ``progress: true``: :func:`taco.progress.progress_bar`),
        else None. Where none is drawn (None, or the counter of a stderr that is no terminal)
        the run says a line per log interval instead."""
        if not (self.is_main and self.progress):
            return None
        return progress_bar(total=total, initial=initial, desc="train", unit="step")


#: A step line leaves out its estimate of the time left beyond this many seconds: a run of
#: ``epochs: 1000000`` without a ``time_limit`` (ended by hand, or by a slice's end) has no end
#: to estimate.
NO_ESTIMATE_S = 100 * 86400


def step_times(elapsed: float, left: float | None) -> str:
    """A step line's times: ``1:02 elapsed, ~3:10 left``; the elapsed time alone where ``left``
    is None (no estimate yet), not finite or beyond :data:`NO_ESTIMATE_S`."""
    shown = f"{clock(elapsed)} elapsed"
    if left is not None and math.isfinite(left) and 0 <= left < NO_ESTIMATE_S:
        shown += f", ~{clock(left)} left"
    return shown


def train_postfix(values: dict[str, float], img_per_s: float) -> str:
    """The progress bar's text for one train record."""
    return (
        f"loss {values['loss']:.3f} bpp {values['bpp']:.3f} mse·λ {values['mse_term']:.3f} "
        f"lpips {values['lpips']:.3f} joint {values['joint_term']:.4f} psnr {values['psnr']:.2f} "
        f"{per_second(img_per_s)} img/s"
    )


def per_second(rate: float) -> str:
    """A rate with three significant digits and no exponent (1234, 14.2, 0.0412): a slow CPU's
    0.04 img/s is not shown as 0.0."""
    if not math.isfinite(rate) or rate <= 0:
        return f"{rate:g}"
    return f"{rate:.{max(0, 2 - math.floor(math.log10(rate)))}f}"
