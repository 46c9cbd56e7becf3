"""A caller's binary file object (``open(path, "rb")``, ``io.BytesIO``, a pipe), read to its end
or within a bound:
what :func:`taco.compress` takes for an image and :func:`taco.decompress` / :func:`taco.info` for
a ``.taco`` file; a file by its path, read whole within a bound (:func:`read_file_within`); the
text of a path checked before the disk is asked about it (:func:`checked_path`); the one form
names compared for being one file are reduced to (:func:`name_key`), and whether two names are
one folder (:func:`same_folder`); a file taco writes by a name of its own that is a link, which it
never writes through, and the one line refusing it (:func:`own_file_problem`); and a zip
archive's records checked before ``torch.load`` inflates them (:func:`zip_inflation_problem`);
and a torch file's pickles checked for objects built of shared parts repeated past a bound,
before ``torch.load`` hashes or walks them whole (:func:`pickle_expansion_problem`).
Imports nothing but the standard library (the bottom layer).
"""

from __future__ import annotations

import base64
import errno
import functools
import io
import os
import pickletools
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import TacoError
from .filekinds import TACO_MAGIC, image_kind
from .messages import SHOWN_PATH_LIMIT, shell_word, shown_path

__all__ = ["PICKLE_EXPANSION_LIMIT", "READ_PIECE_BYTES", "STR_IS_A_PATH_HINT", "ZIP_MAGIC", "checked_file_path",
           "checked_path", "file_object_name", "is_base64_file_data", "is_file_object", "name_key", "own_file_problem",
           "pickle_expansion_problem", "read_at_most", "read_file_object",
           "read_file_within", "same_folder", "zip_inflation_problem"]

#: The most :func:`read_at_most` asks of ``read(n)`` at once (1 MiB).
READ_PIECE_BYTES = 1 << 20


def is_file_object(value: object) -> bool:
    """Whether ``value`` is read with ``.read()``: a file object of any kind (text ones included,
    for :func:`read_file_object` to refuse with a message)."""
    return callable(getattr(value, "read", None))


#: What a message adds when a str cannot be a path but may be a file's contents (base64 text,
#: ``request.text``, bytes decoded as text): where the file's bytes are also taken, how to pass them.
STR_IS_A_PATH_HINT = "a str is read as a path; pass the file's bytes (bytes, e.g. base64.b64decode(s))"


@functools.cache
def path_limit() -> int:
    """The most characters the system takes in a path (``PATH_MAX``: 4096 on Linux, 1024 on
    macOS; 32,767 where it cannot say, Windows' longest), asked once: :func:`checked_path` runs
    for every image of a batch."""
    try:
        return os.pathconf("/", "PC_PATH_MAX")
    except (AttributeError, OSError, ValueError):
        return 32767


def checked_path(path: str | os.PathLike[str], error: Callable[[str, str], Exception], *,
                 takes_bytes: bool = True,
                 not_found: Callable[[str, str], Exception] | None = None) -> Path:
    """``path`` as a ``Path``, once its text can name a file; ``error(shown, reason)`` is raised
    for text that cannot (``shown``: the path as :func:`taco.messages.shown_path` shows it, a
    null byte written ``\\x00``):
    the empty path (``"an empty path"``: ``Path("")`` is the current folder, so a blank variable
    would be read as ``.``) and a path holding a null byte (no file name can, and ``os.stat`` and
    ``open`` refuse it with a ValueError, not the OSError a caller catches for every other path
    that cannot be read: too long, a symlink loop, not permitted). An error class taking
    ``(path, reason)`` serves as ``error``. Where the path is looked at, the caller turns that
    OSError into the same error. A ``str`` longer than the system's :func:`path_limit` is most
    likely a file's contents (base64 text, ``request.text``): with ``takes_bytes`` (the caller
    also takes the file's bytes) the reason says to pass them (:data:`STR_IS_A_PATH_HINT`), and so
    it does for a longer ``str`` holding a null byte (data decoded as text), and for a shorter one
    that names no file (not found, or a name too long) and is base64 of an image or a ``.taco``
    file (:func:`is_base64_file_data`: a small image's is 300 characters), named as shortened;
    ``not_found`` (default ``error``) is raised for such a str that names no file."""
    text = os.fspath(path)
    if not text:
        raise error(text, "an empty path")
    at = text.find("\x00")
    long = isinstance(path, str) and len(text) > path_limit()
    hint = f"; {STR_IS_A_PATH_HINT}" if takes_bytes and long else ""
    if at >= 0:
        raise error(shown_path(text, SHOWN_PATH_LIMIT),
                    f"the path holds a null byte (character {at + 1}), which no file name can{hint}")
    if long:
        raise error(shown_path(text, SHOWN_PATH_LIMIT), f"too long for a path ({len(text):,} "
                    f"characters, the system's limit is {path_limit():,}){hint}")
    if takes_bytes and isinstance(path, str) and is_base64_file_data(text):
        try:
            os.stat(text)
        except OSError as exc:
            shown = shown_path(text, SHOWN_PATH_LIMIT)
            if exc.errno == errno.ENOENT:
                raise (not_found or error)(shown, f"file not found; {STR_IS_A_PATH_HINT}") from None
            if exc.errno == errno.ENAMETOOLONG:
                raise error(shown, f"a file name too long; {STR_IS_A_PATH_HINT}") from None
    return Path(text)


