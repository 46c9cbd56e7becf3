"""``taco caption`` refuses a captions file listing an image by a name that is not its plain name
inside the folder (``./a.png``), in the line ``taco compress``, ``evaluate`` and ``train`` give,
before a captioner loads (review B: it captioned a.png again beside the human caption, and taco
compress then refused the file)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from taco.captions_file import CaptionsFileError, folder_captions
from taco.evaluation.caption_plan import plan_captions

NAMES = ["./a.png", "a.png/", "../a.png"]


def folder_listing(tmp_path, name: str, output: str = "captions.jsonl"):
    folder = tmp_path / "photos"
    folder.mkdir()
    for image in ("a.png", "b.png"):
        Image.new("RGB", (8, 8), "red").save(folder / image)
    line = json.dumps({"image": name, "captions": ["A tabby cat."]}) + "\n"
    (folder / output).write_text(line, encoding="utf-8")
    return folder, line


@pytest.mark.parametrize("output", ["captions.jsonl", "captions-blip2.jsonl"])
@pytest.mark.parametrize("name", NAMES)
def test_plan_refuses_a_name_as_the_readers_do(tmp_path, name, output):
    folder, line = folder_listing(tmp_path, name, output)
    with pytest.raises(CaptionsFileError) as readers:  # what compress, evaluate and train say
        folder_captions(folder, ["a.png", "b.png"], captions_file=folder / output)
    with pytest.raises(CaptionsFileError) as plan:
        plan_captions(folder, output=output)
    assert str(plan.value) == str(readers.value)
    assert str(plan.value).startswith(f"{folder / output}:1: the image {name!r} ")
    assert (folder / output).read_text(encoding="utf-8") == line


def test_taco_caption_refuses_it_before_the_captioner(taco_main, tmp_path, capsys):
    folder, line = folder_listing(tmp_path, "./a.png")
    # a captioner that is no folder: refused after the captions file, which is said first
    assert taco_main(["caption", str(folder), "-m", str(tmp_path / "no-captioner"), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"taco caption: error: {folder / 'captions.jsonl'}:1: the image './a.png' is not written in "
                   "its plain form ('a.png'); a captions file names its folder's images by their path inside it "
                   "(photo.jpg, or sub/photo.jpg)"]
    assert (folder / "captions.jsonl").read_text(encoding="utf-8") == line
