"""``taco decompress -o NAME.SUFFIX``: an output format that cannot hold the decoded image's size
(WebP over 16,383 pixels a side) or would write other dimensions (ICO, ICNS: icons) is refused
before decoding, and a writer's own refusal is one error line of that input, not a traceback.

Pillow 13 at the decoder's cap (sides up to 32,768, 38 M pixels): JPEG, GIF, BMP, TGA, PCX,
AVIF, JPEG 2000, ... wrote 32768x1, 1x32768 and 32768x1159; WebP refused a side over 16,383
(ValueError: "encoding error 5"), ICO one over 256 where the other is under 16 ("All sizes too
large for image") and shrank the rest to <= 256, ICNS resampled every size to 1024x1024."""

from __future__ import annotations

import pytest
from PIL import Image

import taco
import taco.codec
import taco.images
from taco.cli import main


@pytest.fixture()
def wide_file(tmp_path, tiny_elic):
    """A 16400x16 file of elic-tiny (one side over WebP's 16,383)."""
    path = tmp_path / "wide.taco"
    path.write_bytes(taco.compress(Image.new("RGB", (16400, 16), (100, 150, 200)), None, tiny_elic))
    return path


@pytest.fixture()
def small_file(tmp_path, sample_image, tiny_elic):
    """A 300x260 file of elic-tiny."""
    path = tmp_path / "small.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 300, 260)), None, tiny_elic))
    return path


@pytest.fixture()
def no_decoding(monkeypatch):
    """Fail the test if a file is decoded: the refusals come before."""
    def decompress(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(taco.codec, "decompress", decompress)


def test_webp_wider_than_16383_is_refused_before_decoding(wide_file, tmp_path, capsys, no_decoding):
    out = tmp_path / "wide.webp"
    assert main(["decompress", str(wide_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "wide.webp: .webp holds at most 16383 pixels a side, not this 16400x16 image; use .png" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize(("suffix", "what"), [(".ico", "an icon of at most 256x256"),
                                              (".icns", "icons of fixed sizes")])
def test_icons_are_refused_before_decoding(small_file, tmp_path, capsys, no_decoding, suffix, what):
    """A 300x260 image came out as a 256x222 .ico and a 1024x1024 .icns, reported as 300x260."""
    out = tmp_path / f"small{suffix}"
    assert main(["decompress", str(small_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"is written by Pillow as {what}" in err and err.rstrip().endswith("use .png"), err
    assert not out.exists()


@pytest.mark.parametrize("name", ["small.pfm", "small.PFM"])
def test_pfm_is_refused_before_decoding(small_file, tmp_path, capsys, no_decoding, name):
    """Review D: .pfm wrote a P6 PPM under that name (Pillow writes a Portable FloatMap only
    from a float image, which no decoded image is), which PFM readers refuse."""
    out = tmp_path / name
    assert main(["decompress", str(small_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "is a Portable FloatMap" in err, err
    assert err.rstrip().endswith("use .ppm or .pgm"), err
    assert not out.exists()


def test_a_writer_refusal_after_decoding_is_one_line(wide_file, tmp_path, capsys, monkeypatch):
    """A limit the format check does not know (here WebP's, taken out of the check) is raised
    by Pillow's writer after the decode: one error line and exit 2, no file."""
    monkeypatch.setattr("taco.images.FORMAT_MAX_SIDES", {})
    out = tmp_path / "wide.webp"
    assert main(["decompress", str(wide_file), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Pillow cannot write this 16400x16 RGB image as WEBP (encoding error 5" in err, err
    assert "Traceback" not in err and err.count("error:") == 1, err
    assert not out.exists()


def test_a_writer_refusal_fails_that_input_alone(small_file, wide_file, tmp_path, capsys, monkeypatch):
    real = taco.images.image_file_bytes

    def image_file_bytes(image, fmt):
        if image.width > 10000:
            raise OSError("cannot write this one")  # as Pillow's writers do: no errno
        return real(image, fmt)

    monkeypatch.setattr(taco.images, "image_file_bytes", image_file_bytes)
    out = tmp_path / "out"
    assert main(["decompress", str(wide_file), str(small_file), "-o", f"{out}/"]) == 3
    err = capsys.readouterr().err
    assert "wide.png: Pillow cannot write this 16400x16 RGB image as PNG (cannot write this one)" in err
    assert "Traceback" not in err, err
    assert sorted(p.name for p in out.iterdir()) == ["small.png"]


def test_a_named_pipe_without_a_suffix_gets_a_png_as_standard_output_does(small_file, tmp_path):
    """``-o /dev/null --force`` (to time the decoder) or a named pipe: a device or pipe has no
    suffix to name a format, so it gets the PNG ``-o -`` writes (it was refused after decoding as
    "a name without a suffix"), written into it, not replacing it."""
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["decompress", str(small_file), "-o", str(fifo), "--force"]) == 0
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"\x89PNG")
    written = tmp_path / "again.png"
    assert main(["decompress", str(small_file), "-o", str(written)]) == 0
    assert got[0] == written.read_bytes()
