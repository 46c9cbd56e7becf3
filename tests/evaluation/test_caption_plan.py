"""What ``taco caption`` plans for a folder: a captions file that is a symbolic link is refused,
an empty sidecar is no caption, sidecars count only for the default captions.jsonl, and
``already`` counts this folder's images, not lines for images no longer there. No captioner is
loaded."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from taco.evaluation.caption_plan import plan_captions


def _images(folder, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        Image.new("RGB", (16, 16), "red").save(folder / name)


def test_a_captions_file_that_is_a_link_is_refused(main_without_captioner, tmp_path, capsys):
    """A captions.jsonl planted as a link to another file: taco caption refuses it before loading
    a captioner, and the link's target gets no line."""
    folder = tmp_path / "photos"
    _images(folder, "a.png")
    target = tmp_path / "target.txt"
    target.write_text("")
    os.symlink(target, folder / "captions.jsonl")
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert (f"{folder / 'captions.jsonl'} is a symbolic link (to {target}): taco caption appends to a captions "
            "file itself, never through a link" in err)
    assert target.read_text() == ""
    with pytest.raises(ValueError, match="is a symbolic link"):
        plan_captions(folder)


def test_an_empty_sidecar_is_no_caption(tmp_path):
    _images(tmp_path, "a.png", "b.png")
    (tmp_path / "a.txt").write_text("")
    (tmp_path / "b.txt").write_text("a red square\n")
    plan = plan_captions(tmp_path)
    assert [p.name for p in plan.todo] == ["a.png"] and plan.already == 1


def test_sidecars_count_only_for_the_default_captions_file(tmp_path):
    """``-o blip.jsonl``: every image not in THAT file is captioned, sidecar or not."""
    _images(tmp_path, "a.png", "b.png")
    (tmp_path / "a.txt").write_text("a red square\n")
    plan = plan_captions(tmp_path, output="blip.jsonl")
    assert [p.name for p in plan.todo] == ["a.png", "b.png"] and plan.already == 0
    plan = plan_captions(tmp_path)
    assert [p.name for p in plan.todo] == ["b.png"] and plan.already == 1


def test_already_counts_only_images_in_the_folder(tmp_path):
    """Lines of captions.jsonl for photos since deleted are not counted as captioned images."""
    _images(tmp_path, "a.png", "b.png")
    (tmp_path / "captions.jsonl").write_text("".join(
        json.dumps({"image": name, "captions": ["red"]}) + "\n" for name in ("a.png", "gone.png", "gone2.png")))
    plan = plan_captions(tmp_path)
    assert [p.name for p in plan.todo] == ["b.png"] and plan.already == 1
