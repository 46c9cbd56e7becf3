"""File objects given for an image (``taco.compress``) or a ``.taco`` file (``taco.decompress``,
``taco.info``): the mistakes made with them are said, not a UnicodeDecodeError or "empty file"."""

from __future__ import annotations

import io

import pytest
import torch

import taco


class Chunks(io.RawIOBase):
    """A raw binary stream whose read() gives a bytearray: all that is left, or of ``read(n)`` at
    most 100 bytes (fewer than asked for, as a pipe may give); or None (nothing ready yet)."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1):  # type: ignore[override]
        if self.data is None:
            return None
        n = len(self.data) if size < 0 else min(size, 100)
        part, self.data = self.data[:n], self.data[n:]
        return bytearray(part)


@pytest.fixture(scope="module")
def png_and_taco(tmp_path_factory, tiny_elic):
    from PIL import Image

    folder = tmp_path_factory.mktemp("fileobjects")
    image = Image.fromarray(torch.randint(0, 256, (40, 70, 3), dtype=torch.uint8).numpy())
    image.save(folder / "noise.png")
    data = taco.compress(image, None, tiny_elic)
    (folder / "noise.taco").write_bytes(data)
    return folder / "noise.png", folder / "noise.taco", data


def test_a_text_mode_file_is_a_type_error_before_anything_is_read(png_and_taco, tiny_elic):
    png, taco_file, _ = png_and_taco
    with open(png) as text, pytest.raises(TypeError, match=r"an image must be opened in binary mode"):
        taco.compress(text, None, tiny_elic)
    for read in (taco.info, lambda f: taco.decompress(f, tiny_elic)):
        with open(taco_file) as text, pytest.raises(TypeError, match=r"\.taco file must be opened in binary"):
            read(text)
        with pytest.raises(TypeError, match="binary mode"):
            read(io.StringIO("TACO"))


def test_bytearray_reads_are_bytes_and_none_is_said(png_and_taco, tiny_elic):
    png, _, data = png_and_taco
    assert taco.info(Chunks(data)) == taco.info(data)
    assert taco.compress(Chunks(png.read_bytes()), None, tiny_elic) == taco.compress(png, None, tiny_elic)
    with pytest.raises(TypeError, match="non-blocking"):
        taco.info(Chunks(None))


def test_a_file_object_at_its_end_says_so(png_and_taco, tiny_elic):
    png, _, data = png_and_taco
    stream = io.BytesIO(data)
    stream.read()
    with pytest.raises(taco.TacoFormatError, match=r"at its end \(position [\d,]+\).*seek\(0\)"):
        taco.decompress(stream, tiny_elic)
    stream.seek(0)
    assert taco.decompress(stream, tiny_elic).size == (70, 40)
    written = io.BytesIO()
    written.write(png.read_bytes())
    with pytest.raises(taco.ImageReadError, match="image file object.*at its end.*seek"):
        taco.compress(written, None, tiny_elic)
    with pytest.raises(taco.TacoFormatError, match="it is empty"):  # an empty stream is an empty file
        taco.info(io.BytesIO())


class Endless(io.RawIOBase):
    """A stream that never ends (``open('/dev/zero', 'rb')``, a runaway pipe); counts its bytes."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = len(buffer)
        buffer[:n] = bytes(n)
        self.given += n
        return n


def test_an_endless_image_stream_is_refused_at_the_bound(monkeypatch, tiny_elic):
    """An image stream was read to its end: /dev/zero took all memory. Now it is read one byte
    past taco.images.MAX_IMAGE_BYTES (here made small) and refused, naming the stream."""
    import taco.images

    monkeypatch.setattr(taco.images, "MAX_IMAGE_BYTES", 5000)
    stream = io.BufferedReader(Endless())
    with pytest.raises(taco.images.ImageReadError, match="over 5,000 bytes, more than taco reads"):
        taco.compress(stream, None, tiny_elic)
    assert stream.raw.given <= 5001 + io.DEFAULT_BUFFER_SIZE
