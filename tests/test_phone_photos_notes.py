"""What taco says of a phone's photos as they come (a real user's files, reviewed).

A phone's multi-picture JPEG (MPO: the photo, then a preview or a depth map) was warned about on
every photo as "'x.jpg' has 2 frames; using the first one", and the command line named the file
twice ("x.jpg: 'x.jpg' has 2 frames"). Those images are not frames of the photo: nothing is said;
a panorama's other shots still are, as an animation's frames and a TIFF's pages.

The conversion warnings spoke Pillow ("I;16 samples", "this P image"), and a palette PNG with a
transparent colour heard only that its alpha was dropped, not that its palette was not kept."""

import struct
import warnings

import pytest
from PIL import Image

from taco.cli import main
from taco.images import ImageConversionWarning, load_image, to_rgb
from taco.samples import SAMPLES_DIR


def _photo():
    return Image.open(SAMPLES_DIR / "skimage-chelsea.png").convert("RGB").resize((96, 64))


def _mpo(path, second_type=None):
    """A two-image MPO file as a phone writes it: the photo and a small preview ("Undefined" MP
    Type); ``second_type`` rewrites the preview's MP Type in the file's MP Index."""
    photo = _photo()
    photo.save(path, format="MPO", save_all=True, append_images=[photo.resize((24, 16))])
    if second_type is not None:
        data = bytearray(path.read_bytes())
        at = data.index(b"MPF\x00") + 4
        order = ">" if data[at:at + 2] == b"MM" else "<"
        first = Image.open(path).mpinfo[0xB002][0]["Size"]
        entry = data.index(struct.pack(f"{order}LLL", 0x030000, first, 0))
        struct.pack_into(f"{order}L", data, entry + 16, second_type)
        path.write_bytes(bytes(data))
    return path


def _load(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = load_image(path)
    return image, [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]


def test_a_phone_mpo_preview_is_no_frame(tmp_path):
    path = _mpo(tmp_path / "phone_mpo.jpg")
    assert Image.open(path).n_frames == 2
    image, said = _load(path)
    assert said == []
    assert image.size == (96, 64)


@pytest.mark.parametrize(("mp_type", "name"), [
    (0x020001, "Multi-Frame Image (Panorama)"),
    (0x020002, "Multi-Frame Image: (Disparity)"),  # a 3D camera's other view
])
def test_a_panorama_or_stereo_mpo_still_says_its_frames(tmp_path, mp_type, name):
    path = _mpo(tmp_path / "pano.jpg", second_type=mp_type)
    assert Image.open(path).mpinfo[0xB002][1]["Attribute"]["MPType"] == name
    image, said = _load(path)
    assert said == [f"{path}: it has 2 frames; using the first one"]
    assert image.size == (96, 64)


def test_an_animation_says_its_frames_and_names_the_file_once(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    frames = [_photo(), _photo().rotate(180)]
    frames[0].save(src / "anim.gif", save_all=True, append_images=frames[1:])
    _mpo(src / "phone_mpo.jpg")
    out = tmp_path / "out"
    assert main(["compress", str(src), "--caption", "", "-m", "elic-tiny", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"taco compress: warning: {src / 'anim.gif'}: it has 2 frames; using the first one\n" in err
    assert "frames" not in err.replace(f"{src / 'anim.gif'}: it has 2 frames", "")


def _said(image):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        to_rgb(image, source="x.png")
    return [str(w.message) for w in caught if issubclass(w.category, ImageConversionWarning)]


def test_a_16_bit_grey_image_is_said_in_words():
    image = Image.new("I;16", (4, 4), 1000)
    assert _said(image) == ["x.png: 16-bit grey samples are coded with 8-bit precision (decoded as 16-bit "
                            "grey, 8 significant bits)"]
    assert "I;16" not in _said(Image.new("I", (4, 4), 70000))[0]


def test_a_transparent_palette_image_hears_both_losses():
    image = _photo().quantize(16)
    image.info["transparency"] = image.getpixel((0, 0))
    assert _said(image) == ["x.png: its palette's transparency is dropped and its palette is not "
                            "kept (TACO codes RGB only): the image is coded, and decodes, as RGB"]
    del image.info["transparency"]
    assert _said(image) == ["x.png: the palette is not kept: the image is coded, and decodes, as RGB"]
