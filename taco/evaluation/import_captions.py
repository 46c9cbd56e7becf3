"""``taco import-captions``: caption JSON files (the authors', COCO's) -> taco's ``captions.jsonl``.

effl-lab/TACO publishes the captions of its evaluation sets beside its code (``materials/``), in
three JSON layouts (read from their repository and their loaders; the files are not shipped here):

* ``{"kodim01.png": "a brick building with red doors and windows", ...}``: one caption per
  image. ``kodak_ofa.json`` (24 images) and ``clic_ofa.json`` (428), captions made by OFA, read
  by ``datasets_image_cap.py`` for the Kodak / CLIC evaluation.
* ``{"COCO_val2014_000000000073.jpg": ["...", "...", ...], ...}``: several captions per image.
  ``mscoco_val41k_img_cap_pair.json`` (MS-COCO val2014, human captions), which
  ``generate_images_mscoco30k.py`` iterates caption by caption.
* ``["COCO_val2014_000000338840.jpg", ...]``: image names only. ``mscoco_30k_list.json``
  (30,504 val2014 images, the authors' "MS-COCO 30k"); it holds no captions, so it is given as
  ``--images`` to choose the images of a captions file.

Other tools' captions are read too: a COCO captions file (``captions_val2014.json``:
``{"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}``, every caption of
an image kept; read by :func:`taco.captions_file.coco_caption_records`, as ``coco40k:`` reads it,
an id a whole number, ``"74"`` the same as ``74``) and ``{"image": NAME, "caption": CAPTION}``
objects (the name's key ``image``, ``file`` or ``file_name``, the captions' ``caption``,
``captions`` or ``text``: a string or a list of strings), a list of them, one alone or one a line
(JSON Lines: a captions.jsonl of taco's is read too, with a warning that taco reads it as it is).
Any other layout is refused naming these.

Each image becomes one line ``{"image": NAME, "captions": [...], "captioner": SOURCE}`` (the
format of :class:`taco.data.CaptionedFolder` and ``taco caption``), sorted by name as the
authors' loaders sort them; an image named twice in one object (``{"a.png": "x", "a.png":
"y"}``) keeps the captions of both, in file order, as repeated lines of a captions.jsonl merge
(a plain JSON reader keeps the last alone). Blank captions are dropped; an image left without
any is an error,
as is a name that leads outside the images' folder (an absolute path, a ``..`` part), one
whose name or captions hold a lone surrogate (``"\\udc80"``, which no UTF-8 file can
hold) or whose line would be over :data:`taco.captions_file.CAPTIONS_LINE_MAX_CHARS` characters
(taco's reader refuses it). The command line is in :mod:`taco.evaluation.cli`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from taco.atomic import write_text_atomic
from taco.captions_file import (
    CAPTIONS_LINE_MAX_CHARS,
    CaptionRecord,
    CocoCaptionsError,
    coco_caption_records,
    image_name_problem,
    is_caption_line,
)
from taco.messages import locale_hint, lone_surrogate, shown_path, stdin_refused

from ..errors import TacoError, TacoWarning, warn_at_caller
from ..fileobjects import read_file_within
from ..jsonfiles import UTF16_TEXT, JSONFileTooLarge, load_json, utf16_start

__all__ = [
    "CAPTION_JSON_MAX_BYTES",
    "CaptionImportError",
    "captions_jsonl_text",
    "import_captions",
    "read_caption_json",
    "read_image_list",
    "write_captions_jsonl",
]


class CaptionImportError(TacoError, ValueError):
    """A caption JSON file that cannot be imported (unreadable, another layout, missing images)."""


#: The largest caption JSON read, in bytes: a larger one is refused before it is read (parsing
#: takes several times a file's size: a 300 MB one peaked at 900 MB; a COCO captions file of
#: 100 MB, 118k images and 592k captions as ``captions_train2017.json``, at 530 MB, in 4 s). The
#: authors' largest, ``mscoco_val41k_img_cap_pair.json`` (about 41k images, five captions each),
#: is some 15 MB by that count (not measured: the file is not shipped here); COCO's
#: ``captions_train2017.json`` has some 92 MB.
CAPTION_JSON_MAX_BYTES = 256 * 2**20


class _Repeated(list[Any]):
    """The values of a key that a JSON object repeats (``{"a.png": "x", "a.png": "y"}``), in
    file order (:func:`_keeping_repeats`)."""


def _keeping_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs -> a dict in which a key given more than once maps to all its values
    (:class:`_Repeated`), where ``json`` keeps the last alone."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], _Repeated):
            out[key].append(value)
        else:
            out[key] = _Repeated([out[key], value])
    return out


class _Lines(list[tuple[int, Any]]):
    """The objects of a JSON Lines file, one a line: (line number, value) (:func:`_json_lines`)."""


def _load_json(given: str | os.PathLike[str], *, lines: bool = False) -> tuple[object, str]:
    """The JSON value in ``given`` and the file's text (UTF-8, a byte-order mark at its start
    taken, read only within :data:`CAPTION_JSON_MAX_BYTES`, as :func:`taco.jsonfiles.read_json`
    reads a file), keeping the values of a key an object repeats (:func:`_keeping_repeats`); or a
    :class:`CaptionImportError` naming it and saying why. ``lines``: a file of one JSON object a
    line (JSON Lines, a captions.jsonl) is read as such, its value a :class:`_Lines`
    (:func:`_json_lines`). ``-`` as given is no stream here (the captioner recorded is the file's
    name): when no file ``-`` is there it is refused in the words of the other commands that read
    no standard input (name a file, ``./-`` for a file named ``-``); a missing ``./-`` is a file
    not there (the test is of the name as given: ``Path("./-")`` is ``-``). ``/dev/stdin`` is
    read (once: its text is kept)."""
    name = os.fspath(given)  # as given, in the messages: ./- is no -
    try:
        data, size = read_file_within(Path(given), CAPTION_JSON_MAX_BYTES)
    except OSError as exc:
        if name == "-" and isinstance(exc, FileNotFoundError):  # a file named - is read
            raise CaptionImportError(stdin_refused("import-captions")) from None
        raise CaptionImportError(f"{name}: cannot read ({exc.strerror})") from None
    if size > CAPTION_JSON_MAX_BYTES:
        raise CaptionImportError(f"{name}: {JSONFileTooLarge(size, CAPTION_JSON_MAX_BYTES)} from a caption JSON")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaptionImportError(f"{name}: cannot be read as JSON "
                                 f"({UTF16_TEXT if utf16_start(data) else 'not UTF-8 text'})") from None
    try:
        return load_json(text, object_pairs_hook=_keeping_repeats), text
    except json.JSONDecodeError as exc:
        found = _json_lines(name, text) if lines and exc.msg == "Extra data" else None
        if found is None:
            raise CaptionImportError(f"{name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        return found, text
    except ValueError as exc:  # a number of thousands of digits, arrays nested thousands deep
        raise CaptionImportError(f"{name}: cannot be read as JSON ({exc})") from None


def _json_lines(name: str, text: str) -> _Lines | None:
    """The objects of ``text`` read as JSON Lines (one JSON value a line, blank lines skipped),
    when its first line that is not blank is one JSON object alone (else None: JSON with extra
    data, refused as it is); a line that is not JSON is then a :class:`CaptionImportError` naming
    it. Lines end with ``\\n`` (a ``\\r`` before it is no part of the line), as JSON Lines do."""
    numbered = [(n, line.removesuffix("\r")) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    try:
        if not numbered or not isinstance(load_json(numbered[0][1]), dict):
            return None
    except ValueError:
        return None
    found = _Lines()
    for n, line in numbered:
        try:
            found.append((n, load_json(line, object_pairs_hook=_keeping_repeats)))
        except json.JSONDecodeError as exc:
            raise CaptionImportError(f"{name}: line {n} is not valid JSON ({exc.msg}, column {exc.colno}); "
                                     "the file is read as JSON Lines, one object a line") from None
        except ValueError as exc:
            raise CaptionImportError(f"{name}: line {n} cannot be read as JSON ({exc})") from None
    return found


def _clean(captions: Iterable[str]) -> list[str]:
    return [c.strip() for c in captions if c.strip()]


#: The layouts :func:`read_caption_json` reads, as its refusals name them.
_LAYOUTS = ('{"NAME": "CAPTION", ...}, {"NAME": ["CAPTION", ...], ...}, a COCO captions file '
            '({"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}), '
            '{"image": "NAME", "caption": "CAPTION"} alone or one a line (JSON Lines), or a list of such '
            'objects')

#: The keys of an image's name and of its captions in a list of objects, either of each.
_NAME_KEYS = ("image", "file", "file_name")
_CAPTION_KEYS = ("caption", "captions", "text")


def read_caption_json(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """A caption JSON file -> ``{image name: [captions]}``.

    Takes ``{NAME: CAPTION}`` (the authors' OFA files) and ``{NAME: [CAPTION, ...]}`` (their COCO
    pairs); a COCO captions file (``captions_val2014.json``: ``{"images": [{"id", "file_name"},
    ...], "annotations": [{"image_id", "caption"}, ...]}``, every caption of an image kept, in
    annotation order, as ``coco40k:`` reads it); and objects, one per image or per caption,
    naming the image by ``image``, ``file`` or ``file_name`` and its captions by ``caption``,
    ``captions`` or ``text`` (a string or a list of strings): a list of them, one alone (an
    object with any of those keys is one image's, not ``{NAME: CAPTION}``), or one a line (JSON
    Lines, as a captions.jsonl: its first line that is not blank one object, each line read as an
    item of a list; a file taco's captions reader takes as it is, one line or more, is read so
    with a :class:`~taco.errors.TacoWarning` saying so). UTF-8, a byte-order mark at the start
    taken. A list of names (``mscoco_30k_list.json``) has no captions and is
    refused with a hint to pass it as ``--images``; any other layout is refused naming those read.
    A ``NAME`` that names no file inside the images' folder (an absolute path, a ``..`` part:
    :func:`taco.captions_file.image_name_problem`) is refused, as taco's datasets would refuse
    its line. A ``NAME`` given twice (``{"a.png": "first", "a.png": "second"}``, two objects or
    two COCO images of one file name) keeps the captions of both, in file order, as a
    captions.jsonl's lines naming one image merge (:func:`taco.captions_file.read_captions_file`).
    """
    data, text = _load_json(path, lines=True)
    raw = data
    path = os.fspath(path)  # as given, in the messages: ./- is no -
    if isinstance(data, _Lines):
        data = _from_objects(path, [(f"line {n}", item) for n, item in data])
    elif isinstance(data, list):
        if data and all(isinstance(n, str) for n in data):
            raise CaptionImportError(
                f"{path} is a list of {len(data)} image names without captions: give it with "
                "--images LIST.json, and a captions file (e.g. mscoco_val41k_img_cap_pair.json) as FILE"
            )
        data = _from_objects(path, [(f"item {i} of the list", item) for i, item in enumerate(data)])
    elif isinstance(data, dict) and _is_coco(data):
        data = _from_coco(path, data)
    elif isinstance(data, dict) and any(k in data for k in (*_NAME_KEYS, *_CAPTION_KEYS)):
        data = _from_objects(path, [("the object", data)])  # one image's, not {NAME: captions}
    if not isinstance(data, dict) or not data:
        raise CaptionImportError(
            f"{path}: expected {_LAYOUTS}; got "
            f"{'an empty list' if raw == [] else 'an empty object' if data == {} else type(data).__name__}"
        )
    out: dict[str, list[str]] = {}
    for name, given in data.items():
        if not name.strip():
            raise CaptionImportError(f"{path}: an image name is empty")
        _check_name(path, name)
        value: list[str] = []
        for one in given if isinstance(given, _Repeated) else [given]:  # a name given twice: both
            if isinstance(one, str):
                one = [one]
            if not isinstance(one, list) or not all(isinstance(v, str) for v in one):
                raise CaptionImportError(
                    f"{path}: the captions of {name!r:.60} must be a string or a list of strings, "
                    f"got {json.dumps(one)[:60]} (the layouts read: {_LAYOUTS})"
                )
            value += one
        captions = _clean(value)
        if not captions:
            raise CaptionImportError(f"{path}: {name!r:.60} has no caption (only blank text)")
        in_name = lone_surrogate(name)  # where, in the text as written (not stripped)
        bad = in_name or next(filter(None, map(lone_surrogate, value)), None)
        if bad is not None:
            which = "the image name" if in_name else "a caption of"
            raise CaptionImportError(f"{path}: {which} {name!r:.60} holds {bad}, which UTF-8 cannot write")
        out[name] = captions
    if isinstance(raw, (_Lines, dict)) and out and _captions_file_text(text):
        warn_at_caller(f"{shown_path(path)} is in taco's captions.jsonl format already (JSON Lines): taco "
                       "reads it as it is, no import needed (taco evaluate --captions FILE, or the file saved "
                       "as captions.jsonl beside the images)", TacoWarning)
    return out


def _captions_file_text(text: str) -> bool:
    """Whether taco's reader of a captions file takes ``text`` as it is: every line a record
    (:func:`taco.captions_file.is_caption_line`; one at least), a blank line none."""
    lines = text.split("\n")
    return any(line.strip() for line in lines) and all(map(is_caption_line, lines))


def _from_objects(path: str, items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Objects, each naming an image and its captions (:data:`_NAME_KEYS`,
    :data:`_CAPTION_KEYS`), ``(where, object)`` (``where``: "item 3 of the list", "line 4",
    "the object", in a refusal) -> ``{NAME: _Repeated([captions value, ...])}``; any other value
    is refused naming the layouts read."""
    out: dict[str, Any] = {}
    for where, item in items:
        shown = f"{path}: {where}, {json.dumps(item)[:60]},"
        if not isinstance(item, dict):
            raise CaptionImportError(f"{shown} is no object (the layouts read: {_LAYOUTS})")
        names = [k for k in _NAME_KEYS if k in item]
        texts = [k for k in _CAPTION_KEYS if k in item]
        if len(names) != 1 or len(texts) != 1:
            keys, what = (_NAME_KEYS, "an image name") if len(names) != 1 else (_CAPTION_KEYS, "its captions")
            raise CaptionImportError(f"{shown} must give {what} by one of {', '.join(map(repr, keys))}")
        name = item[names[0]]
        if not isinstance(name, str):
            raise CaptionImportError(f"{shown} names no image: {names[0]!r} must be a string")
        out.setdefault(name, _Repeated()).append(item[texts[0]])
    return out


