"""A CLIP tokenizer folder whose path is not UTF-8 (a home or cache folder named in Latin-1,
which Python holds with surrogate escapes) is read as any other: ``tokenizers``' own reader
(``BPE.read_file``, in Rust) refused such a path ("surrogates not allowed"), so taco reads
vocab.json and merges.txt itself, into the same tokens."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from taco.text.clip import ClipTokenizer, clip_tokenizer
from taco.text.clip_vocab import BOS, EOS, clip_bpe_folder

pytestmark = pytest.mark.skipif(sys.platform == "win32" or sys.getfilesystemencoding() != "utf-8",
                                reason="a file name that is not UTF-8 needs a POSIX file system")

ROOT = Path(__file__).resolve().parents[2]
ODD = os.fsdecode(b"h\xff")  # 'h\udcff'
CAPTIONS = ["a hat", "A photo of a CAT on the mat!", "naïve café, 3 dogs & 12 birds",
            "", "  spaces   and\ttabs  ", "emoji 🐱 and 中文", "it's <|endoftext|> done"]


def _copy(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        shutil.copy(clip_bpe_folder() / name, folder / name)
    return folder


def test_a_folder_whose_name_is_not_utf8_gives_the_tokens_of_tokenizers_own_reader(tmp_path):
    from tokenizers.models import BPE

    plain = _copy(tmp_path / "clip-bpe")
    odd = _copy(tmp_path / ODD / "clip-bpe")
    vocab, merges = BPE.read_file(str(plain / "vocab.json"), str(plain / "merges.txt"))
    reference = ClipTokenizer(vocab, merges, {"bos": BOS, "eos": EOS, "unk": EOS, "pad": EOS})
    for folder in (plain, odd):
        tokenizer = clip_tokenizer(folder)
        assert tokenizer(CAPTIONS) == reference(CAPTIONS)
        assert (tokenizer.bos, tokenizer.end, tokenizer.pad, tokenizer.vocab_size) == (
            reference.bos, reference.end, reference.pad, reference.vocab_size)


def test_merges_as_tokenizers_reads_them(tmp_path):
    # a '#version' header skipped, CRLF line ends taken; a line that is not two tokens is refused
    plain = _copy(tmp_path / "crlf")
    lines = (plain / "merges.txt").read_text(encoding="utf-8").split("\n")
    (plain / "merges.txt").write_bytes("\r\n".join(lines).encode())
    assert clip_tokenizer(plain)(CAPTIONS) == clip_tokenizer(clip_bpe_folder())(CAPTIONS)
    lines.insert(5, "a b c")
    (plain / "merges.txt").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(Exception, match="merges.txt"):
        clip_tokenizer(plain)


def test_a_cache_folder_whose_name_is_not_utf8(tmp_path):
    # TACO_CACHE_DIR (or a HOME) so named: CLIP's tokenizer files are written there and read back
    probe = ("from taco.text.clip import clip_tokenizer\n"
             "from taco.text.clip_vocab import clip_bpe_folder\n"
             "folder = clip_bpe_folder()\n"
             "print(ascii(str(folder)), clip_tokenizer(folder)(['a hat']))\n")
    env = {**os.environ, "TACO_CACHE_DIR": str(tmp_path / ODD)}  # encoded back to b'h\xff'
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "h\\udcff" in done.stdout and "[[49406, 320, 3801, 49407]]" in done.stdout


def test_merges_starting_with_a_hash_are_merges_and_only_the_version_line_is_skipped(tmp_path):
    """CLIP's merges.txt holds merges that start with '#' ('# #</w>', '# :</w>'): only the
    '#version' line is a header; the others merge as tokenizers' own reader merges them."""
    from tokenizers.models import BPE

    plain = _copy(tmp_path / "clip-bpe")
    vocab, merges = BPE.read_file(str(plain / "vocab.json"), str(plain / "merges.txt"))
    assert [m for m in merges if m[0] == "#"]  # such merges are there
    reference = ClipTokenizer(vocab, merges, {"bos": BOS, "eos": EOS, "unk": EOS, "pad": EOS})
    hashes = ["tags # # and #: or #... and #… too", "##", "# : #"]
    assert clip_tokenizer(plain)(hashes) == reference(hashes)
