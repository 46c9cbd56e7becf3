"""Safetensors files of bounded size: one file when it fits, else shards plus a JSON index.

    save_sharded(tensors, "run/checkpoint.safetensors", metadata, max_bytes=SHARD_BYTES)
    tensors, metadata = load_sharded("run/checkpoint.safetensors")     # either layout
    read = read_once("run/checkpoint.safetensors")    # metadata, shapes(), tensors(): one file's

A tensor dict that serialises to at most ``max_bytes`` is written as ``NAME.safetensors``, a
plain safetensors file. A larger one goes to ``NAME-<tag>-00001-of-0000N.safetensors`` ... (each
at most ``max_bytes``, header included) and ``NAME.safetensors.index.json``::

    {"format": "taco-shards", "version": 1,
     "metadata": {...},                                   # the safetensors metadata (str -> str)
     "shards": [{"file": "NAME-<tag>-00001-of-00002.safetensors", "bytes": n, "sha256": "..."}],
     "weight_map": {"tensor name": "NAME-<tag>-00001-of-00002.safetensors", ...}}

Why: files that must travel through a channel with a per-file limit (16 MB here: what comes
back from a rented GPU machine) and that a loader can still check. Every shard is written
atomically under a name no earlier write used (the tag), then the index atomically, then the
shards of the previous write are removed: a process killed at any point leaves either the old or
the new checkpoint complete, and the index's SHA-256 per shard refuses a mixed set. A reader
that read the previous index and then finds one of its shards removed by that save reads the new
index and loads again (a few times at most): a load during a save gives the old or the new
checkpoint, never an error; a shard missing while the index stays as it was is an error.

A plain file of up to :data:`READ_WHOLE_MAX_BYTES` is read in one open, its metadata and shapes
taken from the bytes its tensors come from: a file another process puts in its place meanwhile
(``os.replace``) is never half read (a larger one is mapped: header and tensors in two reads).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from .atomic import remove_stale_temporaries, special_file, stale_temporaries, write_bytes_atomic
from .checks import is_int, positive_int_argument
from .errors import TacoError, TacoValueError, TacoWarning, warn_at_caller
from .filekinds import image_file_problem
from .jsonfiles import JSONFileTooLarge, format_problem, is_file_name, json_object, read_json_object
from .memory import allocation_failure
from .messages import SPECIAL_FILE

if TYPE_CHECKING:
    import torch

_T = TypeVar("_T")

#: The per-file limit for checkpoints a user keeps: 16 MB (10^6), under 16 MiB with room to spare.
SHARD_BYTES = 16_000_000
INDEX_SUFFIX = ".index.json"
#: The largest shard index taco reads, in bytes. A real one is a few KB (about 100 bytes per
#: tensor); parsing JSON takes up to some 30 times its size (4 MiB of ``[],[],...`` peaked at
#: 120 MB, 60 MB at 1.5 GB), so a larger file is refused before it is read.
INDEX_MAX_BYTES = 4 * 2**20
#: The largest safetensors header (the JSON after the file's first 8 bytes: tensor names, dtypes,
#: shapes, offsets and the metadata) taco lets safetensors read, in bytes. The built-ins' are 40 to
#: 44 kB; the taco header in one is at most 1 MiB characters (taco.models.header.MAX_HEADER_CHARS).
#: safetensors itself reads up to 100 MB: a 90 MB one peaked at 0.9 GB before that bound refused
#: it; a larger one is now refused from its 8-byte length, before safetensors is called.
SAFETENSORS_HEADER_MAX_BYTES = 4 * 2**20
#: Bits per element of each dtype a safetensors header may name (those safetensors 0.8 reads).
_DTYPE_BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
               "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16,
               "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64,
               "F64": 64, "I64": 64, "U64": 64}
INDEX_FORMAT = "taco-shards"
INDEX_VERSION = 1
#: The checkpoint a training run writes into its folder: a folder given for a checkpoint
#: (``--model RUN``, ``init_from: RUN``) means this file in it.
CHECKPOINT_FILE = "checkpoint.safetensors"
#: The other files a training run writes into its folder (taco.train writes them by these names):
#: what tells a run's folder from any other when it has no checkpoint yet.
TRAIN_STATE_FILE = "train_state.safetensors"
RUN_CONFIG_FILE = "config.yaml"
RUN_LOG_FILE = "log.jsonl"
RUN_FILES = (RUN_CONFIG_FILE, RUN_LOG_FILE)
#: The safetensors metadata key of a training state (what tells it from a model checkpoint).
TRAIN_STATE_KEY = "taco_train_state"


class ShardedFileError(TacoError, ValueError):
    """A sharded safetensors set is missing a shard, has a changed shard, or a bad index; or a
    safetensors file (plain or a shard) is not one safetensors reads, or declares a header over
    :data:`SAFETENSORS_HEADER_MAX_BYTES`."""


def check_header_size(path: Path, index: Path | None = None) -> None:
    """Refuse the safetensors file ``path`` if the header length in its first 8 bytes (little
    endian) is over :data:`SAFETENSORS_HEADER_MAX_BYTES`: a :class:`ShardedFileError` naming it
    (a shard by its ``index`` and its name), before safetensors reads the header. A file whose
    size is under those 8 bytes is a ShardedFileError from its size, unread (``/proc/kmsg``, 0
    bytes to ``stat``, blocks a read for ever); one whose header would run past its end is left
    to safetensors (which refuses it unread); an ``OSError`` opening it is raised. A named pipe,
    a device or a socket (or a link to one), whose open or read may wait forever, is a
    ShardedFileError before it is opened."""
    if special_file(path):
        which = f"{index}: shard {path.name} is" if index else f"{path}:"
        raise ShardedFileError(f"{which} not a regular file ({SPECIAL_FILE})")
    with Path(path).open("rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        if file_size < 8:  # nothing to read: refused before a read that may block
            why = f"{file_size} bytes, too short for the 8 that give its header's length"
            raise ShardedFileError(f"{index}: shard {path.name} cannot be read ({why})" if index
                                   else f"{path}: not a safetensors file ({why})")
        start = f.read(8)
    _check_declared_size(path, index, start, file_size)


def _check_declared_size(path: Path, index: Path | None, start: bytes, file_size: int) -> None:
    """:func:`check_header_size`'s refusal, from a file's first 8 bytes (``start``) and size."""
    if len(start) < 8:
        return
    size = int.from_bytes(start, "little")
    if SAFETENSORS_HEADER_MAX_BYTES < size <= file_size - 8:
        which = f"{index}: shard {path.name} has" if index else f"{path}:"
        raise ShardedFileError(f"{which} a safetensors header of {size:,} bytes, over the "
                               f"{SAFETENSORS_HEADER_MAX_BYTES:,} taco reads (the built-ins' are "
                               "about 40 kB)")


def _read_header(file: Path, index: Path | None = None
                 ) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]]:
    """(metadata, name -> (shape, dtype)) from the header of the safetensors file ``file``, read
    here rather than by safetensors' ``safe_open``, which imports numpy (half of ``taco models``'
    time), and checked as safetensors checks a file it opens: a JSON object of known dtypes,
    shapes and offsets that tile the data after the header exactly. :func:`check_header_size`
    first; a file that is not safetensors is a ValueError saying why (under :func:`_reading`,
    ``FILE: not a safetensors file (why)``)."""
    check_header_size(file, index)
    with Path(file).open("rb") as f:
        start, raw, file_size = _header_bytes(f)
    return _parse_header(start, raw, file_size)


def _header_bytes(f: BinaryIO) -> tuple[bytes, bytes, int]:
    """(the first 8 bytes, the header they declare (at most :data:`SAFETENSORS_HEADER_MAX_BYTES`
    of it), the file's size) of the safetensors file open as ``f`` at its start."""
    start = f.read(8)
    file_size = os.fstat(f.fileno()).st_size
    size = int.from_bytes(start, "little") if len(start) == 8 else 0
    return start, f.read(min(size, SAFETENSORS_HEADER_MAX_BYTES)), file_size


def _header_of(file: Path, data: bytes
               ) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]]:
    """:func:`_read_header` of the plain safetensors file ``file`` whose every byte is ``data``
    (read before): from those bytes, not from the file again, which may be another one by now."""
    start = data[:8]
    _check_declared_size(file, None, start, len(data))
    size = int.from_bytes(start, "little") if len(start) == 8 else 0
    return _parse_header(start, data[8:8 + min(size, SAFETENSORS_HEADER_MAX_BYTES)], len(data))


