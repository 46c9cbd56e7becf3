"""Where an image's captions come from: captions files (``captions.jsonl``) and sidecar files.

A captions file holds ``{"image": "name.png", "captions": ["...", ...]}`` (or ``"caption":
"..."``) per line, ``image`` relative to the folder the file describes, optionally with
``"captioner": "..."`` (who wrote the captions); UTF-8, a byte-order mark at its start allowed.
Training, evaluation, ``taco caption`` and ``taco compress`` all read it with
:func:`read_caption_records` (or :func:`read_captions_file`, which keeps the captioners too).
Where its images are a dataset's (:func:`folder_captions`), each must name a file inside the
folder (:func:`image_name_problem`: not absolute, no ``..`` part).

Which captions an image has is one rule, :class:`CaptionLookup`, used by ``taco compress``,
``taco evaluate`` and ``taco train`` (:func:`folder_captions` for a folder): a captions file
named on purpose is the only source; without one, the image's sidecar ``IMAGE.txt``, else the
``captions.jsonl`` of its folder. A COCO captions file (``captions_val2014.json``) is read by
:func:`coco_caption_records`, for ``coco40k:`` and ``taco import-captions`` alike. Imports no
torch (the CLI reads captions before it loads a model).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NamedTuple

from .errors import TacoError
from .fileobjects import name_key
from .jsonfiles import UTF16_TEXT, load_json, utf16_start
from .messages import lone_surrogate, utf8_name, utf8_names
from .suffixes import IMAGE_SUFFIXES

__all__ = [
    "CAPTIONS_FILE_MAX_BYTES",
    "CAPTIONS_LINE_MAX_CHARS",
    "FOLDER_CAPTIONS",
    "SIDECAR_MAX_CHARS",
    "SIDECAR_SUFFIX",
    "CaptionLookup",
    "CaptionRecord",
    "CaptionsFile",
    "CaptionsFileError",
    "CocoCaptionRecords",
    "CocoCaptionsError",
    "FolderCaptions",
    "FoundCaptions",
    "SidecarError",
    "coco_caption_records",
    "file_system_name",
    "file_system_names",
    "folder_captions",
    "has_captions",
    "image_name_problem",
    "is_caption_line",
    "read_caption_records",
    "read_captions_file",
    "read_sidecar",
]

#: The captions file of a folder, used for its images when no captions file is named.
FOLDER_CAPTIONS = "captions.jsonl"
#: An image's own caption file beside it: ``photo.txt`` for ``photo.jpg`` (one caption).
SIDECAR_SUFFIX = ".txt"
#: The most characters of a sidecar read (:func:`read_sidecar`): a longer one is refused, read no further.
#: 100 times what a caption may have (``taco.text.MAX_CAPTION_CHARS``; a longer one is refused
#: when it is encoded), leaving room for whitespace around it. A 50 MB sidecar read whole
#: peaked at 688 MB.
SIDECAR_MAX_CHARS = 1_000_000
#: The most characters of one line of a captions file read (:func:`read_captions_file`), its
#: newline not counted: a longer line is refused, read no further. As many as a sidecar may
#: have: 100 captions of the longest kind. A 50 MB line read whole peaked at 763 MB.
CAPTIONS_LINE_MAX_CHARS = SIDECAR_MAX_CHARS
#: The most bytes of a captions file read (:func:`read_captions_file`): a larger one is refused
#: before it is read, and a stream (a pipe) read no further. 1 GiB: COCO's 330,000 images with
#: 5 captions each come to about 250 MB. A 197 MB file of 2,000,000 lines took 96 s and 1.5 GB
#: in ``taco evaluate``.
CAPTIONS_FILE_MAX_BYTES = 1 << 30
#: The refusal of ``-`` given for a captions file that does not exist: the readers take a path
#: (records are named by it), and ``/dev/stdin`` is one.
STDIN_NOT_READ = "`-` (standard input) is not read here; use /dev/stdin"


class CaptionsFileError(TacoError, ValueError):
    """A captions file (``captions.jsonl``) with a malformed line, or a sidecar ``IMAGE.txt``
    that cannot be read as UTF-8 text; the message names the file (and the line)."""


class SidecarError(CaptionsFileError):
    """A sidecar ``IMAGE.txt`` that :func:`read_sidecar` refuses (not to be read: permission
    denied; not readable UTF-8 text, UTF-16 text, or too long): one image's caption, where a captions file's error is every image's it
    lists."""


class CaptionRecord(NamedTuple):
    """An image file (relative to a dataset root) and all of its captions."""

    file: str
    captions: tuple[str, ...]


class CaptionsFile(NamedTuple):
    """A parsed captions file: its records and the captioners its lines name."""

    records: list[CaptionRecord]
    #: the ``"captioner"`` of its lines (written by ``taco caption`` and ``taco
    #: import-captions``), each once, in file order; lines without one add none
    captioners: tuple[str, ...]


#: What surrogateescape makes of a byte that is not UTF-8 (U+DC80..U+DCFF).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
#: A byte-order mark, as decoded: taken at the start of a captions file (utf-8-sig).
_BOM = "\ufeff"


def _plain_name(name: str) -> bool:
    """Whether ``name`` is one file name, no folder part (``photo.jpg``): no separator (``/`` or
    ``\\``), no drive's colon, no null byte, not ``.`` or ``..`` or empty; a name
    :func:`image_name_problem` finds no problem with, told without building a path (a captions
    file may list millions)."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\:\0")