def _is_coco(data: dict[str, Any]) -> bool:
    """Whether ``data`` is a COCO captions file's object rather than ``{NAME: captions}``: it has
    ``images`` and ``annotations``, neither a caption or list of captions."""
    def captions(value: object) -> bool:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))

    return "images" in data and "annotations" in data and not (
        captions(data["images"]) or captions(data["annotations"]))


def _from_coco(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """A COCO captions file's object -> ``{file_name: _Repeated([caption, ...])}``, every caption
    of an image in annotation order, read by :func:`taco.captions_file.coco_caption_records` (as
    ``coco40k:`` reads one: its rule for ids and malformed entries). Where a training set
    leaves them out, an image no annotation describes and an annotation of an id no image has
    are a :class:`CaptionImportError` here: the captions file written would list an image
    without a caption, or lose a caption unseen."""
    try:
        coco = coco_caption_records(data)
    except CocoCaptionsError as exc:
        raise CaptionImportError(f"{path}: {exc}") from None
    if coco.unmatched:
        i, image_id = coco.unmatched[0]
        raise CaptionImportError(f"{path}: annotations[{i}] names the image_id {image_id!r:.30}, which no image has")
    out: dict[str, Any] = {}
    for image_id, record in coco.images.items():
        if not record.captions:
            raise CaptionImportError(f"{path}: {record.file!r:.60} (id {image_id!r:.30}) has no caption: no "
                                     "annotation names its id")
        out.setdefault(record.file, _Repeated()).extend(record.captions)
    return out


def _check_name(path: str, name: str) -> None:
    """A :class:`CaptionImportError` for an image ``name`` in ``path`` that names no file inside
    the folder its captions.jsonl describes (:func:`taco.captions_file.image_name_problem`: an
    absolute path, a ``..`` part): taco's datasets refuse such a line."""
    problem = image_name_problem(name)
    if problem is not None:
        raise CaptionImportError(f"{path}: the image name {name!r:.60} {problem}; names are "
                                 "paths inside the images' folder (photo.jpg, or sub/photo.jpg)")


def read_image_list(path: str | os.PathLike[str]) -> list[str]:
    """A JSON list of image names (the authors' ``mscoco_30k_list.json``), duplicates removed;
    each must name a file inside the images' folder, as in :func:`read_caption_json`."""
    data, _ = _load_json(path)
    path = os.fspath(path)  # as given, in the messages: ./- is no -
    if not isinstance(data, list) or not data or not all(isinstance(n, str) and n for n in data):
        raise CaptionImportError(f'{path}: expected a non-empty JSON list of image names ["NAME", ...]')
    for name in data:
        _check_name(path, name)
    return list(dict.fromkeys(data))


def import_captions(
    captions_json: str | os.PathLike[str], images: str | os.PathLike[str] | None = None
) -> list[CaptionRecord]:
    """The records of ``captions_json`` (see :func:`read_caption_json`), sorted by image name.

    ``images``: a JSON list of names (:func:`read_image_list`); then exactly those images are
    kept, and one of them without a caption in ``captions_json`` is an error.
    """
    table = read_caption_json(captions_json)
    names = sorted(table)
    if images is not None:
        wanted = read_image_list(images)
        missing = [n for n in wanted if n not in table]
        if missing:
            raise CaptionImportError(
                f"{len(missing):,} of the {len(wanted):,} images in {os.fspath(images)} have no "
                f"caption in {os.fspath(captions_json)}, e.g. {', '.join(f'{n!r:.60}' for n in missing[:3])}"
            )
        names = sorted(wanted)
    return [CaptionRecord(n, tuple(table[n])) for n in names]


def write_captions_jsonl(
    records: Sequence[CaptionRecord], path: str | os.PathLike[str], captioner: str, *,
    replace: bool = True,
) -> Path:
    """Write ``records`` as ``captions.jsonl`` lines (:func:`captions_jsonl_text`) atomically:
    a complete file or none; ``replace=False``: only if ``path`` does not exist when it is
    published, else :class:`FileExistsError` naming it (:func:`taco.atomic.write_text_atomic`)."""
    return write_text_atomic(path, captions_jsonl_text(records, captioner), replace=replace)


def captions_jsonl_text(records: Sequence[CaptionRecord], captioner: str) -> str:
    """``records`` as the text of a ``captions.jsonl`` file, one line a record, each naming
    ``captioner``.

    A record whose line would be over :data:`~taco.captions_file.CAPTIONS_LINE_MAX_CHARS`
    characters (a caption of millions of characters, hundreds of thousands of captions) is a
    :class:`CaptionImportError` naming its image, and nothing is written: taco's reader of the
    file would refuse that line. So is a ``captioner`` that UTF-8 cannot encode (a lone
    surrogate: :func:`taco.messages.lone_surrogate`; where its bytes are UTF-8 text the locale's
    encoding could not read, ``LC_ALL=C``, with :func:`taco.messages.locale_hint`).
    """
    bad = lone_surrogate(captioner)
    if bad is not None:
        hint = locale_hint(captioner)
        raise CaptionImportError(f"the captioner name {captioner!r:.60} holds {bad}, which a UTF-8 captions "
                                 "file cannot hold; give it as UTF-8 text" + (f" ({hint})" if hint else ""))
    lines = []
    for r in records:
        line = json.dumps({"image": r.file, "captions": list(r.captions), "captioner": captioner},
                          ensure_ascii=False)
        if len(line) > CAPTIONS_LINE_MAX_CHARS:
            raise CaptionImportError(
                f"the captions of {r.file!r:.60} make a line of {len(line):,} characters, over the "
                f"{CAPTIONS_LINE_MAX_CHARS:,} taco reads from a captions file; shorten them")
        lines.append(line + "\n")
    return "".join(lines)
