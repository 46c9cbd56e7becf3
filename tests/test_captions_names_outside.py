"""Image names in captions files are kept inside the dataset's folder and must be regular files,
and a UTF-8 byte-order mark at the start of a captions file or a caption JSON is taken.

A captions.jsonl naming "../fifo.png" made `taco evaluate DIR` wait for ever on the pipe beside
the folder; "../outside.png" or "/abs/x.png" was read and evaluated; a pipe inside the folder,
listed, was counted as an image; a BOM, as Windows editors write, was refused as "expected
{"image": ...}" while a sidecar IMAGE.txt took it."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
from PIL import Image

from taco.captions_file import (
    CaptionRecord,
    CaptionsFileError,
    folder_captions,
    image_name_problem,
    is_caption_line,
    read_captions_file,
)
from taco.data import CaptionedFolder, CaptionedImages, SkippedImageWarning, count_usable
from taco.evaluation.datasets import open_dataset
from taco.evaluation.import_captions import CaptionImportError, import_captions, read_caption_json

BOM = b"\xef\xbb\xbf"


def _photo(path: Path) -> Path:
    Image.new("RGB", (40, 32), (120, 60, 30)).save(path)
    return path


def _lines(*entries: dict) -> str:
    return "".join(json.dumps(e) + "\n" for e in entries)


@pytest.fixture
def folder(tmp_path) -> Path:
    """ds/a.png and ds/sub/b.png, with outside.png beside ds."""
    root = tmp_path / "ds"
    (root / "sub").mkdir(parents=True)
    _photo(root / "a.png")
    _photo(root / "sub" / "b.png")
    _photo(tmp_path / "outside.png")
    return root


@pytest.mark.parametrize(("name", "problem"), [
    ("a.png", None), ("sub/b.png", None), ("a..b.png", None),
    ("./a.png", "is not written in its plain form ('a.png')"),  # a.png again: one image, one name
    ("../outside.png", "has a '..' part"), ("sub/../../x.png", "has a '..' part"),
    ("/etc/passwd", "is an absolute path"), ("", "names the folder itself"),
    (".", "names the folder itself"), ("a\0.png", "holds a null byte"),
])  # fmt: skip
def test_the_name_rule(name, problem):
    assert image_name_problem(name) == problem


@pytest.mark.parametrize("name", ["../outside.png", "OUTSIDE_ABS"])
def test_a_folder_captions_file_naming_a_file_outside_is_refused_with_its_line(folder, name):
    name = str(folder.parent / "outside.png") if name == "OUTSIDE_ABS" else name
    (folder / "captions.jsonl").write_text(_lines({"image": "a.png", "captions": ["a cat"]},
                                                  {"image": name, "captions": ["b"]}))
    with pytest.raises(CaptionsFileError) as e:
        folder_captions(folder, ["a.png"])
    assert str(e.value).startswith(f"{folder / 'captions.jsonl'}:2: the image {name!r:.60}")
    with pytest.raises(CaptionsFileError):
        open_dataset(folder, crop=0)  # was: evaluated outside.png
    with pytest.raises(CaptionsFileError):
        CaptionedFolder(folder)


def test_a_named_captions_file_is_held_to_the_same_rule(folder, tmp_path):
    named = tmp_path / "mine.jsonl"
    named.write_text(_lines({"image": "/etc/hostname", "captions": ["x"]}))
    with pytest.raises(CaptionsFileError, match=r"mine\.jsonl:1: .* is an absolute path"):
        folder_captions(folder, ["a.png"], named)


def test_names_in_subfolders_are_kept(folder):
    (folder / "captions.jsonl").write_text(_lines({"image": "a.png", "captions": ["a"]},
                                                  {"image": "sub/b.png", "captions": ["b"]}))
    assert [r.file for r in folder_captions(folder, ["a.png"]).records] == ["a.png", "sub/b.png"]
    assert [r.file for r in open_dataset(folder, crop=0).images.records] == ["a.png", "sub/b.png"]


def test_captioned_images_drops_records_outside_its_root(folder):
    """Records given directly (coco30k's official protocol reads its captions file itself)."""
    records = [CaptionRecord("a.png", ("a",)), CaptionRecord("../outside.png", ("b",)),
               CaptionRecord(str(folder.parent / "outside.png"), ("c",))]
    with pytest.warns(SkippedImageWarning, match=r"2 named outside the folder .*\.\./outside\.png"):
        dataset = CaptionedImages(folder, records)
    assert [r.file for r in dataset.records] == ["a.png"]
    assert dataset.outside == 2
    assert count_usable(folder, [r.file for r in records], None) == 1


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_listed_pipe_is_no_image(folder):
    """Never opened: a pipe's open waits for a writer. Before, it was counted as present."""
    os.mkfifo(folder / "pipe.png")
    records = [CaptionRecord("a.png", ("a",)), CaptionRecord("pipe.png", ("b",))]
    with pytest.warns(SkippedImageWarning, match=r"1 listed without an image file \(pipe\.png\)"):
        dataset = CaptionedImages(folder, records, min_side=8)
    assert [r.file for r in dataset.records] == ["a.png"]
    assert count_usable(folder, ["a.png", "pipe.png"], 8) == 1


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_evaluate_refuses_a_pipe_beside_the_folder_without_waiting(folder):
    os.mkfifo(folder.parent / "fifo.png")
    (folder / "captions.jsonl").write_text(_lines({"image": "a.png", "captions": ["a"]},
                                                  {"image": "../fifo.png", "captions": ["b"]}))
    with pytest.raises(CaptionsFileError, match="captions.jsonl:2: the image '../fifo.png' has a '..' part"):
        open_dataset(folder, crop=0)


# --------------------------------------------------------------------------- byte-order marks


def test_a_captions_file_may_start_with_a_bom(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_bytes(BOM + _lines({"image": "a.png", "captions": ["a cat"]},
                                  {"image": "b.png", "captions": ["b"]}).encode())
    assert [r.file for r in read_captions_file(path).records] == ["a.png", "b.png"]
    assert is_caption_line("\ufeff" + _lines({"image": "a.png", "captions": ["a"]}))


def test_a_bom_after_the_start_is_still_an_error(tmp_path):
    path = tmp_path / "captions.jsonl"
    path.write_bytes(_lines({"image": "a.png", "captions": ["a"]}).encode() + BOM
                     + _lines({"image": "b.png", "captions": ["b"]}).encode())
    with pytest.raises(CaptionsFileError, match=r"captions\.jsonl:2: expected"):
        read_captions_file(path)


def test_a_folder_with_a_bom_captions_file_is_a_dataset(folder):
    (folder / "captions.jsonl").write_bytes(BOM + _lines({"image": "a.png", "captions": ["a"]}).encode())
    assert open_dataset(folder, crop=0).all_captions == [("a",)]


# --------------------------------------------------------------------------- taco import-captions


def test_import_captions_takes_a_bom(tmp_path):
    path = tmp_path / "kodak_ofa.json"
    path.write_bytes(BOM + json.dumps({"kodim01.png": "a brick building"}).encode())
    assert read_caption_json(path) == {"kodim01.png": ["a brick building"]}
    images = tmp_path / "list.json"
    images.write_bytes(BOM + json.dumps(["kodim01.png"]).encode())
    assert import_captions(path, images) == [CaptionRecord("kodim01.png", ("a brick building",))]


def test_import_captions_still_refuses_what_is_not_utf8(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"a.png": "\xff"}')
    with pytest.raises(CaptionImportError, match="not UTF-8 text"):
        read_caption_json(path)


@pytest.mark.parametrize("name", ["../secret.png", "/etc/passwd", "val2014/../../x.jpg"])
def test_import_captions_refuses_names_outside_the_folder(tmp_path, name):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps({"kodim01.png": "a", name: "b"}))
    with pytest.raises(CaptionImportError, match=r"pairs\.json: the image name .* (absolute|'\.\.')"):
        import_captions(path)
    path.write_text(json.dumps({"kodim01.png": "a"}))
    images = tmp_path / "list.json"
    images.write_text(json.dumps(["kodim01.png", name]))
    with pytest.raises(CaptionImportError, match=r"list\.json: the image name"):
        import_captions(path, images)


def test_import_captions_keeps_names_in_subfolders(tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps({"val2014/COCO_1.jpg": "a"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert import_captions(path) == [CaptionRecord("val2014/COCO_1.jpg", ("a",))]