def image_name_problem(name: str, windows: bool = os.name == "nt") -> str | None:
    """Why ``name``, an image as a captions file lists it, names no file inside the folder the
    file describes, in a few words; None when it does. The names are relative to that folder:
    ``photo.jpg``, or ``sub/photo.jpg`` in a subfolder of it. An absolute path, a drive
    (``C:secret.png``, which Windows reads in drive C's current folder) and a ``..`` part lead
    out of it (a captions file from someone else naming ``../../secret.png``, or a pipe beside
    the folder whose read would never end), an empty name or ``.`` names the folder itself, and a
    null byte no file. On Windows (``windows``, default: this system) a name is read as a
    Windows path too (``\\`` a separator, ``C:`` a drive); elsewhere ``a:b.png`` and ``c\\d.png``
    are file names like any (a Linux folder may hold them; taco caption lists them). A name is
    written in its plain form
    (``a.png``, not ``./a.png``, ``a.png/`` or ``sub//a.png``; on Windows ``sub/a.png``, not
    ``sub\\a.png``, ``.\\a.png`` or ``a.png\\``): one image, one name, never counted twice
    (lines that name one image alike merge, :func:`read_captions_file`)."""
    if _plain_name(name):
        return None
    if "\0" in name:
        return "holds a null byte"
    posix = PurePosixPath(name)
    path = PureWindowsPath(name) if windows else posix  # Windows splits at both separators
    if path.drive:
        return "names a drive"
    if posix.root or path.root:
        return "is an absolute path"
    if ".." in path.parts:
        return "has a '..' part"
    if not path.parts:  # ".\" on Windows too
        return "names the folder itself"
    plain = path.as_posix()  # on Windows, backslashes read as separators: .\a.png is ./a.png
    if plain != name:
        return f"is not written in its plain form ({plain!r:.60})"
    return None


def read_captions_file(path: str | os.PathLike[str]) -> CaptionsFile:
    """A ``captions.jsonl`` file -> its :class:`CaptionRecord` s (one per image, in file order)
    and the captioners its lines name.

    Each line: ``{"image": NAME, "captions": [...]}`` (or ``"caption": TEXT``), optionally with
    ``"captioner": NAME``; repeated lines for one image merge their captions; blank captions are
    dropped (an image whose captions are all blank keeps a record without captions). A UTF-8
    byte-order mark at the start of the file is not part of its first line. ``NAME`` is kept as
    written (``taco compress --captions FILE`` looks images up by the path as given, too, both in
    their plain form: :class:`CaptionLookup`): where the names are a folder's images,
    :func:`folder_captions` and :meth:`CaptionLookup.folder_file` check them.
    :class:`CaptionsFileError` (a ``ValueError``) names the line of a malformed entry, of one
    over :data:`CAPTIONS_LINE_MAX_CHARS` characters (read no further), of bytes that are not
    UTF-8 text, or of a caption with a lone surrogate (a valid JSON ``\\ud800`` escape that is no
    text: :func:`taco.messages.lone_surrogate`), and a file over :data:`CAPTIONS_FILE_MAX_BYTES`
    (refused unread; a stream, once it has read that many characters); a file that cannot be
    opened raises the ``OSError``.
    """
    path = Path(path)
    captions: dict[str, list[str]] = {}  # insertion order = file order; repeated lines merge
    captioners: dict[str, None] = {}
    # Bytes that are not UTF-8 are read as lone surrogates (surrogateescape) and refused with the
    # line they are on: the strict decoder works in chunks and cannot say which line failed.
    # utf-8-sig drops a byte-order mark at the start of the file (Notepad writes one), only there.
    too_big = (f"{path}: over {CAPTIONS_FILE_MAX_BYTES:,} bytes (1 GiB), more than a dataset's "
               "captions take (COCO's 330,000 images, 5 captions each: about 250 MB)")
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as f:
        if os.fstat(f.fileno()).st_size > CAPTIONS_FILE_MAX_BYTES:
            raise CaptionsFileError(too_big)
        line_no = read = 0  # line by line (40 MB of blank lines as a list took 1.4 GB), each within a bound
        while line := f.readline(CAPTIONS_LINE_MAX_CHARS + 1):
            line_no += 1
            read += len(line)
            if read > CAPTIONS_FILE_MAX_BYTES:  # a stream: no size to tell first
                raise CaptionsFileError(too_big)
            if len(line) > CAPTIONS_LINE_MAX_CHARS and not line.endswith("\n"):
                raise CaptionsFileError(
                    f"{path}:{line_no}: the line has over {CAPTIONS_LINE_MAX_CHARS:,} characters, "
                    "far more than an image's captions take; shorten it")
            bad = _NOT_UTF8.search(line)
            if bad and line_no == 1 and utf16_start(line[:2].encode("utf-8", "surrogateescape")):
                raise CaptionsFileError(f"{path}: {UTF16_TEXT}")  # PowerShell 5's > writes it
            if bad:
                raise CaptionsFileError(
                    f"{path}:{line_no}: not UTF-8 text (byte 0x{ord(bad.group()) - 0xDC00:02x} at "
                    f"column {bad.start() + 1})")
            _read_line(path, line_no, line, captions, captioners)
    records = [CaptionRecord(file, tuple(caps)) for file, caps in captions.items()]
    return CaptionsFile(records, tuple(captioners))


