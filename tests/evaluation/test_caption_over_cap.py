"""``taco caption`` skipping an image over the pixel cap (review R3 5): the skip named the Python
call ``load_image(path, max_pixels=None)`` and "to code it anyway ... taco.compress", which is
neither what the command does nor a way its user can take; it says the size and the cap, as
taco train and taco evaluate do (taco.data.read_reason)."""

from __future__ import annotations

from PIL import Image

from taco.evaluation.caption import caption_folder


def test_an_image_over_the_cap_is_skipped_with_its_size_and_the_cap(stub_captioner, png_header, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    png_header(folder / "huge.png", 12000, 10000, bits=1)
    Image.new("RGB", (32, 24), (90, 120, 30)).save(folder / "small.png")
    report = caption_folder(folder, stub_captioner(), progress=False)
    assert report.written == 1
    assert report.unreadable == ["huge.png: a 12000x10000 image (120,000,000 pixels), over the cap "
                                 "of 100,000,000"], report.unreadable
