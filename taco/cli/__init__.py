"""The ``taco`` command line: the parser, and how a command's end is reported.

Entry points stay thin: parse arguments, hand them to the library, print what happened. Each
command lives in its own module (:data:`COMMAND_MODULES`): the codec's here (``compress``,
``decompress``, ``info``, ``models``, ``demo``, sharing :mod:`taco.cli.common`,
:mod:`taco.cli.inputs` and :mod:`taco.cli.files`), the others in their packages' ``cli``
modules (``train``, ``evaluate``, ...).

Start-up is part of the interface: this package, and every module in :data:`COMMAND_MODULES`,
imports no torch at the top, so ``taco --help``, ``taco X --help`` and ``taco info`` answer at
once; a command imports what it uses when it runs (tests/test_startup.py checks which modules
each command pays for).
"""

from __future__ import annotations

import argparse
import codecs
import gc
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, NoReturn

from .. import __version__
from ..distributed import SilentInterrupted, StoppedTogether
from ..errors import Interrupted
from ..messages import did_you_mean, shell_word, shown_path, to_stderr, warning_printer
from ..suffixes import IMAGE_SUFFIXES
from .common import (
    COMMAND_HELP,
    INPUT_ERRORS,
    SLEEPING_OPENMP_COMMANDS,
    HelpFormatter,
    OutputClosed,
    error_line,
    sleeping_openmp_threads,
)

__all__ = ["COMMAND_HELP", "COMMAND_MODULES", "COMMAND_MODULE_OF", "INPUT_ERRORS", "CommandParser", "Parser",
           "build_parser", "main", "run"]

#: The modules that add the subcommands, in ``taco --help``'s order, each through
#: ``register(subparsers)``, which adds its subcommands with ``set_defaults(func=...)``;
#: ``func(args)`` returns the exit status and raises :class:`taco.cli.common.CLIError` for a user
#: error. Such a module may use :mod:`taco.cli.common` (its ``add_parser`` help is there:
#: :data:`~taco.cli.common.COMMAND_HELP`), never the names of this package, which imports it.
#: Each must import no torch (nor CompressAI, transformers) at module level, its package's
#: ``__init__`` included: ``taco --help`` imports all of them.
COMMAND_MODULES: tuple[str, ...] = ("taco.cli.compress", "taco.cli.decompress", "taco.cli.info",
                                    "taco.cli.models", "taco.cli.demo", "taco.train.cli",
                                    "taco.evaluation.cli", "taco.bench.cli", "taco.official.cli")

#: The module in :data:`COMMAND_MODULES` that adds each subcommand: ``taco info X`` imports that
#: one alone (the others cost ``taco info`` ~17 ms of its ~100); ``taco --help`` and a mistyped
#: command import none (:data:`COMMAND_HELP`), nor does ``taco --version``.
COMMAND_MODULE_OF: dict[str, str] = {
    "compress": "taco.cli.compress", "decompress": "taco.cli.decompress", "info": "taco.cli.info",
    "models": "taco.cli.models", "demo": "taco.cli.demo", "train": "taco.train.cli",
    "evaluate": "taco.evaluation.cli", "plot": "taco.evaluation.cli",
    "caption": "taco.evaluation.cli", "import-captions": "taco.evaluation.cli",
    "bench": "taco.bench.cli", "import-checkpoint": "taco.official.cli"}