def is_base64_file_data(text: str) -> bool:
    """Whether ``text`` is base64 (whitespace aside) of an image or a ``.taco`` file: its bytes
    start with :data:`taco.filekinds.TACO_MAGIC` or an image's signature
    (:func:`taco.filekinds.image_kind`). A file name is almost never base64 (its ``.`` is not)."""
    try:
        head = base64.b64decode("".join(text.split()), validate=True)[:16]
    except ValueError:  # binascii.Error (not base64), or text not ASCII
        return False
    return head.startswith(TACO_MAGIC) or image_kind(head) is not None


def checked_file_path(path: str | os.PathLike[str], error: Callable[[str, str], Exception]) -> Path:
    """``path`` as :func:`checked_path` takes it, for a file to be written: ``error(shown,
    reason)`` is also raised for a path that names a folder, not a file: one whose last part as
    typed is empty, ``.`` or ``..`` (``"."``, ``"/"``, ``"x/.."``, which ``pathlib`` and
    ``os.replace`` refuse with a bare ValueError or EBUSY; ``"runs/"`` and ``"x/."``, which
    ``pathlib`` reads as ``runs`` and ``x`` and would write as a file of that name) or an
    existing folder (``"runs"``: ``os.replace`` refuses it with a bare IsADirectoryError)."""
    checked = checked_path(path, error, takes_bytes=False)
    text = os.fspath(path)
    if os.path.basename(text) in ("", ".", "..") or os.path.isdir(text):
        raise error(shown_path(text), "the path names a folder, not a file")
    return checked


def name_key(name: str) -> str:
    """The one form of a file name that names compared for being one file are reduced to: in
    Unicode's composed form (NFC) and case-folded one character at a time, as macOS file systems
    compare names (Photo and photo, and café with its é composed or decomposed, are one name
    there) and Windows' compare case (its folding makes ς and σ one letter, as ``casefold``
    does and ``lower`` does not). Neither folds one character into several, so a character
    whose ``casefold`` is longer is only lower-cased: Straße and strasse, ﬁle and file, are
    two names there and here (İ, whose ``lower`` is two characters too, stays as it is)."""
    return "".join(_fold_one(ch) for ch in unicodedata.normalize("NFC", name))


def _fold_one(ch: str) -> str:
    """``ch`` case-folded as :func:`name_key` folds it: one character, never several."""
    for folded in (ch.casefold(), ch.lower()):
        if len(folded) == 1:
            return folded
    return ch


def file_object_name(stream: Any, default: str) -> str:
    """What messages call ``stream``: its ``name`` (a path for ``open``), else ``default``."""
    name = getattr(stream, "name", None)
    return str(name) if isinstance(name, str) and name else default


