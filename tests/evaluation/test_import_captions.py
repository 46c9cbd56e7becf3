"""taco import-captions: the authors' caption JSON layouts -> captions.jsonl -> evaluation sets.
The two most common caption JSONs of other tools are read too: COCO's own ``captions_*.json``
(as ``coco40k:`` reads it: every caption of an image, in annotation order) and
``{"image", "caption"}`` objects, in a list, alone, or one a line (JSON Lines); a layout still not
read is refused naming those that are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.data import CocoCaptions
from taco.errors import TacoWarning
from taco.evaluation.datasets import open_dataset
from taco.evaluation.import_captions import CaptionImportError, import_captions, read_caption_json

# Small files in the layouts of effl-lab/TACO's materials/ (made up here, not their content).
OFA = {"kodim02.png": "a red door with a metal door knocker on it",
       "kodim01.png": "a brick building with red doors and windows"}  # fmt: skip
PAIRS = {"COCO_val2014_000000000074.jpg": ["a dog on a bench", "  ", "a brown dog resting"],
         "COCO_val2014_000000000073.jpg": ["a motorcycle parked in a garage"],
         "COCO_val2014_000000000042.jpg": ["a kitchen"]}  # fmt: skip
LIST_30K = ["COCO_val2014_000000000074.jpg", "COCO_val2014_000000000073.jpg"]


def _first(ds):
    """The true caption of each image: its first."""
    return [caps[0] for caps in ds.all_captions]


def _json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=4))
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ofa_file_one_caption_per_image(taco_main, tmp_path, capsys):
    src = _json(tmp_path / "kodak_ofa.json", OFA)
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "out.jsonl")]) == 0
    assert "2 images, 2 captions (captioner: kodak_ofa.json)" in capsys.readouterr().out
    assert _lines(tmp_path / "out.jsonl") == [  # sorted by name, as the authors' loader
        {"image": "kodim01.png", "captions": [OFA["kodim01.png"]], "captioner": "kodak_ofa.json"},
        {"image": "kodim02.png", "captions": [OFA["kodim02.png"]], "captioner": "kodak_ofa.json"},
    ]


def test_coco_pairs_restricted_to_the_30k_list(taco_main, tmp_path):
    src = _json(tmp_path / "mscoco_val41k_img_cap_pair.json", PAIRS)
    images = _json(tmp_path / "mscoco_30k_list.json", LIST_30K)
    out = tmp_path / "val2014"
    out.mkdir()
    argv = ["import-captions", str(src), "--images", str(images), "-o", str(out), "--captioner", "human"]
    assert taco_main(argv) == 0
    lines = _lines(out / "captions.jsonl")  # a folder as -o: captions.jsonl inside it
    assert [r["image"] for r in lines] == sorted(LIST_30K)
    assert lines[1]["captions"] == ["a dog on a bench", "a brown dog resting"]  # blank dropped
    assert {r["captioner"] for r in lines} == {"human"}
    # without --images: every image of the file
    assert [r.file for r in import_captions(src)] == sorted(PAIRS)


def test_imported_captions_feed_kodak_and_clic(taco_main, folder_factory, tmp_path):
    """kodak:DIR / clic:DIR read DIR/captions.jsonl, or --captions-file given as a path."""
    folder = folder_factory(tmp_path / "kodak", captions=False)
    names = sorted(p.name for p in folder.glob("*.png"))
    src = _json(tmp_path / "ofa.json", {n: f"photo number {i}" for i, n in enumerate(names)})
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "elsewhere.jsonl"),
                      "--captioner", "OFA"]) == 0
    ds = open_dataset(f"clic:{folder}", captions_file=str(tmp_path / "elsewhere.jsonl"))
    assert ds.captioned and ds.names == names and ds.crop is None
    assert _first(ds) == [f"photo number {i}" for i in range(len(names))]
    assert "written by OFA" in ds.caption_source and "elsewhere.jsonl" in ds.caption_source
    assert taco_main(["import-captions", str(src), "-o", str(folder)]) == 0
    assert _first(open_dataset(f"kodak:{folder}")) == _first(ds)


@pytest.mark.parametrize(
    "content, message",
    [
        (LIST_30K, "list of 2 image names without captions: give it with --images"),
        ({}, "got an empty object"),
        ({"a.png": 3}, "captions of 'a.png' must be a string or a list of strings"),
        ({"a.png": ["ok", 4]}, "must be a string or a list of strings"),
        ({"a.png": "   "}, "'a.png' has no caption"),
        ({"": "a caption"}, "an image name is empty"),
        ("just text", "got str"),
    ],
)
def test_other_layouts_are_one_line_errors(taco_main, tmp_path, capsys, content, message):
    src = _json(tmp_path / "x.json", content)
    out = tmp_path / "captions.jsonl"
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_input_and_output_errors(taco_main, tmp_path, capsys):
    src = _json(tmp_path / "pairs.json", PAIRS)
    (tmp_path / "broken.json").write_text('{"a.png": "x",')
    assert taco_main(["import-captions", str(tmp_path / "broken.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert taco_main(["import-captions", str(tmp_path / "missing.json"), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    more = _json(tmp_path / "list.json", [*LIST_30K, "COCO_val2014_000000000001.jpg"])
    assert taco_main(["import-captions", str(src), "--images", str(more), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "1 of the 3 images in" in capsys.readouterr().err
    with pytest.raises(CaptionImportError, match="non-empty JSON list"):
        import_captions(src, images=_json(tmp_path / "notalist.json", {"a": "b"}))
    out = tmp_path / "o.jsonl"
    out.write_text("keep me\n")
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_text() == "keep me\n"
    assert taco_main(["import-captions", str(src), "-o", str(out), "--force"]) == 0
    assert len(_lines(out)) == 3
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "no" / "dir.jsonl")]) == 2
    assert "no such folder" in capsys.readouterr().err


COCO = {
    "info": {"description": "made up"},
    "images": [{"id": 74, "file_name": "COCO_val2014_000000000074.jpg", "width": 640},
               {"id": 73, "file_name": "COCO_val2014_000000000073.jpg"}],
    "annotations": [{"image_id": 74, "id": 1, "caption": "A dog on a bench. "},
                    {"image_id": 73, "id": 2, "caption": "a motorcycle in a garage"},
                    {"image_id": 74, "id": 3, "caption": "  "},
                    {"image_id": 74, "id": 4, "caption": "a brown dog resting"}],
}


def _compact_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_coco_captions_file_is_imported_with_every_caption(taco_main, tmp_path, capsys):
    src = _compact_json(tmp_path / "captions_val2014.json", COCO)
    out = tmp_path / "coco"
    assert taco_main(["import-captions", str(src), "--captioner", "human", "-o", str(out)]) == 0
    assert "2 images, 3 captions (captioner: human)" in capsys.readouterr().out
    assert _lines(out / "captions.jsonl") == [
        {"image": "COCO_val2014_000000000073.jpg", "captions": ["a motorcycle in a garage"], "captioner": "human"},
        {"image": "COCO_val2014_000000000074.jpg", "captions": ["A dog on a bench.", "a brown dog resting"],
         "captioner": "human"}]


def test_the_captions_are_those_coco40k_reads(tmp_path):
    src = _compact_json(tmp_path / "captions_val2014.json", COCO)
    images = tmp_path / "val2014"
    images.mkdir()
    coco = CocoCaptions(images, src, check_files=False)
    assert {r.file: list(r.captions) for r in coco.records} == read_caption_json(src)


@pytest.mark.parametrize("name_key, caption_key", [("image", "caption"), ("file", "text"),
                                                    ("file_name", "captions")])
def test_a_list_of_image_caption_objects_is_imported(taco_main, tmp_path, name_key, caption_key):
    items = [{name_key: "b.png", caption_key: "a boat"}, {name_key: "a.png", caption_key: ["an apple", "fruit"]},
             {name_key: "b.png", caption_key: "a second boat"}]
    src = _compact_json(tmp_path / "listy.json", items)
    assert taco_main(["import-captions", str(src), "-o", str(tmp_path / "c.jsonl")]) == 0
    assert [(r["image"], r["captions"]) for r in _lines(tmp_path / "c.jsonl")] == [
        ("a.png", ["an apple", "fruit"]), ("b.png", ["a boat", "a second boat"])]


def test_the_help_names_every_layout_of_objects(taco_main, capsys):
    """One object alone and JSON Lines are read too (b10e504): the description and FILE.json's
    help say so, not only "a list"."""
    with pytest.raises(SystemExit):
        taco_main(["import-captions", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{image, caption} objects: a list of them, one alone, or JSON Lines, one a line" in text
    assert "or {image, caption} objects: a list, one alone, or JSON Lines)" in text


@pytest.mark.parametrize("content, message", [
    ({**COCO, "annotations": [{"image_id": 73, "caption": "x"}]},
     "'COCO_val2014_000000000074.jpg' (id 74) has no caption: no annotation names its id"),
    ({**COCO, "annotations": [{"image_id": 9, "caption": "x"}]}, "annotations[0] names the image_id 9, which no image"),
    ({**COCO, "annotations": [{"image_id": 74, "bbox": [1, 2]}]},
     'annotations[0] of a COCO captions file must have an "image_id" and a "caption"'),
    ({**COCO, "images": [{"id": 74}]}, 'images[0] of a COCO captions file must have an "id" and a "file_name"'),
    ({**COCO, "images": [{"id": 1, "file_name": "../a.jpg"}], "annotations": [{"image_id": 1, "caption": "x"}]},
     "the image name '../a.jpg'"),
    ([{"photo": "a.png", "caption": "x"}], "must give an image name by one of 'image', 'file', 'file_name'"),
    ([{"image": "a.png", "label": "x"}], "must give its captions by one of 'caption', 'captions', 'text'"),
    ([{"image": "a.png", "caption": 3}], "the captions of 'a.png' must be a string or a list of strings"),
    ([{"image": "a.png", "caption": "x"}, "b.png"], "item 1 of the list"),
    ({"images": [{"id": 1, "file_name": "a.png"}]}, "a COCO captions file ({\"images\""),
    # one object alone that is no image's
    ({"image": "a.png", "file": "b.png", "caption": "x"},
     "the object, {\"image\": \"a.png\", \"file\": \"b.png\", \"caption\": \"x\"}, must give an image name by one "
     "of 'image', 'file', 'file_name'"),
    ({"image": "a.png", "caption": "x", "captions": ["y"]}, "must give its captions by one of 'caption', 'captions'"),
    ({"image": "a.png"}, "the object, {\"image\": \"a.png\"}, must give its captions by one of"),
    ({"caption": "a cat"}, "the object, {\"caption\": \"a cat\"}, must give an image name by one of"),
    ({"image": 5, "caption": "a cat"}, "names no image: 'image' must be a string"),
])
def test_refusals_name_what_is_wrong_and_the_layouts(taco_main, tmp_path, capsys, content, message):
    src = _compact_json(tmp_path / "x.json", content)
    out = tmp_path / "captions.jsonl"
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_list_of_names_still_points_to_images(tmp_path):
    with pytest.raises(CaptionImportError, match="list of 2 image names without captions: give it with --images"):
        import_captions(_compact_json(tmp_path / "list.json", ["a.png", "b.png"]))


def test_cocos_largest_captions_file_is_under_the_size_limit():
    """COCO's ``captions_train2017.json`` has some 92 MB (``captions_train2014.json`` 67 MB): over
    the 64 MiB the authors' 15 MB files were given, it was refused before it was read."""
    from taco.evaluation.import_captions import CAPTION_JSON_MAX_BYTES

    assert CAPTION_JSON_MAX_BYTES >= 100 * 10**6