def _parse_header(start: bytes, raw: bytes, file_size: int
                  ) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]]:
    """:func:`_read_header`'s parse and checks of a file's first 8 bytes (``start``), the header
    read after them (``raw``) and its size in bytes."""
    if len(start) < 8:
        raise ValueError(f"{file_size} bytes, too short for the 8 that give its header's length")
    size = int.from_bytes(start, "little")
    if len(raw) < size:
        raise ValueError(f"a header of {size:,} bytes declared, past the end of the file: truncated")
    try:
        if not raw.startswith(b"{"):  # as safetensors refuses it
            raise ValueError("it does not start with {")
        header = json_object(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("bad header: not UTF-8 text") from None
    except ValueError as e:  # bad JSON, a 5,000-digit number, [[[[..., not an object
        raise ValueError(f"bad header: {e}") from None
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("bad header: its __metadata__ does not map names to strings")
    data_bytes = file_size - 8 - size
    spans: list[tuple[int, int, str]] = []
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    for name in sorted(header):
        info = header[name]
        dtype, shape, offsets = (info.get(k) if isinstance(info, dict) else None
                                 for k in ("dtype", "shape", "data_offsets"))
        if (not isinstance(dtype, str) or dtype not in _DTYPE_BITS
                or not isinstance(shape, list) or not all(is_int(d, 0, 2**64 - 1) for d in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(is_int(o, 0, 2**64 - 1) for o in offsets)):
            raise ValueError(f"bad header: tensor {name!r:.80} has no valid dtype, shape and "
                             "data_offsets")
        bits = 0 if 0 in shape else _DTYPE_BITS[dtype]
        for d in shape:
            if bits > 8 * file_size:  # too large already: a product of huge numbers is slow
                break
            bits *= d
        if bits % 8 or bits // 8 != offsets[1] - offsets[0]:
            raise ValueError(f"tensor {name!r:.80}'s data_offsets do not fit its dtype and shape")
        spans.append((offsets[0], offsets[1], name))
        shapes[name] = (tuple(shape), dtype)
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            raise ValueError(f"tensor {name!r:.80}'s data_offsets overlap another's or leave a gap")
        end = stop
    if end != data_bytes:
        raise ValueError(f"its tensors hold {end:,} bytes and the file {data_bytes:,} after the "
                         "header (truncated?)")
    return metadata, shapes


@contextmanager
def _reading(file: Path, index: Path | None = None) -> Iterator[None]:
    """What safetensors raises reading ``file`` as a ShardedFileError naming it: ``FILE: not a
    safetensors file (why)`` (a ``.taco`` file or an image named as one:
    :func:`taco.filekinds.image_file_problem`), or ``INDEX: shard NAME cannot be read (why)``
    for a shard of ``index``. safetensors raises several types for a bad file, so any exception
    counts but an allocation failure (:func:`taco.memory.allocation_failure`: not the file's
    fault) and, for a plain file, an ``OSError`` (a file that cannot be opened, said as such)."""
    try:
        yield
    except ShardedFileError:
        raise
    except Exception as e:
        if allocation_failure(e) or (index is None and isinstance(e, OSError)):
            raise
        if index is not None:
            raise ShardedFileError(f"{index}: shard {file.name} cannot be read ({e})") from None
        problem = image_file_problem(file) or f"not a safetensors file ({e})"
        raise ShardedFileError(f"{file}: {problem}") from None


def opens_by_name(path: str | os.PathLike[str]) -> bool:
    """Whether safetensors can open ``path`` by its name (``load_file``, ``safe_open``): its
    Rust code takes the name as UTF-8, so a name whose bytes are not UTF-8 (Python holds them as
    lone surrogates such as ``\\udcff``), or any name the locale's encoding gives other bytes
    than UTF-8 does, cannot be opened that way. Such a file is read as bytes instead
    (``safetensors.torch.load``)."""
    name = os.fspath(path)
    try:
        return name.encode("utf-8") == os.fsencode(name)
    except UnicodeError:
        return False


def index_path(path: str | os.PathLike[str]) -> Path:
    """``NAME.safetensors`` -> ``NAME.safetensors.index.json`` (an index path stays itself)."""
    path = Path(path)
    return path if path.name.endswith(INDEX_SUFFIX) else path.with_name(path.name + INDEX_SUFFIX)


def base_path(path: str | os.PathLike[str]) -> Path:
    """``NAME.safetensors.index.json`` -> ``NAME.safetensors`` (a base path stays itself)."""
    path = Path(path)
    if path.name.endswith(INDEX_SUFFIX):
        return path.with_name(path.name[: -len(INDEX_SUFFIX)])
    return path


def find(path: str | os.PathLike[str]) -> Path | None:
    """The file that holds ``path``'s tensors: the plain file, the index, or None if neither.

    ``path`` may name either, or a training run's folder (its :data:`CHECKPOINT_FILE`). A path
    that names an existing file is that file, even where the other form is there too: a plain
    ``X.safetensors`` is never swapped for an ``X.safetensors.index.json`` beside it, nor the
    other way round. Only the files a training run writes (:data:`CHECKPOINT_FILE`,
    :data:`TRAIN_STATE_FILE`, named or through their folder), where both forms mean a write
    killed between its last two steps, take the newer of the two, with a :class:`TacoWarning`
    naming both.
    """
    if Path(path).is_dir():
        path = Path(path) / CHECKPOINT_FILE
    path = Path(path)
    single, index = base_path(path), index_path(path)
    run_file = single.name in (CHECKPOINT_FILE, TRAIN_STATE_FILE)
    if not run_file and path.is_file():
        return path
    found = [p for p in (single, index) if p.is_file()]
    if not found:
        return None
    newer = max(found, key=lambda p: p.stat().st_mtime_ns)
    if len(found) == 2:
        older = index if newer == single else single
        warn_at_caller(f"{single.parent} holds both {single.name} and its sharded index "
                       f"{index.name} (a write killed before it removed the older): using the "
                       f"newer, {newer.name}; remove {older.name} to silence this", TacoWarning)
    return newer


def is_index(path: str | os.PathLike[str]) -> bool:
    return Path(path).name.endswith(INDEX_SUFFIX)


#: Bytes of the random tag in a shard's name (twice as many hex digits).
_TAG_BYTES = 4


def _shard_name(base: Path) -> re.Pattern[str]:
    """The names of ``base``'s shards, exactly: ``STEM-<tag>-<i>-of-<n>.safetensors``; not those
    of another checkpoint whose name begins alike (``STEM-best.safetensors``'s)."""
    stem = base.name.removesuffix(".safetensors")
    return re.compile(
        rf"{re.escape(stem)}-[0-9a-f]{{{2 * _TAG_BYTES}}}-[0-9]{{5}}-of-[0-9]{{5}}\.safetensors"
    )


def _shard_glob(base: Path) -> str:
    """A glob for the names of ``base``'s shards and more: filter them with :func:`_shard_name`."""
    return glob.escape(base.name.removesuffix(".safetensors")) + "-*.safetensors"


def files(path: str | os.PathLike[str]) -> list[Path]:
    """Every file of the checkpoint at ``path`` (the plain file, or the index and its shards)."""
    found = find(path)
    if found is None:
        return []
    if not is_index(found):
        return [found]
    return [found, *(found.parent / s["file"] for s in _read_index(found)["shards"])]


def _serialise(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None) -> bytes:
    from safetensors.torch import save

    return save(tensors, metadata=metadata)


def _pack(tensors: dict[str, torch.Tensor], max_bytes: int) -> list[dict[str, torch.Tensor]]:
    """Greedy split in key order into dicts that serialise to at most ``max_bytes`` each; a
    TacoValueError, naming the smallest ``max_bytes`` that would do, if one tensor alone is
    more."""
    entries = {name: t.numel() * t.element_size() + len(name) + 128  # its header's JSON entry, generously
               for name, t in tensors.items()}
    largest = max(entries, key=entries.__getitem__, default=None)
    if largest is not None and entries[largest] + 1024 > max_bytes:
        nbytes = tensors[largest].numel() * tensors[largest].element_size()
        raise TacoValueError(
            f"tensor {largest!r} ({nbytes:,} bytes) does not fit in one {max_bytes:,}-byte shard: "
            f"the smallest shard size that holds every tensor is {entries[largest] + 1024:,} bytes")
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, t in tensors.items():
        if shards[-1] and size + entries[name] + 1024 > max_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = t
        size += entries[name]
    return shards


def save_sharded(
    tensors: dict[str, torch.Tensor],
    path: str | os.PathLike[str],
    metadata: dict[str, str] | None = None,
    max_bytes: int | float | None = SHARD_BYTES,
) -> list[Path]:
    """Write ``tensors`` at ``path`` (``NAME.safetensors``): one file if it serialises to at most
    ``max_bytes`` (None: no limit), else shards + index. Returns the files written. A float
    ``max_bytes`` that is a whole number (``2e9``) is taken as that integer; any other that is
    no integer (``True`` neither) is a TypeError; one below 1, a float that is not whole
    (``2000.5``, NaN, ±inf), or one too small for the largest tensor, a
    :class:`~taco.errors.TacoValueError` (the latter naming the smallest that would do) before
    anything is written.

    Tensors are written as they are (contiguous, CPU). A failed write (``OSError``, e.g. a full
    disk; any exception) leaves the previous checkpoint loadable and removes the shards it had
    finished, before it raises (the previous shards, which the index names, stay). Files of the
    other layout or of earlier writes are removed once the new one is complete.
    """
    if max_bytes is not None:
        max_bytes = positive_int_argument("max_bytes", max_bytes, "(bytes per file) or None (no limit)",
                                          whole_floats=True)
    base = base_path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    payload = sum(t.numel() * t.element_size() for t in tensors.values())
    whole = _serialise(tensors, metadata) if max_bytes is None or payload <= max_bytes else None
    if whole is not None and (max_bytes is None or len(whole) <= max_bytes):
        write_bytes_atomic(base, whole)
        del whole
        _remove(index_path(base))
        _remove_shards(base, keep=set())
        return [base]
    del whole
    assert max_bytes is not None  # no limit always fits in one file
    tag = secrets.token_hex(_TAG_BYTES)
    groups = _pack(tensors, max_bytes)
    stem = base.name.removesuffix(".safetensors")
    written: list[Path] = []
    entries: list[dict[str, Any]] = []
    weight_map: dict[str, str] = {}
    index_bytes = b""
    try:
        for i, group in enumerate(groups, 1):
            name = f"{stem}-{tag}-{i:05d}-of-{len(groups):05d}.safetensors"
            data = _serialise(group, {"shard": f"{i}/{len(groups)}"})
            if len(data) > max_bytes:  # pragma: no cover - _pack leaves ample room for the header
                raise ValueError(f"shard {name} is {len(data)} bytes, over {max_bytes}")
            written.append(base.with_name(name))  # listed first: removed if its write fails late
            write_bytes_atomic(written[-1], data)
            entries.append({"file": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
            weight_map.update(dict.fromkeys(group, name))
        index = {
            "format": INDEX_FORMAT, "version": INDEX_VERSION, "metadata": metadata or {},
            "shards": entries, "weight_map": weight_map,
        }  # fmt: skip
        index_bytes = json.dumps(index, indent=1).encode("utf-8")
        write_bytes_atomic(index_path(base), index_bytes)
    except BaseException:
        # a full disk at a later shard or the index: the shards this call finished go (~16 MB
        # each, in the space the user is told to free), unless its index was published (an
        # error after the rename): the previous set the index names is never touched
        if not _published(index_path(base), index_bytes):
            for shard in written:
                with suppress(OSError):
                    shard.unlink()
        raise
    _remove(base)
    _remove_shards(base, keep={e["file"] for e in entries})
    return [index_path(base), *written]


def _published(index: Path, data: bytes) -> bool:
    """Whether ``index`` holds ``data`` (an index naming this save's fresh tag): written, though
    its write then failed (the folder's fsync, an interrupt after the rename)."""
    try:  # a regular file of that size only: no FIFO read (and waited on) here
        st = os.stat(index)
        if not data or not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        return index.read_bytes() == data
    except OSError:
        return False


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _remove_shards(base: Path, keep: set[str]) -> None:
    name = _shard_name(base)
    for shard in base.parent.glob(_shard_glob(base)):
        if name.fullmatch(shard.name) and shard.name not in keep:
            shard.unlink(missing_ok=True)


def remove_stale(path: str | os.PathLike[str]) -> None:
    """Remove what killed writes of ``path`` left: temporaries (of the file, its index and its
    shards; a shard's only where its writer is gone), shards no index refers to."""
    base = base_path(path)
    for p in (base, index_path(base)):
        for stale in stale_temporaries(p):
            stale.unlink(missing_ok=True)
    name = _shard_name(base)
    temporaries = base.parent.glob("." + _shard_glob(base) + ".tmp-*")
    targets = (t.with_name(t.name[1:].rpartition(".tmp-")[0]) for t in temporaries)
    remove_stale_temporaries(t for t in targets if name.fullmatch(t.name))
    found = find(base)
    keep = {f.name for f in files(base)} if found is not None and is_index(found) else set()
    _remove_shards(base, keep)


def _read_index(path: Path) -> dict[str, Any]:
    """The index at ``path``, its every field checked (a hostile one is a ShardedFileError)."""
    try:
        index = read_json_object(path, INDEX_MAX_BYTES)
    except JSONFileTooLarge as e:
        raise ShardedFileError(f"{path}: a shard index of {e} (a real one is a few KB)") from None
    except (OSError, ValueError) as e:
        raise ShardedFileError(f"{path}: unreadable shard index ({e})") from None
    problem = format_problem(index, INDEX_FORMAT, INDEX_VERSION, "taco shard index")
    if problem:
        raise ShardedFileError(f"{path}: {problem}")
    shards = index.get("shards")
    if not isinstance(shards, list) or not shards or not all(isinstance(s, dict) for s in shards):
        raise ShardedFileError(f"{path}: malformed shard list")
    for s in shards:
        if not is_file_name(s.get("file")):
            raise ShardedFileError(f"{path}: malformed shard list (shard {s.get('file')!r:.80} is not "
                                   "a file name in the index's folder)")
    listed: set[str] = set()
    for s in shards:  # a shard listed n times was read (and hashed) n times
        if s["file"] in listed:
            raise ShardedFileError(f"{path}: malformed shard list (shard {s['file']} is listed twice)")
        listed.add(s["file"])
    metadata = index.get("metadata")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ShardedFileError(f"{path}: malformed metadata (safetensors metadata maps names to strings)")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not all(v in listed for v in weight_map.values()):
        raise ShardedFileError(f"{path}: malformed weight_map (tensor name -> a listed shard)")
    return index


def _check_shard_tensors(found: Path, index: dict[str, Any], shard: str, names: list[str],
                         seen: dict[str, str]) -> None:
    """ShardedFileError unless the tensors ``names`` of ``shard`` are where the index's weight
    map puts them and in no other shard read so far (``seen``: name -> shard, filled in)."""
    weight_map = index["weight_map"]
    for name in names:
        if name in seen:
            raise ShardedFileError(f"{found}: tensor {name!r:.80} is in two shards ({seen[name]} "
                                   f"and {shard})")
        seen[name] = shard
        if weight_map.get(name) != shard:
            raise ShardedFileError(f"{found}: shard {shard} holds tensor {name!r:.80}, which the "
                                   "index's weight_map does not put there")


def _check_all_listed(found: Path, index: dict[str, Any], seen: dict[str, str]) -> None:
    missing = sorted(set(index["weight_map"]) - set(seen))
    if missing:
        raise ShardedFileError(f"{found}: the index's weight_map lists {len(missing)} tensors no "
                               f"shard holds ({missing[0]!r:.80}, ...)")


def read_metadata(path: str | os.PathLike[str], *, found: Path | None = None) -> dict[str, str]:
    """The safetensors metadata of ``path`` (either layout), without loading tensors.

    ``found`` is what :func:`find` gave for ``path``, where the caller looked already (it is not
    looked up again, nor its warning given again). Raises FileNotFoundError when neither layout
    exists, ShardedFileError for a bad index or a file that is not safetensors, and OSError for a
    file that cannot be opened.
    """
    found = found or find(path)
    if found is None:
        raise FileNotFoundError(f"{path}: no such file")
    if is_index(found):
        return dict(_read_index(found)["metadata"])
    with _reading(found):
        return _read_header(found)[0]


def read_format_metadata(path: str | os.PathLike[str], key: str, format: str, version: int,
                         what: str) -> dict[str, Any]:
    """The JSON object a taco file (a training state, a caption-embeddings table) keeps under the
    safetensors metadata ``key`` of ``path``, from its header alone, checked to be a ``what`` of
    ``format`` at a ``version`` taco reads (:func:`taco.jsonfiles.format_problem`). Anything else
    is a ShardedFileError naming the file: not a safetensors file, no ``key``, a value that is not
    a JSON object, another format or a newer version. FileNotFoundError when there is no file,
    OSError when it cannot be opened."""
    raw = read_metadata(path).get(key)  # refuses an oversized header unread
    if raw is None:
        raise ShardedFileError(f"{path}: not a {what} (no {key} metadata)")
    try:
        meta = json_object(raw)
    except ValueError as e:  # bad JSON, a 5,000-digit number, [[[[..., a list
        raise ShardedFileError(f"{path}: corrupt {key} metadata ({e})") from None
    problem = format_problem(meta, format, version, what)
    if problem:
        raise ShardedFileError(f"{path}: {problem}")
    return meta


def tensor_shapes(path: str | os.PathLike[str], *, found: Path | None = None
                  ) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, safetensors dtype such as ``"F16"``) of every tensor of ``path`` (either
    layout), from the safetensors headers alone: no tensor data is read, and shards are not
    checked against the index's SHA-256 (:func:`load_sharded` does that).

    ``found`` as for :func:`read_metadata`. Raises as :func:`read_metadata` does, and
    ShardedFileError for a shard that cannot be opened. A shard gone because another process
    saved ``path`` meanwhile is read again (:func:`_read_again_if_replaced`).
    """
    return _read_again_if_replaced(path, _shapes, found)


def _shapes(found: Path, index: dict[str, Any] | None
            ) -> dict[str, tuple[tuple[int, ...], str]]:
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    seen: dict[str, str] = {}
    every = [found] if index is None else [found.parent / s["file"] for s in index["shards"]]
    for file in every:
        with _reading(file, found if index is not None else None):
            part = _read_header(file, found if index is not None else None)[1]
        if index is not None:
            _check_shard_tensors(found, index, file.name, list(part), seen)
        shapes.update(part)
    if index is not None:
        _check_all_listed(found, index, seen)
    return shapes


#: How many times a read of a sharded checkpoint starts again when it fails on a shard and the
#: index has been replaced since it was read (see :func:`_read_again_if_replaced`).
READ_TRIES = 5


def _read_again_if_replaced(path: str | os.PathLike[str],
                            read: Callable[[Path, dict[str, Any] | None], _T],
                            found: Path | None = None) -> _T:
    """``read(found, index)`` for the checkpoint at ``path`` (``index`` None for a plain file);
    ``found``, where given, is what :func:`find` gave for ``path`` (a try after the first looks
    again).

    A save removes the previous shards right after it publishes its new index, so a reader that
    read the old index can meet a listed shard that is gone (or any shard error): when the index
    at ``path`` is then another one (another write's: its shard names carry a fresh tag), the read
    starts again, up to :data:`READ_TRIES` times. When the index is unchanged the checkpoint is
    really damaged, and the error is raised as it was.
    """
    tries, given = 1, found
    while True:
        found, given = given or find(path), None  # a try after the first looks again
        if found is None:
            raise FileNotFoundError(f"{path}: no such file")
        if not is_index(found):
            return read(found, None)
        index = _read_index(found)
        try:
            return read(found, index)
        except ShardedFileError:
            if tries >= READ_TRIES or not _replaced(path, found, index):
                raise
        tries += 1


def _replaced(path: str | os.PathLike[str], found: Path, index: dict[str, Any]) -> bool:
    """Whether the checkpoint at ``path`` is no longer the index ``index`` read from ``found``."""
    again = find(path)
    if again is None:
        return False
    if again != found:
        return True
    try:
        return _read_index(again) != index
    except ShardedFileError:
        return False


#: A checkpoint or state file up to this size is read whole and parsed from memory, not mapped by
#: ``safetensors.torch.load_file``: in safetensors 0.8 each ``load_file`` keeps ~23 KB for the
#: life of the process (a service calling ``taco.load`` per request grew ~2.3 GB per 100k
#: loads), and for the built-ins (5-7 MB) reading is faster too (2.6 ms against 4.9 ms). A
#: larger file (a paper-size training state) is mapped: one copy in memory, not two.
READ_WHOLE_MAX_BYTES = 256 * 2**20


def _read_plain(found: Path, *, header: bool
                ) -> tuple[bytes | None, tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]] | None]:
    """(every byte of the plain safetensors file ``found``, or None for one mapped instead: over
    :data:`READ_WHOLE_MAX_BYTES` with a name safetensors opens; and, for ``header``, its
    :func:`_read_header`), from one open of the file: a file put in its place meanwhile
    (``os.replace``, as every taco save does) is not mixed in. The header is checked before the
    rest is read (a file that is not safetensors is refused from its first bytes), and taken from
    the bytes the tensors come from. Raises as :func:`_read_header` does (under :func:`_reading`)."""
    check_header_size(found)
    with found.open("rb") as f:
        head = _header_bytes(f) if header else None
        parsed = None if head is None else _parse_header(*head)
        f.seek(0)
        whole = not opens_by_name(found) or os.fstat(f.fileno()).st_size <= READ_WHOLE_MAX_BYTES
        data = f.read() if whole else None
    if head is not None and data is not None and (
            len(data) != head[2] or data[:8 + len(head[1])] != head[0] + head[1]):
        parsed = _header_of(found, data)  # written in place meanwhile: the bytes read are the file
    return data, parsed


def _plain_tensors(found: Path, data: bytes | None, device: str) -> dict[str, torch.Tensor]:
    """The tensors of the plain safetensors file ``found`` from its bytes ``data`` (None: mapped
    by ``safetensors.torch.load_file``, a read of its own), moved to ``device``."""
    from safetensors.torch import load, load_file

    with _reading(found):
        plain = load(data) if data is not None else load_file(str(found))
    return {k: v.to(device) for k, v in plain.items()}


class CheckpointReplaced(ShardedFileError):
    """A :class:`CheckpointRead` of a sharded checkpoint failed on a shard and the checkpoint at
    its path is another one now (a save published a new index and removed the shards of the one
    read): read it again from the start (:func:`read_once`). Its message is the failure's."""


@dataclass(frozen=True, eq=False)
class CheckpointRead:
    """A checkpoint in either layout, read once (:func:`read_once`): its :attr:`metadata`,
    :meth:`shapes` and :meth:`tensors` all come from this one read, so a checkpoint replaced
    meanwhile (another process saving the same path) never gives one file's header and another's
    tensors. A plain file: its bytes (:attr:`data`), read in one go, the header taken from them; a
    sharded one: one read of its index (:attr:`index`), whose shards are checked against its
    SHA-256 (and which a later save never rewrites: it names its shards anew) and, where one is
    gone because a save replaced the index since, a :class:`CheckpointReplaced`.

    A plain file over :data:`READ_WHOLE_MAX_BYTES` (with a name safetensors opens) is read in two
    passes instead: its header here, its tensors mapped by :meth:`tensors` (one copy in memory,
    not two); a file put in its place between the two is not detected here (a caller comparing
    the tensors with the shapes sees another architecture's, not other weights of the same)."""

    #: the path given (what errors name); ``found``: the file :func:`find` gave for it
    path: str | os.PathLike[str]
    found: Path
    metadata: dict[str, str]
    #: a sharded checkpoint's index, as read (checked); None for a plain file
    index: dict[str, Any] | None = None
    #: every byte of a plain file read whole; None for a mapped one or a sharded checkpoint
    data: bytes | None = None
    #: a plain file's tensor shapes, from its header
    plain_shapes: dict[str, tuple[tuple[int, ...], str]] | None = None

    def shapes(self) -> dict[str, tuple[tuple[int, ...], str]]:
        """Name -> (shape, safetensors dtype) of every tensor, as :func:`tensor_shapes` gives
        them (a sharded checkpoint's from its shards' headers, read now)."""
        if self.index is None:
            assert self.plain_shapes is not None
            return self.plain_shapes
        index = self.index
        return self._replaced_as_such(lambda: _shapes(self.found, index))

    def tensors(self, device: str = "cpu") -> dict[str, torch.Tensor]:
        """Every tensor, read on the CPU and moved to ``device``; a sharded checkpoint's shards
        checked against the index, as :func:`load_sharded` checks them."""
        if self.index is None:
            return _plain_tensors(self.found, self.data, device)
        index = self.index
        return self._replaced_as_such(lambda: _load(self.found, index, device)[0])

    def _replaced_as_such(self, read: Callable[[], _T]) -> _T:
        """``read()``; a ShardedFileError of it as a :class:`CheckpointReplaced` where the index at
        :attr:`path` is another one now."""
        assert self.index is not None
        try:
            return read()
        except ShardedFileError as e:
            if not _replaced(self.path, self.found, self.index):
                raise
            raise CheckpointReplaced(str(e)) from None


def read_once(path: str | os.PathLike[str], *, found: Path | None = None) -> CheckpointRead:
    """The checkpoint at ``path`` (either layout) read once: a :class:`CheckpointRead`, whose
    metadata, shapes and tensors are one checkpoint's even while another process saves ``path``
    again. A plain file is read here, header and tensors' bytes (mapped later where over
    :data:`READ_WHOLE_MAX_BYTES`); a sharded one's index is read here, its shards by
    :meth:`CheckpointRead.shapes` and :meth:`CheckpointRead.tensors`.

    ``found`` as for :func:`read_metadata`. Raises as :func:`read_metadata` does."""
    found = found or find(path)
    if found is None:
        raise FileNotFoundError(f"{path}: no such file")
    if is_index(found):
        index = _read_index(found)
        return CheckpointRead(path, found, dict(index["metadata"]), index=index)
    with _reading(found):
        data, parsed = _read_plain(found, header=True)
    assert parsed is not None
    return CheckpointRead(path, found, parsed[0], data=data, plain_shapes=parsed[1])


def load_sharded(
    path: str | os.PathLike[str], device: str = "cpu", *, found: Path | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors, metadata) of ``path`` in either layout; shards are checked against the index.

    ``found`` as for :func:`read_metadata`. Raises as :func:`read_metadata` does; a shard that
    is missing, changed or not safetensors is a ShardedFileError too. A shard gone because another
    process saved ``path`` meanwhile is read again (:func:`_read_again_if_replaced`). The tensors are read on the CPU and then moved
    to ``device``, so that a device that cannot be used is not said to be a bad file. A plain
    file of up to :data:`READ_WHOLE_MAX_BYTES` is read whole in one open, its metadata taken from
    the bytes its tensors come from; a larger one (with a name safetensors opens) is mapped and
    its metadata read separately afterwards (:func:`read_metadata`), so a file put in its place
    between the two reads is not detected (as in :class:`CheckpointRead`).
    """
    return _read_again_if_replaced(path, lambda found, index: _load(found, index, device), found)


def _load(found: Path, index: dict[str, Any] | None, device: str
          ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors.torch import load

    if index is None:
        with _reading(found):
            data, _ = _read_plain(found, header=False)
        # the metadata from the bytes the tensors came from: the file may be another one by now
        if data is None:  # mapped: a second read of the file (READ_WHOLE_MAX_BYTES)
            return _plain_tensors(found, None, device), read_metadata(found, found=found)
        plain = _plain_tensors(found, data, device)
        with _reading(found):
            return plain, _header_of(found, data)[0]
    tensors: dict[str, torch.Tensor] = {}
    seen: dict[str, str] = {}
    for entry in index["shards"]:
        shard = found.parent / entry["file"]
        try:
            check_header_size(shard, found)
            data = shard.read_bytes()
        except OSError as e:
            raise ShardedFileError(f"{found}: shard {entry['file']} cannot be read ({e.strerror})") from None
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise ShardedFileError(
                f"{found}: shard {entry['file']} does not match the index (changed or from "
                "another write)"
            )
        with _reading(shard, found):
            part = load(data)
        _check_shard_tensors(found, index, entry["file"], list(part), seen)
        tensors.update({k: v.to(device) for k, v in part.items()})
    _check_all_listed(found, index, seen)
    return tensors, dict(index["metadata"])
