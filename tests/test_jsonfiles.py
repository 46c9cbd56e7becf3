"""taco.jsonfiles: the one bounded reader of a JSON file someone hands taco, and the JSON checks
the safetensors-sharding module used to hold. Each former reader of its own (a shard index, a COCO
annotations file, a caption JSON, an evaluation result) and the text encoders' folder files that
were read unbounded (config.json, model.safetensors.index.json, tokenizer files) go through it,
each still raising its own error class."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import taco.text
from taco import jsonfiles, shards
from taco.data import AnnotationsFileError, CocoCaptions, karpathy_split
from taco.errors import TacoError, TacoValueError
from taco.evaluation import import_captions, result_files
from taco.evaluation.runner import ResultsFileError
from taco.jsonfiles import (
    JSONFileTooLarge,
    format_problem,
    is_file_name,
    json_object,
    read_json,
    read_json_object,
)
from taco.text import TextEncoderUnavailable, clip, minilm, text_encoder_dim, weights

PACKAGE = Path(__file__).resolve().parents[1] / "taco"


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


# --------------------------------------------------------------------------- the reader


def test_a_file_within_the_bound_is_read_whole(tmp_path):
    path = _write(tmp_path / "a.json", '{"a": [1, "é"]}')
    size = path.stat().st_size
    assert read_json_object(path, size) == read_json(path, size) == {"a": [1, "é"]}
    assert read_json(_write(tmp_path / "l.json", "[1, 2]"), 100) == [1, 2]


def test_a_file_over_the_bound_is_refused_unparsed(tmp_path, monkeypatch):
    path = _write(tmp_path / "a.json", '{"a": 1}' + " " * 100)
    size = path.stat().st_size
    monkeypatch.setattr(jsonfiles, "load_json", lambda text: pytest.fail("parsed"))
    for read in (read_json, read_json_object):
        with pytest.raises(JSONFileTooLarge) as refused:
            read(path, size - 1)
        assert str(refused.value) == f"{size:,} bytes, over the {size - 1:,} taco reads"
        assert (refused.value.size, refused.value.limit) == (size, size - 1)
        assert isinstance(refused.value, TacoError) and isinstance(refused.value, ValueError)


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"a": "\xff"}', "^not UTF-8 text$"),
    ('{"a": 1', "^Expecting ',' delimiter"),
    ("[" * 100_000, "^nested too deeply$"),
    ('{"a": ' + "9" * 5_000 + "}", "^a number with too many digits$"),
    ("[1, 2]", "^not a JSON object$"),
    ("null", "^not a JSON object$"),
])
def test_a_file_that_is_not_a_json_object_is_a_value_error_saying_why(tmp_path, content, reason):
    """The reason in a few words, without the file's name: callers add it, in their own class."""
    path = _write(tmp_path / "a.json", content)
    with pytest.raises(ValueError, match=reason):
        read_json_object(path, 1 << 20)


def test_bad_json_is_a_json_decode_error_for_callers_that_word_it_apart(tmp_path):
    with pytest.raises(json.JSONDecodeError) as refused:
        read_json(_write(tmp_path / "a.json", '{\n"a": 1,'), 100)
    assert refused.value.lineno == 2


def test_a_folder_or_a_missing_file_is_an_os_error_as_is(tmp_path):
    with pytest.raises(IsADirectoryError):
        read_json_object(tmp_path, 100)
    with pytest.raises(FileNotFoundError):
        read_json_object(tmp_path / "missing.json", 100)


