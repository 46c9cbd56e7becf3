"""Mutation round 11 (session 37): tests for what the earlier tests of today's new code let
through."""

from __future__ import annotations

import json
import struct
import sys
import types
from pathlib import Path

import pytest

from taco import shards
from taco.cli.progress_line import fit_line
from taco.distributed import DistEnv, DistEnvError, dist_env_from_environ
from taco.evaluation.measure import SetMetrics
from taco.messages import decoded_skipped
from taco.models import MODEL_CONFIGS, create_model
from taco.text import CLIP_PATH_ENV, TextEncoderUnavailable, model_text_encoder
from taco.text.clip import clip_tokenizer
from taco.text.clip_vocab import clip_bpe_folder
from taco.train.config import run_qualities

TORCHRUN_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661"])  # superscript two; Arabic-Indic one
def test_a_non_ascii_digit_is_not_a_whole_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # str.isdigit() is true for both (and int() reads the second): only ASCII digits are torchrun's
    _set_env(monkeypatch, RANK=value)
    with pytest.raises(DistEnvError, match="not a whole number"):
        dist_env_from_environ()


def test_a_joined_process_group_needs_no_master_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # a caller that joined a process group itself: no torchrun rendezvous, no MASTER_ADDR needed
    joined = types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: True)
    monkeypatch.setitem(sys.modules, "torch.distributed", joined)
    _set_env(monkeypatch, RANK="1", WORLD_SIZE="2")
    assert dist_env_from_environ() == DistEnv(rank=1, world_size=2)
    # not joined (available, not initialised): refused as before
    monkeypatch.setitem(sys.modules, "torch.distributed",
                        types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: False))
    with pytest.raises(DistEnvError, match="MASTER_ADDR and MASTER_PORT unset"):
        dist_env_from_environ()


def test_an_empty_master_address_is_as_good_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # MASTER_ADDR= (set, empty) gives torch's rendezvous nowhere to meet, as unset does
    _set_env(monkeypatch, RANK="1", WORLD_SIZE="2", MASTER_ADDR="", MASTER_PORT="29500")
    with pytest.raises(DistEnvError, match="MASTER_ADDR unset"):
        dist_env_from_environ()


def test_no_room_for_any_of_the_name_gives_the_status_alone() -> None:
    # room for the status and the … but no character of the name: name[-0:] would be all of it
    assert fit_line("abcdef", "xyz", 4) == "xyz"
    assert fit_line("abcdef", "xyz", 5) == "…fxyz"


def test_a_width_below_zero_gives_nothing() -> None:
    # status[:-1] would be all of the status but its last character, wider than asked
    assert fit_line("abcdef", "xyz", -1) == ""


def test_the_skipped_decoded_outputs_are_named_in_order() -> None:
    said = decoded_skipped(["b.decoded.png", "a.decoded.png"])
    assert said.endswith("beside their sources (a.decoded.png, b.decoded.png)")


def _safetensors(tmp_path: Path, header: bytes, data: bytes = b"") -> Path:
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    return path


def test_a_file_shorter_than_the_length_field_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    path.write_bytes(b"\x02\0\0\0\0\0\0")  # 7 bytes
    with pytest.raises(shards.ShardedFileError, match="7 bytes, too short for the 8"):
        shards.read_metadata(path)


@pytest.mark.parametrize(("tensors", "data", "why"), [
    # three data_offsets
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1, 1]}}, b"\0", "no valid dtype, shape"),
    # negative dimensions whose product is positive
    ({"a": {"dtype": "U8", "shape": [-1, -4], "data_offsets": [0, 4]}}, b"\0" * 4, "no valid dtype, shape"),
    # JSON true and false are no offsets (safetensors reads whole numbers only)
    ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [False, True]}}, b"\0", "no valid dtype, shape"),
    # a 4-bit tensor of one element is no whole byte
    ({"a": {"dtype": "F4", "shape": [1], "data_offsets": [0, 0]}}, b"", "do not fit its dtype and shape"),
    # b's bytes overlap a's
    ({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
      "b": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}, b"\0" * 2, "overlap another's"),
])
def test_more_of_what_safetensors_refuses(tmp_path: Path, tensors: dict, data: bytes, why: str) -> None:
    path = _safetensors(tmp_path, json.dumps(tensors).encode(), data)
    with pytest.raises(shards.ShardedFileError, match="not a safetensors file") as err:
        shards.tensor_shapes(path)
    assert why in str(err.value)



