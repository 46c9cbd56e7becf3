"""One reader of COCO captions files: ``coco40k:`` (:class:`taco.data.CocoCaptions`)
and ``taco import-captions`` read ``captions_*.json`` with
:func:`taco.captions_file.coco_caption_records`, one rule for ids and malformed entries. Before,
import-captions had a parser of its own: an id ``"74"`` was another image than ``74`` (refused
there, read by coco40k), an id ``"x"`` was read (refused by coco40k), and coco40k read two images
of one id (the last one's name kept) and truncated an id ``1.5`` to ``1``. What each keeps of the
rest still differs by purpose: a training set leaves out images without captions and the
annotations of unknown ids, import-captions refuses them, and says what a file that holds no
list of objects holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import taco.cli
from taco.captions_file import CaptionRecord, CocoCaptionsError, coco_caption_records
from taco.cli import COMMAND_HELP
from taco.data import AnnotationsFileError, CocoCaptions
from taco.evaluation.import_captions import CaptionImportError, read_caption_json


def _json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_the_records_by_id_in_file_order_with_captions_as_written() -> None:
    coco = coco_caption_records({
        "images": [{"id": 9, "file_name": "b.jpg"}, {"id": "3", "file_name": "a.jpg"}, {"id": 4.0, "file_name": "c.jpg"}],
        "annotations": [{"image_id": 3, "caption": " x "}, {"image_id": "9", "caption": "y"},
                        {"image_id": 77, "caption": "z"}, {"image_id": 3.0, "caption": ""}]})
    assert list(coco.images.items()) == [(9, CaptionRecord("b.jpg", ("y",))), (3, CaptionRecord("a.jpg", (" x ", ""))),
                                         (4, CaptionRecord("c.jpg", ()))]
    assert coco.unmatched == [(2, 77)]


@pytest.mark.parametrize("data, message", [
    ([], 'a COCO captions file is an object with lists "images" and "annotations"'),
    ({"images": {}, "annotations": []}, 'an object with lists "images" and "annotations"'),
    ({"images": [{"id": True, "file_name": "a.jpg"}], "annotations": []}, 'images[0] of a COCO captions file must have'),
    ({"images": [{"id": 1.5, "file_name": "a.jpg"}], "annotations": []}, 'an id is a whole number'),
    ({"images": [{"id": "x", "file_name": "a.jpg"}], "annotations": []}, 'got {"id": "x", "file_name": "a.jpg"}'),
    ({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": "1", "file_name": "b.jpg"}], "annotations": []},
     "images[1] has the id '1' of an image before it"),
    ({"images": [], "annotations": [{"image_id": None, "caption": "x"}]}, 'annotations[0] of a COCO captions file'),
    ({"images": [], "annotations": ["x"]}, 'annotations[0] of a COCO captions file'),
])
def test_a_malformed_entry_is_one_error_saying_which(data: object, message: str) -> None:
    with pytest.raises(CocoCaptionsError) as info:
        coco_caption_records(data)
    assert message in str(info.value) and "\n" not in str(info.value) and isinstance(info.value, ValueError)


STRING_IDS = {"images": [{"id": "74", "file_name": "dog.jpg"}, {"id": 73, "file_name": "bike.jpg"}],
              "annotations": [{"image_id": 74, "caption": "a dog "}, {"image_id": "73", "caption": "a bike"},
                              {"image_id": "74", "caption": "  "}, {"image_id": 74.0, "caption": "a brown dog"}]}


def test_both_readers_take_74_and_the_string_74_for_one_image(tmp_path: Path) -> None:
    src = _json(tmp_path / "captions_val2014.json", STRING_IDS)  # import-captions refused: "which no image has"
    coco = CocoCaptions(tmp_path, src, check_files=False)
    assert [r.file for r in coco.records] == ["bike.jpg", "dog.jpg"]  # by id: 73, 74
    assert {r.file: list(r.captions) for r in coco.records} == read_caption_json(src) == {
        "dog.jpg": ["a dog", "a brown dog"], "bike.jpg": ["a bike"]}


@pytest.mark.parametrize("images", [
    [{"id": "x", "file_name": "a.jpg"}],  # import-captions read it; coco40k refused it
    [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}],  # coco40k kept b.jpg with a's captions
    [{"id": 1.5, "file_name": "a.jpg"}],  # coco40k read it as id 1
])
def test_both_readers_refuse_the_same_ids(tmp_path: Path, images: list) -> None:
    src = _json(tmp_path / "captions.json", {"images": images, "annotations": [{"image_id": 1, "caption": "x"}]})
    with pytest.raises(AnnotationsFileError, match=f"{src}: not a COCO captions file .*images\\["):
        CocoCaptions(tmp_path, src, check_files=False)
    with pytest.raises(CaptionImportError, match=r"images\["):
        read_caption_json(src)


def test_what_each_keeps_of_the_rest_differs_by_purpose(tmp_path: Path) -> None:
    src = _json(tmp_path / "captions.json", {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "annotations": [{"image_id": 1, "caption": "an apple"}, {"image_id": 5, "caption": "no such image"}]})
    with pytest.warns(UserWarning, match="1 without"):
        coco = CocoCaptions(tmp_path, src, check_files=False)
    assert [(r.file, r.captions) for r in coco.records] == [("a.jpg", ("an apple",))]
    with pytest.raises(CaptionImportError, match=r"annotations\[1\] names the image_id 5, which no image has"):
        read_caption_json(src)


def test_import_captions_help_names_the_coco_files_and_lists_it_reads() -> None:
    assert "COCO" in COMMAND_HELP["import-captions"] and "lists of objects" in COMMAND_HELP["import-captions"]


def test_the_reader_imports_no_torch() -> None:
    code = ("import sys, taco.captions_file as c; c.coco_caption_records({'images': [], 'annotations': []}); "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.parametrize(("text", "got"), [("[]", "an empty list"), ("{}", "an empty object"), ("5", "int")])
def test_import_captions_says_what_it_got(tmp_path, capsys, text, got):
    source = tmp_path / "captions.json"
    source.write_text(text)
    assert taco.cli.main(["import-captions", str(source), "-o", str(tmp_path / "c.jsonl")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"objects; got {got}")
