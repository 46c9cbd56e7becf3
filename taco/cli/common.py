"""What the commands share: the ``--model`` and ``--device`` options, how a command says a note
(:func:`note`), which errors are a person's input (one line) rather than a bug (a traceback), and
how a batch reports the inputs that failed.

Imports no torch at the top (see :mod:`taco.cli`).
"""

from __future__ import annotations

import argparse
import errno
import functools
import os
import re
import signal
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..devices import DEVICE_NAMES, MAX_THREADS, device_problem  # no torch
from ..errors import Interrupted, TacoError
from ..messages import count, note, one_line, shown_path, some, to_stderr
from ..resolve import DEFAULT_MODEL, ResolvedModel

#: Each command's line in ``taco --help``, in its order: the ``help`` its module (in
#: :data:`taco.cli.COMMAND_MODULES`) gives ``add_parser``. ``taco --help`` and a
#: mistyped command (``invalid choice: ... (did you mean ...)``) list the commands from here,
#: without building every command's parser (~40 modules).
COMMAND_HELP: dict[str, str] = {
    "compress": "images -> .taco files, guided by captions",
    "decompress": ".taco files -> PNG images (no caption needed)",
    "info": "show the header of .taco files",
    "models": "list the built-in trained models and the architectures",
    "demo": "compress and decode a built-in sample photo, print the numbers",
    "train": "train a model (one GPU, CPU, or many via torchrun)",
    "evaluate": "models and classic codecs x datasets -> CSV + JSON (+ RD figure)",
    "plot": "RD figure (PNG + SVG) and BD-rate table from result JSONs",
    "caption": "write captions.jsonl for a folder with a captioning model",
    "import-captions": ("caption JSON (the authors', COCO's, lists of objects or one alone, JSON Lines) "
                        "-> captions.jsonl"),
    "bench": "encode/decode latency: TACO vs ELIC vs CompressAI's ELIC",
    "import-checkpoint": "import an authors' TACO/ELIC or a CompressAI ELIC checkpoint"}


#: The user errors (:class:`taco.errors.TacoError`) that belong to one input of a batch (and
#: CLIError, raised by a check of one input): that input is reported and skipped, the rest is
#: done. The others (a missing text encoder, a bad --model) would fail every input alike and stop
#: the command. Named rather than imported: importing them would cost every command a torch
#: import, and an error class whose module was never imported cannot have been raised.
INPUT_ERRORS: tuple[tuple[str, str], ...] = (
    ("taco.bitstream", "TacoFormatError"),
    ("taco.codec", "ImageSizeError"),
    ("taco.images", "ImageReadError"),
    ("taco.text.base", "CaptionTooLongError"),
    ("taco.text.base", "CaptionTextError"),
)

#: ``--model``'s help, for every command that takes one.
MODEL_HELP = (f"trained model name, checkpoint (a .safetensors file, a sharded one's "
              f".index.json, or a training run's folder), or architecture name "
              f"(random seed-0 weights; taco models lists the names); default: {DEFAULT_MODEL}")


class HelpFormatter(argparse.HelpFormatter):
    """Every ``taco`` parser's help layout (``formatter_class``): argparse's, but lines break at
    spaces only. argparse's own breaks at hyphens too, so ``default: taco-minilm-small-q4`` came
    out as ``taco-minilm-`` / ``small-q4``, a name nobody can copy; a word longer than the line
    stays whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False,
                             break_long_words=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in self._split_lines(text, width - len(indent)))


class RawDescriptionHelpFormatter(HelpFormatter):
    """:class:`HelpFormatter` for a command whose description and epilog are laid out by hand
    (``taco train``'s recipe, ``taco evaluate``'s dataset table): those are printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "".join(indent + line for line in text.splitlines(keepends=True))


def add_device_option(parser: argparse.ArgumentParser, *, default: str | None = "auto",
                      torchrun: bool = False, note: str = "") -> None:
    """``--device``, the same for every command that runs a network (evaluate, caption, train,
    bench): ``auto`` by default; a name that is no device (``cdua``) is refused by argparse
    (:func:`device_arg`) before torch loads, and the device is resolved and checked by
    :func:`taco.devices.resolve_device` when the command starts (a device this machine lacks:
    one line, exit status 2). ``default``: None where the option only overrides a config file's
    ``device`` (itself ``auto`` by default); ``torchrun``: whether the command runs under
    torchrun (train, evaluate), where ``auto`` is each rank's own GPU; ``note``: what else the
    help says."""
    ranks = ", under torchrun each rank's own" if torchrun else ""
    parser.add_argument(
        "--device", default=default, metavar="DEVICE", type=device_arg,
        help=f"torch device: {DEVICE_NAMES} (default: auto, this process's GPU when torch sees "
        f"one{ranks}, else the CPU)" + (f"; {note}" if note else ""))