def read_file_object(stream: Any, what: str, error: Callable[[str], Exception],
                     limit: int | None = None) -> bytes:
    """All of ``stream``'s bytes from where it stands, or with ``limit`` at most that many
    (:func:`read_at_most`). A TypeError for a text-mode file, before anything is read (decoding a
    PNG as UTF-8 fails first, with a UnicodeDecodeError), and for a ``read()`` that gives no bytes
    (``None``: a non-blocking stream with nothing ready). ``error(reason)`` is raised for a stream
    already at its end (the ``BytesIO`` written to and not rewound); ``what`` names the kind of
    file in messages (``"an image"``, ``"a .taco file"``)."""
    if isinstance(stream, io.TextIOBase) or getattr(stream, "encoding", None) is not None:
        raise TypeError(f"a file object of {what} must be opened in binary mode ('rb'), not "
                        "text mode")
    data = _read_bytes(stream, None, what) if limit is None else read_at_most(stream, limit, what)
    if not data:
        try:
            position = stream.tell()
        except (AttributeError, OSError, ValueError):  # a pipe cannot tell
            position = 0
        if position:
            raise error(f"the file object is at its end (position {position:,}): nothing left "
                        "to read (seek(0) first)")
    return data


def read_at_most(stream: Any, limit: int, what: str) -> bytes:
    """Up to ``limit`` bytes of binary ``stream`` from where it stands: fewer only at its end.
    Read :data:`READ_PIECE_BYTES` at a time, as ``read(n)`` may give fewer than ``n`` (a pipe, a
    raw file) and a buffered file's ``read(n)`` takes ``n`` bytes of memory before it reads (a
    bound of 8 GiB asked for 8 GiB to read a 126-byte file); a TypeError as in
    :func:`read_file_object` for a ``read()`` that gives ``None`` or no bytes object (``what``
    names the file in it)."""
    buffer = io.BytesIO()  # grows in place; getvalue() hands over its bytes without a copy
    while buffer.tell() < limit:
        part = _read_bytes(stream, min(limit - buffer.tell(), READ_PIECE_BYTES), what)
        if not part:
            break
        buffer.write(part)
    return buffer.getvalue()


def _read_bytes(stream: Any, size: int | None, what: str) -> bytes:
    """``stream.read(size)`` (``read()`` for None) as bytes: a TypeError for ``None`` (a
    non-blocking stream with nothing ready) and for anything but a bytes-like object (a text-mode
    file object that :func:`read_file_object` could not tell by its type); ``what`` names the
    file in it."""
    data = stream.read() if size is None else stream.read(size)
    if data is None:
        raise TypeError(f"the file object of {what} had no bytes ready (a non-blocking stream): "
                        "give a blocking one, or its bytes")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"a file object of {what} must be opened in binary mode ('rb'): its "
                        f"read() gave {type(data).__name__}")
    return bytes(data)


def read_file_within(path: str | os.PathLike[str], limit: int) -> tuple[bytes, int]:
    """The bytes of the file at ``path`` and its size, the bytes read only when that size is at
    most ``limit``: a larger regular file is left unread (its size from the file system), one
    that grew since, or a pipe, is read to one byte past ``limit`` at most. The caller refuses
    ``size > limit`` in its own words (the bytes are then empty or cut short). An ``OSError``
    opening or reading it is raised."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(limit + 1) if size <= limit else b""
    return data, max(size, len(data))


#: What a file that ``torch.load`` reads as a zip archive starts with (a zip's local file header;
#: torch looks at these 4 bytes only, any other file is a pickle to it).
ZIP_MAGIC = b"PK\x03\x04"


def same_folder(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether the folders ``a`` and ``b`` are one: by identity (device and inode) where both
    exist, so another name of it is caught too (``Photos`` for ``photos`` on macOS and Windows, a
    bind mount), which ``resolve`` does not merge; by resolved path where one does not exist yet.
    ``~`` is not expanded: give names as the user meant them."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def own_file_problem(path: str | os.PathLike[str], *, in_place: bool = False, writer: str,
                     otherwise: str) -> str | None:
    """Why taco will not write ``path``, one of its own files (a name taco gives a file in a
    folder: ``captions.jsonl`` of an image folder, a run's ``log.jsonl``, ``taco evaluate``'s
    ``rd.svg``), as the whole refusal in one line, or None. ``writer`` says who writes it how
    (``"a run writes its own files in its folder"``), ``otherwise`` the other way out
    (``"go on in another folder (--out-dir DIR)"``); the rest is composed here alone:

    - a symbolic link, dangling or not: ``"PATH is a symbolic link (to TARGET): WRITER, never
      through a link; remove the link (or put a copy of what it links to in its place), or
      OTHERWISE"``. taco never writes its own files through a link: one planted in a folder a
      user downloads would have taco write any file the user may write (an output the user
      names is written through a link, as ``cp`` does);
    - with ``in_place`` (taco appends to the file or truncates it, not replacing it by a new
      file), a regular file with other names: ``"PATH is a hard link (a file with N names, which
      a write here would change too): WRITER; give it a copy of its own (cp PATH PATH.copy && mv
      PATH.copy PATH), or OTHERWISE"``. Removing it would lose this folder's log, results or
      captions (hours to make again); the copy keeps them and leaves the other names alone
      (``PATH`` shell-quoted in the commands where it needs quoting, ``./-x`` for a name
      starting with ``-``; for a name holding a character a message shows escaped, a line feed
      or a terminal escape, the way in words, no command: pasted, it would name another file).

    A path missing or that cannot be looked at is None: the write says why. Reads no file; the
    standard library only."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    shown = shown_path(path)
    if stat.S_ISLNK(st.st_mode):
        try:
            target = f" (to {shown_path(os.readlink(path))})"
        except OSError:
            target = ""
        return (f"{shown} is a symbolic link{target}: {writer}, never through a link; remove the link "
                f"(or put a copy of what it links to in its place), or {otherwise}")
    if in_place and stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return (f"{shown} is a hard link (a file with {st.st_nlink} names, which a write here would "
                f"change too): {writer}; give it a copy of its own ({_copy_advice(os.fsdecode(path), shown)}), "
                f"or {otherwise}")
    return None


