"""Classic codecs code pixels only: no metadata of the source image goes into their files.

Pillow's AVIF writer embedded the sample's sRGB ``icc_profile`` (3,144 bytes) from
``image.info`` while the JPEG and WebP writers did not, so ``taco demo`` put AVIF at
4,515 bytes (quality 0) on the cat where it reaches 3,509 bytes at quality 29 without it.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from taco.evaluation.classic import CodecUnavailable, ImageTooLargeForCodec, code_at_bpp, get_codec


def _codec(name):
    try:
        return get_codec(name)
    except CodecUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture()
def tagged():
    """A 64x48 RGB image carrying an sRGB ICC profile and EXIF, as photos do."""
    image = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    image.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "a camera maker"
    image.info["exif"] = exif.tobytes()
    return image


@pytest.mark.parametrize("name", ["jpeg", "webp", "avif"])
def test_classic_files_carry_no_metadata(tagged, name):
    codec = _codec(name)
    data, _ = codec.code(tagged, 50)
    with Image.open(io.BytesIO(data)) as written:
        assert not written.info.get("icc_profile"), name
        assert not written.info.get("exif"), name
    assert tagged.info.get("icc_profile"), "the caller's image keeps its metadata"


@pytest.mark.parametrize("name", ["jpeg", "webp", "avif"])
def test_metadata_does_not_change_the_file(tagged, name):
    codec = _codec(name)
    bare = tagged.copy()
    bare.info = {}
    assert codec.code(tagged, 30)[0] == codec.code(bare, 30)[0]


def test_webp_refuses_an_image_over_its_side_limit_before_pillow():
    codec = _codec("webp")
    wide = Image.new("RGB", (16384, 8))
    assert codec.too_large(wide) == "over 16,383 px a side"
    assert codec.too_large(Image.new("RGB", (16383, 8))) is None
    with pytest.raises(ImageTooLargeForCodec, match="WebP cannot hold this 16384x8 image"):
        code_at_bpp(codec, wide, 0.5)
    assert _codec("jpeg").too_large(wide) is None
