"""Which files a codec command writes: one output per input, all checked before any work (so
nothing fails after the work), and written whole; and the ``.taco`` files it reads. The inputs
and their captions are found in :mod:`taco.cli.inputs`.

``-`` as the input reads standard input, ``-o -`` writes to standard output (one input each):
they are :data:`STDIN` and :data:`STDOUT` here, told apart from files by identity. ``-o
/dev/stdout`` (or ``/dev/fd/1``) is written as ``-o -`` is (:func:`is_stdout`).

Imports no torch at the top (see :mod:`taco.cli`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import secrets
import stat
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ..fileobjects import name_key, same_folder
from ..messages import note, shown_path, some, stdin_refused, to_stderr
from ..suffixes import IMAGE_SUFFIXES, folder_images
from .common import SKIP_MATCHES, STOP_ERRNOS, CLIError, OutputClosed, os_reason

if TYPE_CHECKING:
    from PIL import Image

_T = TypeVar("_T")

#: The input ``-``: standard input (a file really named ``-`` is ``./-``).
STDIN = Path("<stdin>")
#: The output ``-o -``: standard output.
STDOUT = Path("<stdout>")


def refuse_stdout(output: str | None, command: str, writes: str, example: str, dash: str = "./-") -> None:
    """A one-line :class:`CLIError` for ``-o -`` of a command that writes ``writes`` (files or a
    folder by their names; ``taco import-captions`` refuses ``-`` as a name without its suffix):
    ``-`` is standard output to ``taco compress`` and ``decompress``, so it names no file or
    folder ``-`` anywhere (``./-`` does). So is an ``-o`` that is no name of a file or folder
    (:func:`unfit_output`): standard output by another name (``-o /dev/stdout``: taco caption
    said "remove the link", import-checkpoint "name it stdout.safetensors"), a device or pipe
    (``-o /dev/null``), a name under /dev or /proc (taco plot -o /dev/null wrote
    /dev/null.png, /dev/null.svg, ..., as root regular files inside /dev).
    ``example``: an ``-o`` to give instead; ``dash``: the ``-o`` that names ``-`` there. None (no
    ``-o`` given) passes."""
    if output is None:
        return
    if output == "-":
        raise CLIError(f"-: {command} writes {writes}, not standard output: name it (e.g. -o {example}; "
                       f"-o {dash} for the name -)")
    unfit = unfit_output(output)
    if unfit:
        raise CLIError(f"{shown_path(output)}: {command} writes {writes}, not {unfit}: name it (e.g. -o {example})")


#: What :func:`unfit_output` says of a name under /dev or /proc.
_SYSTEM_PLACE = "into /dev or /proc (the system's devices and processes)"


def unfit_output(output: str | os.PathLike[str], *, devices: bool = True) -> str | None:
    """What the ``-o`` ``output`` of a command that writes files or a folder by their names is
    where it names none, as that command's refusal says it (``not ...``): ``standard output``
    (:func:`is_stdout`: ``/dev/stdout``, ``/dev/fd/1``), ``into a device or pipe`` (a character
    device, a named pipe, a socket; not with ``devices`` False: ``taco compress`` and
    ``decompress`` write into one, ``-o /dev/null -f`` to time them, a named pipe or ``>(cmd)``
    to stream), or ``into /dev or /proc ...`` (:func:`system_name`); None for a name of a file or
    folder."""
    from ..atomic import special_file

    if is_stdout(output):
        return "standard output"
    if special_file(output):
        return "into a device or pipe" if devices else None
    return _SYSTEM_PLACE if system_name(output) else None


def system_name(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a place among the system's devices and processes, not a file or
    folder of the user's: /proc or a name under it, /dev or a name under it on /dev's own file
    system (``/dev/null.png``, ``/dev/stdin`` where standard input is a file: as root, a
    regular file made or replaced inside /dev; ``/dev/fd`` is /proc's). /dev/shm, a RAM disk
    mounted of its own, is a folder like another. What is there need not exist: the nearest
    folder that does is looked at."""
    full = os.path.abspath(path)
    if not full.startswith(("/dev/", "/proc/")) and full not in ("/dev", "/proc"):
        return False
    folder = full
    try:
        while not os.path.isdir(folder):
            folder = os.path.dirname(folder)
        real = os.path.realpath(folder)
        return (real == "/proc" or real.startswith("/proc/")
                or os.stat(folder).st_dev == os.stat("/dev").st_dev)
    except (OSError, ValueError):  # a null byte, a folder that cannot be asked
        return True


def refuse_system_name(output: str | os.PathLike[str], command: str | None) -> None:
    """A one-line :class:`CLIError` for an ``-o`` of ``taco compress`` or ``decompress``
    (``command``) that names a file or folder under /dev or /proc (:func:`system_name`) and is
    no device or pipe there (those are written into: ``-o /dev/null -f``): ``taco compress p.png
    -o /dev/stdin -f < f`` said "name it stdin.taco"; ``-o /dev/x.taco`` made a file inside /dev."""
    from ..atomic import special_file

    if system_name(output) and not special_file(output):
        raise CLIError(f"{shown_path(output)}: {command or 'it'} writes files, not {_SYSTEM_PLACE}: "
                       "give another -o")


def refuse_stdin(inputs: Sequence[str | None], command: str) -> None:
    """A one-line :class:`CLIError` for ``-`` among the ``inputs`` of a command that reads no
    standard input: ``-`` is standard input to ``taco compress``, ``decompress`` and ``info``, so
    it names no file ``-`` anywhere (``./-`` does). None (an option not given) passes."""
    if "-" in inputs:
        raise CLIError(stdin_refused(command))


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file, which can be read twice (a named pipe, ``<(cat x)``,
    cannot); True when it cannot be told (its reader then says why)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return True


