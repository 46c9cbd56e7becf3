"""taco import-captions: the authors' caption JSON layouts -> captions.jsonl -> evaluation sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taco.evaluation.datasets import open_dataset
from taco.evaluation.import_captions import CaptionImportError, import_captions

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
