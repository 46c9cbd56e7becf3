"""The tiny CLIP's tokenizer (taco-tiny, taco-tgic-tiny, ``taco bench``'s clip-b-random) reads
CLIP's BPE vocabulary from the copy taco ships in taco/assets/clip: a plain install, without
open-clip-torch (once only in the dev extra), has it. It used to look the file up in open_clip's
or clip's package folder and failed with 'pip install open-clip-torch' where neither was
installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from taco.checksums import sha256_file
from taco.text import clip_vocab
from taco.text.clip import clip_tokenizer


@pytest.fixture
def fresh_vocab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TACO_CACHE_DIR", str(tmp_path))
    clip_vocab.clip_bpe_folder.cache_clear()
    yield tmp_path
    clip_vocab.clip_bpe_folder.cache_clear()  # the next caller writes to its own cache again


def test_tiny_clip_tokenizes_with_open_clip_and_clip_unimportable(
        fresh_vocab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for package in ("open_clip", "clip"):  # None in sys.modules: import and find_spec see nothing
        monkeypatch.setitem(sys.modules, package, None)
    folder = clip_vocab.clip_bpe_folder()
    assert folder == fresh_vocab / "clip-bpe"
    # CLIP's ids: <|startoftext|> a photo of a cat <|endoftext|>
    assert clip_tokenizer(folder)(["a photo of a cat"]) == [[49406, 320, 1125, 539, 320, 2368, 49407]]


def test_shipped_vocabulary_is_the_pinned_file() -> None:
    assert clip_vocab.BPE_FILE.is_file()
    assert sha256_file(clip_vocab.BPE_FILE) == clip_vocab.BPE_SHA256
    assert "licenses/openai-clip-d05afc4-LICENSE.txt" in (
        clip_vocab.BPE_FILE.parents[1] / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