# --------------------------------------------------------------------------- parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """``taco``'s parser, with every command; given the arguments it will parse (``argv``), only
    with the command their first word names (:data:`COMMAND_MODULE_OF`), with none for
    ``--version``, and with each command's line alone (:data:`COMMAND_HELP`) for ``--help``, no
    argument or a first word that names no command (the parse ends there)."""
    p = Parser(
        prog="taco",
        description="TACO: text-guided neural image compression. A caption guides the encoder; "
        "the decoder needs only the .taco file.",
    )
    p.add_argument("--version", action="version", version=f"taco {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=CommandParser)

    first = argv[0] if argv else ""
    if argv is not None and _abbreviates(first, "--version"):
        return p
    named = COMMAND_MODULE_OF.get(first)
    if argv is not None and named is None and (
            not first.startswith("-") or first == "-h" or _abbreviates(first, "--help")):
        for command, text in COMMAND_HELP.items():
            sub.add_parser(command, help=text)
        return p
    for module in COMMAND_MODULES if named not in COMMAND_MODULES else (named,):
        importlib.import_module(module).register(sub)
    return p


def _abbreviates(word: str, option: str) -> bool:
    """Whether argparse reads ``word`` as ``taco``'s long ``option`` (``--vers`` for
    ``--version``: no other option of ``taco`` starts with ``--v`` or ``--h``)."""
    return len(word) >= 3 and option.startswith(word)


class Parser(argparse.ArgumentParser):
    """``taco``'s parser: a word that is not one of the choices (a command, ``--fid``'s modes)
    is refused with the closest ones, ``invalid choice: 'compres' (choose from ...) (did you
    mean 'compress'?)``; an option whose own value ``--`` (``--model=--``, ``-o--``) argparse
    drops (Python 3.11, 3.12) is one missing its value (``argument --model/-m: expected one
    argument``); where argparse keeps it (3.13), ``--`` is the value. Its help is laid out by
    :class:`~taco.cli.common.HelpFormatter` unless the parser names another. Its error line
    shows the words it quotes as :func:`~taco.messages.shown_path` shows a file's name: a word
    may be one (a glob that matched ``--x<ESC>]0;...``), which sends no escape code to the
    terminal. Its help and ``--version`` on standard output that cannot take them say so
    (``taco: error: <stdout>: no space left on device``, status 2; status 141 for a reader gone),
    where argparse said nothing and exited 0."""

    def __init__(self, **kwargs: Any) -> None:  # (add_parser gives every argument by name)
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(**kwargs)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # An option's own value "--" (--model=--, -o--) that argparse lost is refused as a
        # missing one is ("argument --model/-m: expected one argument", exit 2): Python 3.11 and
        # 3.12's argparse strip that "--" as if it ended the options, leaving [] where the option
        # takes one word (a TypeError, an unhashable list, later), its const for an optional
        # value, or a silently empty --set, --images. Python 3.13's keeps it: there "--" is the
        # value (--caption=-- captions "--"). A "--" after an option (--model -- x) ends the
        # options and never reaches here.
        given = list(arg_strings)
        values = super()._get_values(action, arg_strings)  # type: ignore[misc]  # (argparse's own, unannotated)
        if action.option_strings and "--" in given and (
                len(arg_strings) < len(given)  # stripped from the list given (3.11, 3.12)
                or (isinstance(values, list) and not values
                    and action.nargs in (None, argparse.OPTIONAL, argparse.ONE_OR_MORE))):
            one = action.nargs in (None, argparse.OPTIONAL)
            raise argparse.ArgumentError(action, f"expected {'one' if one else 'at least one'} argument")
        return values

    def error(self, message: str) -> NoReturn:
        super().error(shown_path(message))

    def _print_message(self, message: str, file: Any = None) -> None:  # (typeshed: SupportsWrite[str] | None)
        # argparse's own swallows an OSError: taco --help >/dev/full exited 0, nothing said. The
        # help and --version are the command's output here: written and flushed, a failure
        # said as any command's standard output failure is (<stdout>: no space left on device,
        # status 2; a reader gone, | head: status 141). Stderr's (usage, errors) stays unsaid.
        if not message:
            return
        file = file or sys.stderr
        try:
            file.write(message)
            file.flush()
        except BrokenPipeError:
            if file is not sys.stdout:
                return
            _quiet_stdout()
            raise SystemExit(141) from None
        except OSError as exc:
            if file is not sys.stdout or exc.errno is None:
                return
            to_stderr(f"{self.prog}: error: {error_line(OSError(exc.errno, exc.strerror, '<stdout>'))}")
            raise SystemExit(2) from None

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)  # type: ignore[misc]  # (argparse's own, unannotated)
        except argparse.ArgumentError as exc:
            if not isinstance(value, str) or action.choices is None:
                raise
            hint = did_you_mean(value, [str(c) for c in action.choices])
            raise argparse.ArgumentError(action, f"{exc.message}{hint}") from None


class CommandParser(Parser):
    """A subcommand's parser (``taco demo``): an argument it does not know is its own error
    (``usage: taco demo ...`` / ``taco demo: error: unrecognized arguments: -x``, exit 2), with
    the closest of its options for a mistyped one (``--forse (did you mean '--force'?)``). Left
    to argparse, a subparser hands what it does not know back to ``taco``'s parser, which printed
    its own usage, a line that does not say which command's options to look at. A command
    whose input image is an option's value (:attr:`file_option`) says so of a lone stray word
    naming an image."""

    #: The option naming the command's input image, where it takes none as an argument (``taco
    #: demo``'s ``--image``): ``taco demo a.png`` gets ``unrecognized arguments: a.png (an image
    #: is given with --image: taco demo --image a.png)``. Set by the command's ``register``.
    file_option: str | None = None

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: Any = None) -> tuple[Any, list[str]]:  # (typeshed's overloads)
        parsed, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(map(self.unknown_word, unknown))}"
                       f"{self.stray_file_hint(parsed, unknown)}")
        return parsed, unknown

    def stray_file_hint(self, parsed: Any, unknown: Sequence[str]) -> str:
        """`` (an image is given with --image: taco demo --image a.png)`` where ``unknown`` is
        one word with an image's suffix (a file, or a built-in sample's name, which ``--image``
        takes too) and the command's :attr:`file_option` was not given; else ""."""
        option = self.file_option
        if (option is None or len(unknown) != 1 or unknown[0].startswith("-")
                or os.path.splitext(unknown[0])[1].lower() not in IMAGE_SUFFIXES):
            return ""
        dest = next((a.dest for a in self._actions if option in a.option_strings), None)
        if dest is None or getattr(parsed, dest, None) is not None:
            return ""
        return f" (an image is given with {option}: {self.prog} {option} {shell_word(unknown[0])})"

    def unknown_word(self, word: str) -> str:
        """``word``, an argument this command does not take, and for an option (``--forse``,
        ``--forse=1``) the closest of the command's own options."""
        if not word.startswith("-") or len(word) < 2:
            return word
        options = [o for action in self._actions for o in action.option_strings]
        return word + did_you_mean(word.partition("=")[0], options,
                                   key=lambda option: option.lstrip("-"))  # not alike by "--" alone


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    _hostile_streams()
    command = ""
    with _signals_as_interrupts():
        try:
            words = sys.argv[1:] if argv is None else list(argv)
            args = build_parser(words).parse_args(words)  # in here: Ctrl-C while it imports is one line
            command = f" {args.command}"
            return _run(args)
        except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: `finally`s have run
            stop = _first_stop(exc)
            signum, progress = ((stop.signum, stop.progress) if isinstance(stop, Interrupted)
                                else (signal.SIGINT, ""))
            how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
            if not isinstance(stop, SilentInterrupted):  # a torchrun rank but 0: rank 0 says it
                to_stderr(f"taco{command}: {how}{progress}")
            return 128 + signum