def device_arg(text: str) -> str:
    """An argparse ``type`` for ``--device``: ``text`` as given, unless it names no device taco
    runs on (:func:`taco.devices.device_problem`: ``cdua``, ``gpu``, ``cuda:x``), which is refused
    without torch, as :func:`taco.devices.resolve_device` would refuse it once torch had loaded."""
    problem = device_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return text


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts that must be at least 1 (``--max-bytes``, ``--limit``,
    ``--batch-size``, ...): ``must be at least 1, got 0`` instead of a silent empty run."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse ``type`` for counts that may be 0 (``--warmup``, ``--bootstrap``)."""
    return _int_at_least(text, 0)


def thread_count(text: str) -> int:
    """An argparse ``type`` for ``--threads``: 1 to :data:`taco.devices.MAX_THREADS`."""
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_THREADS}, got {one_line(str(value), 40)}")
    return value


def path_arg(text: str) -> str:
    """An argparse ``type`` for a file, folder or model name, input or output: the empty string
    is refused (as a path it is the current folder, ``Path("")`` is ``.``, so ``taco compress
    "$UNSET"`` coded every photo there, and ``-o ""`` wrote beside them), and a leading ``~`` is
    expanded (``os.path.expanduser``), as the shell does only unquoted and not after ``--opt=``:
    ``--output='~/o/'`` made a folder named ``~`` in the current one. Every path option and
    argument of taco's commands takes this ``type``: one rule for all of them."""
    if not text:
        raise argparse.ArgumentTypeError("empty: give a path or name (the current folder is .)")
    return os.path.expanduser(text)


def _int_at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
    return value


#: How ``--skip-existing`` tells an output already made, unless a command says otherwise.
SKIP_MATCHES = "by name"


def add_existing_options(parser: argparse.ArgumentParser, matches: str = SKIP_MATCHES) -> None:
    """``-f/--force`` and ``--skip-existing``, one or the other: what to do with outputs that
    exist already (without either, they are refused before any work). ``matches`` says, for the
    command's help, how --skip-existing tells an output already made (taco compress: ``by name
    and image size``)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    group.add_argument("--skip-existing", action="store_true",
                       help="leave the outputs that exist and write only the others (to finish "
                       "an interrupted batch: an output is never half written; after --force, run "
                       f"that again instead); it matches outputs {matches}")


# --------------------------------------------------------------------------- models


def command_model(name: str | None, command: str) -> ResolvedModel:
    """``--model`` value -> the model and where it came from (:func:`taco.resolve.resolve_model`:
    ``.checkpoint`` is the file when it named a checkpoint or run folder), saying so when it is
    an architecture's untrained seed-0 initialisation: ``taco COMMAND: note: ...`` as the
    command's other notes."""
    from ..resolve import resolve_model

    resolved = resolve_model(name)
    if resolved.note:
        note(command, resolved.note)
    return resolved


# --------------------------------------------------------------------------- errors


class CLIError(TacoError):
    """A user error: printed as one line, exit status 2."""


