"""A captions.jsonl line that is JSON but not an object (``["a.png", "a cat"]``) was refused in
Python's words: 'captions.jsonl:1: expected {...} (list indices must be integers or slices, not
str)'. It says what the line holds now."""

from __future__ import annotations

import pytest

from taco.captions_file import CaptionsFileError, is_caption_line, read_captions_file

GOOD = '{"image": "a.png", "captions": ["a cat"]}\n'
EXPECTED = 'expected {"image": ..., "captions": [...]}'


@pytest.mark.parametrize(("line", "holds"), [
    ('["b.png", "a dog"]', "a JSON array"),
    ('"b.png"', "a JSON string"),
    ("3", "a JSON number"),
    ("-1.5e3", "a JSON number"),
    ("true", "JSON true"),
    ("null", "JSON null"),
])
def test_a_line_that_is_no_json_object_says_what_it_holds(tmp_path, line, holds):
    path = tmp_path / "captions.jsonl"
    path.write_text(GOOD + line + "\n", encoding="utf-8")
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f"{path}:2: {EXPECTED} (the line holds {holds}, not a JSON object)"
    assert not is_caption_line(line)
    assert is_caption_line(GOOD)
