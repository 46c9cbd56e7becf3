"""A folder's images are those at its top level (as ``taco compress`` reads a folder): photos in
its subfolders were left out of training and evaluation without a word (``deep/2023/*.jpg``
with sidecars: 'no image files there' and 'no images found'; 2 top-level photos and 6 in
subfolders: '2 images'). Now the subfolders holding images are named, with how a captions file
(``sub/photo.jpg``) brings them in, which it does."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from PIL import Image

from taco.data import CaptionedFolder, EmptyDatasetError, SkippedImageWarning, no_images_message
from taco.evaluation.datasets import DatasetError, open_dataset
from taco.suffixes import image_subfolders, subfolders_not_searched
from taco.train.config import load_config
from taco.train.trainer import training_data

NOTE = "a captions.jsonl naming SUB/PHOTO.jpg brings their photos in"


def _photo(path: Path, caption: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (72, 72), (len(path.name) * 20, 90, 160)).save(path)
    if caption:
        path.with_suffix(".txt").write_text("a photo\n")


def _deep(root: Path, top: int = 0, caption: bool = True) -> Path:
    for sub in ("2023", "2024"):
        for i in range(3):
            _photo(root / sub / f"p{i}.jpg", caption)
    for i in range(top):
        _photo(root / f"t{i}.jpg", caption)
    (root / "empty").mkdir()  # no images: not named
    (root / ".hidden").mkdir()
    _photo(root / ".hidden" / "x.jpg", caption)  # hidden: not named
    return root


def test_image_subfolders_names_those_holding_images(tmp_path):
    root = _deep(tmp_path / "deep")
    _photo(root / "nested" / "a" / "b" / "x.png")
    assert [p.name for p in image_subfolders(root)] == ["2023", "2024", "nested"]
    assert [p.name for p in image_subfolders(root, ["2023/p0.jpg", "t.jpg"])] == ["2024", "nested"]
    assert subfolders_not_searched([], "captions.jsonl") == ""
    assert subfolders_not_searched(image_subfolders(root)[:1], "c.jsonl") == (
        f"1 subfolder with images, not searched ({root / '2023'}); a c.jsonl naming SUB/PHOTO.jpg "
        "brings its photos in")


def test_training_on_a_folder_of_subfolders_names_them(tmp_path):
    root = _deep(tmp_path / "deep")
    cfg = load_config(None, ["model=taco-minilm-tiny", f"data.root={root}", "crop=64", "k_j=0"])
    with pytest.raises(EmptyDatasetError) as e:
        training_data(cfg, validation=False)
    said = str(e.value)
    assert said.startswith(f"no images to use under '{root}': no image files there (")
    assert said.endswith(f"; left out 2 subfolders with images, not searched ({root / '2023'}, "
                         f"{root / '2024'}); {NOTE}")
    assert said == no_images_message(root)


def test_text_free_dataset_of_subfolders_names_them(tmp_path):
    root = _deep(tmp_path / "deep", caption=False)
    with pytest.raises(EmptyDatasetError, match=r"left out 2 subfolders with images, not searched"):
        CaptionedFolder(root, captions_needed=False)
    with pytest.raises(FileNotFoundError, match=r"no sidecar IMAGE\.txt files; left out 2 subfolders"):
        CaptionedFolder(root)


def test_training_set_says_the_subfolders_it_leaves_out(tmp_path):
    root = _deep(tmp_path / "nest", top=2)
    with pytest.warns(SkippedImageWarning) as said:
        ds = CaptionedFolder(root)
    assert len(ds) == 2
    assert [str(w.message) for w in said] == [
        f"CaptionedFolder('{root}'): left out 2 subfolders with images, not searched "
        f"({root / '2023'}, {root / '2024'}); {NOTE}"]


def test_a_captions_file_naming_subfolder_photos_brings_them_in(tmp_path):
    root = _deep(tmp_path / "nest", top=2)
    with open(root / "captions.jsonl", "w") as f:
        for name in ("2023/p0.jpg", "2023/p1.jpg"):
            f.write(json.dumps({"image": name, "captions": ["a listed photo"]}) + "\n")
    with pytest.warns(SkippedImageWarning) as said:
        ds = CaptionedFolder(root)
    assert sorted(r.file for r in ds.records) == ["2023/p0.jpg", "2023/p1.jpg", "t0.jpg", "t1.jpg"]
    assert ds[0].image.shape[0] == 3
    assert [str(w.message) for w in said] == [  # 2023 is read by name now; 2024 is not
        f"CaptionedFolder('{root}'): left out 1 subfolder with images, not searched ({root / '2024'}); "
        "a captions.jsonl naming SUB/PHOTO.jpg brings its photos in"]


def test_a_flat_folder_says_nothing_of_subfolders(tmp_path):
    root = tmp_path / "flat"
    for i in range(2):
        _photo(root / f"t{i}.jpg")
    (root / "runs").mkdir()  # no images in it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(CaptionedFolder(root)) == 2


def test_evaluation_of_a_folder_of_subfolders_names_them(tmp_path):
    root = _deep(tmp_path / "deep")
    with pytest.raises(DatasetError) as e:
        open_dataset(str(root))
    assert str(e.value) == (f"{root}: no images found; left out 2 subfolders with images, not searched "
                            f"({root / '2023'}, {root / '2024'}); {NOTE}")


def test_evaluation_says_the_subfolders_it_leaves_out(tmp_path):
    root = _deep(tmp_path / "nest", top=2)
    with pytest.warns(SkippedImageWarning) as said:
        ds = open_dataset(str(root))
    assert len(ds.images) == 2
    assert [str(w.message) for w in said] == [
        f"{root}: left out 2 subfolders with images, not searched ({root / '2023'}, {root / '2024'}); {NOTE}"]


def test_a_subfolder_of_taco_s_compress_and_decompress_outputs_holds_no_images(tmp_path, photos):
    """The repro (a): ``taco compress T -o T/out/`` then ``taco decompress T/out`` left
    T/out/a.taco + a.decoded.png, and every later evaluate or train on T warned '1 subfolder with
    images, not searched (T/out)': those are taco's outputs, not photos left out."""
    from taco.cli import main

    out = photos / "out"
    assert main(["compress", str(photos / "a.png"), "--caption", "", "-m", "elic-tiny", "-o", f"{out}/",
                 "--quiet"]) == 0
    assert main(["decompress", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.decoded.png", "a.taco"]
    assert image_subfolders(photos) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(open_dataset(str(photos)).images) == 3
    (out / "a.taco").unlink()  # a decoded copy away from its source is an image like any
    assert image_subfolders(photos) == [out]


def test_evaluate_s_results_folder_inside_the_dataset_holds_no_images(tmp_path):
    """The repro (b): ``taco evaluate S -o S/eval`` wrote rd.png + rd.svg (and the CSV, JSON)
    into S/eval; every run after the first warned that S/eval held images not searched."""
    from taco.evaluation.evaluate import OWN_NAMES

    root = tmp_path / "S"
    for i in range(2):
        _photo(root / f"t{i}.jpg")
    for folder in (root / "eval", root / "eval" / "kodak"):  # several datasets: OUT/DATASET/rd.*
        folder.mkdir()
        for name in (*OWN_NAMES, "results.csv", "results.json"):
            (folder / name).write_bytes(b"x")
    assert {"rd.png", "rd.svg"} <= set(OWN_NAMES)
    (root / "eval" / "rd-kodak.PNG").write_bytes(b"x")
    (root / "eval" / "rd-kodak.svg").write_bytes(b"x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(open_dataset(str(root)).images) == 2
        assert len(CaptionedFolder(root)) == 2
    (root / "eval" / "kodak" / "rd.svg").unlink()  # a PNG without its SVG is a photo
    assert image_subfolders(root) == [root / "eval"]


def test_the_demo_s_folder_inside_a_dataset_holds_no_images(tmp_path):
    """The repro (c): ``taco demo`` run inside a dataset wrote taco-demo/ (NAME.taco,
    NAME.decoded.png, NAME.side-by-side.png) there, which evaluate and train then named as a
    subfolder with images not searched."""
    from taco.demo import DEFAULT_OUTPUT, demo_files

    root = tmp_path / "S"
    for i in range(2):
        _photo(root / f"t{i}.jpg")
    (root / DEFAULT_OUTPUT).mkdir()
    for f in demo_files(root / DEFAULT_OUTPUT):
        f.write_bytes(b"x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(open_dataset(str(root)).images) == 2
        assert len(CaptionedFolder(root)) == 2
    assert image_subfolders(root) == []