def _read_line(path: Path, line_no: int, line: str, captions: dict[str, list[str]],
               captioners: dict[str, None]) -> None:
    """Add line ``line_no`` of the captions file ``path`` to ``captions`` (image -> its captions)
    and ``captioners``; a malformed line is a :class:`CaptionsFileError` naming it."""
    if not line.strip():
        return
    try:
        # without its line ending, which json would read as a line 2 of its own
        entry = load_json(line.rstrip("\r\n"))  # 200,000 deep or 5,000 digits: a ValueError
        if not isinstance(entry, dict):  # ["a.png"], "a cat", 3: json's own words would be Python's
            raise CaptionsFileError(f'{path}:{line_no}: expected {{"image": ..., "captions": [...]}} '
                                    f"(the line holds {_json_kind(entry)}, not a JSON object)")
        image = entry["image"]
        caps = entry.get("captions", entry.get("caption", []))
        captioner = entry.get("captioner")
    except CaptionsFileError:
        raise
    except json.JSONDecodeError as e:
        raise CaptionsFileError(
            f'{path}:{line_no}: expected {{"image": ..., "captions": [...]}} '
            f"({e.msg} at column {e.colno})"  # as a byte that is not UTF-8 is named
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CaptionsFileError(
            f'{path}:{line_no}: expected {{"image": ..., "captions": [...]}} ({e})'
        ) from None
    if isinstance(caps, str):
        caps = [caps]
    if not isinstance(image, str) or not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise CaptionsFileError(f"{path}:{line_no}: image must be a string, captions strings")
    for caption in caps:  # a \ud800 escape: the JSON is valid, the text is not
        bad = lone_surrogate(caption)
        if bad is not None:
            raise CaptionsFileError(f"{path}:{line_no}: a caption of {image!r:.60} holds {bad}, "
                                    "which UTF-8 cannot encode; fix or remove it")
    captions.setdefault(image, []).extend(c for c in caps if c.strip())
    if isinstance(captioner, str) and captioner:
        captioners[captioner] = None


def _json_kind(value: object) -> str:
    """What a JSON value that is not an object is, in a few words: ``a JSON array``, ..."""
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool):
        return f"JSON {str(value).lower()}"
    if value is None:
        return "JSON null"
    return "a JSON number"


def is_caption_line(line: str) -> bool:
    """Whether every reader (:func:`read_captions_file`) takes ``line``, one line of a captions
    file (its newline optional): a record ``{"image": ..., "captions": [...]}`` or a blank line,
    of at most :data:`CAPTIONS_LINE_MAX_CHARS` characters and no bytes that were not UTF-8. A
    byte-order mark before it is taken, as the file's first line may have one."""
    line = line.removeprefix(_BOM)
    if len(line.removesuffix("\n")) > CAPTIONS_LINE_MAX_CHARS or _NOT_UTF8.search(line):
        return False
    try:
        _read_line(Path(), 0, line, {}, {})
    except CaptionsFileError:
        return False
    return True


def read_caption_records(path: str | os.PathLike[str]) -> list[CaptionRecord]:
    """The records of a ``captions.jsonl`` file, one per image, in file order (see
    :func:`read_captions_file`, which also gives the captioners the file names)."""
    return read_captions_file(path).records


