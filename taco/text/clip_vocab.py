"""CLIP's BPE vocabulary as the files a CLIP tokenizer reads, from the copy taco ships.

No CLIP weights can be had offline, but its vocabulary can: taco ships OpenAI CLIP's
``bpe_simple_vocab_16e6.txt.gz`` in ``taco/assets/clip`` (MIT; ``taco/assets/THIRD_PARTY_NOTICES.md``).
:func:`clip_bpe_folder` derives vocab.json and merges.txt from it exactly as CLIP's
``SimpleTokenizer`` does, for the tiny test CLIP and anything else that needs CLIP's real tokens
without the model.
"""

from __future__ import annotations

import atexit
import functools
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..atomic import write_text_atomic
from ..checksums import read_verified
from .base import TextEncoderUnavailable

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
BPE_FILE = Path(__file__).resolve().parent.parent / "assets" / "clip" / "bpe_simple_vocab_16e6.txt.gz"
#: SHA-256 of :data:`BPE_FILE`, as OpenAI CLIP and open_clip ship it; checked on read.
BPE_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"


@functools.lru_cache(maxsize=1)
def clip_bpe_folder() -> Path:
    """A folder with CLIP's vocab.json, merges.txt and tokenizer_config.json, derived from the
    shipped BPE vocabulary (:data:`BPE_FILE`) exactly as CLIP's ``SimpleTokenizer`` derives
    them, and written once to ``$TACO_CACHE_DIR/clip-bpe`` (default ``~/.cache/taco/clip-bpe``).
    Both :func:`taco.text.clip.clip_tokenizer` and transformers' ``CLIPTokenizer`` read it."""
    return _write_clip_bpe(_read_bpe_lines())


def taco_cache_dir() -> Path:
    """taco's cache folder: ``$TACO_CACHE_DIR``, else ``$XDG_CACHE_HOME/taco``, else
    ``~/.cache/taco``. A leading ``~`` is expanded: a quoted ``TACO_CACHE_DIR='~/tc'`` used to
    make a folder literally named ``~`` in the current directory. An ``XDG_CACHE_HOME`` that is
    not absolute (after that expansion) is ignored, as the XDG Base Directory specification says."""
    if os.environ.get("TACO_CACHE_DIR"):
        return Path(os.path.expanduser(os.environ["TACO_CACHE_DIR"]))
    xdg = os.path.expanduser(os.environ.get("XDG_CACHE_HOME") or "")
    return Path(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache"), "taco")


def _read_bpe_lines() -> list[str]:
    """The lines of the shipped BPE vocabulary (checksum verified); TextEncoderUnavailable when
    the file is missing or not the one taco ships (a damaged install)."""
    data = read_verified(BPE_FILE, BPE_SHA256, "CLIP's BPE vocabulary", "reinstall taco",
                         TextEncoderUnavailable)
    return gzip.decompress(data).decode("utf-8").split("\n")


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP/GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def _write_clip_bpe(lines: list[str]) -> Path:
    """Write vocab.json, merges.txt and tokenizer_config.json for the BPE file's ``lines``;
    return the folder."""
    merges = lines[1 : 49152 - 256 - 2 + 1]  # as SimpleTokenizer: skip the header, 48894 merges
    byte_chars = list(_bytes_to_unicode().values())
    tokens = [
        *byte_chars,
        *(c + "</w>" for c in byte_chars),
        *("".join(m.split()) for m in merges),
        BOS,
        EOS,
    ]
    files = {
        "vocab.json": json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False),
        "merges.txt": "#version: 0.2\n" + "\n".join(merges) + "\n",
        "tokenizer_config.json": json.dumps(
            {
                "tokenizer_class": "CLIPTokenizer",
                "bos_token": BOS,
                "eos_token": EOS,
                "unk_token": EOS,
                "pad_token": EOS,
                "model_max_length": 77,
                "do_lower_case": True,
            }
        ),
    }
    folder = taco_cache_dir() / "clip-bpe"
    try:
        _write_files(folder, files)
    except OSError as cache_error:  # read-only home: a private temporary folder will do
        try:
            folder = Path(tempfile.mkdtemp(prefix="taco-clip-bpe-"))
        except OSError as exc:
            raise TextEncoderUnavailable(
                f"cannot write the CLIP tokenizer's files into {folder} ({cache_error.strerror or cache_error}) "
                f"nor into a temporary folder ({exc}): set TACO_CACHE_DIR to a writable folder") from None
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # read once, at load: one per process
        _write_files(folder, files)
    return folder


def _write_files(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = folder / name
        # bytes, not text: a damaged file (not UTF-8) is simply rewritten
        if target.is_file() and target.read_bytes() == text.encode("utf-8"):
            continue
        # Atomic: a concurrent process never reads a half-written file.
        write_text_atomic(target, text)
