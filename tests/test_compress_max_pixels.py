"""``taco compress --max-pixels``: the encoder's pixel cap, read from each image's header before
the model loads, named by the CLI's option; 0 lifts it, and Pillow's own decompression-bomb check
with it (a 200 MP phone photo is over Pillow's ~179 MP)."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from taco.cli import main
from taco.memory import MAX_ENCODE_PIXELS as MAX_PIXELS

HEAVY = {"torch", "compressai"}


@pytest.fixture()
def small(tmp_path, sample_image):
    path = tmp_path / "small.png"
    sample_image.crop((0, 0, 64, 48)).save(path)
    return path


def test_the_default_is_the_encoders_cap(capsys):
    with pytest.raises(SystemExit):
        main(["compress", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--max-pixels N refuse images of more than N pixels" in help_text
    assert f"(default: {MAX_PIXELS};" in help_text and "0: no cap" in help_text


def test_a_negative_max_pixels_is_refused_by_argparse(small, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(small), "--max-pixels", "-5"])
    assert exc.value.code == 2
    assert "argument --max-pixels: must be at least 0, got -5" in capsys.readouterr().err


@pytest.mark.parametrize(("width", "height"), [(10000, 10001), (16320, 12240)])
def test_an_image_over_the_cap_is_refused_from_its_header_without_torch(png_header, probe, tmp_path, width, height):
    """10000x10001 is just over the default cap; 16320x12240 (a 200 MP phone photo) is over
    Pillow's own limit too, which must not answer first with its 'decompression bomb'."""
    photo = png_header(tmp_path / "big.png", width, height)
    r = probe(tmp_path, "compress", str(photo), "-m", "taco-tiny")
    assert r["code"] == 2
    err = r["stderr"]
    assert f"a {width}x{height} image ({width * height:,} pixels), over the cap of {MAX_PIXELS:,}" in err
    assert "pass --max-pixels 0 (or a larger N) to code it anyway" in err
    assert "max_pixels" not in err and "decompression bomb" not in err
    assert not HEAVY & set(r["modules"])
    assert not (tmp_path / "big.png.taco").exists() and not (tmp_path / "big.taco").exists()


def test_a_batch_codes_those_under_the_cap(png_header, tmp_path, small, capsys):
    big = png_header(tmp_path / "big.png", 100, 100)
    out = tmp_path / "out"
    assert main(["compress", str(small), str(big), "-m", "elic-tiny", "-o", str(out),
                 "--max-pixels", "5000"]) == 3
    err = capsys.readouterr().err
    assert "big.png: a 100x100 image (10,000 pixels), over the cap of 5,000" in err
    assert (out / "small.taco").exists() and not (out / "big.taco").exists()


def test_piped_in_image_over_the_cap(small, monkeypatch, capsysbinary):
    class Stdin:
        buffer = io.BytesIO(small.read_bytes())

        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert main(["compress", "-", "-m", "elic-tiny", "--max-pixels", "100"]) == 2
    out = capsysbinary.readouterr()
    assert out.out == b""
    assert b"a 64x48 image (3,072 pixels), over the cap of 100: pass --max-pixels 0" in out.err


@pytest.mark.parametrize("cap", ["0", "5000"])
def test_a_cap_above_pillows_limit_lifts_it_for_the_read(small, tmp_path, monkeypatch, cap):
    """Pillow refuses over twice ``Image.MAX_IMAGE_PIXELS``: here 2,000 pixels, under the
    64x48 photo's 3,072, as a 200 MP photo is over its default ~179 MP. --max-pixels 0 (or an N
    above Pillow's limit) codes it, and Pillow's limit is as it was afterwards."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    out = tmp_path / "small.taco"
    assert main(["compress", str(small), "-m", "elic-tiny", "-o", str(out), "--max-pixels", cap]) == 0
    assert out.exists()
    assert Image.MAX_IMAGE_PIXELS == 1000


def test_the_librarys_refusal_is_worded_with_the_option(small, tmp_path, monkeypatch, capsys):
    """An image whose header the check before the model loads could not read (a HEIC without
    its plugin there) is refused by load_image: the line names --max-pixels, not max_pixels."""
    monkeypatch.setattr("taco.cli.compress.over_cap", lambda source, cap: None)
    out = tmp_path / "small.taco"
    assert main(["compress", str(small), "-m", "elic-tiny", "-o", str(out), "--max-pixels", "100"]) == 2
    err = capsys.readouterr().err
    assert "a 64x48 image (3,072 pixels), over the cap of 100: pass --max-pixels 0" in err
    assert "max_pixels" not in err and not out.exists()
