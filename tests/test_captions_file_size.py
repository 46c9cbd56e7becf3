"""A folder's captions.jsonl had a limit per line but none in all (a 197 MB file of 2,000,000
lines took 96 s and 1.5 GB in taco evaluate), and each listed image without a file in the folder
cost a path built for its name check and another for its sidecar."""

from __future__ import annotations

import os
import threading

import pytest

import taco.captions_file as captions_file
from taco.captions_file import (
    CAPTIONS_FILE_MAX_BYTES,
    CaptionLookup,
    CaptionsFileError,
    folder_captions,
    image_name_problem,
    read_captions_file,
)


def _write(path, n):
    with path.open("w") as f:
        f.write('{"image": "a.png", "captions": ["a cat"]}\n')
        for i in range(n):
            f.write(f'{{"image": "zz{i:06d}.png", "captions": ["a cat"]}}\n')


def test_the_cap_is_above_a_real_datasets_captions():
    assert CAPTIONS_FILE_MAX_BYTES >= 2**30  # COCO's 330k images x 5 captions: about 250 MB


def test_a_captions_file_over_the_cap_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "captions.jsonl"
    _write(path, 100)
    monkeypatch.setattr(captions_file, "CAPTIONS_FILE_MAX_BYTES", 1000)
    with pytest.raises(CaptionsFileError, match=r"captions.jsonl: over 1,000 bytes \(1 GiB\), "
                                                r"more than a dataset's captions take"):
        read_captions_file(path)
    monkeypatch.setattr(captions_file, "CAPTIONS_FILE_MAX_BYTES", path.stat().st_size)
    assert len(read_captions_file(path).records) == 101


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_stream_is_read_no_further_than_the_cap(tmp_path, monkeypatch):
    fifo = tmp_path / "captions.jsonl"
    os.mkfifo(fifo)

    def write():
        try:
            with fifo.open("w") as f:
                for i in range(100_000):
                    f.write(f'{{"image": "{i}.png", "captions": ["a cat"]}}\n')
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    monkeypatch.setattr(captions_file, "CAPTIONS_FILE_MAX_BYTES", 10_000)
    with pytest.raises(CaptionsFileError, match="over 10,000 bytes"):
        read_captions_file(fifo)
    writer.join(10)


def test_plain_names_are_checked_without_a_path(monkeypatch):
    def no_path(*args):
        raise AssertionError("a path built")

    monkeypatch.setattr(captions_file, "PurePosixPath", no_path)
    monkeypatch.setattr(captions_file, "PureWindowsPath", no_path)
    for name in ("a.png", "IMG 1.JPG", ".hidden.png", "a..png"):
        assert image_name_problem(name) is None
    with pytest.raises(AssertionError):
        image_name_problem("sub/a.png")


def test_a_listed_image_not_in_the_folder_has_no_sidecar_looked_for(tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "a.txt").write_text("a sidecar cat")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(b"")
    (tmp_path / "sub" / "b.txt").write_text("a sub cat")
    _write(tmp_path / "captions.jsonl", 1000)
    with (tmp_path / "captions.jsonl").open("a") as f:
        f.write('{"image": "sub/b.png", "captions": ["listed"]}\n')
    looked = []
    find = CaptionLookup.find

    def counted(self, folder, name, *args, sidecar=True, **kwargs):
        if sidecar:  # a sidecar looked for
            looked.append(name)
        return find(self, folder, name, *args, sidecar=sidecar, **kwargs)

    monkeypatch.setattr(CaptionLookup, "find", counted)
    found = folder_captions(tmp_path, ["a.png"])
    assert sorted(looked) == ["a.png", "sub/b.png"]  # the images there, not the 1000 missing
    table = {r.file: r.captions for r in found.records}
    assert table["a.png"] == ("a sidecar cat",) and table["sub/b.png"] == ("a sub cat",)
    assert table["zz000999.png"] == ("a cat",) and len(table) == 1002
    assert found.counts == {"sidecar": 2, "folder": 1000}