@pytest.mark.parametrize(("text", "words"), [
    ("{bad", "Expecting property name"),
    ("[" * 100_000, "nested too deeply"),
    ("9" * 5000, "a number with too many digits"),
    ("[1, 2]", "not a JSON object"),
    ('"text"', "not a JSON object"),
    ("null", "not a JSON object"),
])
def test_json_object_says_in_a_few_words_what_is_wrong(text, words):
    assert json_object('{"a": [1]}') == json_object(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(ValueError, match=words):
        json_object(text)


def test_format_problem_names_the_format_and_the_version():
    def problem(document):  # noqa: ANN001, ANN202
        return format_problem(document, "f", 2, "taco thing")

    assert problem({"format": "f", "version": 2}) is None
    assert problem({"format": "g", "version": 2}) == problem({"version": 2}) == "not a taco thing"
    for version in (3, "2", True, 2.0, None):  # "2", True and 2.0 are not the integer 2
        assert problem({"format": "f", "version": version}) == (
            f"taco thing version {version!r} is not supported (this taco reads version 2)")
    assert len(problem({"format": "f", "version": "9" * 1000})) < 120  # a long one is cut


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "..", ".", "", "a\0b", 3, None])
def test_is_file_name_refuses_a_path(name):
    assert not is_file_name(name)
    assert is_file_name("x-00001-of-00002.safetensors") and is_file_name("..x")