def _keep_suffixes_apart(sources: Sequence[Path], dsts: list[Path], full_name: Callable[[Path], Path],
                         inputs_in: Callable[[Path], Sequence[str]]) -> list[Path]:
    """``dsts``, with whole names (IMG_1.HEIC.taco, IMG_1.JPG.taco) for the sources whose output
    names would not tell them apart: a source whose own folder holds another input of its stem,
    in any case (``inputs_in(folder)``, the names of the inputs a folder holds: a camera's
    IMG_1.HEIC and IMG_1.JPG; Photo.jpg and photo.png), whatever else the batch holds, so that a
    source's output is the same in a batch and alone (IMG_1.JPG alone went to IMG_1.taco, and
    IMG_1.HEIC then "had" its output); and
    sources of this batch that would share an output on a file system blind to case (Photo.jpg
    and photo.png) or from two folders (a/IMG_1.jpg and b/IMG_1.png into one folder)."""
    beside: dict[Path, tuple[frozenset[str], dict[str, int]]] = {}  # a folder's inputs, stems
    by_dst: dict[str, set[str]] = {}
    for src, dst in zip(sources, dsts, strict=True):
        by_dst.setdefault(_one_file(dst), set()).add(src.name)
    whole = []
    for src, dst in zip(sources, dsts, strict=True):
        if src.parent not in beside:
            beside[src.parent] = _inputs_beside(src.parent, inputs_in)
        names, stems = beside[src.parent]
        others = stems.get(name_key(src.stem), 0) - (name_key(src.name) in names)  # itself, when listed
        whole.append(full_name(src) if others > 0 or len(by_dst[_one_file(dst)]) > 1 else dst)
    return whole


def _inputs_beside(folder: Path, inputs_in: Callable[[Path], Sequence[str]],
                   ) -> tuple[frozenset[str], dict[str, int]]:
    """The names of the inputs ``folder`` holds, and how many of them have each stem (IMG_1.jpg
    and IMG_1.png: img_1 2), both as :func:`name_key` compares outputs (Photo.jpg and photo.png
    share a stem: their short outputs are one file on macOS and Windows); none where the folder
    cannot be listed."""
    try:
        listed = inputs_in(folder)
    except OSError:
        return frozenset(), {}
    stems: dict[str, int] = {}
    for name in listed:  # Photo.jpg and photo.jpg are two inputs of one stem
        stem = name_key(Path(name).stem)
        stems[stem] = stems.get(stem, 0) + 1
    return frozenset(name_key(name) for name in listed), stems


def folder_tacos(folder: Path) -> list[str]:
    """The names of the ``.taco`` files in ``folder`` (hidden ones left out), as ``taco
    decompress`` reads a folder: the inputs whose stems a folder's outputs must tell apart."""
    return sorted(p.name for p in folder.iterdir()
                  if p.suffix.lower() == ".taco" and not p.name.startswith(".") and p.is_file())


def _one_file(path: Path) -> str:
    """What names one file wherever it is written: its name as :func:`name_key` reduces it, as
    macOS and Windows file systems compare names (Photo.taco and photo.taco are one file there;
    on macOS also café.taco with its é composed and decomposed), in its folder as given."""
    return os.path.join(str(path.parent), name_key(path.name))


#: The name :func:`_case_blind`'s probe file starts with: an é, composed (NFC).
_PROBE_PREFIX = ".taco-case-\u00e9-"


#: :func:`_case_blind`'s probe where a name with an é is refused (FAT mounted with
#: ``iocharset=ascii``; fusefat: EPERM): case alone is asked there.
_ASCII_PROBE_PREFIX = ".taco-case-"


def _case_blind(folder: Path) -> bool:
    """Whether ``folder`` (or, not made yet, the nearest folder above it) is on a file system
    that does not tell names apart by case or by Unicode form (macOS: both; Windows, FAT, exFAT:
    case): a probe file whose name holds a composed é is made there and looked up in the other
    case and with its é decomposed (NFD); where the file system refuses that name (FAT with
    ``iocharset=ascii``, fusefat), a probe of a plain ASCII name is looked up in the other case
    (it was taken for a file system that tells case apart, and A.png's output was replaced by
    a.png's). False when nothing can be made there (check_folder says why)."""
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=_PROBE_PREFIX, suffix=".tmp", dir=folder)
    except (OSError, ValueError):  # ValueError: an é the file system's encoding cannot hold
        try:
            fd, probe = tempfile.mkstemp(prefix=_ASCII_PROBE_PREFIX, suffix=".tmp", dir=folder)
        except OSError:
            return False
    try:
        os.close(fd)
        name = os.path.basename(probe)
        return any(os.path.exists(os.path.join(os.path.dirname(probe), other))
                   for other in (name.upper(), unicodedata.normalize("NFD", name)) if other != name)
    finally:
        os.unlink(probe)


#: Suffixes that make a new output a file name: ``-o x.taco`` for a folder of images is a mistake
#: (it made a folder ``x.taco/``), ``-o x.taco/`` a folder on purpose.
FILE_SUFFIXES = IMAGE_SUFFIXES | {".taco"}


def closed_or_terminal(stream: TextIO | None) -> str | None:
    """Why standard input or output (``stream``) takes no codec data, or None where it does:
    ``closed`` (None: ``<&-``, ``>&-``) or ``a terminal``; for ``-``
    (:func:`taco.cli.inputs.expand_inputs`) and ``-o -`` (:func:`plan_outputs`)."""
    if stream is None:
        return "closed"
    return "a terminal" if stream.isatty() else None


#: Why a command's data cannot go to a standard output that standard error shares
#: (:func:`stderr_joins_stdout`).
STDERR_JOINS_STDOUT = ("standard error goes where standard output does (2>&1), so its report lines "
                       "would be written into the data: send it elsewhere (2>FILE, 2>/dev/null)")


def stderr_joins_stdout() -> bool:
    """Whether standard error goes where standard output does (``2>&1``: one file, one pipe,
    ``os.path.samestat`` of the two descriptors), so that a command's report lines, notes and
    warnings would be written into the data it writes there (``-o - > o.taco 2>&1`` made a
    .taco file with a checksum mismatch, exit 0). Not where both are the null device (nothing
    there to spoil) or a terminal (binary data is refused there, :func:`closed_or_terminal`;
    text is read there by a person); False where either cannot be asked (a test's capture)."""
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
        if not os.path.samestat(out, err) or sys.stdout.isatty():
            return False
        return not os.path.samestat(out, os.stat(os.devnull))
    except (AttributeError, OSError, ValueError):  # None (closed), a capture without a descriptor
        return False