def _copy_advice(text: str, shown: str) -> str:
    """The commands that give the file ``text`` (``shown``: as :func:`shown_path` shows it) a copy
    of its own, as a POSIX shell runs them pasted: ``cp X X.copy && mv X.copy X``, each name as
    :func:`shell_word` writes it (``'my log.jsonl'``; ``./-x`` for a name starting with ``-``,
    else ``cp`` reads it as options). A name holding a character that :func:`shown_path` escapes
    (a line feed, a terminal escape, a byte that is not UTF-8) cannot be shown as it is: no command
    is given, which pasted would name another file, but the way in words."""
    if shown != text:
        return ("copy it to another name and move the copy back over it; its name holds characters "
                "that cannot be shown here, so no command is given")
    name, copy = shell_word(text), shell_word(f"{text}.copy")
    return f"cp {name} {copy} && mv {copy} {name}"


def zip_inflation_problem(path: str | os.PathLike[str], factor: int = 2) -> str | None:
    """Why the file at ``path`` must not be handed to ``torch.load``, read from its zip records
    alone; None when it is not a zip (torch reads it as a pickle) or its records are fine.

    ``torch.save`` stores every record of its zip uncompressed (``ZIP_STORED``), so what loading
    takes is about the file's size; torch's reader inflates a deflated record all the same, whole,
    into memory: a 3.5 MB file of 3 GiB of zeros imported at 3.6 GB peak (12 MB would ask
    12 GiB), before any check of the tensors could run (and with ``mmap=True`` takes its
    compressed bytes for the tensor's). Refused: a record of another kind, records
    declaring more than ``factor`` times the file's size in all, a zip that cannot be read (torch
    would read it with its own parser; one that starts as a zip but lacks its directory is said
    to be truncated, where torch said "failed finding central directory" and zipfile "File is not
    a zip file"), and a file that cannot be opened."""
    try:
        with open(path, "rb") as f:
            if f.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
                return None
            size = os.fstat(f.fileno()).st_size
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                records = archive.infolist()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    except zipfile.BadZipFile as exc:  # it starts as a zip: a download or copy cut short
        if "not a zip file" in str(exc):  # zipfile's words for a zip without its directory
            return ("an incomplete zip archive: it starts as one, but its end (the zip directory) "
                    "is missing (truncated? download or copy it again)")
        return f"a damaged zip archive ({exc}; truncated? download or copy it again)"
    except (ValueError, EOFError, NotImplementedError) as exc:
        # ValueError: a name not in its declared encoding; NotImplementedError: a zip version
        # past what Python reads
        return f"not a readable zip archive ({exc})"
    for record in records:
        if record.compress_type != zipfile.ZIP_STORED:
            return (f"its zip record {record.filename!r:.80} is compressed (method "
                    f"{record.compress_type}), which torch.save never writes: loading would "
                    f"inflate it whole ({record.file_size:,} bytes) before it could be checked")
    declared = sum(record.file_size for record in records)
    if declared > factor * size:
        return (f"its zip records declare {declared:,} bytes, more than the {size:,}-byte file "
                "stores: not a file torch.save wrote")
    return None


