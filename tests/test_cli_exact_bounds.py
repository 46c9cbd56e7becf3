"""The CLI's bounds taken at their edge, and outputs decoded into a source's own folder:
``--max-pixels N`` codes an image of exactly N pixels, ``--target-bpp`` takes MAX_TARGET_BPP
itself, a photo whose only metadata is its GPS block gets the 'not kept' note, and
``taco decompress a/p.taco b/q.taco -o a`` names every output as beside its source."""

from __future__ import annotations

from PIL import Image

from taco.cli import main
from taco.cli.compress import MAX_TARGET_BPP

CODE = ["--caption", "", "-m", "elic-tiny"]


def test_an_image_of_exactly_max_pixels_is_coded(tmp_path, sample_image, capsys):
    image = tmp_path / "edge.png"
    sample_image.crop((0, 0, 96, 80)).save(image)
    out = tmp_path / "edge.taco"
    assert main(["compress", str(image), *CODE, "--max-pixels", str(96 * 80), "-o", str(out)]) == 0
    assert out.is_file()
    assert "over the cap" not in capsys.readouterr().err


def test_target_bpp_takes_its_largest_value(tmp_path, sample_image, capsys):
    image = tmp_path / "cat.png"
    sample_image.crop((0, 0, 64, 48)).save(image)
    # elic-tiny is no variable-rate model: refused for that, after the value was taken
    main(["compress", str(image), *CODE, "--target-bpp", str(MAX_TARGET_BPP), "-o",
          str(tmp_path / "x.taco")])
    err = capsys.readouterr().err
    assert "must be a number > 0" not in err and "argument --target-bpp" not in err


def test_a_photo_whose_only_metadata_is_gps_gets_the_note(tmp_path, sample_image, capsys):
    photo = tmp_path / "walk.jpg"
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.25)}
    sample_image.crop((0, 0, 64, 48)).save(photo, exif=exif)
    with Image.open(photo) as im:
        assert set(im.getexif()) == {0x8825}
    assert main(["compress", str(photo), *CODE, "-o", str(tmp_path / "walk.taco")]) == 0
    err = capsys.readouterr().err
    assert "GPS, author, copyright) is not kept in .taco files" in err


def test_decompress_into_one_sources_folder_names_every_output_as_beside_it(tmp_path, sample_image, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    sample_image.crop((0, 0, 64, 48)).save(a / "p.png")
    sample_image.crop((0, 0, 48, 64)).save(b / "q.png")
    assert main(["compress", str(a / "p.png"), *CODE, "-o", str(a / "p.taco")]) == 0
    assert main(["compress", str(b / "q.png"), *CODE, "-o", str(b / "q.taco")]) == 0
    before = (a / "p.png").read_bytes()
    capsys.readouterr()
    assert main(["decompress", str(a / "p.taco"), str(b / "q.taco"), "-o", str(a)]) == 0
    assert sorted(p.name for p in a.iterdir()) == ["p.decoded.png", "p.png", "p.taco", "q.decoded.png"]
    assert (a / "p.png").read_bytes() == before
    with Image.open(a / "q.decoded.png") as im:
        assert im.size == (48, 64)
