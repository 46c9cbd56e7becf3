"""The inputs a codec command reads, checked before any work: the files and folders named
(:func:`expand_inputs`), an image piped to standard input (:data:`taco.cli.files.STDIN`), and
each image's caption (:class:`CaptionSource`, :func:`uncaptioned_note`). Their outputs are
planned in :mod:`taco.cli.files`.

Imports no torch at the top (see :mod:`taco.cli`).
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..fileobjects import name_key
from ..messages import count, locale_hint_of, note, shell_word, shown_path, some
from ..suffixes import IMAGE_SUFFIXES, decoded_outputs, made_by
from .common import CLIError
from .files import STDIN, closed_or_terminal

if TYPE_CHECKING:
    from ..captions_file import CaptionLookup

_T = TypeVar("_T")


#: What a folder of photos holds beside them that is not worth a note when it is left out:
#: captions, taco's own files, notes.
_EXPECTED_BESIDE = frozenset({".txt", ".jsonl", ".json", ".taco", ".md", ".csv", ".xmp"})

#: Files an operating system leaves in folders (Windows' thumbnail caches and folder settings,
#: macOS's Finder settings), and macOS's ``._NAME`` (AppleDouble: another file's metadata, not
#: that file): never inputs, never counted or named among the files left out (casefolded).
_CLUTTER = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"})


def _clutter(name: str) -> bool:
    """Whether a file of a folder is one of :data:`_CLUTTER` or a ``._NAME`` file."""
    return name.casefold() in _CLUTTER or name.startswith("._")


def expand_inputs(paths: Sequence[str], suffixes: Collection[str], *,
                  skip_in_folders: str | None = None, note_left_out: str | None = None,
                  command: str | None = None) -> tuple[list[Path], bool]:
    """Files named and files in the folders named -> (files, whether any argument was a folder),
    each file once (a file named twice, or named and in a folder named, is one input; a folder
    named twice, ``A`` and ``A/``, is listed once). In a folder, ``taco decompress``'s outputs
    ``NAME`` + ``skip_in_folders`` (``.decoded.png``, any case; and ``taco demo``'s ``NAME.side-by-side.png``) are left out where their source
    is beside them (:func:`taco.suffixes.decoded_outputs`; any other such file is an input), and
    so are hidden files and folders (``.x.jpg``; macOS's ``._x.jpg``, which are not photos, and
    the files systems leave in folders, ``Thumbs.db``, ``desktop.ini``, ``.DS_Store``, not even
    named), subfolders (not searched), links to nothing,
    pipes, devices and sockets (or links to them) and files of other suffixes; with
    ``note_left_out`` (the command: ``compress``, ``decompress``) one note line on stderr names
    those a user may have expected (not captions, notes or
    taco's other files; files it does not read as images only where the inputs are images),
    and one more names each folder named that holds no input, when other inputs are given
    (with none at all the command is refused, naming what was left out, the other command's
    inputs by kind, images in a folder for ``.taco`` files and ``.taco`` files in one for images,
    and files of other suffixes counted too: a renamed .taco or image is read when named itself). ``-`` is standard
    input, [:data:`STDIN`], and must be the only input. A missing input is refused, for
    ``compress`` and ``decompress`` with what it was likely meant as: the output (``-o``) or the
    caption (:func:`_meant_as`). ``command``: the command that reads them, with the option
    naming them where one does (``info``, ``bench --images``; default ``note_left_out``), for
    the example of the refusal of ``-`` where standard input is closed or a terminal (``... |
    taco info -``)."""
    if "-" in paths:
        if len(paths) > 1:
            raise CLIError("- (standard input) must be the only input")
        how = closed_or_terminal(sys.stdin)
        if how:
            reads = command or note_left_out
            example = f" (... | taco {reads} -, or taco {reads} - < FILE)" if reads else ""
            raise CLIError(f"- reads standard input, which is {how} here: pipe the data in{example}, "
                           "or name the file")
        return [STDIN], False
    out: list[Path] = []
    folder = False
    left = _LeftOut()
    images = not IMAGE_SUFFIXES.isdisjoint(suffixes)  # else a file of another suffix is expected
    empty: list[Path] = []  # folders named that hold no input
    listed: set[str] = set()  # each folder once (A and A/): its files, and its notes, once
    for given in paths:
        p = Path(given)
        try:
            is_dir = p.is_dir()
            exists = is_dir or p.is_file() or p.exists()  # a pipe given by name (<(cat x))
        except OSError:  # in a folder without search permission (EACCES): an input all the same,
            is_dir, exists = False, True  # whose open fails, reported and skipped with the others
        if is_dir:
            folder = True
            if _path_key(p) in listed:
                continue
            listed.add(_path_key(p))
            inside = _folder_inputs(p, suffixes, skip_in_folders, left, images=images)
            out.extend(inside)
            if not inside:
                empty.append(p)
        elif exists:
            out.append(p)
        else:
            raise CLIError(f"{shown_path(p)}: no such file or folder{_meant_as(given, paths, note_left_out)}")
    kinds = ", ".join(sorted(suffixes))
    if not out:
        why = left.parts(others=False)
        from .. import shards  # only for this refusal: not on every command's start-up

        runs = [Path(p) for p in paths if Path(p).is_dir() and shards.find(p) is not None]
        run = ("" if not runs else f"; {shown_path(runs[0])} holds a model checkpoint (for it: "
               f"taco models {shell_word(runs[0])})" if len(runs) == 1 else
               f"; {some(runs)} hold model checkpoints (for one: taco models FOLDER)")
        why += _unnamed(left.unnamed, left.foreign, images)
        raise CLIError(f"no input files ({kinds}) found in {', '.join(paths)}"
                       + (f"; left out {_and(why)}" if why else "") + run)
    if note_left_out:
        if left.parts():
            note(note_left_out, f"left out {_and(left.parts())}")
        for p in empty:
            note(note_left_out, f"no input files ({kinds}) found in {shown_path(p)}")
    return _once_each(out), folder


#: The outputs of the commands that write one per input, by their suffixes: a missing input
#: named so was meant as the output (:func:`_meant_as`).
_OUTPUT_SUFFIXES: dict[str, Collection[str]] = {"compress": (".taco",), "decompress": IMAGE_SUFFIXES}


def _meant_as(given: str, paths: Sequence[str], command: str | None) -> str:
    """What the missing input ``given``, one of ``paths`` named to ``taco compress`` or ``taco
    decompress`` (``command``), was likely meant as, for the end of its refusal: the output,
    where it is the second of two and has the suffix of the command's output (``taco
    decompress x.taco out.png``: `` (the output is given with -o: taco decompress x.taco -o
    out.png)``); for compress, the caption, where it holds a space and is no path (``taco
    compress a.png "A woman"``: `` (a caption? --caption 'A woman')``); else ""."""
    outputs = _OUTPUT_SUFFIXES.get(command or "")
    if command is None or outputs is None:
        return ""
    path = Path(given)
    if len(paths) == 2 and given == paths[1] and path.suffix.lower() in outputs:
        source = paths[0]
        if not Path(source).is_dir():  # a folder's outputs go to a folder: -o out.taco is no fix
            return f" (the output is given with -o: taco {command} {shell_word(source)} -o {shell_word(given)})"
    if command == "compress" and " " in given.strip() and not path.suffix and not (
            os.sep in given or "/" in given):
        return f" (a caption? --caption {shown_path(_quoted(given))})"
    return ""


def _quoted(text: str) -> str:
    """``text`` quoted for a shell as a caption reads best: ``"a woman's face"`` where it holds
    a ``'`` and nothing a shell reads in double quotes, else as :func:`shlex.quote` quotes it."""
    if "'" in text and not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


def _unnamed(files: Sequence[Path], foreign: Sequence[Path], images: bool) -> list[str]:
    """What the refusal of folders without inputs says of the other command's inputs,
    ``foreign`` (images where ``.taco`` files are read, ``.taco`` files where images are), by
    their kind and the command that reads them, and of their files of other suffixes, among
    which a file renamed may be (a .taco saved as ``pic.bin``): how many, and that such a file is
    read when named itself; none for none."""
    out = []
    if foreign:
        out.append(f"{count(len(foreign), '.taco file')} ({some(foreign)}): taco decompress decodes "
                   ".taco files" if images else
                   f"{count(len(foreign), 'image')} ({some(foreign)}): taco compress codes images")
    if files:
        what = "an image" if images else "a .taco file"
        out.append(f"{count(len(files), 'file')} of another suffix ({some(files)}; {what} renamed "
                   "so is read when named itself)")
    return out


def _folder_inputs(p: Path, suffixes: Collection[str], skip_in_folders: str | None, left: _LeftOut,
                   *, images: bool) -> list[Path]:
    """The inputs in the folder ``p`` (:func:`expand_inputs`), what it leaves out added to ``left``."""
    out: list[Path] = []
    try:
        entries = sorted(p.iterdir())  # each entry looked at once: folders of many photos
        outputs = decoded_outputs((f.name for f in entries), skip_in_folders) if skip_in_folders else set()
        for f in entries:
            kind = f.suffix.lower()
            try:
                if _clutter(f.name):
                    continue  # a system's file, not the user's: not worth a word
                if f.name.startswith("."):
                    if kind in suffixes and not f.is_dir():
                        left.hidden.append(f)
                elif f.is_dir():
                    left.subfolders.append(f)
                elif not f.is_file():  # a link to nothing; a pipe, device or socket, or a link to one
                    if not f.exists():
                        left.broken_links.append(f)
                    elif kind in suffixes:
                        left.not_regular.append(f)
                elif f.name in outputs:
                    left.outputs.append(f)
                elif kind in suffixes:
                    out.append(f)
                elif kind in (".taco",) if images else kind in IMAGE_SUFFIXES:
                    left.foreign.append(f)  # the other command's input: said by its kind
                elif kind not in _EXPECTED_BESIDE:
                    left.unnamed.append(f)
                    if images:
                        left.others.append(f)
            except PermissionError:
                if not os.access(p, os.X_OK):  # it lists (read permission), no more
                    raise CLIError(f"{shown_path(p)}: cannot open the files in the folder "
                                   "(no search permission)") from None
                if kind in suffixes and not f.name.startswith("."):
                    out.append(f)  # a link into such a folder: its open fails, skipped
    except OSError as exc:
        raise CLIError(f"{shown_path(p)}: cannot list the folder ({exc.strerror})") from None
    return out


class _LeftOut:
    """What :func:`expand_inputs` left out of the folders it listed, for the one line saying so."""

    def __init__(self) -> None:
        self.subfolders: list[Path] = []
        self.others: list[Path] = []  # files of other suffixes a user may have expected (RAW, video)
        self.hidden: list[Path] = []  # hidden files with an input's suffix
        self.broken_links: list[Path] = []
        self.not_regular: list[Path] = []  # an input's name on a pipe, device or socket, or a link to one
        self.outputs: list[Path] = []  # taco decompress's NAME.decoded.png (demo's NAME.side-by-side.png) beside its source
        # the files of other suffixes but captions, notes and taco's own (said when there is no input)
        self.unnamed: list[Path] = []
        # the other command's inputs: images for taco decompress, .taco files for taco compress
        # (said when there is no input)
        self.foreign: list[Path] = []

    def parts(self, others: bool = True) -> list[str]:
        parts = []
        if self.subfolders:
            parts.append(f"{count(len(self.subfolders), 'subfolder')}, not searched ({some(self.subfolders)})")
        if self.others and others:
            parts.append(f"{count(len(self.others), 'file')} it does not read as images ({some(self.others)})")
        if self.hidden:
            parts.append(f"{count(len(self.hidden), 'hidden file')} ({some(self.hidden)})")
        if self.broken_links:
            parts.append(f"{count(len(self.broken_links), 'link')} to nothing ({some(self.broken_links)})")
        if self.not_regular:
            many = len(self.not_regular) > 1
            parts.append(f"{count(len(self.not_regular), 'input')} that "
                         f"{'are not regular files' if many else 'is not a regular file'} ({some(self.not_regular)})")
        if self.outputs:
            parts.append(f"{count(len(self.outputs), 'output')} of {made_by(p.name for p in self.outputs)} beside "
                         f"{'its source' if len(self.outputs) == 1 else 'their sources'} ({some(self.outputs)})")
        return parts


def _and(parts: Sequence[str]) -> str:
    """``a, b and c``."""
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _once_each(files: Sequence[Path]) -> list[Path]:
    """``files`` without those seen before: the same file named twice, or named and in a folder
    named, is one input (it was refused: two inputs with one output). By path, links not
    followed: a link and the file it points to are two names, both coded."""
    seen: set[str] = set()
    once = []
    for f in files:
        key = _path_key(f)
        if key not in seen:
            seen.add(key)
            once.append(f)
    return once


def _path_key(path: Path) -> str:
    """What tells two paths named apart (:func:`_once_each`): absolute, links not followed."""
    return os.path.normcase(os.path.abspath(path))


def not_a_regular_file(path: str | os.PathLike[str]) -> bool:
    """Whether something is at ``path`` that the caption lookup
    (:class:`taco.captions_file.CaptionLookup`) passes over as not a regular file: a pipe, a
    device, a socket or a folder, or a link to one (``side.txt`` linking to ``/dev/zero``, whose
    read would never end); False where nothing is (unlike :func:`taco.cli.files.is_regular_file`,
    which says True where it cannot tell)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


#: Camera RAW files: Pillow reads none of them as the photo (a DNG, NEF or CR2 opens as a TIFF
#: whose first page is a small preview, which would be coded instead), so they are refused.
RAW_SUFFIXES = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef",
                          ".srw", ".raw"})


def camera_raw(path: Path) -> str | None:
    """The one-line refusal of a camera RAW file named as an input (by its suffix,
    :data:`RAW_SUFFIXES`), or None: one named on the command line was coded from its embedded
    thumbnail (a DNG as its 256x171 preview). In a folder such files are left out with a note
    (:func:`expand_inputs`)."""
    if path is STDIN or path.suffix.lower() not in RAW_SUFFIXES:
        return None
    return f"{shown_path(path)}: camera RAW is not read: export a TIFF/JPEG/PNG first"


def refuse_taco_input(path: Path) -> None:
    """Raise a one-line :class:`CLIError` for a ``.taco`` file given where an image is read
    (``taco compress``, ``taco demo --image``): what it is and which command decodes it. A
    missing one is left to the reader's own "file not found"."""
    if path is not STDIN and path.suffix.lower() == ".taco" and path.is_file():
        raise CLIError(f"{shown_path(path)} is a .taco file, not an image: taco decompress decodes it")


#: The suffixes of a file that ``--caption`` naming it was likely meant as captions
#: (``--captions``, one letter longer): a captions file, a COCO .json, a sidecar's text.
_CAPTION_FILE_SUFFIXES = frozenset({".jsonl", ".json", ".txt"})


def caption_file_note(caption: str | None, *, captions_option: bool = True) -> str | None:
    """The note for a ``--caption TEXT`` whose text names a captions file here (an existing
    .jsonl, .json or .txt) or a folder holding a captions.jsonl, or None: ``--caption
    ../imgs/captions.jsonl`` coded that path as every image's caption, exit 0, where
    ``--captions`` (one letter longer) was meant. A note, not a refusal: a caption may be a
    file's name on purpose, and is still coded as given. ``captions_option``: whether the
    command has ``--captions`` to suggest (``taco demo`` has not: it names the caption the image
    has beside it)."""
    if not caption:
        return None
    try:
        path = Path(caption)
        if path.is_dir():
            from ..captions_file import FOLDER_CAPTIONS

            meant, kind = path / FOLDER_CAPTIONS, "a folder"
            if not meant.is_file():
                return None
        elif path.suffix.lower() in _CAPTION_FILE_SUFFIXES and path.is_file():
            meant, kind = path, "a file"
        else:
            return None
    except (OSError, ValueError):  # a name the file system cannot take: a caption
        return None
    said = f"--caption takes the caption's text; {caption} is {kind}"
    if not captions_option:
        return (f"{said} (taco demo takes no captions file: without --caption it uses the "
                "sample's own caption, or --image's from its sidecar IMAGE.txt or a captions.jsonl "
                "beside it)")
    if meant.suffix.lower() == ".txt":
        return f"{said}: for its text as the caption, give --caption \"$(cat {shell_word(caption)})\""
    return f"{said}: did you mean --captions {shell_word(meant)}?"


class CaptionSource:
    """Finds the caption of an image: --caption TEXT for all, else by the rule of
    :class:`taco.captions_file.CaptionLookup` (as evaluate and train find captions): --captions
    FILE alone when given (by the path as given, else by image name, each in its plain form:
    ``./a.png`` there is ``a.png``; a line for ``a/cat.png`` wins over one for ``cat.png``),
    else a sidecar IMG.txt, else captions.jsonl beside it (whose names must be plain ones inside
    its folder, as evaluate and train require). --captions FILE is read as given (relative to
    the current folder); ``folders``: the inputs named (a folder, or a file's folder is looked
    in), so a FILE missing here but there is named in the refusal (``small/captions.jsonl
    exists: give that path``), as taco evaluate and train read a bare name inside the dataset
    folder. A FILE that is a folder is refused, naming its captions.jsonl where it has one."""

    def __init__(self, caption: str | None, captions_file: str | None,
                 folders: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.caption = caption
        self.captions_file = captions_file
        _refuse_captions_folder(captions_file)
        from ..captions_file import CaptionLookup  # here: taco info and decompress need none

        self.lookup: CaptionLookup = _reading_captions(lambda: CaptionLookup(captions_file),
                                                       _there_hint(captions_file, folders))

    def __call__(self, image: Path) -> str | None:
        """The caption of ``image`` (the first of its captions), or None when it has none. A
        CLIError for a piped image with only --captions FILE, which looks captions up by name
        (a piped image has none), and for a captions file or sidecar that cannot be read: a
        :class:`SidecarUnreadable` for the image's own sidecar."""
        if image is STDIN and self.caption is None and self.captions_file:
            raise CLIError(f"--captions {self.captions_file} looks captions up by image name, and "
                           f"an image on standard input has none: give --caption TEXT")
        if self.caption is not None or image is STDIN:
            return self.caption
        found = _reading_captions(lambda: self.lookup.find(image.parent, image.name, str(image)))
        return found.captions[0] if found else None


class SidecarUnreadable(CLIError):
    """An image's sidecar ``IMAGE.txt`` that cannot be read (:class:`taco.captions_file.SidecarError`):
    in a batch, that image's failure alone; a captions file shared by images stops the command."""


def _there_hint(captions_file: str | None, folders: Sequence[str | os.PathLike[str]]) -> str:
    """For a relative --captions FILE that is not here but is inside the folder of one of the
    inputs ``folders`` (a folder named, or a file's folder: ``taco compress ../imgs/a.png
    --captions captions.jsonl``): `` (FOLDER/FILE exists: give that path)`` for the first such;
    else ""."""
    if not captions_file or captions_file == "-" or Path(captions_file).is_absolute():
        return ""
    for given in folders:
        try:
            folder = Path(given) if Path(given).is_dir() else Path(given).parent
            there = folder / captions_file
            if there.is_file():
                return f" ({shown_path(there)} exists: give that path)"
        except (OSError, ValueError):  # a name the file system cannot take
            continue
    return ""


def _refuse_captions_folder(captions_file: str | None) -> None:
    """Raise a one-line :class:`CLIError` for a ``--captions`` that names a folder (it said
    ``cannot read captions (Is a directory)``), naming its captions.jsonl where it has one."""
    if not captions_file or captions_file == "-":
        return
    try:
        if not Path(captions_file).is_dir():
            return
        from ..captions_file import FOLDER_CAPTIONS

        there = Path(captions_file) / FOLDER_CAPTIONS
        hint = f"{shown_path(there)} exists: give that path" if there.is_file() else "--captions takes a FILE.jsonl"
    except (OSError, ValueError):  # a name the file system cannot take: the read says why
        return
    raise CLIError(f"{shown_path(captions_file)} is a folder, not a captions file ({hint})")


def _reading_captions(read: Callable[[], _T], missing_hint: str = "") -> _T:
    """``read()``, with a captions file or sidecar that cannot be read a one-line CLIError
    (:class:`SidecarUnreadable` for a sidecar); ``missing_hint`` ends the line of a captions
    file not found (:func:`_there_hint`)."""
    from ..captions_file import STDIN_NOT_READ, CaptionsFileError, SidecarError

    try:
        return read()
    except OSError as exc:
        if exc.filename == "-" and isinstance(exc, FileNotFoundError):  # a file named - is read
            raise CLIError(f"--captions -: {STDIN_NOT_READ}") from None
        if isinstance(exc, FileNotFoundError):  # as taco evaluate says it
            raise CLIError(f"{shown_path(exc.filename)}: no such captions file{missing_hint}") from None
        raise CLIError(f"{shown_path(exc.filename)}: cannot read captions ({exc.strerror})") from None
    except SidecarError as exc:
        raise SidecarUnreadable(str(exc)) from None
    except CaptionsFileError as exc:
        raise CLIError(str(exc)) from None


def uncaptioned_note(images: Sequence[Path], captions: Sequence[str | None],
                     captions_file: str | None = None,
                     lookup: CaptionLookup | None = None, *,
                     captions_option: bool = True) -> str | None:
    """The one line telling which images a text-guided model codes without a caption, if any.
    With ``captions_file`` (--captions FILE, the only source then) it says to caption them there,
    not in sidecars; a sidecar IMAGE.txt that is there but empty is named as such, and so is a
    captions.jsonl beside them that has no caption for them, by its name there (with the names it
    lists that differ from theirs only in case or Unicode form, :func:`_near_names`). ``lookup``:
    the one the captions were looked up with (:attr:`taco.cli.inputs.CaptionSource.lookup`), so
    its files are not read again; without it, a new one. ``captions_option``: whether the
    command has ``--captions FILE.jsonl`` to suggest (``taco demo`` has not). Where the name of
    an image without one holds UTF-8 bytes the locale's encoding cannot read (``LC_ALL=C``; a
    captions file's line for it is found all the same, :func:`taco.captions_file.file_system_names`),
    the line ends with :func:`taco.messages.locale_hint_of` (not for a name the locale reads, as a
    Latin-1 locale reads UTF-8 bytes: another locale would not find it a caption)."""
    text = _uncaptioned_note(images, captions, captions_file, lookup, captions_option=captions_option)
    if text is None:
        return None
    hint = locale_hint_of(str(image) for image, caption in zip(images, captions, strict=True) if caption is None)
    return f"{text}; {hint}" if hint else text


def _uncaptioned_note(images: Sequence[Path], captions: Sequence[str | None],
                      captions_file: str | None, lookup: CaptionLookup | None, *,
                      captions_option: bool) -> str | None:
    from ..captions_file import FOLDER_CAPTIONS

    missing = [image for image, caption in zip(images, captions, strict=True) if caption is None]
    if not missing:
        return None
    give = "--caption TEXT, --captions FILE.jsonl," if captions_option else "--caption TEXT,"
    how = f"(a caption guides the encoder: give {give} "
    if len(missing) == 1 and missing[0] is STDIN:
        return (f"{STDIN} has no caption, so it is coded without one (a caption guides the "
                "encoder: give --caption TEXT)")
    if captions_file is not None:
        them = "it" if len(missing) == 1 else "them"
        how = (f"(a caption guides the encoder: --captions {captions_file}, the only source of "
               f"captions when given, has none for {them}; add {them} there, or give --caption TEXT)")
        if len(missing) == 1:
            return f"{missing[0]} has no caption, so it is coded without one {how}"
        return (f"{len(missing):,} of {len(images):,} images have no caption, so they are coded without "
                f"one: {some(missing, 5)} {how}")
    sidecars = [image.with_suffix(".txt") for image in missing]
    empty = [sidecar for sidecar in sidecars if _empty_sidecar(sidecar)]
    # a sidecar or captions.jsonl that is a pipe or a link to /dev/zero: passed over, said so
    odd = [p for p in dict.fromkeys(p for image, sidecar in zip(missing, sidecars, strict=True)
                                    for p in (sidecar, image.parent / FOLDER_CAPTIONS))
           if not_a_regular_file(p)]
    ignored = (f" ({some(odd)} {'is not a regular file' if len(odd) == 1 else 'are not regular files'}; "
               "ignored)" if odd else "")
    them = "it" if len(missing) == 1 else "them"
    beside = f"a captions.jsonl beside {them}"
    listing = _folder_listings(missing, lookup)
    if listing is not None:  # there already: naming it as the thing to give would send the user in a circle
        files, near = listing
        one = len(files) == 1
        beside = (f"{'a line' if them == 'it' else 'lines'} for {them} in {some(files)}, which "
                  f"{'has' if one else 'have'} no caption for {them}")
        if near:
            beside += (f"; {'it lists' if one else 'they list'} {some(near, 5)}, which "
                       f"{'differs' if len(near) == 1 else 'differ'} from "
                       f"{'its name' if them == 'it' else 'their names'} only in case or Unicode "
                       "form (NFC/NFD): a name must match exactly")
    if len(missing) == 1:
        sidecar = sidecars[0].name
        if empty:  # it has one: naming it as the thing to give would send the user in a circle
            return (f"{missing[0]} has no caption, so it is coded without one (a caption guides "
                    f"the encoder: its sidecar {sidecar} is empty; write the caption there, or "
                    f"give {give} or {beside})")
        return (f"{missing[0]} has no caption{ignored}, so it is coded without one {how}"
                f"a sidecar {sidecar}, or {beside})")
    blank = (f" ({some(empty)} {'is' if len(empty) == 1 else 'are'} empty)" if empty else "")
    return (f"{len(missing):,} of {len(images):,} images have no caption{ignored}, so they are coded "
            f"without one: {some(missing, 5)} {how}sidecar IMAGE.txt files{blank}, or {beside})")


def _folder_listings(images: Sequence[Path], lookup: CaptionLookup | None = None,
                     ) -> tuple[list[Path], list[str]] | None:
    """The captions.jsonl files beside ``images`` (uncaptioned ones), as ``lookup`` found and
    read them (a new lookup without one), and the names they list with a caption that differ
    from an image's only in case or Unicode form (``cof.png`` for ``Cof.PNG``, a decomposed
    ``café.png`` for a composed one: :func:`_near_names`); None when none of their folders has
    one. A file that cannot be read is passed over (the lookup said why)."""
    from ..captions_file import CaptionLookup, CaptionsFileError

    if lookup is None:
        lookup = CaptionLookup()
    files: list[Path] = []
    near: list[str] = []
    by_folder: dict[Path, list[str]] = {}
    for image in images:
        by_folder.setdefault(image.parent, []).append(image.name)
    for folder, names in by_folder.items():
        try:
            file = lookup.folder_file(folder)
        except (OSError, CaptionsFileError):
            continue
        path = lookup.folder_file_path(folder)
        if file is not None and path is not None:
            files.append(path)
            near += _near_names(names, [r.file for r in file.records if r.captions])
    return (files, near) if files else None


def _near_names(names: Sequence[str], listed: Sequence[str]) -> list[str]:
    """The names of ``listed`` that are none of ``names`` but equal one of them when both are
    case-folded and in Unicode's composed form (NFC, :func:`taco.fileobjects.name_key`), each once."""
    wanted = {name_key(name) for name in names}
    given = set(names)
    return list(dict.fromkeys(n for n in listed if n not in given and name_key(n) in wanted))


def _empty_sidecar(path: Path) -> bool:
    """Whether the sidecar ``path`` is there and holds no caption (blank)."""
    from ..captions_file import CaptionsFileError, read_sidecar

    try:
        return path.is_file() and not read_sidecar(path)
    except CaptionsFileError:  # unreadable: not empty (the lookup said why)
        return False


def read_stdin_image() -> bytes:
    """The bytes of an image piped to standard input (:data:`STDIN`), at most
    :data:`taco.images.MAX_IMAGE_BYTES` (read once: a second call gets nothing more)."""
    from ..images import read_image_stream

    return read_image_stream(sys.stdin.buffer, str(STDIN))
