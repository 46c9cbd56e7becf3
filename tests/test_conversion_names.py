"""Both conversion warnings of one image name it alike (Review D): an animated palette GIF said
'in/anim.gif: it has 3 frames' and then 'the palette is not kept' without a name (taco demo:
the first frame is a copy, which has no file name), 'image bytes: it has 3 frames' and then no
name (taco.compress of bytes), and '/data/anim.gif: ...' beside 'anim.gif: the palette'
(a dataset, as taco evaluate and train read it)."""

from __future__ import annotations

import warnings

from PIL import Image

import taco
from taco.data import CaptionedFolder
from taco.demo import run_demo
from taco.images import ImageConversionWarning

FRAMES = "it has 2 frames; using the first one"
PALETTE = "the palette is not kept: the image is coded, and decodes, as RGB"


def _animated_gif(path):
    frames = [Image.new("RGB", (48, 32), c).convert("P") for c in ((200, 10, 10), (10, 200, 10))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    return path


def _said(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]


def test_the_demo_names_the_image_in_both(tmp_path):
    gif = _animated_gif(tmp_path / "anim.gif")
    said = _said(lambda: run_demo("elic-tiny", str(gif), "", out_dir=tmp_path / "out"))
    assert said == [f"{gif}: {FRAMES}", f"{gif}: {PALETTE}"]


def test_image_bytes_are_named_in_both(tmp_path, tiny_elic):
    data = _animated_gif(tmp_path / "anim.gif").read_bytes()
    said = _said(lambda: taco.compress(data, None, tiny_elic))
    assert said == [f"image bytes: {FRAMES}", f"image bytes: {PALETTE}"]


def test_a_dataset_names_the_file_in_both(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    _animated_gif(photos / "anim.gif")
    dataset = CaptionedFolder(photos, captions_needed=False)
    said = _said(lambda: dataset[0])
    assert said == [f"anim.gif: {FRAMES}", f"anim.gif: {PALETTE}"]