def stdout_data_problem(give: str, *, text: bool = False) -> str | None:
    """Why standard output cannot take the data a command writes there (``-o -``, ``-o
    /dev/stdout``, ``--json -``), or None: it is closed (the data would be lost), a terminal
    (binary data; not for ``text``, JSON a person may read there), or where standard error goes
    too (:func:`stderr_joins_stdout`). ``give``: the option naming a file instead (``-o FILE``)."""
    how = "closed" if sys.stdout is None else None if text else closed_or_terminal(sys.stdout)
    if how:
        return f"standard output is {how}: redirect it (> FILE, | ...) or give {give}"
    return STDERR_JOINS_STDOUT if stderr_joins_stdout() else None


def is_stdout(path: str | os.PathLike[str]) -> bool:
    """Whether the output ``path`` is this process's standard output: :data:`STDOUT` (``-o -``),
    or a name of the file standard output is (``os.path.samestat`` with file descriptor 1) that
    is no ordinary file name: a device, pipe or socket (``-o /dev/stdout`` or ``/dev/fd/1`` with
    stdout a pipe), or a name under /dev or /proc (``-o /dev/stdout > f.png``). Such an output
    is written as ``-o -`` writes, and the report goes to stderr (:func:`report_to`), so that it
    does not end up inside the data. Not ``/dev/null`` when stdout is ``/dev/null`` too
    (``-o /dev/null >/dev/null`` to time a command: nothing there to spoil). Where standard
    output was closed (``>&-``: ``sys.stdout`` None; :func:`taco.cli.main` points descriptor 1
    at the null device), a name of it under /dev or /proc other than the null device's own
    (``-o /dev/stdout >&-``) is standard output, so that it is refused as closed (it was taken
    for ``/dev/null``: "exists; pass --force", and with --force the data went nowhere, exit 0).
    False where either cannot be asked (a descriptor closed, a missing file)."""
    if path is STDOUT:
        return True
    try:
        here, out = os.stat(path), os.fstat(1)
        if not os.path.samestat(here, out):
            return False
        null = os.path.samestat(here, os.stat(os.devnull))
    except (OSError, ValueError):  # missing, a descriptor closed, a null byte
        return False
    named = str(Path(path).absolute()).startswith(("/dev/", "/proc/"))
    if null:  # -o /dev/null >/dev/null; or stdout closed, now the null device: /dev/stdout is it too
        return sys.stdout is None and named and os.path.abspath(path) != os.devnull
    return not stat.S_ISREG(here.st_mode) or named


def names_one_file(out: str | None, *, to_folder: bool) -> bool:
    """Whether ``-o out`` names the one output file, as :func:`plan_outputs` decides: given, not
    standard output (``-``, or a name of it: :func:`is_stdout`), and not a folder (``to_folder``:
    a folder or several files named; an existing folder; a name ending with a slash)."""
    if out is None or out == "-" or is_stdout(out):
        return False
    return not (to_folder or Path(out).is_dir() or out.endswith(("/", os.sep)))


