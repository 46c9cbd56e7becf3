"""Evaluation datasets by name, with the paper's crop rules (taco.evaluation.datasets)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from taco.data import SkippedImageWarning
from taco.evaluation.datasets import CLIC_TEST_IMAGES, DatasetError, not_the_paper_set, open_dataset


def _first(ds):
    """The true caption of each image: its first."""
    return [caps[0] for caps in ds.all_captions]


def _jpeg(path, size=(320, 240)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 80, 40)).save(path)


def test_folder_and_samples(tiny_folder):
    ds = open_dataset(str(tiny_folder))
    assert ds.kind == "folder" and ds.name == "photos" and ds.crop is None and len(ds) == 4
    assert _first(ds)[0].startswith("A smiling astronaut")
    assert tuple(ds.images[0].image.shape) == (3, 64, 64)
    assert len(open_dataset(str(tiny_folder), limit=2)) == 2
    cropped = open_dataset(str(tiny_folder), crop=32)
    assert tuple(cropped.images[0].image.shape) == (3, 32, 32) and cropped.describe()["crop"] == "center 32x32"
    samples = open_dataset("samples")
    assert samples.kind == "samples" and len(samples) == 4 and samples.captioned


def test_kodak_and_clic_are_not_cropped(tiny_folder):
    for kind in ("kodak", "clic"):
        ds = open_dataset(f"{kind}:{tiny_folder}")
        assert ds.name == kind and ds.crop is None


def test_coco30k_is_karpathy_restval_centre_cropped(tmp_path):
    images = []
    for i, split in enumerate(["restval", "test", "restval"]):
        name = f"COCO_val2014_{i:012d}.jpg"
        _jpeg(tmp_path / "val2014" / name, (320, 260))
        images.append({"filepath": "val2014", "filename": name, "split": split,
                       "sentences": [{"raw": f"caption {i} a"}, {"raw": f"caption {i} b"}]})
    (tmp_path / "dataset_coco.json").write_text(json.dumps({"images": images}))
    ds = open_dataset(f"coco30k:{tmp_path}")
    assert ds.name == "coco30k" and len(ds) == 2 and ds.crop == 256
    assert _first(ds) == ["caption 0 a", "caption 2 a"]
    assert tuple(ds.images[0].image.shape) == (3, 256, 256)
    assert open_dataset(f"coco30k:{tmp_path}", crop=0).crop is None  # explicit override
    _jpeg(tmp_path / "val2014" / images[2]["filename"], (320, 240))  # under the crop: skipped
    with pytest.warns(SkippedImageWarning, match="skipping 1 under 256 px on the shorter side"):
        assert _first(open_dataset(f"coco30k:{tmp_path}")) == ["caption 0 a"]


def test_coco30k_official_protocol_is_the_authors_script(tmp_path):
    """Their list + their captions (one captions file from taco import-captions), uncropped."""
    from taco.evaluation.import_captions import import_captions, write_captions_jsonl

    pairs = {}
    for i, size in enumerate([(320, 240), (640, 427), (500, 375)]):
        name = f"COCO_val2014_{i:012d}.jpg"
        _jpeg(tmp_path / "val2014" / name, size)
        pairs[name] = [f"caption {i} a", f"caption {i} b"]
    (tmp_path / "pairs.json").write_text(json.dumps(pairs))
    (tmp_path / "list.json").write_text(json.dumps(sorted(pairs)[1:]))
    with pytest.raises(DatasetError, match="taco import-captions mscoco_val41k_img_cap_pair.json"):
        open_dataset(f"coco30k:{tmp_path}", coco30k_protocol="official")
    records = import_captions(tmp_path / "pairs.json", tmp_path / "list.json")
    write_captions_jsonl(records, tmp_path / "captions.jsonl", "human")
    ds = open_dataset(f"coco30k:{tmp_path}", coco30k_protocol="official")
    assert ds.name == "coco30k-official" and ds.kind == "coco30k" and ds.crop is None
    assert ds.names == sorted(pairs)[1:] and _first(ds) == ["caption 1 a", "caption 2 a"]
    assert ds.all_captions[0] == ("caption 1 a", "caption 1 b")
    assert tuple(ds.images[0].image.shape) == (3, 427, 640)  # whole, not resized
    assert ds.describe()["protocol"].startswith("official:") and "written by human" in ds.caption_source
    assert open_dataset(f"coco30k:{tmp_path}", coco30k_protocol="official", crop=256).crop == 256
    with pytest.raises(DatasetError, match="coco30k protocol must be one of paper, official"):
        open_dataset(f"coco30k:{tmp_path}", coco30k_protocol="authors")


def test_caption_source_names_the_captioners_of_the_file(tiny_folder):
    path = tiny_folder / "captions.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert open_dataset(str(tiny_folder)).caption_source == "captions.jsonl (first caption)"
    for line, who in zip(lines, ["ofa", "blip", "ofa", 3], strict=True):
        line["captioner"] = who  # not a name (3): left out
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert open_dataset(str(tiny_folder)).caption_source == "captions.jsonl (first caption; written by ofa, blip)"


def test_an_uncaptioned_folder_leaves_out_decoded_outputs(tiny_folder):
    (tiny_folder / "captions.jsonl").unlink()
    (tiny_folder / "skimage-chelsea.decoded.png").write_bytes((tiny_folder / "skimage-chelsea.png").read_bytes())
    ds = open_dataset(str(tiny_folder))
    assert not ds.captioned and len(ds) == 4
    assert "skimage-chelsea.decoded.png" not in ds.names  # beside its source: taco decompress's


def test_the_listing_is_every_record_and_is_required(tiny_folder):
    from taco.evaluation.datasets import EvalDataset

    full, limited = open_dataset(str(tiny_folder)), open_dataset(str(tiny_folder), limit=2)
    assert limited.listing == full.listing == full.images.records and len(limited) == 2
    assert limited.content == full.content
    with pytest.raises(TypeError, match="listing"):  # no fallback to the (limited) images
        EvalDataset("x", "folder", tiny_folder, limited.images, None, "src")  # type: ignore[call-arg]


def test_relative_folder_paths(tiny_folder, monkeypatch):
    monkeypatch.chdir(tiny_folder.parent)
    ds = open_dataset(f"kodak:{tiny_folder.name}")
    assert ds.captioned and len(ds) == 4
    assert open_dataset(f"kodak:{tiny_folder.name}", captions_file=f"{tiny_folder.name}/captions.jsonl").captioned


def test_captions_file_as_a_path(tiny_folder, tmp_path):
    moved = tmp_path / "ofa.jsonl"
    (tiny_folder / "captions.jsonl").rename(moved)
    assert not open_dataset(f"kodak:{tiny_folder}").captioned  # nothing beside the images now
    ds = open_dataset(f"kodak:{tiny_folder}", captions_file=str(moved))
    assert ds.captioned and _first(ds)[0].startswith("A smiling astronaut")
    with pytest.raises(DatasetError, match="no such captions file"):
        open_dataset(f"kodak:{tiny_folder}", captions_file=str(tmp_path / "none.jsonl"))


def test_coco40k_is_all_of_val2014_uncropped(tmp_path):
    anns = {"images": [], "annotations": []}
    for i in range(3):
        name = f"COCO_val2014_{i:012d}.jpg"
        _jpeg(tmp_path / "val2014" / name)
        anns["images"].append({"id": i, "file_name": name})
        anns["annotations"].append({"image_id": i, "caption": f"a photo {i}"})
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "captions_val2014.json").write_text(json.dumps(anns))
    ds = open_dataset(f"coco40k:{tmp_path}")
    assert len(ds) == 3 and ds.crop is None and tuple(ds.images[1].image.shape) == (3, 240, 320)


def test_missing_things_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such folder"):
        open_dataset(str(tmp_path / "nope"))
    with pytest.raises(DatasetError, match="dataset_coco.json"):
        open_dataset(f"coco30k:{tmp_path}")
    with pytest.raises(DatasetError, match="captions_val2014.json"):
        open_dataset(f"coco40k:{tmp_path}")
    with pytest.raises(DatasetError, match="no images"):
        open_dataset(str(tmp_path))


def test_repr_is_one_short_line(tiny_folder):
    """Printed in a notebook, a dataset shows what it is, not every record of its listing."""
    ds = open_dataset(str(tiny_folder), limit=2)
    assert repr(ds) == (f"EvalDataset(name='photos', kind='folder', root={str(tiny_folder)!r}, "
                        "images=2, limit=2, crop=None)")
    assert "CaptionRecord" not in repr(open_dataset(str(tiny_folder)))


def test_replacing_a_photo_by_another_of_the_same_name_changes_the_digest(tmp_path):
    Image.new("RGB", (64, 64), "red").save(tmp_path / "a.png")
    Image.new("RGB", (64, 64), "blue").save(tmp_path / "b.png")
    before = open_dataset(tmp_path)
    content, image_content = before.content, before.image_content
    Image.effect_noise((64, 64), 60).convert("RGB").save(tmp_path / "a.png")  # other bytes, same name
    after = open_dataset(tmp_path)
    assert after.content != content and after.image_content != image_content


def test_full_size_of_a_limited_dataset_counts_every_image(tiny_folder):
    """The images after the limit are all counted, the first of them included."""
    limited = open_dataset(str(tiny_folder), limit=2)
    assert len(limited) == 2
    assert limited.full_size() == len(open_dataset(str(tiny_folder))) == 4


def test_a_limit_of_zero_is_refused(tiny_folder):
    """Limit=0 is not read as 'no limit'."""
    with pytest.raises(DatasetError):
        open_dataset(str(tiny_folder), limit=0)


def test_a_clic_folder_of_more_images_is_not_the_paper_set():
    """More than CLIC_TEST_IMAGES images is not the paper's CLIC set either."""
    assert not_the_paper_set("clic", [f"img{i}.png" for i in range(CLIC_TEST_IMAGES + 2)]) is not None
    assert not_the_paper_set("clic", [f"img{i}.png" for i in range(CLIC_TEST_IMAGES)]) is None
