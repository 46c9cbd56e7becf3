"""Three things ``taco evaluate`` got wrong about a folder's captions when it opened the dataset:

- one unreadable caption sidecar (``a.txt`` of bytes ``\\xff\\xfe``) stopped the whole run (exit 2,
  nothing written), where ``taco compress`` fails that image alone: its image is now left out
  when the dataset opens, with a warning naming the sidecar and why, so every codec compares the
  same images; none left is a one-line error;
- ``--captions caps.jsonl`` with ``./caps.jsonl`` here but none in the dataset folder said only
  "no such captions file": it now says that a bare name is looked for inside the dataset folder;
- an image left out as too large for a ``.taco`` file kept the caption source that counted it
  ("sidecar IMAGE.txt files (2 images)" with one image left): the source loses its counts."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import Image

from taco.data import SkippedImageWarning
from taco.evaluation.datasets import DatasetError, open_dataset
from taco.evaluation.evaluate import without_oversized
from taco.samples import SAMPLES_DIR


def _photo(path, size=(32, 32)):
    Image.new("RGB", size, (120, 30, 200)).save(path)


def test_an_image_with_an_unreadable_sidecar_is_left_out_with_a_warning(tmp_path):
    _photo(tmp_path / "a.png")
    _photo(tmp_path / "b.png")
    (tmp_path / "a.txt").write_bytes(b"caf\xe9")  # Latin-1 (a UTF-16 one is said to be UTF-16)
    with pytest.warns(SkippedImageWarning, match=r"skipping 1 image whose caption sidecar cannot be "
                      r"read \(.*a\.txt: cannot read the caption \(not readable UTF-8 text\)\)"):
        dataset = open_dataset(tmp_path)
    assert dataset.names == ["b.png"]
    assert not dataset.captioned  # b.png has no caption source of its own


@pytest.mark.filterwarnings("ignore:CaptionedImages")
def test_the_others_keep_their_sidecar_captions(tmp_path):
    for name in ("a", "b", "c"):
        _photo(tmp_path / f"{name}.png")
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe")
    (tmp_path / "b.txt").write_text("a purple square")
    with pytest.warns(SkippedImageWarning, match="a.txt"):
        dataset = open_dataset(tmp_path)
    assert dataset.names == ["b.png"]  # c.png: no caption, dropped as before
    assert dataset.all_captions == [("a purple square",)]


def test_no_image_left_is_a_one_line_error(tmp_path):
    _photo(tmp_path / "a.png")
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe")
    with pytest.raises(DatasetError, match="no image to evaluate: 1 image whose caption sidecar") as info:
        open_dataset(tmp_path)
    assert "\n" not in str(info.value) and "a.txt" in str(info.value)


def test_the_cli_run_goes_on_without_the_image(eval_main, tmp_path, capsys):
    data = tmp_path / "us"
    data.mkdir()
    shutil.copy(SAMPLES_DIR / "skimage-coffee.png", data / "b.png")
    _photo(data / "a.png")
    (data / "a.txt").write_bytes(b"\xff\xfe")
    out = tmp_path / "out"
    code = eval_main(["evaluate", "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--classic", "jpeg",
                      "--qualities", "jpeg=50", "-o", str(out), str(data)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "a.txt: cannot read the caption" in err
    [result] = sorted((out / "us").glob("*.json"))
    assert json.loads(result.read_text())["dataset"]["images"] == 1


def test_a_bare_captions_name_found_only_here_is_hinted(tmp_path, monkeypatch):
    data = tmp_path / "imgs"
    data.mkdir()
    _photo(data / "a.png")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="no such captions file$"):
        open_dataset(data, captions_file="caps.jsonl")  # not here either: no hint
    (tmp_path / "caps.jsonl").write_text(json.dumps({"image": "a.png", "captions": ["x"]}) + "\n")
    with pytest.raises(DatasetError) as info:
        open_dataset(data, captions_file="caps.jsonl")
    assert str(info.value) == (f"{data / 'caps.jsonl'}: no such captions file (a bare name is looked for "
                               "inside the dataset folder: give ./caps.jsonl for the one here)")
    assert open_dataset(data, captions_file="./caps.jsonl").all_captions == [("x",)]


def test_an_oversized_image_leaves_no_count_of_it_in_the_caption_source(tmp_path):
    Image.new("RGB", (40000, 1)).save(tmp_path / "wide.png")
    _photo(tmp_path / "b.png")
    for name in ("wide", "b"):
        (tmp_path / f"{name}.txt").write_text(f"{name} photo")
    dataset = open_dataset(tmp_path)
    assert dataset.caption_source == "sidecar IMAGE.txt files (2 images)"
    with pytest.warns(SkippedImageWarning, match="wide.png"):
        kept = without_oversized(dataset)
    assert kept.names == ["b.png"]
    assert kept.caption_source == "sidecar IMAGE.txt files"
    # several sources lose their counts alike
    (tmp_path / "c.png").write_bytes((tmp_path / "b.png").read_bytes())
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "c.png", "captions": ["c photo"]}) + "\n")
    dataset = open_dataset(tmp_path)
    assert dataset.caption_source == ("sidecar IMAGE.txt files (2 images), captions.jsonl (1 image; "
                                      "first caption)")
    with pytest.warns(SkippedImageWarning):
        assert without_oversized(dataset).caption_source == ("sidecar IMAGE.txt files, captions.jsonl "
                                                             "(first caption)")