def plan_outputs(
    sources: Sequence[Path], out: str | None, *, to_folder: bool, suffix: str,
    beside_suffix: str, force: bool, skip_existing: bool = False,
    inputs_in: Callable[[Path], Sequence[str]] = folder_images, command: str | None = None,
    matches: str = SKIP_MATCHES,
) -> list[Path]:
    """One output path per source, checked before any work (so nothing fails after the work).

    Without ``out`` each output goes beside its source (``NAME + beside_suffix``). ``out`` is a
    folder when ``to_folder`` (a folder or several files in), when it is an existing folder or
    when it ends with a slash; a new one is checked to be makeable and is made (with its parents)
    by its first output's write, so a refusal or a run stopped before any write leaves no empty
    folder (:func:`check_folder`). In it, outputs are
    ``NAME + suffix``, but ``NAME + beside_suffix`` when a source is in that folder itself (``taco
    decompress photos -o photos``: photo.decoded.png, not the original photo.png; every output
    of such a batch, so that other/photo.taco's is not photo.png either). Otherwise ``out`` is the
    one output file and its folder must exist. An input whose folder holds another input of its
    stem, in any case (IMG_1.HEIC beside IMG_1.JPG, Photo.jpg beside photo.png; ``inputs_in(folder)``
    names a folder's inputs) keeps its whole name (IMG_1.HEIC.taco), in a batch or alone, and so do inputs of the batch whose outputs
    would otherwise be one file; with ``command`` a note names the outputs of the short names left
    from before (IMG_1.taco, written when IMG_1.JPG was alone). Refused, with one line each: an output folder that
    is a file or not writable (with ``skip_existing``, only one that has an output still to
    write), a missing or unwritable folder for the output file, two sources
    with the same output, an output that is one of the inputs or a loop of symbolic links
    (``ln -s x.taco x.taco``; --force or not), a link to a file in a folder that is missing or
    takes no new files (with ``force``, which writes through links: :func:`check_link_target`),
    a link to a missing file without ``force`` (``skip_existing`` has no output there to keep),
    and outputs that exist already (unless ``force``, or ``skip_existing``: then the caller
    leaves them out, :func:`without_existing`; the refusal's hint says --skip-existing matches outputs ``matches``, as the command's help does,
    and offers another ``-o`` where ``out`` is given: -o a.png may be the original photo).
    The temporaries that killed runs left beside the outputs are removed (those of a run still
    writing are not: :func:`taco.atomic.remove_stale_temporaries`).

    ``out`` ``-`` is standard output, [:data:`STDOUT`], for one source; so is the output of
    :data:`STDIN` without ``out``. Standard output may not be closed, a terminal (binary data)
    or where standard error goes too (``2>&1``: the report lines would be inside the data).
    """
    dsts, short, folders = _destinations(sources, out, to_folder=to_folder, suffix=suffix,
                                         beside_suffix=beside_suffix, inputs_in=inputs_in, command=command)
    _THIS_RUN.plan(sources, dsts)
    if dsts and dsts[0] is STDOUT:  # nothing to check there
        return dsts
    seen: dict[str, tuple[Path, Path]] = {}  # the names first: nothing is created for a plan refused
    for src, dst in zip(sources, dsts, strict=True):
        if _one_file(dst) in seen:
            first, first_dst = seen[_one_file(dst)]
            if first_dst != dst and not _case_blind(dst.parent):
                continue  # Photo.jpg.taco and photo.jpg.taco: two files here
            # what tells the two names apart (their keys are one): case, where they differ
            # composed; Unicode form, where they differ case-folded (casefold composes nothing)
            how = " or ".join(word for word, differs in (
                ("case", unicodedata.normalize("NFC", first_dst.name) != unicodedata.normalize("NFC", dst.name)),
                ("Unicode form (an accent composed or decomposed)", first_dst.name.casefold() != dst.name.casefold()),
            ) if differs)
            where = (f"{first_dst} and {dst}, one file on this file system (it does not tell "
                     f"names apart by {how})" if first_dst != dst else str(dst))
            raise CLIError(f"{shown_path(first)} and {shown_path(src)} would both be written to {shown_path(where)}; rename one, or "
                           "give them separate output folders")
        seen[_one_file(dst)] = src, dst
    inputs = {s.resolve() for s in sources if s is not STDIN}
    for dst in dsts:
        _refuse_loop(dst)  # before resolve, which raises RuntimeError for one before Python 3.13
        if dst.resolve() in inputs:
            raise CLIError(f"{shown_path(dst)} is an input; it cannot be its own output")
    # --skip-existing: a folder whose outputs all exist gets nothing written (read-only is fine)
    writing = {d.parent for d, due in zip(dsts, to_write(dsts), strict=True) if due}
    for folder in folders:
        if skip_existing and folder not in writing and any(d.parent == folder for d in dsts):
            continue
        check_folder(folder, create=out is not None and folder == Path(out))
    existing = [d for d in dsts if _exists(d)]  # a link to a missing file too: it is written through
    dangling = [d for d in existing if not d.exists()]
    if dangling and not force:  # coded, then refused at the write ("exists (written meanwhile...)");
        # --skip-existing has no output there to keep
        check_link_target(dangling[0])  # where --force could not write through it either
        raise CLIError(f"{shown_path(dangling[0])} links to {shown_path(Path(os.path.realpath(dangling[0])))}, "
                       "a missing file; pass --force to write it through the link")
    if existing and not (force or skip_existing):
        # -o given: another -o keeps what is there (taco decompress a.taco -o a.png, a.png the
        # original photo, which --force replaces with its lossy decode), as taco demo says
        ways = [f"pass --force to overwrite {'it' if len(existing) == 1 else 'them'}"]
        if len(dsts) > len(existing):
            ways.append(f"--skip-existing to write only the others (it matches outputs {matches})")
        if out is not None:
            ways.append(f"give another -o {'FILE' if names_one_file(out, to_folder=to_folder) else 'FOLDER'}")
        said = ", ".join(ways[:-1]) + ", or " + ways[-1] if len(ways) > 1 else ways[0]
        if len(existing) == 1:
            raise CLIError(f"{shown_path(existing[0])} exists; {said}")
        raise CLIError(f"{some(existing, 1)} outputs exist; {said}")
    if force:
        for d in existing:
            if d.is_dir():
                raise CLIError(f"{shown_path(d)} is a folder; it cannot be overwritten by a file")
            check_link_target(d)
    from ..atomic import remove_stale_temporaries

    remove_stale_temporaries(dsts)
    if command:
        _note_left_from_before(command, short, dsts)
    return dsts


def _destinations(sources: Sequence[Path], out: str | None, *, to_folder: bool, suffix: str,
                  beside_suffix: str, inputs_in: Callable[[Path], Sequence[str]], command: str | None = None,
                  ) -> tuple[list[Path], list[Path], list[Path]]:
    """Where :func:`plan_outputs` writes each source's output: (the outputs, the same each as
    named by its stem alone -- IMG_1.taco for IMG_1.HEIC.taco, for :func:`_note_left_from_before`
    -- and the folders they go to), or ``[STDOUT]`` each and no folder for standard output.
    Refuses what names no output: standard output for several sources, closed, on a terminal
    or shared with standard error (:func:`stdout_data_problem`), a
    source with no folder to write beside, ``-o`` a loop of links, a file where a folder is due,
    a folder for standard input, ``-o`` under /dev or /proc that is no device or pipe
    (:func:`refuse_system_name`)."""
    if (out == "-" or (out is None and len(sources) == 1 and sources[0] is STDIN)
            or (out is not None and is_stdout(out))):  # -o /dev/stdout: written as -o - writes
        if len(sources) > 1:
            raise CLIError(f"-o {out or '-'} (standard output) takes one input; got {len(sources)}")
        problem = stdout_data_problem("-o FILE")
        if problem:
            raise CLIError(problem)
        return [STDOUT], [STDOUT], []
    if out is None:
        for src in sources:  # /dev/fd/63 of <(cat x), /dev/stdin: nothing to write beside
            if not is_regular_file(src) or str(src.absolute()).startswith(("/dev/", "/proc/")):
                raise CLIError(f"{shown_path(src)} is not a regular file (a pipe or a device): there is no "
                               "folder to write the output beside it; give -o FILE (or -o "
                               "FOLDER/ for several)")
        dsts = [src.with_name(src.stem + beside_suffix) for src in sources]
        short = dsts
        dsts = _keep_suffixes_apart(sources, dsts, lambda src: src.with_name(src.name + beside_suffix),
                                    inputs_in)
        folders = sorted({d.parent for d in dsts})
    else:
        o = Path(out)
        refuse_system_name(o, command)  # -o /dev/x.taco, -o /dev/stdin < f, -o /proc/x/: no file of yours
        _refuse_loop(o)  # -o x.taco or -o FOLDER/ that is a loop of links, --force or not
        if not names_one_file(out, to_folder=to_folder):
            if o.exists() and not o.is_dir():
                raise CLIError(f"{shown_path(o)} exists and is not a folder (the output of a folder or of "
                               "several files is a folder)")
            if not o.exists() and not out.endswith(("/", os.sep)) and o.suffix.lower() in FILE_SUFFIXES:
                raise CLIError(f"{shown_path(o)} names a file, but the output of a folder or of several files "
                               f"is a folder: give a folder name (a {o.suffix} folder ends with "
                               "a slash)")
            if sources[0] is STDIN:
                raise CLIError(f"{shown_path(o)} is a folder, and standard input has no name to give the "
                               "file in it: give -o FILE")
            # into a folder of the sources' own, outputs are named as beside them, those of
            # sources from elsewhere too: photo.taco's photo.png there is the original photo
            # (--force would have replaced it), whichever photo.taco is decoded into it
            parents = {src.parent for src in sources}
            end = beside_suffix if any(same_folder(parent, o) for parent in parents) else suffix
            dsts = [o / (src.stem + end) for src in sources]
            short = dsts
            dsts = _keep_suffixes_apart(sources, dsts, lambda src: o / (src.name + end), inputs_in)
            folders = [o]
        else:
            short = dsts = [o]
            folders = [o.parent]
    return dsts, short, folders