@pytest.mark.parametrize(("item", "what"), [
    ({"image": "a.png", "file": "b.png", "caption": "x"}, "an image name by one of 'image', 'file', 'file_name'"),
    ({"image": "a.png", "caption": "x", "text": "y"}, "its captions by one of 'caption', 'captions', 'text'"),
])
def test_a_list_item_with_two_keys_of_one_kind_is_refused(tmp_path, item, what):
    with pytest.raises(CaptionImportError, match=f"must give {what}"):
        read_caption_json(_compact_json(tmp_path / "list.json", [item]))


def test_a_coco_file_with_one_id_twice_is_refused(tmp_path):
    coco = {"images": [{"id": 74, "file_name": "a.jpg"}, {"id": 74, "file_name": "b.jpg"}],
            "annotations": [{"image_id": 74, "caption": "a dog"}]}
    with pytest.raises(CaptionImportError, match=r"images\[1\] has the id 74 of an image before it"):
        read_caption_json(_compact_json(tmp_path / "captions_val2014.json", coco))


ONE = '{"image": "a.png", "captions": ["a cat"]}\n'
ALREADY = "is in taco's captions.jsonl format already (JSON Lines): taco reads it as it is, no import needed"


@pytest.mark.parametrize(("name", "text", "taco_format"), [
    ("one.jsonl", ONE, True),
    ("one.json", '{"image": "a.png", "caption": "a cat"}', True),
    ("one.json", json.dumps({"file_name": "a.png", "text": ["a cat"]}, indent=4), False),
    ("one.json", json.dumps({"image": "a.png", "caption": "a cat", "captioner": "me"}, indent=4), False),
])
def test_one_object_is_one_image(taco_main, tmp_path, capsys, name, text, taco_format):
    """One image's object alone was read as {NAME: CAPTION}: ONE gave 'out.jsonl: 2 images, 2
    captions', the images 'captions' (caption 'a cat') and 'image' (caption 'a.png')."""
    (tmp_path / name).write_text(text)
    out = tmp_path / "out.jsonl"
    assert taco_main(["import-captions", str(tmp_path / name), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "out.jsonl: 1 image, 1 caption" in captured.out
    assert _lines(out) == [{"image": "a.png", "captions": ["a cat"], "captioner": name}]
    assert (ALREADY in captured.err) is taco_format
    assert len(captured.err.strip().splitlines()) == taco_format


def test_a_captions_jsonl_is_imported_saying_taco_reads_it_as_it_is(taco_main, tmp_path, capsys):
    """taco's own captions.jsonl (two lines or more) was 'not valid JSON (Extra data, line 2)'."""
    src = tmp_path / "captions.jsonl"
    src.write_text('{"image": "b.png", "captions": ["a boat"], "captioner": "BLIP"}\r\n\n'
                   '{"image": "a.png", "caption": "an apple"}\n{"image": "b.png", "captions": ["a ship"]}\n')
    out = tmp_path / "out.jsonl"
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "out.jsonl: 2 images, 3 captions" in captured.out
    assert captured.err.strip().splitlines() == [f"taco import-captions: warning: {src} {ALREADY} (taco evaluate "
                                                 "--captions FILE, or the file saved as captions.jsonl beside the images)"]
    assert [(r["image"], r["captions"]) for r in _lines(out)] == [("a.png", ["an apple"]),
                                                                  ("b.png", ["a boat", "a ship"])]
    with pytest.warns(TacoWarning, match="taco's captions.jsonl format already"):
        assert read_caption_json(src) == {"a.png": ["an apple"], "b.png": ["a boat", "a ship"]}


def test_json_lines_of_other_keys_are_read_as_a_list_of_objects(taco_main, tmp_path, capsys):
    src = tmp_path / "blip.jsonl"
    src.write_text("".join(json.dumps({"file_name": n, "text": c}) + "\n" for n, c in
                           [("b.png", "a boat"), ("a.png", "an apple"), ("b.png", "a ship")]))
    out = tmp_path / "out.jsonl"
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "out.jsonl: 2 images, 3 captions" in captured.out and captured.err == ""
    assert [(r["image"], r["captions"]) for r in _lines(out)] == [("a.png", ["an apple"]),
                                                                  ("b.png", ["a boat", "a ship"])]


@pytest.mark.parametrize(("text", "message"), [
    ('{"image": "a.png", "caption": "x"}\n{"image": "b.png", "caption": "y"\n',
     "x.jsonl: line 2 is not valid JSON (Expecting ',' delimiter, column 34); the file is read as JSON Lines, "
     "one object a line"),
    ('{"image": "a.png", "caption": "x"}\n\n["b.png"]\n', 'x.jsonl: line 3, ["b.png"], is no object'),
    ('{"image": "a.png", "caption": "x"}\n{"photo": "b.png", "caption": "y"}\n',
     "x.jsonl: line 2, {\"photo\": \"b.png\", \"caption\": \"y\"}, must give an image name by one of"),
    ('["a.png"]\n["b.png"]\n', "x.jsonl: not valid JSON (Extra data, line 2)"),  # no object a line
    ('{"a.png": "x"} {"b.png": "y"}\n', "x.jsonl: not valid JSON (Extra data, line 1)"),
])
def test_json_lines_refusals_name_the_line(taco_main, tmp_path, capsys, text, message):
    src = tmp_path / "x.jsonl"
    src.write_text(text)
    out = tmp_path / "captions.jsonl"
    assert taco_main(["import-captions", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