class _FakeInception:
    source = "fake (test)"

    def __call__(self, images):  # noqa: ANN001, ANN204
        return images.flatten(2).mean(-1).float()


def test_one_feature_row_is_not_computed() -> None:
    # FID needs 2 rows: 1 is said as not computed, with the reason, as 0 is
    fid = SetMetrics(n_images=2, fid="patches", extractor=_FakeInception()).describe(1)["fid"]
    assert fid["computed"] is False and fid["reason"] == "1 feature rows, fewer than the 2 FID needs"
    assert SetMetrics(n_images=2, fid="patches", extractor=_FakeInception()).describe(2)["fid"]["computed"] is True


def test_run_qualities_an_explicit_none() -> None:
    vr = MODEL_CONFIGS["taco-minilm-vr"].qualities
    assert isinstance(vr, list | tuple) and vr
    # a top-level qualities: None is as if unset: the model's
    assert run_qualities({"qualities": None, "model": "taco-minilm-vr"}) == vr
    # model_overrides' qualities: None makes the model single-rate
    assert run_qualities({"model_overrides": {"qualities": None}, "model": "taco-minilm-vr"}) is None
    assert run_qualities({"model_overrides": {"qualities": [0.01]}, "model": "taco"}) == [0.01]


@pytest.mark.parametrize("recorded", ["bert", "someone/minilm"])  # a folder; one shaped like a hub id
def test_a_gone_minilm_folder_is_said_whatever_taco_clip_path_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    recorded: str) -> None:
    # TACO_CLIP_PATH points a CLIP elsewhere, not a MiniLM; a MiniLM is never looked up on the hub
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CLIP_PATH_ENV, str(tmp_path / "clip"))
    model = create_model("taco-minilm-tiny")
    model.config.text_encoder = {"name": "minilm", "path": recorded}
    with pytest.raises(TextEncoderUnavailable, match="recorded in the model's config.*put the folder back"):
        model_text_encoder(model)


def test_a_recorded_folder_under_home_is_named_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(CLIP_PATH_ENV, raising=False)
    model = create_model("taco-minilm-tiny")
    model.config.text_encoder = {"name": "minilm", "path": "~/bert"}
    with pytest.raises(TextEncoderUnavailable) as e:
        model_text_encoder(model)
    assert repr(str(tmp_path / "bert")) in str(e.value)


def test_a_wordpiece_tokenizer_json_is_named_as_such(tmp_path: Path) -> None:
    model = {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": model}))
    with pytest.raises(TextEncoderUnavailable, match=r"not a BPE vocabulary with merges \(a WordPiece one\)"):
        clip_tokenizer(tmp_path)


def test_a_tokenizer_json_whose_model_names_no_type_is_read_as_bpe(tmp_path: Path) -> None:
    # "type" is optional in tokenizer.json: a model with vocab and merges is a BPE
    src = clip_bpe_folder()
    vocab = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    merges = [line for line in (src / "merges.txt").read_text(encoding="utf-8").splitlines()[1:] if line]
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"vocab": vocab, "merges": merges}}))
    assert clip_tokenizer(tmp_path) is not None


def test_merges_that_are_not_a_list_are_no_bpe(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE", "vocab": {}, "merges": "a b"}}))
    with pytest.raises(TextEncoderUnavailable, match="not a BPE vocabulary with merges"):
        clip_tokenizer(tmp_path)