def _note_left_from_before(command: str, short: Sequence[Path], dsts: Sequence[Path]) -> None:
    """One note naming the outputs under short names that this run does not write (``short``,
    ``dsts``: each output as named by its stem, and as planned): IMG_1.taco, written when
    IMG_1.jpg was the only image of its stem, is no longer its output once IMG_1.png is beside
    it (IMG_1.jpg.taco is), and nothing removes it."""
    ours = {_one_file(d) for d in dsts}
    left: dict[Path, Path] = {}  # an old output -> the first whole name written instead
    for s, d in zip(short, dsts, strict=True):
        if s != d and s not in left and _one_file(s) not in ours and _exists(s) and s.is_file():
            left[s] = d
    if not left:
        return
    are = "is" if len(left) == 1 else "are"
    it = "it is no output" if len(left) == 1 else "they are no outputs"
    note(command, f"{some(list(left))} {are} left from before: images whose names differ only by "
         f"suffix are written to their whole names ({next(iter(left.values())).name}), so {it} of "
         "this run")


def to_write(dsts: Sequence[Path]) -> list[bool]:
    """For ``--skip-existing``: which of the outputs ``dsts`` are still to write (not a file
    yet: a folder in the way is not an output done, its write fails alone). An output that
    exists is whole: it was written atomically."""
    return [d is STDOUT or not (_exists(d) and d.is_file()) for d in dsts]


def without_existing(dsts: list[Path], *inputs: list[Any]) -> tuple[int, list[Path], list[list[Any]]]:
    """For ``--skip-existing``: (how many outputs exist, the outputs still to write, each of
    ``inputs`` -- lists parallel to ``dsts`` -- cut to match)."""
    todo = to_write(dsts)
    keep = [i for i, t in enumerate(todo) if t]
    return todo.count(False), [dsts[i] for i in keep], [[xs[i] for i in keep] for xs in inputs]


def another_photo(src: Path, dst: Path) -> str | None:
    """For ``taco compress --skip-existing``: why the ``.taco`` file ``dst`` there already is not
    the output of the image ``src`` -- its image size (from its header) is not ``src``'s, upright
    (from its header, EXIF orientation 5..8 swapping the sides), so it is another photo of the
    same name (a second memory card's IMG_0001.jpg), or it is no ``.taco`` file, or it cannot be
    read (permission denied: that input's failure, as :class:`taco.cli.common.Failures` takes an
    OSError of one input's files; one of :data:`taco.cli.common.STOP_ERRNOS` is raised) -- or
    None: the same size, or a source whose size cannot be read without decoding it (it is trusted
    by name). Nothing but the two headers is read, and no torch is imported."""
    if src is STDIN or dst is STDOUT or not (_exists(dst) and dst.is_file()):
        return None
    try:
        header = read_taco(dst).header
    except CLIError as exc:
        return (f"{exc} (it is there under the output's name; --force replaces it, or give "
                "another output folder)")
    except OSError as exc:
        if exc.errno is None or exc.errno in STOP_ERRNOS:  # not this input's: the batch stops
            raise
        return (f"{shown_path(dst)}: cannot read it to compare image sizes ({os_reason(exc)}) "
                "(--force replaces it; or give another output folder)")
    from ..images import upright_sizes

    sizes = upright_sizes(src)
    if not sizes or (header.width, header.height) in sizes:
        return None
    width, height = sizes[0]
    return (f"{shown_path(dst)} exists and holds a {header.width}x{header.height} image, not this "
            f"{width}x{height} one: another photo of the same name (--force replaces it; or give "
            "another output folder)")


def rest_hint(dsts: Sequence[Path], force: bool) -> str:
    """How to finish a batch writing ``dsts`` that was stopped ('' for standard output): run it
    again with --skip-existing; a --force batch again as it was, since the outputs it had not
    reached yet are an earlier run's, which --skip-existing would keep."""
    if not dsts or dsts[0] is STDOUT:
        return ""
    return ("run the same command again to do the rest (--skip-existing would keep the earlier "
            "outputs it had not replaced yet)" if force
            else "run the same command with --skip-existing to do the rest")


