"""``taco import-captions``: an image named twice in the authors' JSON keeps both captions
(review B).

``{"a.png": "first caption", "a.png": "second caption"}`` was imported with the second caption
alone, silently (a JSON object read as a dict keeps a repeated key's last value). Now the
captions of both are kept, in file order, as repeated lines of a captions.jsonl merge."""

from __future__ import annotations

import json

import pytest

from taco.captions_file import read_caption_records
from taco.cli import main
from taco.evaluation.import_captions import CaptionImportError, read_caption_json


def test_a_name_given_twice_keeps_both_captions(tmp_path):
    src = tmp_path / "dup.json"
    src.write_text('{"a.png": "first caption", "b.png": "x", "a.png": ["second", " "],'
                   ' "a.png": "third"}', encoding="utf-8")
    assert read_caption_json(src) == {"a.png": ["first caption", "second", "third"], "b.png": ["x"]}
    out = tmp_path / "captions.jsonl"
    assert main(["import-captions", str(src), "-o", str(out)]) == 0
    records = read_caption_records(out)
    assert [(r.file, r.captions) for r in records] == [
        ("a.png", ("first caption", "second", "third")), ("b.png", ("x",))]


def test_each_value_of_a_name_given_twice_is_checked(tmp_path):
    src = tmp_path / "dup.json"
    src.write_text(json.dumps({"a.png": "ok"})[:-1] + ', "a.png": 3}', encoding="utf-8")
    with pytest.raises(CaptionImportError, match="the captions of 'a.png' must be a string or a list"):
        read_caption_json(src)
