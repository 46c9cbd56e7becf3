"""Resumable, shardable loop over evaluation jobs: one CSV row (and optional features) per job.

A *job* is one image under one setting (a model has one setting, a classic codec one per
quality). :func:`run_jobs` skips every job whose row is already in the CSV (so a killed run on
COCO 30k resumes where it stopped), writes rows in small flushed batches (and the finished ones
when it is interrupted: Ctrl-C, or SIGTERM or SIGHUP under ``taco``), and stores per-job
feature arrays (Inception / CLIP embeddings for FID and CMMD) in chunk files beside the CSV so
that set metrics survive a resume too.

Under ``torchrun`` (``WORLD_SIZE`` > 1) every rank takes every ``world``-th remaining job and
writes ``NAME.rankR.csv``; after a barrier rank 0 merges the shards into ``NAME.csv``. Shards
left by an interrupted run are merged first, before anything is read as done, whatever the
number of processes now (one included), so their rows count and their jobs are not run again.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import os
import re
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import (
    folder_write_error,
    remove_stale_temporaries,
    write_bytes_atomic,
    write_text_atomic,
)
from ..distributed import DistEnv
from ..errors import Interrupted, TacoError
from ..fileobjects import own_file_problem
from ..messages import count, shown_path
from ..progress import LINES_EVERY, progress_bar
from ..recipe import IMAGE_METRICS

__all__ = ["FLUSH_EVERY", "FLUSH_SECONDS", "RESULTS_CSV_MAX_BYTES", "FeatureStore", "Job", "JobResult",
           "RunReport", "TIMINGS", "LinkedOwnFile", "check_columns", "check_writable", "done_rows", "jobs_left",
           "read_rows", "refuse_linked", "resume_advice", "run_jobs", "shard_name", "shard_paths"]


class ResultsFileError(TacoError, RuntimeError):
    """An existing results file cannot be resumed or read (other columns, other configuration,
    not a results file)."""


def resume_advice(path: Path) -> str:
    """What to do about the results ``path`` of ``taco evaluate``'s ``--output`` that a run
    cannot resume (``STEM.json``, ``STEM.csv`` or one of its rank shards, :func:`shard_name`):
    delete ``STEM.csv`` and ``STEM.json`` (and the shard), or choose another ``--output``.
    Both files are named: the CSV's rows without the JSON are refused too
    (:func:`~taco.evaluation.results.check_rows_recorded`), and a JSON left with the CSV gone
    is resumed with no row."""
    stem = path.parent / path.stem
    shard = re.fullmatch(r"(.+)\.rank[0-9]+", path.stem) if path.suffix == ".csv" else None
    if shard is not None:
        stem = path.parent / shard.group(1)
        return (f"delete {shown_path(path)}, {shown_path(stem)}.csv and {shown_path(stem)}.json, "
                "or choose another --output")
    return f"delete {shown_path(stem)}.csv and {shown_path(stem)}.json, or choose another --output"


class LinkedOwnFile(TacoError, ValueError):
    """A file or folder that ``taco evaluate`` writes by a name of its own in a dataset's output
    folder (``STEM.csv``, ``STEM.json``, ``STEM.features``, ``rd.svg``, ...), or that folder
    itself, is a symbolic link (or a CSV it appends to a hard link): refused before any work, in
    one line naming it and its target (:func:`refuse_linked`)."""


def refuse_linked(paths: Iterable[Path]) -> None:
    """Raise :class:`LinkedOwnFile` for the first of ``paths`` (files and folders taco names
    itself in an output folder) that is a symbolic link, dangling or not, or a ``.csv`` (appended
    to) that is a hard link (:func:`taco.fileobjects.own_file_problem`); reads no file. Such a
    link planted in a results folder one downloads and resumes would have taco write, append to,
    or delete any file the user may write."""
    for path in paths:
        why = own_file_problem(path, in_place=path.suffix == ".csv",
                               writer="taco writes its own results files in their folder",
                               otherwise="give another --output")
        if why is not None:
            raise LinkedOwnFile(why)


class UnreadableResultsCSV(ResultsFileError):
    """A results CSV that cannot be read (not UTF-8, a field over the csv module's limit). Its
    message names the file and the reason only: ``taco plot`` reads these CSVs too (where
    ``--output`` is the figure); ``taco evaluate``, which appends to them, adds
    :func:`resume_advice` of ``path`` (the CSV; None where not given)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Job:
    """One unit of work: image ``index``/``image`` of the dataset under ``setting``."""

    index: int
    image: str
    setting: str = ""

    @property
    def key(self) -> str:
        return f"{self.image}\t{self.setting}"


@dataclass
class JobResult:
    """What a work function returns: the CSV row (None: image skipped), features, timings (ms)."""

    row: dict[str, object] | None
    features: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


#: The timings (ms) every results JSON's ``timing`` has the mean of (null when none was timed).
TIMINGS = ("encode_ms", "decode_ms")


@dataclass
class RunReport:
    """What happened in one :func:`run_jobs` call (this process only): ``coded`` jobs (rows
    written), of which ``timed`` returned timings."""

    coded: int = 0
    skipped: list[str] = field(default_factory=list)  # each unreadable image once, not per job
    timings: dict[str, list[float]] = field(default_factory=dict)
    timed: int = 0

    def timing_summary(self) -> dict[str, float | None]:
        """``encode_ms_mean`` and ``decode_ms_mean`` (each None when no job was timed), and the
        mean of any other timing the jobs returned."""
        keys = dict.fromkeys((*TIMINGS, *self.timings))
        return {f"{k}_mean": float(np.mean(v)) if (v := self.timings.get(k)) else None for k in keys}


def join_process_group(env: DistEnv) -> bool:
    """Join the process group (gloo: it only carries barriers) with a long timeout; whether this
    call joined it (False: a single process, or a group joined already), and so should leave it."""
    if not env.distributed:
        return False
    import torch.distributed as td

    if td.is_initialized():
        return False
    # ranks wait for each other at the end of each run: allow a long imbalance
    td.init_process_group("gloo", timeout=datetime.timedelta(hours=12))
    return True


def barrier(env: DistEnv) -> None:
    if env.distributed:
        import torch.distributed as td

        td.barrier()


# --------------------------------------------------------------------------- CSV


#: The largest results CSV taco reads, in bytes. A row takes some 250 bytes (400 with a long
#: caption): 40,000 images x 30 settings come to about 500 MB; a larger file is refused before
#: it is read (its rows take some six times its size in memory: 87 MB, 0.55 GB).
RESULTS_CSV_MAX_BYTES = 2**30
#: How many jobs :func:`run_jobs` codes between two writes of their rows and features: the most
#: a process killed outright (SIGKILL, a crash) codes again; an interrupted one writes the
#: rows it finished before it stops.
FLUSH_EVERY = 16
#: The longest :func:`run_jobs` keeps finished rows unwritten, in seconds (large images take
#: minutes each: 16 of them are an hour's work): rows are written after the job that passes it.
FLUSH_SECONDS = 60.0
#: How much of a results CSV :func:`_repair_tail` reads at a time, from its end.
_TAIL_STEP = 1 << 16


def _repair_tail(path: Path) -> None:
    """Cut a half-written last line (a crash mid-write) so appends start on a fresh line: its job
    runs again. Reads the file backwards from its end, to the last newline only."""
    with path.open("r+b") as f:
        end = pos = f.seek(0, os.SEEK_END)
        while pos > 0:
            step = min(pos, _TAIL_STEP)
            pos -= step
            f.seek(pos)
            chunk = f.read(step)
            cut = chunk.rfind(b"\n")
            if cut == step - 1 and pos + step == end:
                return  # ends with its newline: nothing to repair
            if cut >= 0:
                f.truncate(pos + cut + 1)
                return
        f.truncate(0)


#: Columns of a results CSV that taco always writes as a finite number (where the CSV has them),
#: each with the least it can be and whether it is a whole number: a coded file has bytes (the
#: smallest, a classic codec's container or a taco header, has some), so its bpp is above 0.
FINITE_COLUMNS = ("index", "height", "width", "bytes", "bpp")
_LEAST = {"index": (0, True), "height": (1, True), "width": (1, True), "bytes": (1, True), "bpp": (0, False)}
#: Columns of a results CSV that taco writes as a number (NaN or an infinity, where not
#: measurable: the MS-SSIM of a small image, the PSNR of an exact copy) or leaves empty.
NUMBER_COLUMNS = ("target_bpp", *IMAGE_METRICS)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Complete rows of a results CSV, read row by row, one a job: a later row of a job (the
    same ``image`` and ``setting``; taco writes one row a job) is left out unread, as every
    reader took a job's first row, so that the rows in memory follow the jobs a CSV holds, not
    its lines (5,000,000 lines ``x`` under the header ``image``, 10 MB, took 1 GB as rows).
    Every row the writer ends ends with a newline: a last line without one was cut by a crash
    (even inside its last field, where it still has every column) and is ignored, as
    :func:`_repair_tail` cuts it before the next append. A CSV over
    :data:`RESULTS_CSV_MAX_BYTES` (left unread), that cannot be read, or with a row it keeps
    whose :data:`FINITE_COLUMNS` are not finite numbers (whole numbers from 0 for ``index``,
    from 1 for ``height``, ``width`` and ``bytes``; above 0 for ``bpp``) or whose
    :data:`NUMBER_COLUMNS` are not numbers (nor empty) is an :class:`UnreadableResultsCSV`
    naming its line and column (the first such row: the CSV is read no further)."""
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            size = os.fstat(f.fileno()).st_size
            if size > RESULTS_CSV_MAX_BYTES:
                raise UnreadableResultsCSV(f"{path}: not read: {size:,} bytes, over the "
                                           f"{RESULTS_CSV_MAX_BYTES:,} taco reads of a results CSV", path)
            cut = size > 0 and os.pread(f.fileno(), 1, size - 1) != b"\n"
            rows: list[dict[str, str]] = []
            jobs: set[tuple[str | None, str]] = set()  # (image, setting) of the rows kept
            last: tuple[str | None, bool] | None = None  # the last complete row's problem; kept?
            complete = False
            reader = csv.reader(f)
            columns = next(reader, [])
            image, setting = (columns.index(c) if c in columns else None for c in ("image", "setting"))
            for values in reader:
                if not values:  # a blank line: no row (as csv.DictReader reads it)
                    continue
                complete = len(values) == len(columns)  # a value for every column, no more
                if not complete:
                    continue
                if last is not None and last[0]:  # a complete row follows: that one was not cut
                    raise UnreadableResultsCSV(f"{path}: not a taco results CSV ({last[0]})", path)
                job = (None if image is None else values[image], "" if setting is None else values[setting])
                if job in jobs:  # a later row of a job: left out unread
                    last = (None, False)
                    continue
                jobs.add(job)
                rows.append(dict(zip(columns, values, strict=True)))
                last = (_number_problem(rows[-1], reader.line_num), True)
        if last is not None and cut and complete:  # the last line, cut: left out
            if last[1]:
                rows.pop()
        elif last is not None and last[0]:
            raise UnreadableResultsCSV(f"{path}: not a taco results CSV ({last[0]})", path)
        return rows
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable_csv(path, exc) from None


def _number_problem(row: Mapping[str, str], line: int) -> str | None:
    """What is wrong with the numbers of ``row``, on ``line`` of its CSV (None: nothing)."""
    for column in (*FINITE_COLUMNS, *NUMBER_COLUMNS):
        value = row.get(column)
        if value is None or (value == "" and column in NUMBER_COLUMNS):
            continue
        try:
            number = float(value)
        except ValueError:
            number = None
        what = None
        if number is None or (column in FINITE_COLUMNS and not math.isfinite(number)):
            what = "a finite number" if column in FINITE_COLUMNS else "a number"
        elif column in _LEAST:
            least, whole = _LEAST[column]
            if whole and (number < least or not number.is_integer()):
                what = f"a whole number from {least}"
            elif not whole and number <= least:
                what = f"a finite number above {least}"
        if what:
            return f"{column} of {row.get('image', '?')} on line {line} is {value[:40]!r}, not {what}"
    return None


def _csv_columns(path: Path) -> list[str] | None:
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return next(csv.reader(f), None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable_csv(path, exc) from None


def _unreadable_csv(path: Path, exc: Exception) -> UnreadableResultsCSV:
    """The error for a results CSV that cannot be read: not UTF-8, or a field over the csv
    module's limit (131,072 characters)."""
    reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
    return UnreadableResultsCSV(f"{path}: not a taco results CSV ({reason})", path)


def _format(value: object) -> str:
    if isinstance(value, float):
        return repr(value)  # shortest exact round trip: identical runs give identical files
    return "" if value is None else str(value)


def _csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]], header: bool) -> str:
    """CSV lines (``\\n``-terminated) of ``rows`` in ``columns`` order, the header first if asked.
    Every field holding a ``\\r`` or a ``\\n`` is quoted: a writer ending its lines with ``\\n``
    quotes only a ``\\n``, and :func:`read_rows` split a row at a lone ``\\r`` in an image's name
    or caption (both halves then dropped as incomplete: the job ran again at every rerun). So each
    row is written ended by ``\\r\\n``, whose characters the writer quotes, then ended by ``\\n``:
    a row without either character has the bytes it had."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    lines: list[str] = []

    def line(values: Iterable[str]) -> None:
        buf.seek(0)
        buf.truncate()
        w.writerow(values)
        lines.append(buf.getvalue()[:-2] + "\n")

    if header:
        line(columns)
    for r in rows:
        line([_format(r.get(c)) for c in columns])
    return "".join(lines)


def _check_columns(path: Path, columns: Sequence[str]) -> list[str] | None:
    """The header of the results CSV ``path`` (None: no file, or an empty one); a
    :class:`ResultsFileError` naming it when its columns are not ``columns``."""
    header = _csv_columns(path)
    if header is not None and header != list(columns):
        raise ResultsFileError(
            f"{path} has columns {header}, this run writes {list(columns)}: "
            "delete it or choose another --output"
        )
    return header


def check_writable(files: Iterable[Path], folders: Iterable[Path] = ()) -> None:
    """Raise the OSError, naming the path (``PATH: permission denied``), that writing the
    existing results ``files`` (a CSV appended to, a JSON replaced) or making files in the
    existing ``folders`` (a features folder) would raise: a run checks this before it writes its
    JSON's header, so that a rerun refused leaves every file as it was (a read-only file in a
    writable folder would otherwise be replaced by the header's atomic write, its points lost).
    Creates and changes nothing: a file is opened for appending, no byte written; a folder is
    asked (:func:`taco.atomic.folder_write_error`). Paths not there yet (a new run's) pass; a
    write can still fail later (a full disk), naming its file. Any of them a link taco would
    write through is :class:`LinkedOwnFile` first (:func:`refuse_linked`): these are taco's own
    names."""
    files, folders = list(files), list(folders)
    refuse_linked([*files, *folders])
    for path in files:
        if path.is_file():
            os.close(os.open(str(path), os.O_WRONLY | os.O_APPEND))  # the OSError names the file
    for folder in folders:
        if folder.is_dir():
            exc = folder_write_error(folder)
            if exc is not None:
                raise OSError(exc.errno, exc.strerror, str(folder))


class _CSVWriter:
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path, self.columns = path, list(columns)
        refuse_linked([path])  # before its header is read: a link's target is not shown
        header = _check_columns(path, self.columns)
        if header is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write([], header=True, mode="w")
        else:
            _repair_tail(path)

    def _write(self, rows: Iterable[Mapping[str, object]], header: bool = False, mode: str = "a") -> None:
        """Append ``rows`` (or write the header, ``mode="w"``) and sync; an error writing them
        (a full disk) names the CSV: Python's says only ``no space left on device``."""
        try:
            with self.path.open(mode, newline="", encoding="utf-8") as f:
                f.write(_csv_text(self.columns, rows, header))
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            if exc.errno is None or exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def append(self, rows: Sequence[Mapping[str, object]]) -> None:
        if rows:
            self._write(rows)

    def repair(self) -> None:
        """Cut a last line an interrupted :meth:`append` left half written (:func:`_repair_tail`)."""
        if self.path.is_file():
            _repair_tail(self.path)


# --------------------------------------------------------------------------- features


class FeatureStore:
    """Per-job feature arrays kept in chunk files ``FOLDER/TAG-N.npz`` (no pickles).

    Each chunk holds ``keys`` (job keys, unicode) and for every feature name ``NAME`` the rows
    of all its jobs concatenated plus ``NAME.count`` (rows per job, e.g. patches per image).
    """

    def __init__(self, folder: Path, tag: str) -> None:
        self.folder, self.tag = folder, tag
        self._buffer: list[tuple[str, dict[str, np.ndarray]]] = []

    def __len__(self) -> int:
        """Jobs buffered and not yet flushed."""
        return len(self._buffer)

    def add(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        if arrays:
            self._buffer.append((key, arrays))

    def flush(self) -> None:
        if not self._buffer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        names = sorted({n for _, arrays in self._buffer for n in arrays})
        out: dict[str, np.ndarray] = {"keys": np.array([k for k, _ in self._buffer], dtype=str)}
        for n in names:
            parts = [a.get(n) for _, a in self._buffer]
            width = next(p.shape[1] for p in parts if p is not None)
            rows = [p if p is not None else np.zeros((0, width), np.float32) for p in parts]
            out[n] = np.concatenate(rows).astype(np.float32)
            out[f"{n}.count"] = np.array([len(r) for r in rows], np.int64)
        stamp = f"{self.tag}-{os.getpid()}-{time.time_ns()}"
        buf = io.BytesIO()
        np.savez(buf, **out)
        write_bytes_atomic(self.folder / f"{stamp}.npz", buf.getvalue())
        self._buffer.clear()

    @staticmethod
    def load(folder: Path) -> dict[str, dict[str, np.ndarray]]:
        """key -> {feature name -> (rows, D)}; a key written twice keeps its last copy."""
        found: dict[str, dict[str, np.ndarray]] = {}
        if not folder.is_dir():
            return found
        for chunk in sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime_ns):
            if chunk.name.startswith("."):
                continue
            with np.load(chunk, allow_pickle=False) as z:
                keys = [str(k) for k in z["keys"]]
                for n in [f for f in z.files if f != "keys" and not f.endswith(".count")]:
                    counts, rows = z[f"{n}.count"], z[n]
                    offsets = np.concatenate([[0], np.cumsum(counts)])
                    for i, k in enumerate(keys):
                        if counts[i]:
                            found.setdefault(k, {})[n] = rows[offsets[i] : offsets[i + 1]]
        return found


# --------------------------------------------------------------------------- the loop


def shard_name(csv_path: Path, name: str) -> bool:
    """Whether ``name`` is the name of one of ``csv_path``'s rank shards, ``STEM.rankR.csv``
    (R a rank number) as :func:`run_jobs` names them: only such files are read, merged and
    deleted as shards (``STEM.ranking.csv`` beside them is someone else's)."""
    return re.fullmatch(rf"{re.escape(csv_path.stem)}\.rank[0-9]+\.csv", name) is not None


def shard_paths(csv_path: Path) -> list[Path]:
    """The rank shards of ``csv_path`` there (:func:`shard_name`), by name."""
    try:
        names = os.listdir(csv_path.parent)
    except OSError:  # no folder yet: no shard
        return []
    return sorted(csv_path.parent / n for n in names if shard_name(csv_path, n))


def check_columns(csv_path: Path, columns: Sequence[str]) -> None:
    """A :class:`ResultsFileError` naming the file when ``csv_path`` or one of its rank shards
    (:func:`shard_name`) exists with columns other than ``columns``; reads their headers only.
    A run calls it before it writes anything (its JSON's header), so that a refused rerun leaves
    its results as they were."""
    for path in [csv_path, *shard_paths(csv_path)]:
        _check_columns(path, columns)


def _merge(csv_path: Path, columns: Sequence[str], jobs: Sequence[Job]) -> None:
    """Rank 0: fold the rank shards into ``csv_path``, rows in job order, one row per job."""
    shards = shard_paths(csv_path)
    if not shards:
        return
    order = {j.key: i for i, j in enumerate(jobs)}
    rows: dict[str, dict[str, str]] = {}
    for path in [csv_path, *shards]:
        for r in read_rows(path):
            rows.setdefault(f"{r['image']}\t{r.get('setting', '')}", r)
    ordered = sorted(rows.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    write_text_atomic(csv_path, _csv_text(columns, [r for _, r in ordered], header=True))
    for s in shards:
        s.unlink()


def done_rows(csv_path: Path) -> list[dict[str, str]]:
    """The rows already in ``csv_path`` and its rank shards (an interrupted run's), as
    :func:`read_rows` reads them."""
    return [r for path in [csv_path, *shard_paths(csv_path)] for r in read_rows(path)]


def done_keys(csv_path: Path) -> set[str]:
    """Keys of the jobs already in ``csv_path`` or its rank shards."""
    return {f"{r['image']}\t{r.get('setting', '')}" for r in done_rows(csv_path)}


def jobs_left(csv_path: Path, jobs: Sequence[Job]) -> bool:
    """Whether a job of ``jobs`` has no row yet in ``csv_path`` or its rank shards
    (:func:`done_keys`); True where they cannot be read (the run refuses them later, in its
    own words)."""
    try:
        done = done_keys(csv_path)
    except (OSError, ValueError, KeyError):
        return True
    return any(job.key not in done for job in jobs)


def _stopped_after(done: int, jobs: Sequence[Job], desc: str, dist: DistEnv) -> str:
    """How far an interrupted :func:`run_jobs` got, for its :class:`~taco.errors.Interrupted`:
    `` after 11 of 20 images of DESC (their rows are kept); run the same command again to do
    the rest`` (jobs at several settings, a classic codec's qualities: `` after 37 of 120 jobs
    (20 images at 6 settings) of DESC ...``). ``done``: the jobs whose rows are in the CSV now
    (none: no ``their rows are kept``); a rank of several says ``on rank R after`` and counts
    its own rows and those done before the run."""
    images, settings = len({j.image for j in jobs}), len({j.setting for j in jobs})
    what = (count(len(jobs), "image") if settings <= 1 else
            f"{count(len(jobs), 'job')} ({count(images, 'image')} at {count(settings, 'setting')})")
    of = f" of {desc}" if desc else ""
    rank = f" on rank {dist.rank}" if dist.world_size > 1 else ""
    kept = " (their rows are kept)" if done else ""
    return f"{rank} after {done:,} of {what}{of}{kept}; run the same command again to do the rest"


def run_jobs(
    jobs: Sequence[Job],
    work: Callable[[Job], JobResult],
    csv_path: Path,
    columns: Sequence[str],
    *,
    features_dir: Path | None = None,
    dist: DistEnv | None = None,
    progress: bool = True,
    desc: str = "",
) -> RunReport:
    """Run every job not yet in ``csv_path``; return what this process did.

    Rank 0 first refuses a CSV (or rank shard) with other columns (:class:`ResultsFileError`)
    and merges the rank shards an interrupted run left into ``csv_path``.

    ``work(job)`` returns a :class:`JobResult`; its row is written with the given ``columns``
    (``image`` and ``setting`` identify the job). Rows and features are flushed every
    :data:`FLUSH_EVERY` jobs, or sooner once :data:`FLUSH_SECONDS` have passed since the last
    flush, features first, so a row on disk always has its features. An interrupt
    (KeyboardInterrupt: Ctrl-C, or the :class:`~taco.errors.Interrupted` ``taco`` raises for
    SIGTERM and SIGHUP) writes the rows of the jobs finished so far the same way, then raises an
    :class:`~taco.errors.Interrupted` of its signal that says how far the run got and that a
    rerun does the rest (``stopped by SIGTERM after 11 of 20 images of elic-small-q4 on ds20
    (their rows are kept); run the same command again to do the rest``; ``desc`` names the run
    there, as on its progress bar). A process with no job left leaves its existing CSV untouched
    (a complete run's, a read-only one).
    """
    dist = dist or DistEnv()
    if dist.is_main:
        # columns first (a CSV without an ``image`` column is refused, not read), then the
        # shards of an interrupted run, of any world size, into the CSV: read as done below,
        # they would otherwise be merged by no one
        check_columns(csv_path, columns)
        remove_stale_temporaries([csv_path])  # what a merge killed while writing it left
        _merge(csv_path, columns, jobs)
    barrier(dist)
    done = done_keys(csv_path)
    barrier(dist)  # every rank has read the same done set before anyone writes
    todo = [j for j in jobs if j.key not in done]
    mine = todo[dist.rank :: dist.world_size]
    report = RunReport()

    out = csv_path if dist.world_size == 1 else csv_path.with_name(f"{csv_path.stem}.rank{dist.rank}.csv")
    # nothing to code here: an existing CSV is left as it is (not even opened for its tail)
    writer = _CSVWriter(out, columns) if mine or not out.is_file() else None
    store = FeatureStore(features_dir, f"r{dist.rank}") if features_dir else None
    pending: list[dict[str, object]] = []

    def flush() -> None:
        if store is not None:
            store.flush()
        if writer is not None:
            writer.append(pending)
        pending.clear()

    iterator: Iterable[Job] = mine
    if progress and mine:
        iterator = progress_bar(mine, desc=desc, unit="img", lines_every=LINES_EVERY,
                                position=dist.rank if dist.world_size > 1 else None)
    flushed = time.monotonic()
    try:
        for job in iterator:
            result = work(job)
            if result.row is None:
                report.skipped.append(job.image)
                continue
            pending.append({**result.row, "image": job.image, "setting": job.setting})
            if store is not None:
                store.add(job.key, result.features)
            for k, v in result.timings.items():
                report.timings.setdefault(k, []).append(v)
            report.timed += bool(result.timings)
            report.coded += 1
            if len(pending) >= FLUSH_EVERY or time.monotonic() - flushed >= FLUSH_SECONDS:
                flush()
                flushed = time.monotonic()
    except KeyboardInterrupt as exc:
        # Ctrl-C, SIGTERM, SIGHUP: the finished jobs' rows are kept (a flush the interrupt cut
        # short is done again: a half-written line cut first, a row written twice read once)
        if writer is not None:
            writer.repair()
        flush()
        if getattr(exc, "progress", "") or type(exc) not in (KeyboardInterrupt, Interrupted):
            raise  # says how far it got already, or a stop of its own kind (a rank's)
        rows = len(jobs) - len(todo) + report.coded  # in the CSV now
        raise Interrupted(getattr(exc, "signum", signal.SIGINT),
                          _stopped_after(rows, jobs, desc, dist)) from None
    flush()
    report.skipped = [*dict.fromkeys(report.skipped)]  # one job per image and setting: a name once
    barrier(dist)
    if dist.is_main and dist.world_size > 1:
        _merge(csv_path, columns, jobs)
    barrier(dist)
    return report
