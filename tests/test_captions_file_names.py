"""The bounds docs/reliability.md names as ``taco.captions_file.NAME`` are public: in ``__all__``; the image
names a captions file gives: '..' refused, ``./a.png`` and ``a.png`` one image."""

from __future__ import annotations

import json

import pytest

import taco.captions_file
from taco.captions_file import (
    CaptionLookup,
    CaptionsFileError,
    folder_captions,
    image_name_problem,
)


def test_the_documented_read_bounds_are_in_all():
    assert {"SIDECAR_MAX_CHARS", "CAPTIONS_LINE_MAX_CHARS"} <= set(taco.captions_file.__all__)


def test_a_captions_file_naming_the_folder_above_is_refused(tmp_path):
    assert image_name_problem("..") is not None
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "..", "captions": ["x"]}) + "\n")
    with pytest.raises(CaptionsFileError, match="the image '..' has a '..' part"):
        folder_captions(tmp_path, [])


def test_one_image_listed_as_dot_slash_name_and_name_gets_both_captions(tmp_path):
    path = tmp_path / "caps.jsonl"
    path.write_text(json.dumps({"image": "./a.png", "captions": ["first"]}) + "\n"
                    + json.dumps({"image": "a.png", "captions": ["second"]}) + "\n")
    found = CaptionLookup(path).find(tmp_path, "a.png")
    assert found is not None and found.captions == ("first", "second")