class OutputClosed(BrokenPipeError):
    """Standard output was closed (its reader went away) before all of a file's bytes were
    written: one error line, and the status of a broken pipe (141), never a success line."""


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is bad input (printed as one line) rather than a bug (a traceback): an
    error taco raises on purpose (:class:`taco.errors.TacoError`, CLIError among them) or a file
    that cannot be read or written (OSError)."""
    return isinstance(exc, (TacoError, OSError))


def is_one_of(exc: BaseException, names: Sequence[tuple[str, str]]) -> bool:
    """Whether ``exc`` is an instance of one of the (module, class name) ``names``; a module not
    imported yet cannot have raised it."""
    for module, name in names:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


def error_line(exc: BaseException) -> str | None:
    """The one line a person sees for ``exc``: bad input (:func:`is_user_error`) or an allocation
    failure (MemoryError, std::bad_alloc, torch's allocator); None for anything else, a bug that
    deserves its traceback. The line is shown as :func:`taco.messages.shown_path` shows a name:
    one in it (read from a file) may hold a line break or an escape code."""
    if is_user_error(exc):
        # OSError: a file that cannot be read or written (missing, a folder, disk full); taco's
        # own (taco.bitstream.container.TacoFileUnreadable, also an OSError) says it its way
        if isinstance(exc, OSError) and not isinstance(exc, TacoError):
            return shown_path(os_error_line(exc))
        return shown_path(exc)
    line = allocation_failure_line(exc) or missing_package_line(exc)
    return None if line is None else shown_path(line)


def missing_package_line(exc: BaseException) -> str | None:
    """What a package taco's install requires but that is not installed says (a
    ModuleNotFoundError: ``compressai`` after ``pip install --no-deps``; ``pycocoevalcap``, which
    ``--text-similarity`` needs, without the eval extra), in one line with the way to install it;
    None for anything else, a bug that deserves its traceback (a taco module missing, a plugin's
    own import)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.partition(".")[0]
    extras = _required_by_taco().get(_dist_key(_DIST_OF_IMPORT.get(top, top)))
    if not extras:
        return None
    if "" in extras:
        how = ("install taco's dependencies again (pip install -e . in taco's checkout, or pip "
               "install the taco-codec wheel again)")
    else:
        extra = min(extras - {"dev"} or extras)
        how = f"it comes with taco's {extra} extra: pip install -e '.[{extra}]' (or 'taco-codec[{extra}]')"
    return f"{exc}: a package taco needs is not installed here; {how}"


#: The distribution of an import name that is not its own (the rest: the same name, ``_`` as ``-``).
_DIST_OF_IMPORT = {"PIL": "pillow", "yaml": "pyyaml"}


def _dist_key(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503: case, ``-``, ``_``, ``.`` alike)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _required_by_taco() -> dict[str, frozenset[str]]:
    """{distribution: the extras that require it, "" for taco itself} from taco's installed
    metadata (``Requires-Dist``); empty where taco is not installed as a distribution."""
    import importlib.metadata  # only when an import failed: not at every start

    try:
        requirements = importlib.metadata.requires("taco-codec") or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    found: dict[str, set[str]] = {}
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
        if name:
            found.setdefault(_dist_key(name.group()), set()).add(extra.group(1) if extra else "")
    return {k: frozenset(v) for k, v in found.items()}


def allocation_failure_line(exc: BaseException) -> str | None:
    """What an allocation failure (MemoryError, std::bad_alloc, torch's allocator) says, in one
    line; None if ``exc`` is not one."""
    from ..memory import OutOfMemoryError, allocation_failure

    what = allocation_failure(exc)
    if what is None:
        return None
    return what if isinstance(exc, OutOfMemoryError) else f"out of memory: {what}"


def os_reason(exc: OSError) -> str:
    """An OSError without its ``[Errno N]`` prefix: ``strerror``, else the message."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def os_error_line(exc: OSError) -> str:
    """``FILE: reason`` (``FILE -> FILE2: reason`` for a rename) for an OSError."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    return f"{where}: {os_reason(exc)}" if where else os_reason(exc)


# --------------------------------------------------------------------------- batches


#: Errors that doom the outputs after it too (a full disk or quota, a read-only file system, no
#: file descriptors left, a reader gone, an I/O error, no memory, a stale NFS handle; an OSError
#: without an errno is not known to be one input's either): they stop a batch. Any other OSError (a name
#: too long, a folder in the way, one file not readable) is one input's, skipped like a bad input.
STOP_ERRNOS = frozenset(getattr(errno, name) for name in (
    "ENOSPC", "EDQUOT", "EROFS", "EMFILE", "ENFILE", "EPIPE", "EIO", "ENOMEM", "ESTALE")
    if hasattr(errno, name))


#: The exit status of a command that did part of its work: a batch (``compress``, ``decompress``,
#: ``info``) in which some inputs failed and the others were done, or that a full disk (any of
#: :data:`STOP_ERRNOS`) stopped after some outputs were written, ``taco evaluate`` whose results
#: lack some images, ``taco caption`` that left some images uncaptioned: told apart from 2, a usage
#: error or nothing done.
PARTIAL_STATUS = 3


