"""CLIP's BPE vocabulary as the files a CLIP tokenizer reads, from the one ``open_clip`` ships.

No CLIP weights can be had offline, but its vocabulary can: ``open-clip-torch`` (or
``clip-anytorch``) ships ``bpe_simple_vocab_16e6.txt.gz``. :func:`clip_bpe_folder` derives
vocab.json and merges.txt from it exactly as CLIP's ``SimpleTokenizer`` does, for the tiny test
CLIP and anything else that needs CLIP's real tokens without the model.
"""

from __future__ import annotations

import atexit
import functools
import gzip
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..atomic import write_text_atomic
from .base import TextEncoderUnavailable

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"


@functools.lru_cache(maxsize=1)
def clip_bpe_folder() -> Path:
    """A folder with CLIP's vocab.json, merges.txt and tokenizer_config.json, derived from the
    BPE vocabulary shipped with ``open_clip`` exactly as CLIP's ``SimpleTokenizer`` derives
    them, and written once to ``$TACO_CACHE_DIR/clip-bpe`` (default ``~/.cache/taco/clip-bpe``).
    Both :func:`clip_tokenizer` and transformers' ``CLIPTokenizer`` read it."""
    return _write_clip_bpe(_find_bpe_file())


def _find_bpe_file() -> Path:
    # find_spec locates a package without importing it (importing open_clip takes seconds).
    for package in ("open_clip", "clip"):  # open-clip-torch, clip-anytorch
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            path = Path(location) / BPE_FILE
            if path.is_file():
                return path
    raise TextEncoderUnavailable(
        f"the tiny CLIP needs CLIP's BPE vocabulary ({BPE_FILE}), shipped with open_clip: "
        "pip install open-clip-torch"
    )


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


def _write_clip_bpe(bpe_file: Path) -> Path:
    """Write vocab.json, merges.txt and tokenizer_config.json for ``bpe_file``; return the folder."""
    lines = gzip.open(bpe_file).read().decode("utf-8").split("\n")
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
    root = os.environ.get("TACO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "taco"
    )
    folder = Path(root) / "clip-bpe"
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
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        # Atomic: a concurrent process never reads a half-written file.
        write_text_atomic(target, text)
