"""The refusal of an image over the pixel cap, one wording (thousands separators) for the library
and every command: the library names the Python call that lifts the cap, which exists and works;
``taco compress`` names its option; the commands without ``--max-pixels`` (demo, bench) name no
way, as their users cannot apply the Python one."""

from __future__ import annotations

import inspect
import struct
import zlib

import pytest
from PIL import Image

import taco
from taco.cli import main
from taco.images import ImageReadError, cap_refusal, load_image

HUGE = "a 12000x10000 image (120,000,000 pixels), over the cap of 100,000,000: "
PYTHON_WAY = ("to code it anyway, if the file is trusted, read it with "
              "taco.images.load_image(path, max_pixels=None) and pass that image to taco.compress")


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.fixture
def huge(tmp_path):
    """A 1-bit PNG declaring 12000x10000 (120 MP, over the default cap), with few pixel bytes."""
    ihdr = struct.pack(">IIBBBBB", 12000, 10000, 1, 0, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_the_library_names_the_python_way(huge, tiny_elic):
    with pytest.raises(ImageReadError) as refused:
        taco.compress(huge, None, tiny_elic)
    assert str(refused.value) == f"cannot read image '{huge}': {HUGE}{PYTHON_WAY}"
    assert cap_refusal(12000, 10000, 100_000_000) == HUGE + PYTHON_WAY


def test_the_python_way_works(tmp_path, tiny_elic):
    # what the words name: load_image's max_pixels=None, and taco.compress taking that image
    assert inspect.signature(load_image).parameters["max_pixels"].kind is inspect.Parameter.KEYWORD_ONLY
    path = tmp_path / "small.png"
    Image.new("RGB", (40, 30), (90, 120, 30)).save(path)
    with pytest.raises(ImageReadError, match=r"a 40x30 image \(1,200 pixels\), over the cap of 1,000: "):
        load_image(path, max_pixels=1000)
    image = load_image(path, max_pixels=None)
    assert taco.decompress(taco.compress(image, None, tiny_elic), tiny_elic).size == (40, 30)


@pytest.mark.parametrize("command", [
    ["demo", "--caption", "x", "-o", "OUT", "--image", "HUGE"],
    ["bench", "--quick", "--runs", "1", "--images", "HUGE"],
])
def test_commands_without_the_option_are_not_told_to_pass_it(huge, tmp_path, capsys, command):
    args = [{"HUGE": str(huge), "OUT": str(tmp_path / "out")}.get(a, a) for a in command]
    assert main(args) != 0
    err = capsys.readouterr().err
    # nor told of the Python call, which a user of the command cannot apply: no way is named
    assert f"{HUGE.removesuffix(': ')}\n" in err, err
    assert "--max-pixels" not in err and "max_pixels=None" not in err, err


def test_compress_names_its_option(huge, tmp_path, capsys):
    assert main(["compress", str(huge), "-o", str(tmp_path / "h.taco"), "--caption", "x"]) != 0
    assert (f"{HUGE}pass --max-pixels 0 (or a larger N) to code it anyway, if the file is trusted"
            in capsys.readouterr().err)


def test_no_way_past_the_cap_is_one_sentence_without_a_colon():
    assert cap_refusal(3, 2, 5, "") == "a 3x2 image (6 pixels), over the cap of 5"
    assert cap_refusal(3, 2, 5, "lift it").endswith("over the cap of 5: lift it")


def test_datasets_say_the_size_and_the_cap_without_the_python_way(huge, tmp_path):
    """taco train and taco evaluate read photos through taco.data's datasets, whose warning for a
    photo skipped on load named load_image's max_pixels=None, which their users cannot apply: it
    now ends at the cap, as demo and bench do."""
    import warnings

    from taco.captions_file import CaptionRecord
    from taco.data import CaptionedImages, SkippedImageWarning

    Image.new("RGB", (64, 64), (90, 120, 30)).save(tmp_path / "small.png")
    records = [CaptionRecord(huge.name, ("x",)), CaptionRecord("small.png", ("y",))]
    dataset = CaptionedImages(huge.parent, records)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert dataset[0] is not None  # the huge one skipped, the small one returned
    texts = [str(w.message) for w in said if issubclass(w.category, SkippedImageWarning)]
    assert texts == [f"skipping unreadable image huge.png: {HUGE.removesuffix(': ')}"], texts


def test_data_on_device_says_the_size_and_the_cap_without_the_python_way(huge):
    """``taco train --data-on-device`` decodes the photos itself (ResidentImages): its refusal of
    a folder of none readable still named load_image's max_pixels=None (review R3 4); it ends
    at the cap, as taco.data's datasets say it."""
    from taco.captions_file import CaptionRecord
    from taco.data import CaptionedImages, UnreadableImagesError
    from taco.train.resident_data import ResidentImages

    dataset = CaptionedImages(huge.parent, [CaptionRecord(huge.name, ("x",))])
    with pytest.raises(UnreadableImagesError) as refused:
        ResidentImages.decode(dataset, 64, "cpu", workers=1)
    message = str(refused.value)
    assert f"huge.png: {HUGE.removesuffix(': ')})" in message, message
    assert "max_pixels=None" not in message and "taco.compress" not in message, message
