"""A sidecar or captions.jsonl that is no regular file (a pipe, a link to /dev/zero) is passed
over by the caption lookup; the note on an image without a caption said to give a sidecar
side.txt when there was one, a link to /dev/zero: it now says that one is not a regular file."""

from __future__ import annotations

import os

import pytest

from taco.captions_file import FOLDER_CAPTIONS, CaptionLookup
from taco.cli.inputs import not_a_regular_file, uncaptioned_note

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                                reason="no named pipes or /dev/zero")


def test_a_sidecar_linking_to_dev_zero_is_named_as_ignored(tmp_path):
    image = tmp_path / "side.png"
    image.write_bytes(b"")
    (tmp_path / "side.txt").symlink_to("/dev/zero")
    assert not_a_regular_file(tmp_path / "side.txt")
    assert CaptionLookup().find(tmp_path, "side.png") is None
    text = uncaptioned_note([image], [None])
    assert f"{image} has no caption ({tmp_path / 'side.txt'} is not a regular file; ignored), so " \
           "it is coded without one" in text


def test_a_captions_file_that_is_a_pipe_is_named_as_ignored(tmp_path):
    images = [tmp_path / "a.png", tmp_path / "b.png"]
    for image in images:
        image.write_bytes(b"")
    os.mkfifo(tmp_path / FOLDER_CAPTIONS)
    (tmp_path / "b.txt").mkdir()
    text = uncaptioned_note(images, [None, None])
    assert (f"2 of 2 images have no caption ({tmp_path / FOLDER_CAPTIONS}, {tmp_path / 'b.txt'} are "
            "not regular files; ignored), so they are coded without one") in text


def test_regular_and_missing_files_are_not_named(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"")
    assert not not_a_regular_file(image) and not not_a_regular_file(tmp_path / "none.txt")
    (tmp_path / "a.txt").symlink_to("nowhere.txt")
    assert not not_a_regular_file(tmp_path / "a.txt")  # a link to nothing: nothing there
    assert "ignored" not in uncaptioned_note([image], [None])