class Failures:
    """The inputs of one batch command that failed alone: each is reported on one line when it
    fails and skipped, the rest of the batch is still done, and :meth:`status` ends the command.
    :meth:`run` is the batch's loop; :meth:`stopping`, around it, says how far it got when it is
    stopped."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.inputs: list[Path] = []
        #: Inputs of the batch finished so far (done, failed); :meth:`run` keeps it.
        self.finished = 0
        #: Inputs left out because their outputs exist (--skip-existing).
        self.skipped = 0
        #: Of those, outputs another process wrote while the batch ran (:meth:`written_meanwhile`).
        self.meanwhile = 0
        #: Outputs this process wrote so far; :meth:`run` keeps it.
        self.written = 0
        #: The exit status of a batch :meth:`stopping` stopped (its line said), for the caller to
        #: return; None while it was not stopped.
        self.stopped: int | None = None

    def skip(self, src: Path, exc: Exception, also: Sequence[tuple[str, str]] = ()) -> bool:
        """Whether ``exc`` is a failure of the input ``src`` alone (:data:`INPUT_ERRORS`,
        ``also``, a CLIError of its checks, an OSError of its own files not in
        :data:`STOP_ERRNOS`, running out of memory on it): then it is reported now, naming the
        input, and counted. False for anything else (a missing text encoder, a full disk, a
        library that could not load: an ImportError, or an OSError without an errno, such as
        torch's ``failed to map segment from shared object`` under ``ulimit -v``; a bug), which
        stops the command as :func:`taco.cli.main` reports it, in one line naming no input. The
        line shows the input's name, and any in the error, as :func:`taco.messages.shown_path`
        does."""
        # ENOMEM too: not this input's; nor a library that could not be loaded (torch imported
        # lazily at the first input: every other would fail the same way)
        machine = (isinstance(exc, ImportError)
                   or (isinstance(exc, OSError) and (exc.errno is None or exc.errno in STOP_ERRNOS)))
        if not (isinstance(exc, CLIError) or is_one_of(exc, (*INPUT_ERRORS, *also))
                or (isinstance(exc, OSError) and exc.errno is not None and not machine)
                or (allocation_failure_line(exc) and not machine)):
            return False
        text = str(error_line(exc))
        name = shown_path(src)
        where = "" if name in text else f"{name}: "
        to_stderr(f"taco {self.command}: error: {where}{text}")
        self.inputs.append(src)
        return True

    def written_meanwhile(self, dst: Path) -> None:
        """The output ``dst`` was found written, by another process, when this one came to publish
        it (--skip-existing): said in a note, left as it is, and counted as skipped."""
        note(self.command, f"{dst} exists (written meanwhile, by another process?): left as it is "
             "(--skip-existing)")
        self.meanwhile += 1
        self.skipped += 1

    @contextmanager
    def stopping(self, total: int, noun: str, rest: str = "") -> Iterator[None]:
        """Around a batch's loop of ``total`` inputs, each a ``noun`` (``"image"``): an interrupt
        (:class:`Interrupted`) or an error that dooms the rest (:data:`STOP_ERRNOS`) says how far
        it got, ``after 6 of 20 images``, and ``rest``: how to do the others (``run it again with
        --skip-existing``). An interrupt is raised again; an error is said on one line and ends the
        loop, :attr:`stopped` then the exit status for the caller to return: :data:`PARTIAL_STATUS`
        when some outputs were written (:attr:`written`), 2 when none was. A broken pipe stays one
        (the reader has gone: nobody to tell)."""
        if total < 2:
            yield
            return
        try:
            yield
        except KeyboardInterrupt as exc:
            after = f" after {self.finished:,} of {count(total, noun)}" + (f"; {rest}" if rest else "")
            raise Interrupted(getattr(exc, "signum", signal.SIGINT), after) from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            then = f" ({rest})" if rest else ""
            to_stderr(f"taco {self.command}: error: " + shown_path(
                f"stopped after {self.finished:,} of {count(total, noun)}: {os_error_line(exc)}{then}"))
            self.stopped = PARTIAL_STATUS if self.written else 2

    def run(self, batch: Iterable[tuple[int, Path, Path]],
            do_one: Callable[[int, Path, Path], tuple[bool, Callable[[], None]]], *, total: int,
            noun: str, rest: str = "", also: Sequence[tuple[str, str]] = ()) -> int | None:
        """A batch's loop over ``batch``: (its place in the count, input, output) each, of
        ``total`` inputs, each a ``noun``, inside :meth:`stopping` (``rest``). ``do_one(place,
        src, dst)`` does one input's work and returns (whether it wrote ``dst``, what is done once
        it is counted: its report line); an error of that input alone (:meth:`skip`, ``also``)
        is reported and the rest is done; an output found written meanwhile is
        :meth:`written_meanwhile`. :attr:`finished` counts the inputs before this one while it
        is worked on, and it too once its output is written (a report line that cannot be
        printed counts it); :attr:`written` the outputs written. Returns :attr:`stopped`: None
        when the loop ran to its end."""
        with self.stopping(total, noun, rest):
            for i, src, dst in batch:
                self.finished = i - 1
                try:
                    written, counted = do_one(i, src, dst)
                except Exception as exc:
                    if not self.skip(src, exc, also):
                        raise
                    continue
                self.finished = i
                if not written:
                    self.written_meanwhile(dst)
                    continue
                self.written += 1
                counted()
        return self.stopped

    def summary(self) -> str:
        """`` (2 failed, 14 skipped: their outputs exist)`` for a batch's summary line, or ''."""
        parts = [f"{len(self.inputs):,} failed"] if self.inputs else []
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped: their outputs exist")
        return f" ({', '.join(parts)})" if parts else ""

    def status(self, total: int, noun: str) -> int:
        """The exit status of a batch of ``total`` inputs, each a ``noun``: 0 when none failed;
        else, after one line naming them (``1 of 3 images failed``), :data:`PARTIAL_STATUS` when
        the others were done, and 2 when nothing was (as for a usage error). Inputs whose
        outputs another process wrote meanwhile are not done by this one."""
        failed = self.inputs
        if not failed:
            return 0
        if total > 1:
            to_stderr(f"taco {self.command}: error: {len(failed):,} of {count(total, noun)} failed: "
                      f"{some(failed, 5)}")
        return PARTIAL_STATUS if total - len(failed) - self.meanwhile > 0 else 2


