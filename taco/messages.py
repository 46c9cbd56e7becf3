"""Text for a person: text taken from a file (a colour profile's name, a checkpoint's training
record) made safe to show in a one-line message (a hostile file must not break lines or send a
terminal escape codes), counts of things in the right number, the first few of a list of them
(:func:`some`), the refusal of ``-`` by a command that reads no standard input
(:func:`stdin_refused`), where the docs a message names are (:func:`docs_ref`), the hint after a name
taco does not know (:func:`did_you_mean`), what keeps a text from being UTF-8
(:func:`lone_surrogate`) and the setting that reads it (:func:`locale_hint`, :func:`locale_hint_of`), a file's name as a message shows it (:func:`shown_path`), what keeps a text
from being shown so as it is (:func:`unprintable`), and as a command a message suggests names it (:func:`shell_word`), a command's note on stderr (:func:`note`) and its warnings (:func:`warning_printer`), written by
:func:`to_stderr`, which a closed stderr does not stop."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .progress import bar_shown

__all__ = ["SHOWN_PATH_LIMIT", "count", "did_you_mean", "docs_ref", "locale_hint_of",
           "lone_surrogate", "note", "one_line", "shell_word", "shown_path", "some", "stdin_refused", "to_stderr", "unprintable",
           "utf8_names", "warning_printer"]


#: Format characters, unprintable to Python, that are parts of text and that no message escapes:
#: the zero-width non-joiner and joiner (words of Persian and Indic scripts, emoji: a family, a
#: rainbow flag), the zero-width space (the word breaks of Thai, Khmer, Lao, Burmese text), and the
#: weak bidi marks ALM, LRM and RLM (U+061C, U+200E, U+200F: in Arabic and Hebrew names, where a
#: mark may set where a number or bracket goes; one cannot reverse the rest of a line as an
#: override or isolate does).
_SHOWN_FORMAT = "\u200c\u200d\u200b\u061c\u200e\u200f"


def one_line(text: str, limit: int = 80) -> str:
    """``text`` with whitespace runs as one space, other unprintable characters (control and
    escape codes, bidi overrides and isolates, invisible ones: what :func:`shown_path` escapes,
    and more) as ``?``, cut to ``limit`` characters (ending ``...``). The zero-width non-joiner,
    joiner and space and the bidi marks ALM, LRM, RLM (:data:`_SHOWN_FORMAT`) stay, as
    :func:`shown_path` keeps them: emoji, Persian, Indic, Thai, Arabic and Hebrew text need
    them."""
    text = "".join(c if c.isprintable() or c in _SHOWN_FORMAT else "?" for c in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: What a file's name must not put into a message as it is: the C0 controls (line feed, carriage
#: return, ESC, ...), DEL, the C1 controls (NEL, CSI, ...), the line and paragraph separators, the
#: bidi embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069: a right-to-left
#: override shows the rest of the line reversed, ``photo\u202egnp.exe`` as ``photoexe.png``, in a
#: terminal or CI log viewer that lays out bidi text), the invisible word joiner and byte-order
#: mark (U+2060, U+FEFF: ``g\u2060h.png`` looks like ``gh.png``), and lone surrogates
#: (surrogateescape's stand-ins for the bytes of a name that is not UTF-8). The zero-width
#: non-joiner, joiner and space and the weak bidi marks stay (:data:`_SHOWN_FORMAT`): Thai
#: names break words with U+200B, Arabic and Hebrew ones may hold an RLM.
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]")

#: What :func:`unprintable` refuses in a text given to be shown (a ``--label``): the C0 controls,
#: DEL, the C1 controls, the line and paragraph separators (each breaks a line or drives the
#: terminal) and the bidi embeddings, overrides and isolates (each can reverse the rest of a
#: line). Of what :func:`shown_path` escapes, the word joiner and byte-order mark are taken:
#: invisible, not harmful, and shown escaped wherever they are shown.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069]")


#: The most characters :func:`shown_path` gives of a path that may be a file's contents: a str of
#: image data read as a path (base64 text) would otherwise be repeated whole in its error
#: (hundreds of kB on one line).
SHOWN_PATH_LIMIT = 200


def shown_path(path: object, limit: int | None = None) -> str:
    """``path`` (a file's name, a path) as a message shows it: as it is, but for the characters
    that would break the message's line, drive the terminal or fail to print (:data:`_UNSHOWABLE`),
    each written as ``repr`` writes it (``\\n``, ``\\x1b``, ``\\x85``, ``\\u2028``, ``\\u202e``,
    ``\\udcff``), without ``repr``'s quotes (the message has its own, or none) and without
    doubling backslashes (a Windows path looks as it is). Spaces and letters of any script are
    shown unchanged; the result has no character this changes, so showing it again gives it
    back. Every message and report line that names a file given by a user or found in a folder
    names it so. Any object is shown (bytes and paths decoded as the file system does; an
    OSError's ``filename`` may be None). With ``limit`` (:data:`SHOWN_PATH_LIMIT` for a path
    that may be a file's contents given as a str) a longer text is cut to that many characters,
    ending ``… (N characters)``; without it nothing is cut (a whole message line is shown so
    too)."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)  # also None
    text = _UNSHOWABLE.sub(lambda m: repr(m.group())[1:-1], text)
    if limit is None or len(text) <= limit:
        return text
    cut = f"… ({len(text):,} characters)"
    return text[: limit - len(cut)] + cut


def unprintable(text: str) -> str | None:
    """What keeps ``text`` (a curve's label, a caption mode's text) from being shown as it is in
    a line of a message, a summary or a Markdown table, None when nothing does: its first
    character of :data:`_UNPRINTABLE` (a control character such as a line feed, which would end
    the line and start a forged one, or ESC, which drives the terminal; a line or paragraph
    separator; a bidi embedding, override or isolate, which can show the rest of the line
    reversed), where it is (1-based) and its code point, e.g. ``a control character at
    character 2, U+001B``, ``a line separator at character 5, U+2028``, ``a right-to-left
    override at character 3, U+202E``. Text of any script is taken, with the marks it may need
    (the zero-width space of Thai, an RLM or ALM in Arabic or Hebrew, a word joiner, a byte-order
    mark: the last two are shown escaped, :func:`shown_path`); a lone surrogate is left to
    :func:`lone_surrogate`, whose words say what it may have been. ``taco evaluate --label``,
    ``--anchor``, ``--title``, ``taco import-captions --captioner`` and ``fixed:TEXT`` refuse such
    text (:func:`taco.evaluation.defaults.caption_mode_problem`, before torch loads); a result
    file's label holding one is read and shown escaped."""
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "").lower()  # a line separator, ...
    kind = ("a control character" if unicodedata.category(char) == "Cc"
            else f"{'an' if name[:1] in 'aeiou' else 'a'} {name}" if name else "an unprintable character")
    return f"{kind} at character {found.start() + 1}, U+{ord(char):04X}"


def shell_word(path: object, words: str | None = None) -> str:
    """``path`` (a file's or folder's name, a path) as one word of a command that a message
    suggests, such that a POSIX shell, the command pasted, reads it as that path: quoted as
    :func:`shlex.quote` quotes it (``'my runs/r 1'``, ``'it'"'"'s'``; a plain ``runs/x`` as it
    is), and a name starting with ``-`` written ``./-x`` (else the command reads it as options;
    the same file). A name holding a character that :func:`shown_path` escapes (a line feed, a
    terminal escape, a byte that is not UTF-8) cannot be written so: pasted, its shown form would
    name another file. For it: ``words``, where the caller gives them (``naming this file``, for
    ``decode with --model naming this file``), else its shown form quoted so (one word, as the
    rest of the message names it). Every command a message suggests names its files so."""
    text = os.fsdecode(path) if isinstance(path, (bytes, os.PathLike)) else str(path)
    shown = shown_path(text)
    if shown != text and words is not None:
        return words
    return shlex.quote(f"./{shown}" if shown.startswith("-") else shown)


def to_stderr(text: str, stream: Any = None, *, end: str = "\n", above_bar: bool = False) -> None:
    """Write ``text`` and ``end`` (a line, by default) to ``stream`` (default: stderr), flushed;
    ``above_bar``: above a progress bar that may be on the line (``tqdm.write`` while one is,
    :func:`taco.progress.bar_shown`; else straight to the stream: where no bar was ever drawn,
    ``tqdm.write`` would create tqdm's multiprocessing lock, which fixes the start method of the
    program taco is in). Stderr carries notes, warnings and progress, never a command's data:
    where it is a pipe whose reader went away (``taco compress ... 2>&1 >log | head -1``), a full
    disk (``2>/dev/full``) or a terminal that hung up (EIO), that is no reason to stop the work
    (it ended a batch with status 141, or 1, writing nothing): on any OSError its file
    descriptor is pointed at the null device (:func:`drop_stream`) and this text and the rest go
    nowhere. No stderr at all (``sys.stderr`` None: ``pythonw``, a windowed app, a process
    started with ``2>&-``) takes the text nowhere too. Every write of taco's to stderr but the
    progress bar's own goes through here."""
    stream = sys.stderr if stream is None else stream
    if stream is None:  # no stderr: tqdm.write would fall back to stdout, the caller's data
        return
    try:
        if above_bar and bar_shown():
            sys.modules["tqdm"].tqdm.write(text, file=stream, end=end)
        else:
            stream.write(text + end)
        stream.flush()
    except OSError:  # EPIPE, ENOSPC, EIO: stderr is gone
        drop_stream(stream)


def drop_stream(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device (it can no longer be written: see
    :func:`to_stderr`), and flush what it still holds there. A stream without one (a test's
    capture) is left as it is."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
    try:
        stream.flush()
    except OSError:
        pass


def note(command: str, text: str) -> None:
    """Say ``text`` as ``command``'s note (``taco compress: note: TEXT``) on stderr, flushed: a
    note comes before the work it is about, which may take long (or print to stdout meanwhile).
    Every command says its notes so, the library's long jobs (``taco evaluate``) in their
    command's voice; its warnings come as ``taco CMD: warning: ...`` (:func:`warning_printer`). A note
    is one line: the file names in it are shown as :func:`shown_path` shows them."""
    to_stderr(f"taco {command}: note: {shown_path(text)}")


def warning_printer(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` for one command: warnings outside an image's own lines, each
    text once and without source code: taco's own (a photo's colour profile met in training,
    which names the photo) as ``taco CMD: warning: MESSAGE``, a library's
    (deprecations, ...) as ``warning: CATEGORY: MESSAGE``. Python's "default" action means once
    per place, but every ``catch_warnings`` forgets which places have warned (a training run
    loading a photo with a colour profile each epoch would say so each epoch). Installed by
    :mod:`taco.cli` for every command, and by ``taco train``'s DataLoader workers, which a spawn
    start method (macOS, Windows) starts without it. A warning is one line, shown as
    :func:`shown_path` shows a text: a file's name in it (a captions file's, a folder's) sends no
    escape code to the terminal and breaks no line."""
    shown: set[str] = set()

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        ours = category.__module__.partition(".")[0] == "taco"  # without importing them here
        text = f"taco {command}: warning: {message}" if ours else f"warning: {category.__name__}: {message}"
        text = shown_path(text)
        if text not in shown:
            shown.add(text)
            to_stderr(text, file, above_bar=True)  # a progress bar may be on the line (taco train)

    return show


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the right number, thousands grouped by commas: ``1 image``,
    ``0 images``, ``1,234 steps``; ``plural`` where adding an s does not make it
    (``count(6, "patch", "patches")``)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def some(items: Sequence[object], shown: int = 3, sep: str = ", ") -> str:
    """The first ``shown`` of ``items`` and how many more, for one line: ``a, b, c and 2 more``
    (``a`` alone, ``a and 2 more`` with ``shown=1``, ``""`` for none). ``sep`` joins them; items
    that hold commas (whole sentences) are joined by ``"; "``, and the rest then follows as one
    more item: ``a; b; c; and 2 more``. Every message that names some of many things says so.
    Paths among ``items`` are shown as :func:`shown_path` shows them."""
    text = sep.join(shown_path(item) if isinstance(item, os.PathLike) else str(item)
                    for item in items[:shown])
    if len(items) <= shown:
        return text
    return f"{text}{' ' if sep == ', ' else sep}and {len(items) - shown:,} more"


#: Where the files a wheel lacks are (docs/, configs/, tests/: the wheel is the package alone;
#: the sdist grafts them, MANIFEST.in), as every message and help text says it.
SOURCE_TREE = "in taco's source tree (a checkout or the sdist)"

#: What a path that is there but no regular file or folder is, as every refusal says it (a
#: named pipe's open may wait forever; a device may never end).
SPECIAL_FILE = "a pipe, a device or a socket"


def stdin_refused(command: str) -> str:
    """The refusal of ``-`` by ``taco COMMAND``, which reads no standard input, as every such
    command words it (:func:`taco.cli.files.refuse_stdin`, ``taco import-captions``'s caption
    JSON): ``-`` is standard input to ``taco compress``, ``decompress`` and ``info``, so it names
    no file ``-`` anywhere (``./-`` does)."""
    return f"-: taco {command} does not read standard input: name a file (./- for a file named -)"


def docs_ref(name: str, section: str | None = None) -> str:
    """Where to read more, as every message and help text says it: ``docs/NAME`` (and its
    ``section``) in the source tree, which a wheel lacks (the wheel is the package alone; the sdist
    grafts docs/, MANIFEST.in): ``docs_ref("models.md", "Adding a backbone")`` is
    ``docs/models.md, "Adding a backbone", in taco's source tree (a checkout or the sdist)``."""
    page = f'docs/{name}, "{section}",' if section else f"docs/{name}"
    return f"{page} {SOURCE_TREE}"


def did_you_mean(name: str, candidates: Iterable[str], *, prefix: str = "",
                 key: Callable[[str], str] | None = None) -> str:
    """The hint after a ``name`` taco does not know: ``" (did you mean 'a' or 'b'?)"`` (leading
    space included) with the at most three ``candidates`` closest to it (difflib), each shown
    after ``prefix`` (the folder part of a path whose file name was matched, the section of a
    config key); "" when none is close. ``key``: the part of each name that is compared (a
    file's name without its ending, which would otherwise make any two checkpoint files look
    alike). Names are compared case-folded (``TACO-MINILM-SMALL-Q4`` is close to
    ``taco-minilm-small-q4``, which the hint names as it is spelled: the names themselves are not
    matched so). Every "unknown model" and "unknown config key" message says its hint this way."""
    def compared(text: str) -> str:
        return (key(text) if key else text).casefold()

    by_form: dict[str, list[str]] = {}
    for candidate in candidates:
        by_form.setdefault(compared(candidate), []).append(candidate)
    forms = difflib.get_close_matches(compared(name), list(by_form), n=3, cutoff=0.6)
    close = [c for form in forms for c in by_form[form]][:3]
    return f" (did you mean {' or '.join(repr(prefix + c) for c in close)}?)" if close else ""


def lone_surrogate(text: str) -> str | None:
    """What keeps ``text`` from being UTF-8 text, None when nothing does: its first lone
    surrogate (U+D800..U+DFFF, no character: a JSON ``\\ud800`` escape gives one, and so does
    surrogateescape for a byte that is not UTF-8, in a command-line argument), where it is
    (1-based) and what it may have been, e.g. ``a lone surrogate at character 5, U+DCFF (a
    \\udcff escape, or the byte 0xff of text that is not UTF-8)``.

    The one check of every caption taco takes: ``normalize_caption`` (compress, the CLI,
    training), the captions-file reader and ``taco import-captions``.
    """
    try:  # a lone surrogate is all UTF-8 cannot encode; 10,000 characters: 0.3-12 us, a regex 72 us
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        at = e.start
    else:
        return None
    code = ord(text[at])
    was = (f"a \\u{code:04x} escape, or the byte 0x{code - 0xDC00:02x} of text that is not UTF-8"
           if 0xDC80 <= code <= 0xDCFF else f"a \\u{code:04x} escape: no character")
    return f"a lone surrogate at character {at + 1}, U+{code:04X} ({was})"


def locale_hint(text: str) -> str:
    """For text (an argument, a file name) whose lone surrogates are the UTF-8 bytes of text the
    locale's encoding could not read (``LC_ALL=C`` without Python's UTF-8 mode: ascii), how to
    have them read as UTF-8: ``the locale's encoding is ascii, which cannot read these UTF-8
    bytes: set LC_ALL=C.UTF-8 or PYTHONUTF8=1``; else "" (bytes that are not UTF-8 under any
    locale, a JSON ``\\udcxx`` escape under a UTF-8 locale)."""
    import codecs

    encoding = sys.getfilesystemencoding()
    if codecs.lookup(encoding).name == "utf-8":
        return ""
    try:
        os.fsencode(text).decode("utf-8")
    except UnicodeError:
        return ""
    return (f"the locale's encoding is {encoding}, which cannot read these UTF-8 bytes: set "
            "LC_ALL=C.UTF-8 or PYTHONUTF8=1")


def locale_hint_of(names: Iterable[str]) -> str:
    """The :func:`locale_hint` of the first of ``names`` (files a command could not match: no
    caption, no image) that holds a lone surrogate and has one, else "": the hint a line naming
    them ends with. A name without lone surrogates (read by the locale, as a Latin-1 locale reads
    UTF-8 bytes) gives none: another locale would not match it either."""
    return next(filter(None, (locale_hint(name) for name in names if lone_surrogate(name))), "")


def utf8_name(name: str | os.PathLike[str]) -> str:
    """A file's name as JSON output writes it, the same under every locale: its bytes read as UTF-8
    where they are UTF-8 (``LC_ALL=C`` without Python's UTF-8 mode reads the UTF-8 name
    ``café.png`` as ``caf\\udcc3\\udca9.png``: ``café.png`` again), else as the locale read them
    (``café.png`` named in Latin-1 under a Latin-1 locale), each byte that no encoding read
    written as :func:`utf8_text` writes it (``\\xff``): UTF-8 text any JSON reader takes."""
    text = os.fspath(name)
    try:
        text = os.fsencode(text).decode("utf-8")
    except UnicodeError:  # not UTF-8 (or text no bytes hold, a \ud800): as the locale read it
        pass
    return str(utf8_text(text))


def utf8_names(names: Iterable[str]) -> dict[str, str]:
    """Each of ``names`` (of files) by its :func:`utf8_name` -> the first of them that reads so:
    how a name as a captions file or another locale spells it (``café.png``) finds the file's
    (``caf\\udcc3\\udca9.png`` under ``LC_ALL=C``). One :func:`utf8_name` a name: a folder of
    COCO's 82,783 names best makes it only when a name is not there as given."""
    table: dict[str, str] = {}
    for name in names:
        table.setdefault(utf8_name(name), name)
    return table


def utf8_text(value: Any) -> Any:
    """``value`` (text, or JSON data: every string and key in it) as UTF-8 text can hold it: each
    byte that is not UTF-8 (a lone surrogate U+DC80..U+DCFF, as Python reads such a byte of a
    path) written as ``\\xff``, any other lone surrogate (a JSON ``\\ud800`` escape) as
    ``\\ud800``: ``"/data/\\udcffset"`` -> ``"/data/\\\\xffset"``; the rest as it is."""
    if isinstance(value, str):
        if lone_surrogate(value) is None:
            return value
        return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
                       else f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    if isinstance(value, dict):
        return {utf8_text(k): utf8_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [utf8_text(v) for v in value]
    if isinstance(value, tuple):
        return tuple(utf8_text(v) for v in value)
    return value

