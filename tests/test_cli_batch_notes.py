"""A batch of phone photos says once, at the end, what it says of many images: the colour
profiles converted to sRGB (a Display P3 warning for every iPhone photo was one line each) and
the images coded without a caption (the note came before any image was read, so a file that is
no image was said to be coded without a caption, then refused)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from taco.cli import main
from taco.cli.compress import profiles_note
from taco.samples import SAMPLES_DIR

#: The rocket sample's ICC profile, 'Adobe RGB (1998)': colours converted from it to sRGB.
ADOBE_RGB = Image.open(SAMPLES_DIR / "skimage-rocket.png").info["icc_profile"]


def _photo(path, seed, profile=True):
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, icc_profile=ADOBE_RGB if profile else None)
    return path


def test_a_batch_folds_the_profile_conversions_into_one_note_even_quiet(tmp_path, capsys):
    roll = tmp_path / "roll"
    roll.mkdir()
    for i, profile in enumerate((True, True, False)):
        _photo(roll / f"IMG_{i}.png", i, profile)
    assert main(["compress", str(roll), "-o", str(tmp_path / "out"), "-m", "elic-tiny", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "colours converted from its" not in err, err
    notes = [line for line in err.splitlines() if "colour profile" in line]
    assert notes == ["taco compress: note: 2 of 3 images were converted from their colour profiles "
                     "(Adobe RGB (1998)) to sRGB; they decode as sRGB"]


def test_one_image_keeps_its_warning_line(tmp_path, capsys):
    photo = _photo(tmp_path / "IMG_1.png", 1)
    assert main(["compress", str(photo), "-m", "elic-tiny", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert (f"taco compress: warning: {photo}: colours converted from its 'Adobe RGB (1998)' profile "
            "to sRGB (it decodes as sRGB)") in err.splitlines()
    assert "images were converted" not in err and "1 of 1" not in err


def test_a_conversion_that_drops_alpha_too_is_still_said_per_image(tmp_path, capsys):
    """...and counted in the end note with the others (Review D: the note said 1 of 2 images
    were converted, leaving out the one whose alpha was also dropped)."""
    _photo(tmp_path / "a.png", 0)
    rgba = Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 48, 4), dtype=np.uint8))
    rgba.save(tmp_path / "b.png", icc_profile=ADOBE_RGB)
    assert main(["compress", str(tmp_path), "-o", str(tmp_path / "out"), "-m", "elic-tiny"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "colour" in line] == [
        f"taco compress: warning: {tmp_path / 'b.png'}: colours converted from its 'Adobe RGB (1998)' "
        "profile to sRGB (it decodes as sRGB; the alpha channel is dropped)",
        "taco compress: note: 2 of 2 images were converted from their colour profiles (Adobe RGB (1998)) "
        "to sRGB; they decode as sRGB"]


def test_the_note_names_a_few_profiles_then_how_many_more():
    assert profiles_note(["Display P3"] * 4 + ["Adobe RGB (1998)", "a", "b"], 9) == (
        "7 of 9 images were converted from their colour profiles (Display P3, Adobe RGB (1998), a "
        "and 1 more) to sRGB; they decode as sRGB")


def test_a_file_that_is_no_image_is_not_said_to_be_coded_without_a_caption(tmp_path, capsys):
    (tmp_path / "notphoto.jpg").write_text("hello\n")
    assert main(["compress", str(tmp_path / "notphoto.jpg"), "-m", "taco-tiny"]) == 2
    err = capsys.readouterr().err
    assert "caption" not in err and "not an image file Pillow can identify" in err, err


def test_the_caption_note_counts_the_images_coded_after_them(tmp_path, capsys):
    (tmp_path / "notphoto.jpg").write_text("hello\n")
    _photo(tmp_path / "a.png", 0, profile=False)
    _photo(tmp_path / "b.png", 1, profile=False)
    assert main(["compress", str(tmp_path), "-o", str(tmp_path / "out"), "-m", "taco-tiny"]) == 3
    err = capsys.readouterr().err.splitlines()
    notes = [i for i, line in enumerate(err) if "have no caption" in line or "has no caption" in line]
    refused = [i for i, line in enumerate(err) if "not an image file Pillow can identify" in line]
    assert len(notes) == 1 and len(refused) == 1 and refused[0] < notes[0], err
    assert err[notes[0]].startswith(f"taco compress: note: 2 of 2 images have no caption, so they are "
                                    f"coded without one: {tmp_path / 'a.png'}, {tmp_path / 'b.png'} ")


def test_a_batch_where_every_image_failed_has_no_caption_note(tmp_path, capsys):
    for name in ("x.jpg", "y.png"):
        (tmp_path / name).write_text("hello\n")
    assert main(["compress", str(tmp_path), "-o", str(tmp_path / "out"), "-m", "taco-tiny"]) == 2
    assert "caption" not in capsys.readouterr().err


def test_the_one_image_coded_is_the_image_not_1_of_1():
    assert profiles_note(["Display P3"], 1).startswith("the image was converted from its colour profile")
    assert profiles_note(["Display P3"], 3).startswith("1 of 3 images was converted")