def _first_stop(exc: KeyboardInterrupt) -> KeyboardInterrupt:
    """The stop :func:`main` says (and exits with) for ``exc``: a signal that came while an
    earlier stop was on its way out (raised in a ``finally`` or ``except`` of it: torchrun's
    SIGTERM to rank 0 once another rank of a shared stop has exited) does not replace it. Of
    the stops in ``exc``'s chain (its ``__cause__``/``__context__``, the KeyboardInterrupts), the
    first that says how far it got (a :class:`~taco.distributed.StoppedTogether`: ``at step N``),
    else the first of them."""
    stops: list[KeyboardInterrupt] = []
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, KeyboardInterrupt):
            stops.insert(0, error)  # the first (oldest) first
        error = error.__cause__ or error.__context__
    for stop in stops:
        if isinstance(stop, StoppedTogether) or (isinstance(stop, Interrupted) and stop.progress):
            return stop
    return stops[0]


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The ``taco`` program (its console script, ``python -m taco``): :func:`main`, then the
    process ends with its status. :func:`main` returns instead, for callers that run a command
    in-process (tests, ``python -c``).

    Python's last garbage collections at exit walk every object torch made: ~0.3 s of CPU after a
    command that imported it, a tenth of a one-photo ``taco compress``. :func:`gc.freeze` leaves
    those objects to the end of the process, which frees its memory as a whole; the rest of the
    exit is Python's own (threads joined, ``atexit`` functions run, standard streams flushed).
    Ctrl-C during that exit ends the process as the signal does by default, without the
    traceback Python would print from a joining thread or an ``atexit`` function."""
    status = main(argv)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the command is done: nothing left to stop
    gc.freeze()
    sys.exit(status)


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command, its errors as one line each (status 2), a broken pipe as 141.
    Refused before it starts: a command run in a folder that has been deleted (importing torch
    there ends the process with "Intel oneMKL FATAL ERROR"), and one whose output is what it
    prints (:func:`_prints_its_output`) with standard output closed (``taco info X >&-``)."""
    refused = _cannot_run(args)
    if refused:
        to_stderr(f"taco {args.command}: error: {refused}")
        return 2
    with warnings.catch_warnings():  # the caller's filters and showwarning come back after
        warnings.simplefilter("default")
        warnings.showwarning = warning_printer(args.command)
        threads = sleeping_openmp_threads() if args.command in SLEEPING_OPENMP_COMMANDS else nullcontext()
        try:
            with threads:
                return int(args.func(args))
        except BrokenPipeError as exc:  # `taco models | head`: the reader has gone; so do we
            if isinstance(exc, OutputClosed):  # a file's data cut short: not quietly
                to_stderr(f"taco {args.command}: error: {exc.strerror}")
            _quiet_stdout()
            return 141  # as a program ended by SIGPIPE
        except Exception as exc:
            text = error_line(exc)
            if text is None:
                raise
            to_stderr(f"taco {args.command}: error: {text}")
            return 2