#: The most items the objects of a torch file's pickle may add up to, counting a part each time
#: it is used (:func:`pickle_expansion_problem`), besides 8 per opcode: a real checkpoint's count
#: grows with its opcodes, at most 4 per opcode (a 37 M-parameter ELIC's state dict 48,303 for
#: 17,130 opcodes; a Hugging Face ``pytorch_model.bin`` 4,277 for 1,564; LPIPS' heads 1,722 for
#: 444), a tuple nested 24 deep of shared halves 100 M for 82.
PICKLE_EXPANSION_LIMIT = 10**7

#: What :func:`_pickle_expansion` does for each opcode, by its name: ``(kind, below, marked)``,
#: taking ``below`` objects (under the mark for a ``marked`` one, which takes everything down to
#: it first). Kinds: "put" the top into the memo (at its index; "memoize": the memo's length), "get"
#: one from it, "dup" the top again, "add" to the object below what it takes (a list, a dict, a
#: set, an object's state: APPEND, SETITEMS, BUILD, ...), "mark" a mark, "new" a new object,
#: "none" nothing (POP, STOP, PROTO).
_OPCODE_STEPS: dict[str, tuple[str, int, bool]] = {
    op.name: ("put" if op.name in ("PUT", "BINPUT", "LONG_BINPUT")
              else "memoize" if op.name == "MEMOIZE"
              else "get" if op.name in ("GET", "BINGET", "LONG_BINGET")
              else "dup" if op.name == "DUP"
              else "add" if op.name in ("APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD")
              else "mark" if op.stack_after == [pickletools.markobject]
              else "new" if op.stack_after else "none",
              (op.stack_before.index(pickletools.markobject) if pickletools.markobject in op.stack_before
               else len(op.stack_before)),
              pickletools.markobject in op.stack_before)
    for op in pickletools.opcodes}
#: The longest line a text opcode's argument is read within (a protocol-0 string, a global's
#: name): a longer one ends the scan, where a file's line would be read whole.
_PICKLE_LINE_BYTES = 1 << 20
#: The pickles a non-zip torch file starts with (``torch.save``'s legacy format: a magic
#: number, the protocol, system information, the object, its storages' keys), each of which
#: ``torch.load`` unpickles before the raw data that follows them.
_LEGACY_PICKLES = 5


class _WithinFile:
    """A binary file read as ``pickletools.genops`` reads it, from its start: no read past the
    file's end asked for (an argument declaring 2**62 bytes) and a line read within
    :data:`_PICKLE_LINE_BYTES`."""

    def __init__(self, f: Any, size: int) -> None:
        self.f, self.left = f, size

    def read(self, n: int) -> bytes:
        data = self.f.read(min(n, self.left))
        self.left -= len(data)
        return data

    def readline(self) -> bytes:
        data = self.f.readline(min(_PICKLE_LINE_BYTES, self.left))
        self.left -= len(data)
        return data


class _Unfollowed(TacoError, ValueError):
    """A pickle whose opcodes :func:`_pickle_expansion` cannot follow (left to ``torch.load``)."""


