"""Atomic writes, image reads and captions files: behaviours no earlier test pinned (mutation
testing, round 5)."""

import json

import pytest

from taco.atomic import write_bytes_atomic
from taco.captions_file import (
    SIDECAR_MAX_CHARS,
    CaptionLookup,
    CaptionsFileError,
    SidecarError,
    folder_captions,
    image_name_problem,
    read_sidecar,
)
from taco.images import load_image


@pytest.mark.parametrize("length", [241, 242, 243, 245, 249, 250, 255])
def test_an_atomic_write_to_a_long_legal_name_succeeds(tmp_path, length):
    """The temporary name (.NAME.tmp- and 8 random hex digits) is shortened to fit 255 bytes,
    so every legal name up to 255 bytes can be written, and nothing else is left."""
    path = tmp_path / ("a" * (length - 5) + ".taco")
    assert len(path.name) == length
    write_bytes_atomic(path, b"x")
    assert path.read_bytes() == b"x"
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("magic, pixels", [
    (b"P4", b"\x00" * (50 * 400)),  # binary: 400 rows of 50 bytes, no blank byte among them
    (b"P1", b"0" * (400 * 400)),  # plain, its bits written without blanks between them
])
def test_a_large_pbm_loads(tmp_path, magic, pixels):
    """A PBM's header has two numbers (no maxval): its pixel data is not read as a third."""
    path = tmp_path / "a.pbm"
    path.write_bytes(magic + b"\n400 400\n" + pixels)
    image = load_image(path)
    assert image.size == (400, 400)


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


def test_a_sidecar_caption_over_the_limit_is_refused_not_cut(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x" * SIDECAR_MAX_CHARS)
    assert read_sidecar(path) == "x" * SIDECAR_MAX_CHARS
    path.write_text("x" * (SIDECAR_MAX_CHARS + 1))
    with pytest.raises(SidecarError, match="over 1,000,000 characters"):
        read_sidecar(path)