def _hostile_streams() -> None:
    """Make the standard streams safe to use before anything is printed or opened.

    A stream closed when the process started (``2>&-``) is None in :mod:`sys`, and
    ``print(file=None)`` writes to stdout: with stderr closed, every report line went into the
    data of ``-o -``. Its file descriptor (0, 1, 2) was free, so the first file opened would get
    it and anything written to "stderr" below Python (a library's C code, a child process) would
    land in that file. So a closed descriptor is pointed at the null device; a closed stderr is
    the null device's too (there is nobody to tell), while a closed stdin or stdout stays None,
    for the commands to refuse (``-`` is closed here; :func:`_run`).

    A file name that is not in the file system's encoding (``caf\\xe9.png`` in a UTF-8
    locale) holds a surrogate, and a stdout that cannot encode it (``PYTHONIOENCODING=ascii``,
    ``utf-8:strict``) raised UnicodeEncodeError at the report line after the image was
    written: such characters are printed as backslash escapes instead. (Python's own
    surrogateescape on a UTF-8 stream writes the name's bytes back as they were: kept.)"""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:  # closed: the lowest free descriptor is this one, the lower ones taken
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # for the process: never closed
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors in (None, "backslashreplace") or (
                errors == "surrogateescape" and codecs.lookup(stream.encoding).name == "utf-8"):
            continue
        reconfigure = getattr(stream, "reconfigure", None)  # io.TextIOWrapper's (pytest's too)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _cannot_run(args: argparse.Namespace) -> str | None:
    """Why the command cannot start here (see :func:`_run`), or None."""
    try:
        os.getcwd()
    except FileNotFoundError:
        return "the current folder no longer exists (it was deleted): cd to another"
    if sys.stdout is None and _prints_its_output(args):
        return "standard output is closed, so what it prints would be lost: give it somewhere to go (> FILE, | ...)"
    return None


def _prints_its_output(args: argparse.Namespace) -> bool:
    """Whether what the command prints on stdout is its result (``info``, ``models``, ``demo``,
    ``train --print-config``, ``bench`` without ``--json``: its table, after a bench of
    seconds to minutes), rather than report lines beside the files it writes. (``bench --json
    -`` refuses a closed stdout itself, naming --json.)"""
    return (args.command in ("info", "models", "demo") or bool(getattr(args, "print_config", False))
            or (args.command == "bench" and not args.output))


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP (a ``kill``, a closed terminal, a scheduler's stop) raise
    :class:`~taco.errors.Interrupted` as SIGINT raises KeyboardInterrupt: ``finally`` blocks
    run (an atomic write removes its temporary), :func:`main` says so in one line and exits with
    128 + the signal's number. Installed here, not in the library, for the command's time only;
    in the main thread (the only one Python runs handlers in), and only over a signal's default
    action (``nohup`` ignores SIGHUP, a host program may have its own). A second signal of the
    kind ends the process at once, as it would have without taco. A forked child (a
    DataLoader worker) inherits the handler: there the signal does what it did before taco."""
    installer = os.getpid()

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signum, signal.SIG_DFL)
        if os.getpid() != installer:  # a forked child's terminate(): end as without taco
            os.kill(os.getpid(), signum)
            return
        raise Interrupted(signum)

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)  # Windows has no SIGHUP
            if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_stdout() -> None:
    """Point standard output at the null device: no second broken-pipe error (Python's
    "Exception ignored ... BrokenPipeError") when it is flushed at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
