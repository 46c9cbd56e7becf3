"""``taco demo`` reads its image once: from a pipe (``--image <(cat x.png)``, ``/dev/stdin``) as
from a file, the format and size it reports coming from that one read (taco.images.load_image)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.cli import main
from taco.demo import run_demo
from taco.images import load_image
from taco.samples import SAMPLES_DIR

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")


def _piped(path: Path, data: bytes) -> Path:
    """A named pipe at ``path`` that gives ``data`` once to the first reader."""
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "wb") as f:
            f.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return path


def test_load_image_keeps_the_files_format_and_size(tmp_path):
    turned = tmp_path / "phone.jpg"  # stored sideways: load_image gives a turned copy, no .format
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(turned, exif=exif)
    image = load_image(turned)
    assert image.format is None and image.size == (4, 6)
    assert image.info["source_format"] == "JPEG"
    assert image.info["source_bytes"] == turned.stat().st_size
    piped = load_image(_piped(tmp_path / "pipe", CHELSEA.read_bytes()))
    assert piped.info["source_format"] == "PNG"
    assert piped.info["source_bytes"] == CHELSEA.stat().st_size


def test_run_demo_reads_a_pipe_as_the_file(tmp_path):
    pipe = _piped(tmp_path / "chelsea", CHELSEA.read_bytes())
    piped = run_demo("elic-tiny", str(pipe), "a cat", out_dir=tmp_path / "piped")
    from_file = run_demo("elic-tiny", str(CHELSEA), "a cat", out_dir=tmp_path / "file")
    assert piped["source_format"] == from_file["source_format"] == "PNG"
    assert piped["source_bytes"] == from_file["source_bytes"] == CHELSEA.stat().st_size
    assert Path(piped["files"][0]).read_bytes() == Path(from_file["files"][0]).read_bytes()


def test_taco_demo_takes_an_image_from_a_pipe(tmp_path, capsys):
    pipe = _piped(tmp_path / "in", CHELSEA.read_bytes())
    assert main(["demo", "--image", str(pipe), "-m", "elic-tiny", "--caption", "a cat",
                 "-o", str(tmp_path / "d")]) == 0
    size = CHELSEA.stat().st_size
    assert f"image      in (451x300, {size:,} bytes as PNG)" in capsys.readouterr().out.splitlines()
    assert (tmp_path / "d" / "in.taco").stat().st_size > 0
