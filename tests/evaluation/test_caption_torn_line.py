"""The last line of a captions file without a final newline, as ``taco caption`` judges it: the
unfinished start of a line it writes (an interrupted run) is cut off with a warning whatever its
last character, ``}`` included; a whole record is kept; any other line is refused, the file
unchanged."""

from __future__ import annotations

import json
import warnings

import pytest

from taco.captions_file import CaptionsFileError, is_caption_line, read_captions_file
from taco.errors import TacoWarning
from taco.evaluation.caption_plan import caption_line, plan_captions

HUMAN = '{"image": "skimage-astronaut.png", "captions": ["my own caption"]}'
#: Lines taco caption writes, with what a cut can fall after: braces, quotes, escapes, non-ASCII.
OURS = [
    caption_line("skimage-chelsea.png", "a smiley :-} and a {brace}", "blip}"),
    caption_line("caf\u00e9 {1}.png", 'she said "hi" \\ bye\n\t\x01', "./my-captioner"),
    caption_line("skimage-coffee.png", "", "Salesforce/blip-image-captioning-base"),
]


def test_caption_line_is_json_dumps_of_the_record_and_every_reader_takes_it(tmp_path):
    for line in OURS:
        record = json.loads(line)
        assert line == json.dumps(record, ensure_ascii=False) + "\n"
        assert list(record) == ["image", "captions", "captioner"] and len(record["captions"]) == 1
        assert is_caption_line(line)
    path = tmp_path / "captions.jsonl"
    path.write_text("".join(OURS), encoding="utf-8")
    assert read_captions_file(path).captioners == ("blip}", "./my-captioner",
                                                   "Salesforce/blip-image-captioning-base")


@pytest.fixture
def folder(folder_factory, tmp_path):
    """The four sample images, without a captions file."""
    return folder_factory(tmp_path / "photos", captions=False)


def _write(folder, last: bytes):
    """``folder``'s captions.jsonl: a whole line, then ``last`` without a newline."""
    path = folder / "captions.jsonl"
    path.write_bytes(HUMAN.encode() + b"\n" + last)
    return path


@pytest.mark.parametrize("cut", ['{"image": "skimage-chelsea.png", "captions": ["a smiley :-}',
                                 '{"image": "skimage-chelsea.png", "captions": ["a {brace}"], "captioner": "blip}',
                                 '{"image": "skimage-chelsea.png", "captions": ["}'])
def test_an_unfinished_line_ending_in_a_brace_is_cut_with_a_warning(folder, cut):
    """Such a line was refused ("expected {...}") and the run stopped, as if it were a user's."""
    path = _write(folder, cut.encode())
    with pytest.warns(TacoWarning, match="captions.jsonl: cut off its unfinished last line"):
        plan = plan_captions(folder)
    assert path.read_bytes() == HUMAN.encode() + b"\n" and not plan.newline_owed
    assert plan.already == 1 and [p.name for p in plan.todo] == [
        "skimage-chelsea.png", "skimage-coffee.png", "skimage-rocket.png"]


@pytest.mark.parametrize("line", OURS)
def test_every_cut_of_a_line_of_ours_is_cut_and_the_whole_line_kept(folder, line):
    data = line.removesuffix("\n").encode()
    for end in range(1, len(data)):  # inside UTF-8 characters and escapes too
        path = _write(folder, data[:end])
        with pytest.warns(TacoWarning, match="cut off its unfinished last line"):
            plan_captions(folder)
        assert path.read_bytes() == HUMAN.encode() + b"\n", data[:end]
    path = _write(folder, data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # kept, not cut
        plan = plan_captions(folder)
    assert plan.newline_owed and path.read_bytes() == HUMAN.encode() + b"\n" + data


@pytest.mark.parametrize("last", [
    '{"image": "skimage-chelsea.png" "captions": ["a cat"]}',  # a missing comma
    '{"image": "skimage-chelsea.png", "captions": ["a cat", "two"]}x',
    '{"image": "skimage-chelsea.png", "captions": ["a cat", "two"',  # two captions: not ours
    '{"image": "skimage-chelsea.png", "caption": "a cat"',  # not our key
    '{"image": "skimage-chelsea.png", "captions": ["a cat"], "captioner": "me"}}',
    '{"image": "skimage-chelsea.png", "captions": ["a\tcat"], "captioner": "me"}',  # a raw tab
    '{"image":"skimage-chelsea.png","captions":["a cat"]',  # not json.dumps's spacing
    '{"image": 7, "captions": ["a cat"]}',
])
def test_any_other_last_line_is_refused_unchanged(folder, last):
    path = _write(folder, last.encode())
    before = path.read_bytes()
    with pytest.raises(CaptionsFileError, match="captions.jsonl:2: "):
        plan_captions(folder)
    assert path.read_bytes() == before


def test_bytes_that_are_not_utf8_before_the_end_are_refused_unchanged(folder):
    path = _write(folder, b'{"image": "caf\xe9.png", "capt')
    before = path.read_bytes()
    with pytest.raises(CaptionsFileError, match="captions.jsonl:2: not UTF-8"):
        plan_captions(folder)
    assert path.read_bytes() == before
