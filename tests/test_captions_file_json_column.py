"""A captions.jsonl line that is not JSON is named by its line, once, and the column: the line's
newline used to be parsed with it, and the message carried json's own "line 2 column 1"."""

from __future__ import annotations

import pytest

from taco.captions_file import CaptionsFileError, read_captions_file

GOOD = '{"image": "a.png", "captions": ["a cat"]}\n'
EXPECTED = 'expected {"image": ..., "captions": [...]}'


@pytest.mark.parametrize(("line", "column", "why"), [
    ('{"image": "b.png", "captions": ["x"]', 37, "Expecting ',' delimiter"),  # cut short
    ('{"image": "b.png" "captions": ["x"]}', 19, "Expecting ',' delimiter"),
    ("{'image': 'b.png'}", 2, "Expecting property name enclosed in double quotes"),
])
@pytest.mark.parametrize("newline", ["\n", "\r\n", ""])
def test_a_json_error_is_line_and_column(tmp_path, line, column, why, newline):
    path = tmp_path / "captions.jsonl"
    path.write_bytes((GOOD + line + newline).encode())
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f"{path}:2: {EXPECTED} ({why} at column {column})"


def test_other_errors_keep_the_line_alone(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_text(GOOD + '{"captions": ["x"]}\n', encoding="utf-8")
    with pytest.raises(CaptionsFileError) as err:
        read_captions_file(path)
    assert str(err.value) == f"{path}:2: {EXPECTED} ('image')"