def test_no_taco_module_parses_a_file_unbounded():
    """json.load(f) or json.loads(path.read_text()) read a file of any size whole: taco reads
    JSON files through read_json / read_json_object only."""
    raw = re.compile(r"json\.load\(|(json\.loads|load_json|json_object)\(.*\.read_(text|bytes)\(")
    found = [f"{p.relative_to(PACKAGE)}:{n}" for p in sorted(PACKAGE.rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if raw.search(line)]
    assert found == []


# --------------------------------------------------------------------------- its callers, over the bound


def test_a_shard_index_over_the_bound_is_a_sharded_file_error(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    shards.save_sharded({f"t{i}": torch.zeros(100) for i in range(8)}, path, {}, max_bytes=2_000)
    index = shards.index_path(path)
    size = index.stat().st_size
    monkeypatch.setattr(shards, "INDEX_MAX_BYTES", size - 1)
    with pytest.raises(shards.ShardedFileError) as refused:
        shards.read_metadata(path)
    assert str(refused.value) == (f"{index}: a shard index of {size:,} bytes, over the {size - 1:,} "
                                  "taco reads (a real one is a few KB)")


def test_an_annotations_file_over_the_bound_is_an_annotations_file_error(tmp_path, monkeypatch):
    import taco.data

    path = _write(tmp_path / "dataset_coco.json", json.dumps({"images": [], "pad": "x" * 200}))
    size = path.stat().st_size
    monkeypatch.setattr(taco.data, "ANNOTATIONS_MAX_BYTES", 100)
    with pytest.raises(AnnotationsFileError) as refused:
        karpathy_split(path)
    assert str(refused.value).startswith(f"{path}: not a Karpathy split file")
    assert str(refused.value).endswith(f" ({size:,} bytes, over the 100 taco reads)")
    with pytest.raises(AnnotationsFileError, match=rf"not a COCO captions file .* \({size:,} bytes, over the 100"):
        CocoCaptions(tmp_path, path)


def test_a_caption_json_over_the_bound_is_a_caption_import_error(tmp_path, monkeypatch):
    path = _write(tmp_path / "c.json", json.dumps({"a.png": "x" * 200}))
    size = path.stat().st_size
    monkeypatch.setattr(import_captions, "CAPTION_JSON_MAX_BYTES", 100)
    for read in (import_captions.read_caption_json, import_captions.read_image_list):
        with pytest.raises(import_captions.CaptionImportError) as refused:
            read(path)
        assert str(refused.value) == f"{path}: {size:,} bytes, over the 100 taco reads from a caption JSON"


def test_a_caption_json_keeps_its_own_words_for_bad_json(tmp_path):
    with pytest.raises(import_captions.CaptionImportError, match=r": not valid JSON \(Expecting .*, line 1\)$"):
        import_captions.read_caption_json(_write(tmp_path / "c.json", '{"a.png": "x",'))
    with pytest.raises(import_captions.CaptionImportError, match=r": cannot be read as JSON \(not UTF-8 text\)$"):
        import_captions.read_caption_json(_write(tmp_path / "u.json", b'{"a.png": "\xff"}'))
    with pytest.raises(import_captions.CaptionImportError, match=r": cannot read \(No such file"):
        import_captions.read_caption_json(tmp_path / "missing.json")


def test_a_result_over_the_bound_is_a_results_file_error(tmp_path, monkeypatch):
    path = _write(tmp_path / "r.json", json.dumps({"format": "taco-eval", "version": 1, "pad": "x" * 200}))
    size = path.stat().st_size
    monkeypatch.setattr(result_files, "RESULT_MAX_BYTES", 100)
    with pytest.raises(ResultsFileError) as refused:
        result_files.read_result(path)
    assert str(refused.value) == f"{path}: not a taco evaluation result ({size:,} bytes, over the 100 taco reads)"


# --------------------------------------------------------------------------- text encoder folders, now bounded


def test_a_minilm_config_over_the_bound_is_refused_by_the_encoder_and_by_its_width(tmp_path, monkeypatch):
    path = _write(tmp_path / "config.json", json.dumps({"hidden_size": 384, "pad": "x" * 200}))
    size = path.stat().st_size
    monkeypatch.setattr(minilm, "CONFIG_MAX_BYTES", 100)
    with pytest.raises(TextEncoderUnavailable) as refused:
        minilm.MiniLMTextEncoder(tmp_path)
    assert str(refused.value) == (f"MiniLM: {str(path)!r}: not a readable config.json ({size:,} bytes, "
                                  "over the 100 taco reads)")
    monkeypatch.setattr(taco.text, "CONFIG_MAX_BYTES", 100)
    with pytest.raises(TacoValueError, match=f"config.json: not a readable config.json \\({size:,} bytes"):
        text_encoder_dim("minilm", path=tmp_path)


def test_a_minilm_config_that_is_no_object_is_refused(tmp_path):
    _write(tmp_path / "config.json", "[384]")
    with pytest.raises(TextEncoderUnavailable, match=r"not a readable config.json \(not a JSON object\)"):
        minilm.MiniLMTextEncoder(tmp_path)
    with pytest.raises(TacoValueError, match=r"not a readable config.json \(not a JSON object\)"):
        text_encoder_dim("minilm", path=tmp_path)


def test_a_weight_index_over_the_bound_is_refused(tmp_path, monkeypatch):
    _write(tmp_path / "config.json", json.dumps(clip.TINY_CONFIG))
    index = _write(tmp_path / "model.safetensors.index.json",
                   json.dumps({"weight_map": {"a": "model-00001-of-00001.safetensors"}, "pad": "x" * 200}))
    monkeypatch.setattr(weights, "CONFIG_MAX_BYTES", 100)
    with pytest.raises(TextEncoderUnavailable) as refused:
        clip.load_clip_text(tmp_path)
    assert str(refused.value) == (f"{str(index)!r}: unreadable index ({index.stat().st_size:,} bytes, "
                                  "over the 100 taco reads)")


@pytest.mark.parametrize(("name", "bound"), [("tokenizer.json", "TOKENIZER_MAX_BYTES"),
                                             ("special_tokens_map.json", "CONFIG_MAX_BYTES")])
def test_clip_tokenizer_files_over_their_bound_are_refused(tmp_path, monkeypatch, name, bound):
    tokenizer = {"model": {"vocab": {"a": 0}, "merges": []}}
    _write(tmp_path / "tokenizer.json", json.dumps(tokenizer))
    path = _write(tmp_path / name, json.dumps({**tokenizer, "pad": "x" * 200}))
    monkeypatch.setattr(clip, bound, 100)
    with pytest.raises(TextEncoderUnavailable) as refused:
        clip.clip_tokenizer(tmp_path)
    assert str(refused.value) == (f"the tokenizer files in {str(tmp_path)!r} cannot be read: {name}: "
                                  f"{path.stat().st_size:,} bytes, over the 100 taco reads")


def test_a_byte_order_mark_at_the_start_is_taken_and_bad_json_elsewhere(tmp_path):
    """An editor on Windows writes a UTF-8 byte-order mark: every JSON file a user hands taco (a
    shard index, a COCO annotations file, a caption JSON, a result) reads with one."""
    path = tmp_path / "x.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert jsonfiles.read_json_object(path, 100) == {"a": 1}
    path.write_bytes(b'{"a": \xef\xbb\xbf1}')
    with pytest.raises(json.JSONDecodeError):
        jsonfiles.read_json(path, 100)