@contextmanager
def input_warnings(command: str, src: Path, about_input: tuple[type[Warning], ...],
                   fold: Callable[[Warning | str], bool] | None = None) -> Iterator[None]:
    """Print the warnings raised while one input is processed, one line each: those about the
    input (``about_input``: alpha dropped, caption truncated, ...) as ``taco CMD: warning: SRC:
    MESSAGE`` for every input they concern, any other once, without source lines. One about the
    input for which ``fold(warning)`` is True is not printed: the caller says it its own way (a
    note for the whole batch)."""
    others: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            for category in about_input:
                warnings.simplefilter("always", category)
            try:
                yield
            finally:
                seen: set[str] = set()
                for w in caught:
                    text = str(w.message)
                    if text in seen:
                        continue
                    seen.add(text)
                    if issubclass(w.category, about_input):  # named once, by the library or here
                        if fold is not None and fold(w.message):
                            continue
                        named = shown_path(text if text.startswith(f"{src}: ") else f"{src}: {text}")
                        to_stderr(f"taco {command}: warning: {named}")
                    else:
                        others.append(w)
    finally:
        for w in others:  # through the command's printer, restored by now
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


#: The commands that code and measure images in a process of their own, so that torch's OpenMP
#: threads sleep between operations there (:func:`sleeping_openmp_threads`): coding and the
#: metrics (MS-SSIM's five filtered scales, LPIPS's AlexNet layers on one image) are many small
#: operations. Training keeps OpenMP's default: its operations are large and back to back.
SLEEPING_OPENMP_COMMANDS = ("compress", "decompress", "demo", "evaluate")


@contextmanager
def sleeping_openmp_threads() -> Iterator[None]:
    """Within: torch, if it is first imported here, loads OpenMP with ``OMP_WAIT_POLICY=PASSIVE``
    (unless the user set a policy), so its threads sleep between operations instead of spinning.

    libgomp, torch's OpenMP on Linux, keeps each idle worker spinning (300,000 rounds) after
    every parallel region, and coding is hundreds of small operations: where other jobs use the
    cores, the spinning workers take the CPU the main thread needs. On a shared 2-core machine a
    451x300 file decoded in 5.4 s in all with spinning threads and in 3.5 s with sleeping ones
    (g_s 0.82 -> 0.27 s), and coded in 3.9 s against 3.1 s (medians of 5); on a quiet machine
    the two are within noise (docs/performance.md). The bytes and pixels are the same: the thread
    count and how work is split do not change. libgomp reads the variable once, when torch loads
    it; it is removed again on the way out.
    """
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ:
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
