"""A captions.jsonl line longer than CAPTIONS_LINE_MAX_CHARS is refused naming PATH:N, read no
further (a 50 MB line read whole peaked at 763 MB and took 8.5 s). A sidecar
caption over SIDECAR_MAX_CHARS is refused likewise, not cut."""

from __future__ import annotations

import tracemalloc

import pytest

from taco import captions_file
from taco.captions_file import (
    SIDECAR_MAX_CHARS,
    CaptionsFileError,
    SidecarError,
    read_captions_file,
    read_sidecar,
)
from taco.text import MAX_CAPTION_CHARS


def test_the_bound_is_far_above_a_record(tmp_path):
    """A line of the longest caption, written escaped as \\uXXXX (six characters each), ten times."""
    assert captions_file.CAPTIONS_LINE_MAX_CHARS >= 10 * 6 * MAX_CAPTION_CHARS
    path = tmp_path / "captions.jsonl"
    caption = "\\u00e9" * MAX_CAPTION_CHARS
    path.write_text('{"image": "a.png", "captions": [' + ", ".join(f'"{caption}"' for _ in range(10)) + "]}\n",
                    encoding="utf-8")
    assert read_captions_file(path).records[0].captions == ("é" * MAX_CAPTION_CHARS,) * 10


def test_a_line_over_the_bound_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(captions_file, "CAPTIONS_LINE_MAX_CHARS", 1_000)
    path = tmp_path / "captions.jsonl"
    fits = '{"image": "a.png", "caption": "' + "x" * (1_000 - 33) + '"}'  # 1,000 characters
    assert len(fits) == 1_000
    huge = '{"image": "b.png", "caption": "' + "x" * 4_000_000 + '"}'  # valid: read whole, it loaded
    path.write_text(fits + "\n" + huge + "\n", encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(CaptionsFileError) as err:
            read_captions_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(err.value) == (f"{path}:2: the line has over 1,000 characters, far more than an "
                              "image's captions take; shorten it")
    assert peak < 1_000_000  # the 4 MB line was never held whole
    path.write_text(fits + "\n", encoding="utf-8")  # the bound itself, without its newline too
    assert read_captions_file(path).records[0].file == "a.png"
    path.write_text(fits, encoding="utf-8")
    assert read_captions_file(path).records[0].file == "a.png"


def test_a_sidecar_caption_over_the_limit_is_refused_not_cut(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x" * SIDECAR_MAX_CHARS)
    assert read_sidecar(path) == "x" * SIDECAR_MAX_CHARS
    path.write_text("x" * (SIDECAR_MAX_CHARS + 1))
    with pytest.raises(SidecarError, match="over 1,000,000 characters"):
        read_sidecar(path)