def _pickle_expansion(stream: Any, limit: int) -> tuple[int, int] | None:
    """``(items, opcodes)`` where the objects one pickle of ``stream`` builds (to its ``STOP``)
    count past ``limit`` plus 8 per opcode, else None (the pickle fits); :class:`_Unfollowed`
    where its opcodes cannot be followed (an unknown opcode, an argument cut short, the stack or
    the memo lacking what an opcode takes).

    An abstract stack machine over the opcodes: each opcode takes its ``stack_before`` (down to
    the mark where it takes one) and puts a new object of 1 + the sizes it took (an opcode adding
    to a list, a dict, a set or an object's state adds them to that object, kept on the stack); a
    memo get puts the object the memo put recorded, its size as it is now. Every size made or
    added counts: what unpickling hashes and copies, and what a walk of the loaded object visits,
    is at most that much, where a shared part counts each time it is used (a tuple nested 40 deep
    of one shared half is 80 opcodes and 2**40 items)."""
    stack: list[list[int] | None] = []  # a size in a list (shared through the memo), None a mark
    memo: dict[Any, list[int]] = {}
    total = opcodes = 0

    def pop() -> list[int]:
        if not stack or (item := stack.pop()) is None:
            raise _Unfollowed
        return item

    try:
        for op, arg, _ in pickletools.genops(stream):
            opcodes += 1
            kind, below, marked = _OPCODE_STEPS[op.name]
            if kind == "put" or kind == "memoize":
                memo[len(memo) if kind == "memoize" else arg] = top = pop()
                stack.append(top)
            elif kind == "get":
                if arg not in memo:
                    raise _Unfollowed
                stack.append(memo[arg])
            elif kind == "dup":
                stack.extend([top := pop(), top])
            elif kind == "mark":
                stack.append(None)
            else:
                taken: list[list[int]] = []
                if marked:  # everything down to the mark, then what lies below it
                    while stack and stack[-1] is not None:
                        taken.append(pop())
                    if not stack:
                        raise _Unfollowed
                    stack.pop()
                taken.extend(pop() for _ in range(below))
                if kind == "add":
                    target = taken.pop()
                    added = sum(item[0] for item in taken)
                    target[0] += added
                    total += added
                    stack.append(target)
                elif kind == "new":
                    made = [1 + sum(item[0] for item in taken)]
                    total += made[0]
                    stack.append(made)
                if total > limit + 8 * opcodes:
                    return total, opcodes
    except ValueError:  # genops: an unknown opcode, an argument cut short, the end before STOP
        raise _Unfollowed from None
    return None


def pickle_expansion_problem(path: str | os.PathLike[str], limit: int = PICKLE_EXPANSION_LIMIT) -> str | None:
    """Why the torch file at ``path`` must not be handed to ``torch.load``, read from its pickles
    alone: objects that, counting a shared part each time it is used, add up past ``limit`` items
    plus 8 per opcode (:data:`PICKLE_EXPANSION_LIMIT`); else None. Unpickling hashes a dict's key
    whole: a 1.4 KB file keyed by a tuple nested 28 deep of shared halves (2**28 tuples) took
    seconds in ``torch.load(weights_only=True)``, twice as long a level deeper (40: hours), and
    any walk of what it loads likewise. The pickles read are those ``torch.load`` unpickles: a
    zip's ``data.pkl`` records (the caller checks the zip's records first,
    :func:`zip_inflation_problem`, which bounds what is read here), or the five a legacy file
    starts with (no further: its raw data follows). A pickle whose opcodes cannot be followed
    (and, in a legacy file, any after it), or a file that cannot be read, is left to
    ``torch.load``, which says why. The standard library only."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if f.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
                f.seek(0)
                with zipfile.ZipFile(f) as archive:
                    for record in archive.infolist():
                        if record.filename == "data.pkl" or record.filename.endswith("/data.pkl"):
                            found = _pickle_expansion(io.BytesIO(archive.read(record)), limit)
                            if found:
                                return _expansion_message(f"pickle {record.filename!r:.80}", *found, limit)
                return None
            f.seek(0)
            stream = _WithinFile(f, size)
            for number in range(1, _LEGACY_PICKLES + 1):
                found = _pickle_expansion(stream, limit)
                if found:
                    return _expansion_message(f"pickle number {number} (of the {_LEGACY_PICKLES} a "
                                              "legacy torch file starts with)", *found, limit)
    except (_Unfollowed, OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return None  # (torch.load, or zip_inflation_problem before it, says why)
    return None


def _expansion_message(what: str, total: int, opcodes: int, limit: int) -> str:
    """The refusal of :func:`pickle_expansion_problem`, in one line (``total`` items counted
    when the count passed the bound, over ``opcodes`` opcodes)."""
    return (f"its {what} builds objects repeating shared parts past {limit + 8 * opcodes:,} items "
            f"in {opcodes:,} opcodes (over 2**{total.bit_length() - 1}; unpickling would hash or copy "
            "every repeat): not a checkpoint's weights")