def read_sidecar(path: str | os.PathLike[str]) -> str:
    """The caption in a sidecar ``IMAGE.txt``: its whole text, stripped ("" for none; a UTF-8
    byte-order mark is not part of it). :class:`SidecarError` (a :class:`CaptionsFileError`)
    names a file that cannot be read (saying why: ``Permission denied``) or is not UTF-8 text
    (one starting with a UTF-16 byte-order mark, as Windows Notepad's "Unicode" saves, is said
    to be :data:`taco.jsonfiles.UTF16_TEXT`), or one over :data:`SIDECAR_MAX_CHARS` characters (read
    no further)."""
    unreadable = f"{path}: cannot read the caption (not readable UTF-8 text)"
    try:
        with Path(path).open(encoding="utf-8-sig") as f:
            text = f.read(SIDECAR_MAX_CHARS)  # characters, however many bytes each
            more = f.read(1)
    except OSError as exc:  # not its text's fault: say why (Permission denied)
        raise SidecarError(f"{path}: cannot read the caption ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        try:  # the file's first two bytes: the decoding error does not say if it failed there
            with Path(path).open("rb") as raw:
                utf16 = utf16_start(raw.read(2))
        except OSError:
            utf16 = False
        if utf16:
            raise SidecarError(f"{path}: cannot read the caption: {UTF16_TEXT}") from None
        raise SidecarError(unreadable) from None
    if more:
        raise SidecarError(f"{path}: the caption has over {SIDECAR_MAX_CHARS:,} characters, "
                                "far more than a caption may have; shorten it")
    return text.strip()


class FoundCaptions(NamedTuple):
    """An image's captions (at least one) and the rule's step that found them."""

    captions: tuple[str, ...]
    #: ``"named"`` (the named captions file), ``"sidecar"`` or ``"folder"`` (the folder's captions.jsonl)
    source: str


#: The sources of :class:`CaptionLookup`'s rule: a named file alone, else sidecars, then the folder's file.
_SOURCES = ("named", "sidecar", "folder")


def file_system_names(name: str) -> tuple[str, ...]:
    """The spellings a listing may give ``name`` (a file's name or path as a captions file lists it:
    UTF-8 text) by, the likelier first: under a UTF-8 locale (and on Windows), and for a name the
    file system spells already (one with lone surrogates), ``name`` itself; under a locale whose
    encoding is not UTF-8, ``name`` where that encoding can write it (``café.png`` named in Latin-1
    under a Latin-1 locale), then its UTF-8 bytes as the locale reads them: ``caf\\udcc3\\udca9.png``
    under ``LC_ALL=C`` without Python's UTF-8 mode (ascii, where ``café.png`` cannot be written),
    ``cafÃ©.png`` under a Latin-1 locale (a folder unpacked from a UTF-8 system). Opening a file
    not listed tries them in order; names listed are matched by :func:`taco.messages.utf8_name`,
    which reads both as ``café.png``."""
    if codecs.lookup(sys.getfilesystemencoding()).name == "utf-8":
        return (name,)
    try:
        os.fsencode(name)
        spellings = [name]
    except UnicodeEncodeError:  # not in the locale's encoding: only its UTF-8 bytes can name it
        spellings = []
    try:
        utf8 = os.fsdecode(name.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: the file system's spelling already
        return (name,)
    return tuple(dict.fromkeys([*spellings, utf8]))


def file_system_name(name: str) -> str:
    """``name`` (a file's name or path as a captions file lists it) as messages that name listed
    files too spell it: the first of :func:`file_system_names` (``caf\\udcc3\\udca9.png`` for
    ``café.png`` under ``LC_ALL=C``; ``café.png`` itself under a UTF-8 or Latin-1 locale)."""
    return file_system_names(name)[0]


def _table(records: list[CaptionRecord]) -> dict[str, tuple[str, ...]]:
    """Image name (:func:`taco.messages.utf8_name`: the file's name and a captions file's are
    matched by their bytes read as UTF-8) -> its captions, for the images a file gives at least
    one caption; the captions of names read the same so are joined."""
    table: dict[str, tuple[str, ...]] = {}
    for r in records:
        if r.captions:
            key = utf8_name(r.file)
            table[key] = table.get(key, ()) + r.captions
    return table


def _as_path(name: str) -> str:
    """``name`` as a path in its plain form, as ``Path`` writes it (``./a.png`` and ``a.png/``:
    ``a.png``): how a named file's image and the path of an image given are matched."""
    return name if _plain_name(name) else os.fspath(Path(name))


def _path_table(records: list[CaptionRecord]) -> dict[str, tuple[str, ...]]:
    """:func:`_table` by :func:`_as_path`: the captions of names written two ways are joined."""
    table: dict[str, tuple[str, ...]] = {}
    for file, captions in _table(records).items():
        key = _as_path(file)
        table[key] = table.get(key, ()) + captions
    return table


class CaptionLookup:
    """The captions of images, by one rule (``taco compress``, ``taco evaluate``, ``taco train``):

    - a captions file named on purpose (``captions_file``: ``taco compress --captions FILE``,
      ``taco evaluate --captions``, training's ``data.captions`` / ``val.captions``) is the
      only source: an image it gives no caption (not listed, only blank captions) has none, and
      sidecars and the folder's captions.jsonl are not read. A named file is a choice of
      captions (``--captions captions-blip2.jsonl`` in a caption-source study), so captions
      from elsewhere are never mixed in. Its names and those looked up are matched in their
      plain form (``./a.png`` is ``a.png``; ``taco compress`` also looks up the path as given,
      first: a line for ``a/cat.png`` wins over one for ``cat.png``);
      :func:`folder_captions` refuses a name that is not plain;
    - without one: the image's sidecar ``IMAGE.txt`` (:func:`read_sidecar`: one caption, its
      whole text), else ``captions.jsonl`` in the image's folder (:data:`FOLDER_CAPTIONS`): the
      more specific sidecar wins, and one with no caption (empty) leaves the image to the
      folder's file.

    A sidecar or captions.jsonl is found by its exact name, else by the one name in the folder
    that differs from it only in case or Unicode form, as :func:`taco.fileobjects.name_key`
    compares names (``IMG_1.TXT`` for ``IMG_1.PNG``, ``Captions.jsonl``: the same file on macOS
    and Windows; ``café.txt`` with its é decomposed for ``café.png`` with it composed: one file
    on macOS); where several do (``img_1.txt`` and ``IMG_1.TXT``), by its exact name alone. A
    sidecar differing from an image's name in more than its suffix's case is the image's only
    when no other image of the folder has a name differing only so (``IMG_1.PNG`` and
    ``img_1.png``: ``IMG_1.TXT`` is ``IMG_1.PNG``'s alone). The names a captions file lists
    are matched exactly, not so (``taco compress`` notes a listed name that differs so). Each file
    is read once, when first needed, and each folder listed once (sidecars are found in the
    listing, not by a stat per image); in a folder that can be read by name only, not listed
    (mode 711: a shared home or project folder), a sidecar or captions.jsonl is found by its
    exact name alone, a stat each. A named file that cannot be opened raises the
    ``OSError``; a malformed file or an unreadable sidecar a :class:`CaptionsFileError` naming it,
    and so does a folder's captions.jsonl listing a name that is no file inside the folder
    (:func:`image_name_problem`, with its line), as evaluation and training refuse it.
    """

    def __init__(self, captions_file: str | os.PathLike[str] | None = None) -> None:
        self.captions_file = None if captions_file is None else Path(captions_file)
        #: the named file's records and captioners (None without one)
        self.named: CaptionsFile | None = None
        self._named: dict[str, tuple[str, ...]] = {}
        if self.captions_file is not None:
            self.named = read_captions_file(self.captions_file)
            self._named = _path_table(self.named.records)
        self._listings: dict[Path, _Listing] = {}
        self._folder_files: dict[Path, CaptionsFile | None] = {}
        self._folder_tables: dict[Path, dict[str, tuple[str, ...]]] = {}

    def find(self, folder: Path, name: str, *also: str, sidecar: bool = True) -> FoundCaptions | None:
        """The captions of the image ``folder / name``, or None when it has none. ``name`` is how
        a captions file of ``folder`` lists it; ``also``: other names the named file may list it
        by (``taco compress``: the path as given). With a named file, its captions or None: the
        line naming one of ``also`` wins over a line naming ``name`` alone (``a/cat.png`` over
        ``cat.png``, which may be ``b/cat.png`` too), ``also`` tried in its order.
        ``sidecar=False``: the image is not in the folder, so its sidecar is not looked for."""
        if self.captions_file is not None:
            for key in map(_as_path, (*also, name)):  # the more specific name first
                key = utf8_name(key)
                if key in self._named:
                    return FoundCaptions(self._named[key], "named")
            return None
        sidecar_path = self._present_sidecar(folder, name) if sidecar else None
        if sidecar_path is not None:
            caption = read_sidecar(sidecar_path)
            if caption:
                return FoundCaptions((caption,), "sidecar")
        if folder not in self._folder_tables:
            file = self.folder_file(folder)
            self._folder_tables[folder] = _table(file.records) if file else {}
        captions = self._folder_tables[folder].get(utf8_name(name))
        return FoundCaptions(captions, "folder") if captions else None

    def sidecar(self, folder: Path, name: str) -> Path:
        """Where the sidecar of the image ``folder / name`` is: ``IMAGE.txt`` beside it (the name
        in the folder, in whatever case it has there: see the class)."""
        return self._present_sidecar(folder, name) or (folder / name).with_suffix(SIDECAR_SUFFIX)

    def has_sidecar(self, folder: Path, name: str) -> bool:
        """Whether the image ``folder / name`` has a sidecar file (from its folder's listing)."""
        return self._present_sidecar(folder, name) is not None

    def folder_file(self, folder: Path) -> CaptionsFile | None:
        """``folder``'s captions.jsonl, read (None when there is none); a
        :class:`CaptionsFileError` names its line listing a name that is no file inside the
        folder (:func:`image_name_problem`)."""
        if folder not in self._folder_files:
            path = self.folder_file_path(folder)
            file = None
            if path is not None:
                file = read_captions_file(path)
                _check_image_names(path, file.records)
            self._folder_files[folder] = file
        return self._folder_files[folder]

    def folder_file_path(self, folder: Path) -> Path | None:
        """Where ``folder``'s captions.jsonl is, by its name in the folder (``Captions.jsonl``:
        see the class), the file :meth:`folder_file` reads; None when there is none."""
        present = self._present(folder, FOLDER_CAPTIONS)
        return None if present is None else folder / present

    def has_source(self, folder: Path, names: Iterable[str]) -> bool:
        """Whether images ``names`` of ``folder`` have any caption source, read or not: a named
        file (their only source then, whichever images it lists), else the folder's captions.jsonl
        or a sidecar of one of them (even an empty one)."""
        return (self.captions_file is not None or self._present(folder, FOLDER_CAPTIONS) is not None
                or any(self.has_sidecar(folder, name) for name in names))

    def _present_sidecar(self, folder: Path, name: str) -> Path | None:
        """The sidecar of the image ``folder / name``, by its name in the folder's listing; None
        if it has none."""
        sidecar = (folder / name).with_suffix(SIDECAR_SUFFIX)
        present = self._present(sidecar.parent, sidecar.name)
        if present is None or present == sidecar.name:
            return None if present is None else sidecar
        # a variant (case, Unicode form): the image's when only its suffix differs (IMG_1.TXT for
        # IMG_1.PNG), or when no other image's name differs from its own only so (img_1.png beside it)
        stem = sidecar.name[:-len(SIDECAR_SUFFIX)]
        others = self._listings[sidecar.parent].image_stems.get(name_key(stem), ())
        if present.startswith(stem) or all(other == stem for other in others):
            return sidecar.with_name(present)
        return None

    def _present(self, folder: Path, name: str) -> str | None:
        """The name in ``folder`` of the file ``name`` the rule reads (a sidecar or
        captions.jsonl): ``name`` itself, else its one variant there in case or Unicode form
        (:func:`taco.fileobjects.name_key`); None if neither. In a folder that cannot be listed
        (read by name only), ``name`` if it is a file there, else None."""
        if folder not in self._listings:
            self._listings[folder] = _case_blind_listing(folder)
        listing = self._listings[folder]
        if not listing.listed:  # its files open by name, so look for this one by its name
            return name if os.path.isfile(folder / name) else None
        return name if name in listing.names else listing.folded.get(name_key(name))


class _Listing(NamedTuple):
    """What :class:`CaptionLookup` keeps of a folder's listing (:func:`_case_blind_listing`)."""

    #: the names of the files the rule reads (sidecars and captions.jsonl, in any case or form)
    names: frozenset[str]
    #: each of those names by :func:`taco.fileobjects.name_key` -> the one file's name (None
    #: where several share it)
    folded: dict[str, str | None]
    #: the images' names without suffix by ``name_key`` -> those names (several where images'
    #: names differ only in case or Unicode form, as ``IMG_1.PNG`` and ``img_1.png``)
    image_stems: dict[str, set[str]]
    #: False for a folder that is there but cannot be listed (mode 711: read by name only), so
    #: what is in it is unknown: each file is looked for by its exact name
    listed: bool = True


def _case_blind_listing(folder: Path) -> _Listing:
    """``folder``'s listing, for :class:`CaptionLookup`: where several names share one
    :func:`taco.fileobjects.name_key`, no guess between them. No folder (yet) is an empty
    listing; one that cannot be listed (permission denied: its files may still open by name)
    is ``listed=False``, not an empty one."""
    names: list[str] = []
    folded: dict[str, str | None] = {}
    image_stems: dict[str, set[str]] = {}
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                key = name_key(e.name)
                if (key.endswith(SIDECAR_SUFFIX) or key == FOLDER_CAPTIONS) and e.is_file():
                    names.append(e.name)
                    folded[key] = None if key in folded else e.name
                else:
                    stem, suffix = os.path.splitext(e.name)
                    if suffix.lower() in IMAGE_SUFFIXES:
                        image_stems.setdefault(name_key(stem), set()).add(stem)
    except (FileNotFoundError, NotADirectoryError, UnicodeEncodeError):  # no such folder (yet): nothing
        pass  # there; or one the locale cannot write (süb/ of a captions file under LC_ALL=C): none listed
    except OSError:  # there but not listed (EACCES on a mode 711 folder): unknown, not empty
        return _Listing(frozenset(), {}, {}, listed=False)
    return _Listing(frozenset(names), folded, image_stems)


class FolderCaptions(NamedTuple):
    """The captions of a folder's images (:func:`folder_captions`)."""

    #: one per image, captions by :class:`CaptionLookup`'s rule (none: an uncaptioned image)
    records: list[CaptionRecord]
    #: how many images took their captions from each source of the rule (``"named"``, else
    #: ``"sidecar"`` and ``"folder"``, in that order; sources that gave none are left out)
    counts: dict[str, int]
    #: the captioners the named file names (``"named"``), else the folder's captions.jsonl (``"folder"``,
    #: when it was read)
    captioners: dict[str, tuple[str, ...]]
    #: whether the folder has any caption source at all for the images of ``records``
    #: (:meth:`CaptionLookup.has_source`)
    has_source: bool
    #: with ``skip_unreadable``: each image left out for its unreadable sidecar -> why
    #: (:class:`SidecarError`'s message); else empty
    unreadable: dict[str, str]


def folder_captions(
    root: str | os.PathLike[str], images: Iterable[str], captions_file: str | os.PathLike[str] | None = None,
    *, skip_unreadable: bool = False,
) -> FolderCaptions:
    """The captions of the images of folder ``root`` (``images``: their names, e.g.
    :func:`taco.suffixes.folder_images`), by :class:`CaptionLookup`'s rule, with ``captions_file``
    the named file, their only source (None: none named, so sidecars, then ``root/captions.jsonl``).

    One record per image: first those the listing file lists (the named file, else the
    folder's captions.jsonl), in its order, then the other ``images`` in their order. An
    unreadable sidecar raises its :class:`SidecarError`; with ``skip_unreadable`` its image is
    left out instead (in ``unreadable``, with why), as one image's problem, not the folder's.
    """
    root = Path(root)
    lookup = CaptionLookup(captions_file)
    listing = lookup.named if lookup.named is not None else lookup.folder_file(root)  # checked
    if lookup.named is not None and lookup.captions_file is not None:
        _check_image_names(lookup.captions_file, lookup.named.records)
    given = dict.fromkeys(images)
    # a listed name the folder's listing spells otherwise (café.png under LC_ALL=C; in UTF-8 bytes
    # under a Latin-1 locale): its image's spelling
    by_bytes = utf8_names(given)
    names = dict.fromkeys([_spelled(r.file, given, by_bytes) for r in listing.records] if listing else [])
    names.update(given)
    counts = dict.fromkeys(_SOURCES, 0)
    records = []
    unreadable: dict[str, str] = {}
    file_keys: dict[str, str] | None = None  # the folder's files (utf8_names), listed when a name is not in images
    listed = False  # whether the folder was listed yet (file_keys None after: it cannot be)
    for name in names:
        there = name in given or not _plain_name(name)
        if not there:  # an image listed but not in the folder (a file may list millions)
            if not listed:
                files, listed = _file_names(root), True
                file_keys = None if files is None else utf8_names(files)
            # a folder read by name only: the name itself, else its other spelling
            there = (utf8_name(name) in file_keys if file_keys is not None
                     else any(os.path.isfile(root / n) for n in file_system_names(name)))
        try:
            found = lookup.find(root, name, sidecar=there)  # no sidecar looked for if not there
        except SidecarError as exc:
            if not skip_unreadable:
                raise
            unreadable[name] = str(exc)
            continue
        if found is not None:
            counts[found.source] += 1
        records.append(CaptionRecord(name, found.captions if found else ()))
    captioners = {}
    if lookup.named is not None:
        captioners["named"] = lookup.named.captioners
    folder_file = lookup.folder_file(root) if lookup.named is None else None
    if folder_file is not None:  # read already: it lists the images
        captioners["folder"] = folder_file.captioners
    kept = [r.file for r in records]
    return FolderCaptions(records, {k: n for k, n in counts.items() if n},
                          captioners, lookup.has_source(root, kept), unreadable)


def _spelled(name: str, given: dict[str, None], by_bytes: dict[str, str]) -> str:
    """``name`` as ``given`` (the names of a folder's images; ``by_bytes``: each by
    :func:`taco.messages.utf8_name`, the first where two read the same) spells it: itself where
    one is so spelled, else the one whose bytes read as UTF-8 are ``name``'s, else ``name``."""
    return name if name in given else by_bytes.get(utf8_name(name), name)


def _file_names(folder: Path) -> set[str] | None:
    """The names of the files in ``folder`` (links to files too; none if there is no such
    folder); None if it is there but cannot be listed (mode 711: its files open by name only)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries if e.is_file()}
    except (FileNotFoundError, NotADirectoryError):
        return set()
    except OSError:
        return None


def _check_image_names(path: Path, records: list[CaptionRecord]) -> None:
    """A :class:`CaptionsFileError` naming the line of the captions file ``path`` whose image
    is not a file inside the folder (:func:`image_name_problem`), if one is."""
    for record in records:
        problem = image_name_problem(record.file)
        if problem is not None:
            line_no = _line_of(path, record.file)
            where = f"{path}:{line_no}" if line_no else str(path)
            raise CaptionsFileError(
                f"{where}: the image {record.file!r:.60} {problem}; a captions file names its "
                "folder's images by their path inside it (photo.jpg, or sub/photo.jpg)")


def _line_of(path: Path, image: str) -> int | None:
    """The number of the first line of the captions file ``path`` that lists ``image`` (read
    again to say where a name it has is refused); None when none does (the file changed)."""
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape") as f:
            line_no = 0
            while line := f.readline(CAPTIONS_LINE_MAX_CHARS + 1):
                line_no += 1
                listed: dict[str, list[str]] = {}
                try:
                    _read_line(path, line_no, line, listed, {})
                except CaptionsFileError:
                    continue
                if image in listed:
                    return line_no
    except OSError:
        pass
    return None


def has_captions(
    root: str | os.PathLike[str], images: Iterable[str], captions_file: str | os.PathLike[str] | None = None
) -> bool:
    """Whether the images of folder ``root`` have a caption source, without reading one: the
    named ``captions_file`` exists, or (none named) ``root/captions.jsonl`` or a sidecar of one
    of ``images`` does."""
    if captions_file is not None:
        return Path(captions_file).is_file()
    return CaptionLookup().has_source(Path(root), images)


class CocoCaptionsError(TacoError, ValueError):
    """A COCO captions object (:func:`coco_caption_records`) with a malformed entry: one line
    saying which (``images[3]``, ``annotations[7]``) and why, without the file's name, which
    the caller adds."""


class CocoCaptionRecords(NamedTuple):
    """A COCO captions file's images with their captions (:func:`coco_caption_records`)."""

    #: Each image by its id, in the file's order of images, with the captions of the
    #: annotations naming it, as written (not stripped, blank ones kept), in annotation order;
    #: none for an image no annotation names.
    images: dict[int, CaptionRecord]
    #: ``(index in annotations, image_id)`` of each annotation whose id no image has.
    unmatched: list[tuple[int, int]]


def _coco_id(value: object) -> int | None:
    """A COCO id as its number, None for a value that is no id. An id is a whole number: an
    integer, a number with no fraction (``74.0``) or a string of one (``"74"``, as ``int()``
    reads it), so ``74`` and ``"74"`` name one image; not true or false, not ``1.5``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # not inf, not nan
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:  # not a number, or over int()'s digits
            return None
    return None


def _shown(value: object) -> str:
    """A JSON value as its first 60 characters of JSON, for a message; one nested too deeply
    to write (a RecursionError) as what it is."""
    try:
        return json.dumps(value)[:60]
    except RecursionError:
        return "an array or object nested too deeply to show"


def coco_caption_records(data: object) -> CocoCaptionRecords:
    """A COCO captions file's object (``captions_val2014.json``: ``{"images": [{"id",
    "file_name"}, ...], "annotations": [{"image_id", "caption"}, ...]}``, other keys ignored) ->
    its images with their captions, by id (:class:`CocoCaptionRecords`).

    The one reader of the format: ``coco40k:`` (:class:`taco.data.CocoCaptions`) and ``taco
    import-captions`` (:func:`taco.evaluation.import_captions.read_caption_json`) both read it
    here, with one rule for ids (:func:`_coco_id`: whole numbers, ``"74"`` being ``74``) and for
    malformed entries: an image without a string ``file_name`` or an id, two images of one id,
    an annotation without a string ``caption`` or an ``image_id`` are a
    :class:`CocoCaptionsError`, as is a ``data`` that is no object of two lists. What the two
    keep of the rest differs by purpose, so it is given to them, not decided here: an image
    no annotation names and an annotation naming no image (:attr:`CocoCaptionRecords.unmatched`)
    are left out of a training set (its images are the captioned ones), and refused by
    ``import-captions``, whose captions file would otherwise list an image without a caption
    or lose a caption unseen. Both strip the captions and drop blank ones, as every taco reader
    of captions does. Imports no torch (``import-captions`` runs without it).
    """
    if not (isinstance(data, dict) and isinstance(data.get("images"), list)
            and isinstance(data.get("annotations"), list)):
        raise CocoCaptionsError('a COCO captions file is an object with lists "images" and "annotations"')
    images: dict[int, CaptionRecord] = {}
    for i, im in enumerate(data["images"]):
        image_id = _coco_id(im.get("id")) if isinstance(im, dict) else None
        if image_id is None or not isinstance(im.get("file_name"), str):
            raise CocoCaptionsError(f'images[{i}] of a COCO captions file must have an "id" and a "file_name" '
                                    f'(an id is a whole number, "74" or 74), got {_shown(im)}')
        if image_id in images:
            raise CocoCaptionsError(f"images[{i}] has the id {im['id']!r:.30} of an image before it")
        images[image_id] = CaptionRecord(im["file_name"], ())
    captions: dict[int, list[str]] = {image_id: [] for image_id in images}
    unmatched: list[tuple[int, int]] = []
    for i, ann in enumerate(data["annotations"]):
        image_id = _coco_id(ann.get("image_id")) if isinstance(ann, dict) else None
        if image_id is None or not isinstance(ann.get("caption"), str):
            raise CocoCaptionsError(f'annotations[{i}] of a COCO captions file must have an "image_id" and a '
                                    f'"caption" (a COCO captions_*.json), got {_shown(ann)}')
        if image_id in captions:
            captions[image_id].append(ann["caption"])
        else:
            unmatched.append((i, image_id))
    return CocoCaptionRecords(
        {image_id: CaptionRecord(record.file, tuple(captions[image_id])) for image_id, record in images.items()},
        unmatched)
