"""taco.captions_file: the one reader of captions.jsonl, with the captioners its lines name."""

from __future__ import annotations

import json

import pytest

from taco.captions_file import (
    CaptionRecord,
    CaptionsFileError,
    is_caption_line,
    read_caption_records,
    read_captions_file,
)


def _write(path, *lines):
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def test_records_and_captioners(tmp_path):
    path = _write(
        tmp_path / "captions.jsonl",
        {"image": "a.png", "captions": ["one"], "captioner": "blip"},
        {"image": "b.png", "caption": "two\u2028lines", "captioner": "ofa"},  # a line separator inside
        {"image": "a.png", "captions": ["three", " "], "captioner": "blip"},
        {"image": "c.png", "captions": []},
        {"image": "d.png", "captions": ["x"], "captioner": 7},  # not a name: ignored
    )
    parsed = read_captions_file(path)
    assert parsed.records == [
        CaptionRecord("a.png", ("one", "three")),
        CaptionRecord("b.png", ("two\u2028lines",)),
        CaptionRecord("c.png", ()),
        CaptionRecord("d.png", ("x",)),
    ]
    assert parsed.captioners == ("blip", "ofa")  # each once, in file order
    assert read_caption_records(path) == parsed.records


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"image": "a.png", "captions": ["x"]}\n[1, 2]\n', r":2: expected"),
        (b'{"captions": ["x"]}\n', r":1: expected"),
        (b'{"image": 5, "captions": ["x"]}\n', r":1: image must be a string"),
        (b'{"image": "a.png", "captions": ["\xff"]}\n', r":1: not UTF-8 text \(byte 0xff at column 34\)"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "captions.jsonl"
    path.write_bytes(content)
    with pytest.raises(CaptionsFileError, match=message):
        read_captions_file(path)


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
# was refused in Python's words ("list indices must be integers or slices, not str")
def test_a_line_that_is_no_json_object_says_what_it_holds(tmp_path, line, holds):
    path = tmp_path / "captions.jsonl"
    path.write_text(GOOD + line + "\n", encoding="utf-8")
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f"{path}:2: {EXPECTED} (the line holds {holds}, not a JSON object)"
    assert not is_caption_line(line)
    assert is_caption_line(GOOD)
