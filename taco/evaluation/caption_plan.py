"""What ``taco caption FOLDER`` is to do, found without a captioner.

* :func:`plan_captions`: the folder's images that its captions file does not list yet
  (:class:`CaptionPlan`), after checking the folder and the file. ``taco caption`` runs it
  first, and its checks come before torch is imported, so a mistyped folder or a malformed
  captions file is one line at once (0.2 s and 21 MB, not 2-3 s and 660 MB), and so is a folder
  without images (:func:`taco.suffixes.folder_images`).
  With images to caption, it checks that their captions file can be written
  (:func:`check_writable`), so a read-only folder is that one line too, before any captioning.
  An image whose file name is not UTF-8 (bytes that Python holds as lone surrogates) is left
  out with a warning saying to rename it: a UTF-8 captions file cannot name it.
* :func:`caption_line`: the line ``taco caption`` writes for an image. A last line of the file
  without a final newline that is the unfinished start of such a line (an interrupted run) is
  cut off with a warning; a whole record is kept; anything else is refused, the file unchanged.

:func:`taco.evaluation.caption.run_caption_plan` runs a plan with a captioner.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..atomic import folder_write_error
from ..captions_file import CAPTIONS_LINE_MAX_CHARS
from ..errors import TacoError, TacoValueError, TacoWarning
from ..fileobjects import own_file_problem
from ..messages import count, lone_surrogate, shown_path
from ..suffixes import IMAGE_SUFFIXES, decoded_outputs, decoded_skipped, folder_images

__all__ = ["CaptionPlan", "NoImagesError", "caption_line", "captions_file_is_path", "captions_output", "check_writable",
           "listed_captions", "plan_captions", "refuse_link"]


class NoImagesError(TacoError, ValueError):
    """A folder given to ``taco caption`` holds no image file to caption; the message names it
    and the suffixes looked for."""


@dataclass(frozen=True)
class CaptionPlan:
    """What :func:`taco.evaluation.caption.caption_folder` is to do in a folder
    (:func:`plan_captions`), known before a captioner is loaded."""

    #: the captions file the lines go to
    path: Path
    #: the images to caption, in order (none: all of them have captions already)
    todo: tuple[Path, ...]
    #: how many of the folder's images have captions already (in the file, or in a sidecar)
    already: int
    #: the file's last line is a whole record without a final newline: one is written first
    newline_owed: bool
    #: the images left out because their file names are not UTF-8 (a captions file cannot name
    #: them: rename them), each said in a warning
    misnamed: tuple[Path, ...] = ()


#: The text of a line :func:`caption_line` writes around its three JSON strings (the image, its
#: caption, the captioner): ``json.dumps`` of ``{"image", "captions": [caption], "captioner"}``.
_LINE_PIECES = ('{"image": ', ', "captions": [', '], "captioner": ', "}")


def caption_line(image: str, caption: str, captioner: str) -> str:
    """The line ``taco caption`` writes for ``image``, its newline included:
    ``{"image": IMAGE, "captions": [CAPTION], "captioner": CAPTIONER}`` (UTF-8 text, not
    ``\\u`` escapes), as every reader of captions files takes it
    (:func:`taco.captions_file.read_captions_file`). Built from :data:`_LINE_PIECES`, which
    also tell its unfinished start from any other line (:func:`_unfinished_line_of_ours`)."""
    strings = [json.dumps(s, ensure_ascii=False) for s in (image, caption, captioner)]
    return "".join(piece + string for piece, string in zip(_LINE_PIECES, [*strings, ""], strict=True)) + "\n"


#: A whole JSON string as ``json.dumps`` writes one: no raw control character, only the escapes
#: JSON has.
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
#: The start of one that ends with the text (cut inside it, perhaps inside an escape).
_JSON_STRING_START = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*'
                                r"(?:\\(?:u[0-9a-fA-F]{0,3})?)?\Z")
#: The most bytes of a captions file's last line read to judge it: as many characters as a line
#: may have (:data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS`), of up to 4 UTF-8 bytes each.
_TAIL_MAX_BYTES = 4 * CAPTIONS_LINE_MAX_CHARS


def _unterminated_tail(path: Path) -> tuple[int, bytes] | None:
    """Where the last line of ``path`` starts, and its bytes, when it has no final newline (None
    when the file is empty or ends with one, ``\\n`` or ``\\r`` (the readers take either), or
    when that line is over :data:`_TAIL_MAX_BYTES`, a line no reader takes). Reads the end of the
    file only."""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _TAIL_MAX_BYTES - 1))
        end = f.read()
    if not end or end.endswith((b"\n", b"\r")):
        return None
    cut = max(end.rfind(b"\n"), end.rfind(b"\r"))  # the readers end a line at either
    if cut < 0 and len(end) < size:
        return None
    return size - len(end) + cut + 1, end[cut + 1:]


def _unfinished_line_of_ours(line: bytes) -> bool:
    """Whether ``line``, a last line without a newline that no reader takes, is the start of a
    line :func:`caption_line` writes that was never finished: at most
    :data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS` bytes of UTF-8 (perhaps cut inside a
    character) that are that line's pieces in order, the last one cut short, whatever its last
    character (a cut right after a ``}`` inside a caption is one). A whole line is never such a
    start, nor is a hand-written line with another layout (a missing comma, two captions)."""
    if len(line) > CAPTIONS_LINE_MAX_CHARS:
        return False
    try:  # a character cut short at the end is held back; bytes that are not UTF-8 are not ours
        text = codecs.getincrementaldecoder("utf-8")().decode(line, final=False)
    except UnicodeDecodeError:
        return False
    pos = 0
    for piece in _LINE_PIECES[:-1]:  # each followed by a string
        if not text.startswith(piece, pos):
            return piece.startswith(text[pos:])  # cut inside the piece
        pos += len(piece)
        string = _JSON_STRING.match(text, pos)
        if string is None:  # cut before the string or inside it, or not a string
            return pos == len(text) or _JSON_STRING_START.match(text, pos) is not None
        pos = string.end()
    return pos == len(text)  # cut before the closing brace (with it, or more: not unfinished)


def listed_captions(path: Path) -> tuple[set[str], bool]:
    """Image names already in a captions file with a caption that is not blank (read as every
    reader does, :func:`taco.captions_file.folder_captions` with it the named file; an image whose only captions
    are blank, as an older ``taco caption`` wrote them, is captioned again) and whether its last
    line, a whole record, lacks its final newline. A last line without a newline is kept when every reader takes it (a
    file written by hand, or by a tool that ends no line with one); when it is the unfinished
    start of a line :func:`caption_line` writes (an interrupted run), it is cut off with a
    :class:`taco.errors.TacoWarning` that shows it. Anything else a reader refuses (a malformed
    line, over-long, not UTF-8, an image name that is no plain name of a file inside the folder:
    ``./a.png``, ``../a.png``, :func:`taco.captions_file.image_name_problem`) raises
    :class:`taco.captions_file.CaptionsFileError` naming its line, as ``taco compress``,
    ``evaluate`` and ``train`` refuse the file (else the image would be captioned again beside
    it), and the file is left as it is (a hand-written line is never cut)."""
    from taco.captions_file import folder_captions, is_caption_line

    if not path.is_file():
        return set(), False
    newline_owed = False
    tail = _unterminated_tail(path)
    if tail is not None:
        start, line = tail
        text = line.decode("utf-8", errors="surrogateescape")
        if is_caption_line(text):
            newline_owed = True
        elif _unfinished_line_of_ours(line):
            with path.open("r+b") as f:
                f.truncate(start)
            shown = text if len(text) <= 200 else text[:200] + "..."
            warnings.warn(f"{shown_path(path)}: cut off its unfinished last line ({len(line):,} bytes, from an "
                          f"interrupted run): {shown!r}", TacoWarning, stacklevel=3)
    records = folder_captions(path.parent, (), captions_file=path).records  # the file alone, its names checked
    return {r.file for r in records if any(c.strip() for c in r.captions)}, newline_owed


def plan_captions(
    folder: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] = "captions.jsonl",
    limit: int | None = None,
) -> CaptionPlan:
    """The images of ``folder`` that :func:`taco.evaluation.caption.caption_folder` captions into
    ``output`` (a bare name inside ``folder``, a path with a folder part that path:
    :func:`captions_output`), found without a captioner (``taco caption`` checks the folder and its
    captions file before it imports torch). A missing folder is a FileNotFoundError, a file a
    NotADirectoryError, ``limit`` below 1 a ValueError, a captions file that a reader refuses a
    :class:`taco.captions_file.CaptionsFileError` naming the line (an image name that is not a
    plain one inside the folder, ``./a.png``, too, as ``taco compress`` refuses it), a folder without images
    (:func:`taco.suffixes.folder_images`) a :class:`NoImagesError` (naming the ``taco decompress``
    outputs it left out, where those were all it held), and so is a folder whose images to caption
    all have file names that are not UTF-8 (bytes Python holds as lone surrogates, which a UTF-8
    captions file cannot hold: rename them) and none has a caption; where other images are
    there, such images are left out (``misnamed``), each with a
    :class:`taco.errors.TacoWarning` saying to rename it; a captions file that cannot
    be written when there are images to caption is the OSError naming it (:func:`check_writable`). A folder whose images all have
    captions already is a plan with nothing to do (``todo`` empty). A last line without a final
    newline is kept when it is a whole record (``newline_owed``), and cut off with a warning when
    it is the unfinished start of a line ``taco caption`` writes (an interrupted run); only then
    is the file changed here. Reads the file line by line, each within
    :data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS`, and at most that many characters' bytes
    of its end. Imports torch (:mod:`taco.data`) only to list a folder whose captions file is
    good."""
    from taco.captions_file import FOLDER_CAPTIONS, CaptionLookup, read_sidecar

    if limit is not None and limit < 1:
        raise TacoValueError(f"limit must be at least 1, got {limit}")
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder (give the folder of the images)", str(folder))
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(folder))
    path = captions_output(folder, output)
    listed, newline_owed = listed_captions(path)
    files = [folder / name for name in folder_images(folder)]
    if not files:
        raise NoImagesError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
                            + decoded_skipped(decoded_outputs(os.listdir(folder))))
    if path.resolve() == (folder / FOLDER_CAPTIONS).resolve():
        lookup = CaptionLookup()
        listed |= {p.name for p in files if lookup.has_sidecar(folder, p.name)
                   and read_sidecar(lookup.sidecar(folder, p.name))}
    todo: list[Path] = []
    misnamed: list[Path] = []
    for p in files:
        if p.name not in listed:  # a name that is not UTF-8 cannot be a line of the file
            (todo if lone_surrogate(p.name) is None else misnamed).append(p)
    already = sum(p.name in listed for p in files)
    if misnamed and not todo and not already:
        raise NoImagesError(f"no image to caption in {shown_path(folder)}: {_misnamed(misnamed)}")
    for p in misnamed:
        warnings.warn(f"{shown_path(p)}: left out: the file name holds {lone_surrogate(p.name)}, which a "
                      "UTF-8 captions file cannot hold; rename it", TacoWarning, stacklevel=2)
    todo = todo[:limit]
    if todo:  # before a captioner loads and captions a batch
        check_writable(path)
    return CaptionPlan(path, tuple(todo), already, newline_owed, tuple(misnamed))


def captions_file_is_path(captions_file: str) -> bool:
    """Whether a ``captions_file`` names a path of its own rather than a file inside each dataset
    folder (``taco evaluate --captions``) or inside FOLDER (``taco caption -o``): absolute
    (``/data/x.jsonl``, ``~/x.jsonl``) or with a folder part as typed (``./x.jsonl``,
    ``sub/x.jsonl``). Decided from the string, not from ``Path(...).parts``, which drops the
    ``.`` of ``./x.jsonl`` and so made it a name inside the folder."""
    return ("/" in captions_file or os.sep in captions_file
            or Path(captions_file).expanduser().is_absolute())


def captions_output(folder: Path, output: str | os.PathLike[str]) -> Path:
    """Where ``taco caption FOLDER -o OUTPUT`` writes, by the rule ``taco evaluate --captions``
    reads by (:func:`captions_file_is_path`): a bare name (``blip.jsonl``) is a file inside
    ``folder``; one with a folder part (``./x.jsonl``, ``photos/sub/x.jsonl``) or absolute
    (``/data/x.jsonl``, ``~/x.jsonl``) is that path."""
    if captions_file_is_path(os.fspath(output)):
        return Path(output).expanduser()
    return folder / output


def _misnamed(images: list[Path]) -> str:
    """Why the ``images`` (all of a folder's to caption) are not captioned, in one line."""
    first = images[0]
    more = f" (and {count(len(images) - 1, 'more name')} alike)" if len(images) > 1 else ""
    return (f"the file name {shown_path(first.name)} holds {lone_surrogate(first.name)}{more}, which a UTF-8 "
            f"captions file cannot hold; rename {'them' if more else 'it'}")


def refuse_link(path: Path) -> None:
    """Refuse a captions file ``path`` that is a symbolic link (dangling or not) or a hard link
    (a file with other names; :func:`taco.fileobjects.own_file_problem`): taco caption appends
    to the file itself, and a link planted in a folder one captions would have it append to any
    file the user may write (a hard link: change that file under its other names too). Checked
    before the captioner loads and again when writing."""
    why = own_file_problem(path, in_place=True, writer="taco caption appends to a captions file itself",
                           otherwise="name another file with -o")
    if why is not None:
        raise TacoValueError(why)


def check_writable(path: Path) -> None:
    """Raise the OSError, naming the file or its folder, that appending lines to the captions
    file ``path`` would raise, as far as it can be known without writing: its folder missing
    (``FileNotFoundError``, ``no such folder``) or not a folder (``NotADirectoryError``), the
    file a folder (``IsADirectoryError``) or not writable, or a new file not creatable in its
    folder (a read-only file system, no permission). Creates and changes nothing: an existing
    file is opened for appending, no byte written (a pipe or a device is not opened, lest it
    block); for a new one, the folder is asked (:func:`taco.atomic.folder_write_error`). A write can still fail later (a full disk, a
    file size limit): :func:`taco.evaluation.caption.run_caption_plan` names the file then."""
    refuse_link(path)
    parent = path.parent
    if not parent.is_dir():
        if parent.exists():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder (the captions file's folder)", str(parent))
        raise FileNotFoundError(errno.ENOENT, "no such folder (create it first)", str(parent))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a captions file", str(path))
    if path.is_file():
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))  # the OSError names the file
        return
    if path.exists():  # a pipe, a device: writing says
        return
    exc = folder_write_error(parent)
    if exc is not None:
        raise OSError(exc.errno, exc.strerror, str(path))