def _refuse_loop(path: Path) -> None:
    """A one-line :class:`CLIError` where the output ``path`` is, or goes through, a loop of
    symbolic links (``ln -s x.taco x.taco``: ``stat`` says ``ELOOP``), with ``--force`` or
    without: there is no file to write through to (:mod:`taco.atomic`)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CLIError(f"{shown_path(path)}: too many levels of symbolic links (a link to itself, or "
                           "links that point to each other): fix or remove it, or give another output") from None


def _exists(path: Path) -> bool:
    """Whether ``path`` exists, or is a symbolic link to a missing file (which a write without
    ``--force`` cannot publish over: :func:`write_output`); False where asking fails (a name too
    long for the file system: that output's write fails alone, and the rest of the batch is
    done)."""
    return os.path.lexists(path)  # False where asking fails, as it was for exists()


def check_link_target(path: Path) -> None:
    """For an output ``path`` that ``--force`` replaces: where it is a symbolic link, a one-line
    :class:`CLIError` unless the folder of the file it points to (``os.path.realpath``: what the
    write replaces, :mod:`taco.atomic`) exists and takes new files, checked before any work (it
    was found only at the write, after the coding, naming the link's folder)."""
    if not path.is_symlink():
        return
    real = Path(os.path.realpath(path))
    if not real.parent.is_dir():
        raise CLIError(f"{shown_path(path)} links to {shown_path(real)}, in a folder that does not exist")
    problem = _write_problem(real.parent)
    if problem:
        raise CLIError(f"{shown_path(path)} links to {shown_path(real)}, whose folder takes no new "
                       f"files: {problem}")


def check_folder(folder: Path, *, create: bool) -> None:
    """Raise a one-line :class:`CLIError` unless files can be written into ``folder``: an
    existing folder, or with ``create`` one that can be made (the nearest existing folder above
    it takes new files; a folder is made and removed there to be sure). It is not made
    here: the first file written into it makes it
    (:func:`taco.atomic.write_bytes_atomic`), so a command that stops before writing anything (a
    refusal, Ctrl-C) leaves no empty folder behind."""
    if folder.is_dir():
        problem = _write_problem(folder)
        if problem:
            raise CLIError(f"cannot write into {shown_path(folder)}: {problem}")
        return
    if folder.exists():
        raise CLIError(f"{shown_path(folder)} is not a folder")
    if not create:
        raise CLIError(f"folder {shown_path(folder)} does not exist (create it first, or give a folder "
                       "ending with / to -o)")
    above = folder.absolute()
    while not os.path.lexists(above) and above != above.parent:
        above = above.parent
    if above == folder.absolute() or not above.is_dir():  # a dangling link, a file on the way
        why = ("it is a link to nothing" if above == folder.absolute()
               else f"{shown_path(above)} is not a folder")
        raise CLIError(f"cannot create the output folder {shown_path(folder)}: {why}")
    problem = _write_problem(above)
    if not problem:  # asked of the system, which may still refuse (root under /proc, FUSE): try
        # a folder of its own, not the output's: another run into it may be making that one now
        probe = above / f".taco-probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            probe.mkdir()
        except OSError as exc:
            problem = os_reason(exc)
        else:
            with contextlib.suppress(OSError):
                probe.rmdir()
    if problem:
        raise CLIError(f"cannot create the output folder {shown_path(folder)}: {problem}")


def _write_problem(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (``read-only file system``, ``permission
    denied``), or None (:func:`taco.atomic.folder_write_error`)."""
    from ..atomic import folder_write_error

    exc = folder_write_error(folder)
    return None if exc is None else os_reason(exc)


#: Formats Pillow writes at other dimensions than the image's: an icon, not the decoded image.
_ICON_FORMATS = {"ICO": "an icon of at most 256x256 pixels (shrunk)",
                 "ICNS": "icons of fixed sizes up to 1024x1024 (resampled)"}

def check_image_format(path: Path, mode: str, size: tuple[int, int]) -> None:
    """Refuse, before decoding, an output suffix Pillow cannot write, a format that cannot
    hold an image of ``mode`` (what the file decodes to: ``taco.images.decoded_mode``) or of
    ``size`` (width, height: :data:`taco.images.FORMAT_MAX_SIDES`), one written at other
    dimensions (ICO, ICNS), or ``.pfm`` (a Portable FloatMap, which Pillow writes only from a
    32-bit float image: a decoded one came out a PPM under that name, which PFM readers refuse)."""
    import io

    from PIL import Image

    from ..images import FORMAT_MAX_SIDES

    fmt = save_format(path)
    if fmt is None or fmt not in Image.SAVE:
        # a name without a suffix is only ever the user's -o (folder and beside outputs end
        # with .png): it may have been meant as a folder
        what, folder = ((f"{path.suffix} images", "") if path.suffix else
                        ("an image to a name without a suffix", f", or {path.name}/ for a folder"))
        raise CLIError(f"{shown_path(path)}: cannot write {what}; use .png (lossless), or .tif, .webp, "
                       f".bmp, ...{folder}")
    if path.suffix.lower() == ".pfm" and mode != "F":
        raise CLIError(f"{shown_path(path)}: {path.suffix} is a Portable FloatMap (float samples), which Pillow writes "
                       "only from a float image, not a decoded one; use .ppm or .pgm")
    if fmt in _ICON_FORMATS:
        raise CLIError(f"{shown_path(path)}: {path.suffix} is written by Pillow as {_ICON_FORMATS[fmt]}, "
                       "not the decoded image; use .png")
    width, height = size
    longest = FORMAT_MAX_SIDES.get(fmt)
    if longest is not None and max(width, height) > longest:
        raise CLIError(f"{shown_path(path)}: {path.suffix} holds at most {longest} pixels a side, not this "
                       f"{width}x{height} image; use .png")
    try:
        Image.new(mode, (1, 1)).save(io.BytesIO(), format=fmt)
        holds = mode != "I;16" or _keeps_16_bits(fmt)
    except (OSError, ValueError, KeyError):
        holds = False
    if not holds:
        kind = "16-bit grey" if mode == "I;16" else mode  # PNG and TIFF hold every decoded mode
        raise CLIError(f"{shown_path(path)}: {fmt} cannot hold the decoded {kind} image; use .png or .tif")


def output_bytes(image: Image.Image, path: Path) -> bytes:
    """``image`` as the bytes of the file ``path`` names, in the format of its
    suffix (:func:`taco.images.image_file_bytes`). A limit :func:`check_image_format` does not
    know (a size with ``--max-pixels 0``) is a one-line :class:`CLIError` of that output."""
    from ..images import image_file_bytes

    fmt = save_format(path)
    if fmt is None:
        raise CLIError(f"{shown_path(path)}: cannot write {path.suffix or 'an image without a suffix'}")
    try:
        return image_file_bytes(image, fmt)
    except (OSError, ValueError) as exc:  # Pillow's writers: ValueError, or OSError without errno
        raise CLIError(f"{shown_path(path)}: Pillow cannot write this {image.width}x{image.height} "
                       f"{image.mode} image as {fmt} ({exc}); use .png") from None


@functools.cache
def _keeps_16_bits(fmt: str) -> bool:
    """Whether Pillow writes a 16-bit grey image in ``fmt`` and reads the same values back (PNG,
    TIFF, PPM). WebP, AVIF and GIF take one and clip it: a decoded 16-bit scan came out all
    white (WebP, AVIF) or all black (GIF)."""
    import io
    import struct

    from PIL import Image

    values = [0x1234, 0xFFFF, 0x0707]
    buf = io.BytesIO()
    Image.frombytes("I;16", (3, 1), struct.pack("<3H", *values)).save(buf, format=fmt)
    buf.seek(0)
    try:
        with Image.open(buf) as back:
            return back.size == (3, 1) and [back.getpixel((x, 0)) for x in range(3)] == values
    except Exception:  # written, not read back (Pillow writes formats it cannot read)
        return False


#: What a lossy format's writer does with a decoded image at Pillow's defaults (taco writes it
#: so): a second loss after the codec's, which ``taco decompress`` notes.
_LOSSY_DEFAULTS = {"JPEG": "JPEG at quality 75 with 4:2:0 chroma", "MPO": "JPEG at quality 75 with 4:2:0 chroma",
                   "WEBP": "WebP at quality 80", "AVIF": "AVIF at quality 75"}


def second_loss(path: Path, mode: str) -> str | None:
    """The note for an output ``path`` whose format re-encodes the decoded image of ``mode``
    with loss (JPEG, WebP, AVIF at Pillow's defaults; GIF's 256 colours for a colour image; a
    colour or grey PDF, which Pillow fills with JPEG),
    or None (PNG, TIFF, ...: the decoded pixels)."""
    fmt = save_format(path)
    how = ("GIF with at most 256 colours" if fmt == "GIF" and mode == "RGB"
           else "JPEG at quality 75 inside a PDF" if fmt == "PDF" and mode in ("RGB", "L")  # RGBA: lossless JPEG 2000
           else _LOSSY_DEFAULTS.get(fmt or ""))
    if how is None:
        return None
    return (f"{path.suffix} is written by Pillow as {how}, a second lossy step after the codec's "
            "(.png keeps the decoded pixels)")


def save_format(path: Path) -> str | None:
    """The Pillow format an output path's suffix names, or None; PNG for :data:`STDOUT` and for a
    device or named pipe without a suffix (``-o /dev/null`` to time the decoder), as for ``-o -``."""
    from PIL import Image

    from ..atomic import special_file

    Image.preinit()  # PNG, JPEG, BMP, GIF, PPM (Image.SAVE too): the other ~40 plugins cost ~60 ms
    if path is STDOUT or (not path.suffix and special_file(path)):
        return "PNG"
    suffix = path.suffix.lower()
    return Image.EXTENSION.get(suffix) or Image.registered_extensions().get(suffix)  # (all of them)


def report_to(outputs: Sequence[Path] = ()) -> Callable[[str], None]:
    """What prints a command's report lines: to stderr when standard output carries the data
    (``outputs[0]`` is :data:`STDOUT` or names standard output, ``/dev/stdout``:
    :func:`is_stdout`), as every stderr line is (:func:`taco.messages.to_stderr`: a
    closed stderr stops nothing); else to standard output (no ``outputs``: a command whose
    printing is its output, ``taco models``), flushed, where a reader going away ends the command
    (status 141) and an error writing a line (a full disk: ``>/dev/full``; an I/O error) is
    named as :func:`write_stdout` names it, ``<stdout>: no space left on device``, not as the
    outputs' (it said "no space left on device" though they were written). Every command's
    stdout lines go through it."""
    if outputs and is_stdout(outputs[0]):
        return to_stderr

    def report(line: str) -> None:
        try:
            print(line, flush=True)
        except BrokenPipeError:
            raise
        except OSError as exc:
            if exc.errno is None or exc.filename is not None:
                raise
            raise OSError(exc.errno, exc.strerror, str(STDOUT)) from None

    return report


class _Run:
    """The outputs of this process's run (the last :func:`plan_outputs`) and those of them
    :func:`write_output` has written, so that no output of the run replaces another: two names
    that are one file where the probe of :func:`_case_blind` could not tell (A.png.taco and
    a.png.taco on a FAT drive that refuses its probe's name: --force replaced A.png's output
    with a.png's, and the run exited 0)."""

    def __init__(self) -> None:
        self.sources: dict[str, Path] = {}  # a planned output -> its source
        self.written: dict[tuple[int, int], tuple[Path, os.stat_result]] = {}  # (st_dev, st_ino)
        # the same, by the name a file system blind to case sees (_one_file): a lookup a write,
        # not a pass over every output written (a --force rerun of 100,000 files)
        self.named: dict[str, list[tuple[Path, os.stat_result]]] = {}

    def plan(self, sources: Sequence[Path], dsts: Sequence[Path]) -> None:
        self.sources = {str(d): s for s, d in zip(sources, dsts, strict=True) if d is not STDOUT}
        self.written = {}
        self.named = {}

    def earlier(self, path: Path) -> Path | None:
        """The output this run wrote before that ``path`` (an output of the run) is one file
        with: the same file (device and inode), or a file of the same name as :func:`name_key`
        compares them, in the same folder, of the same size and time (a FUSE file system may
        number one file anew under each name); None if none is."""
        if str(path) not in self.sources or not self.written:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        done = self.written.get((st.st_dev, st.st_ino))
        if done is not None:
            return done[0]
        for other, was in self.named.get(_one_file(path), ()):
            if other != path and (was.st_size, was.st_mtime_ns) == (st.st_size, st.st_mtime_ns):
                return other
        return None

    def wrote(self, path: Path) -> None:
        if str(path) in self.sources:
            with contextlib.suppress(OSError):
                st = os.stat(path)
                self.written[st.st_dev, st.st_ino] = path, st
                self.named.setdefault(_one_file(path), []).append((path, st))


_THIS_RUN = _Run()

#: Characters FAT and exFAT refuse in a file name (Windows too), besides control characters.
_FAT_REFUSED = ':?*"<>|\\'


def write_output(path: Path, data: bytes, *, force: bool, skip_existing: bool = False) -> bool:
    """Write ``data`` to ``path`` atomically, or to standard output for :data:`STDOUT`
    (:func:`write_stdout`); whether it was written.

    :func:`plan_outputs` checked before the work that ``path`` was not there; an output that
    another process wrote since (two runs into one folder) is replaced only with ``force``.
    Otherwise it is kept whole: with ``skip_existing`` it is left as --skip-existing leaves
    outputs (False), else the write is a one-line :class:`CLIError` of this input. An output
    that is one file with another this run wrote (A.png.taco and a.png.taco on a file system
    blind to case that its probe could not tell so) is never replaced, with ``force`` or not:
    a one-line :class:`CLIError` of this input naming both sources. A name the file system
    refuses (FAT and exFAT refuse ``: ? * " < > | \\``: ENOENT, EINVAL or EPERM in a folder that
    exists) is said so in the OSError's one line."""
    if path is STDOUT:
        write_stdout(data)
        return True
    from ..atomic import write_bytes_atomic

    earlier = _THIS_RUN.earlier(path)
    if earlier is not None:
        first, src = _THIS_RUN.sources[str(earlier)], _THIS_RUN.sources[str(path)]
        raise CLIError(f"{shown_path(first)} and {shown_path(src)} would both be written to "
                       f"{shown_path(earlier)} and {shown_path(path)}, one file on this file system "
                       "(it does not tell names apart by case?); rename one, or give them separate "
                       "output folders")
    try:
        write_bytes_atomic(path, data, replace=force)
    except FileExistsError as exc:
        if exc.filename != str(path):
            raise
        if skip_existing:
            return False
        raise CLIError(f"{shown_path(path)} exists (written meanwhile, by another process?): --force "
                       "replaces it, --skip-existing leaves it") from None
    except OSError as exc:
        raise _name_refused(exc, path) from None
    _THIS_RUN.wrote(path)
    return True


def _name_refused(exc: OSError, path: Path) -> OSError:
    """``exc``, the error writing ``path``; where it is ENOENT, EINVAL or EPERM in a folder
    that exists and the name holds a character FAT and exFAT refuse, the same error saying so
    (it said only ``cat: 12?.taco: no such file or directory``)."""
    if (exc.errno not in (errno.ENOENT, errno.EINVAL, errno.EPERM) or exc.filename != str(path)
            or not any(c in _FAT_REFUSED for c in path.name) or not path.parent.is_dir()):
        return exc
    return OSError(exc.errno, f"{exc.strerror or exc} (the file system of {path.parent} refuses this name? "
                   'FAT and exFAT refuse : ? * " < > | \\)', exc.filename)


def write_stdout(data: bytes) -> None:
    """Write all of ``data`` to standard output, or raise :class:`OutputClosed` saying how much
    got through. (``sys.stdout.buffer.write`` returned 65,536 of 699,661 bytes when a pipe's
    reader went away mid-write, and raised nothing: the command said it had written the file.)
    Any other error names standard output (:data:`STDOUT`: ``<stdout>: no space left on
    device``), not the input whose data it was."""
    view, done = memoryview(data), 0
    try:
        sys.stdout.flush()  # text written before (none today) goes first
        out = sys.stdout.buffer
        out.flush()
        try:
            fd: int | None = out.fileno()
        except (AttributeError, OSError, ValueError):  # not a file (a test's capture): write to it
            fd = None
        while done < len(view):
            chunk = view[done : done + (1 << 20)]
            n = os.write(fd, chunk) if fd is not None else out.write(chunk)
            if not n:
                raise OSError(errno.EIO, "standard output took no bytes")
            done += n
        out.flush()
    except BrokenPipeError:
        got = f"after {done:,} of {len(data):,} bytes" if done else f"before any of {len(data):,} bytes"
        raise OutputClosed(errno.EPIPE, f"standard output was closed {got} were written (its "
                           "reader went away): the data is cut short") from None
    except OSError as exc:  # a full disk (> /dev/full), a file size limit (ulimit -f), ...
        if exc.errno is None or exc.filename is not None:
            raise
        cut = f" after {done:,} of {len(data):,} bytes were written: the data is cut short" if done else ""
        raise OSError(exc.errno, f"{exc.strerror}{cut}", str(STDOUT)) from None


def read_taco_input(path: Path, max_pixels: int | None = None) -> bytes:
    """The bytes of a ``.taco`` input, or of standard input for :data:`STDIN`, read within the
    bound the file's header sets and the decoder's cap ``max_pixels`` (a longer file or a larger
    image is a :class:`CLIError` naming it, nothing past the header kept; a corrupt file is
    called corrupt, not large, where its checksum is read first:
    :func:`taco.bitstream.container.read_taco_stream`)."""
    from ..bitstream.container import read_taco_stream

    return _read_taco_with(functools.partial(read_taco_stream, max_pixels=max_pixels, no_cap=NO_CAP), path)


#: How ``taco decompress`` lifts the decoder's cap: the hint its refusals end with.
NO_CAP = "--max-pixels 0"


def read_taco(path: Path, data: bytes | None = None, max_pixels: int | None = None) -> Any:
    """What a ``.taco`` file says (its bytes ``data``, else read from ``path``, its checksum
    computed piece by piece and nothing kept: :func:`taco.bitstream.summarize`), refused from its
    header if it declares more than ``max_pixels``; a bad one is a :class:`CLIError` naming the
    file."""
    from ..bitstream import summarize

    return _read_taco_with(functools.partial(summarize, max_pixels=max_pixels, no_cap=NO_CAP), path, data)


def _read_taco_with(read: Callable[[Any], _T], path: Path, data: bytes | None = None) -> _T:
    """``read`` of ``data`` where given, else of standard input's bytes for :data:`STDIN`, else of
    ``path`` opened; a bad ``.taco`` (a :class:`~taco.bitstream.TacoFormatError`) is a
    :class:`CLIError` naming ``path``."""
    from ..bitstream import TacoFormatError

    try:
        if data is not None:
            return read(data)
        if path is STDIN:
            return read(sys.stdin.buffer)
        with path.open("rb") as f:
            return read(f)
    except TacoFormatError as exc:
        raise CLIError(f"{shown_path(path)}: {exc}") from None
