"""Which image formats taco reads: every one Pillow reads (as at 7c1ae82) but those of
taco.images.REFUSED_FORMATS, whose opener or load does work taco's size cap cannot bound or runs
another program; a refused format is named only where Pillow's own opener identifies it."""

from __future__ import annotations

import builtins
import collections
import io
import os
import struct
import sys
import threading
from collections.abc import Callable

import pytest
from PIL import Image, features

from taco.errors import TacoValueError
from taco.images import ImageReadError, load_image, open_image, upright_sizes


@pytest.fixture()
def photo(sample_image):
    return sample_image.crop((0, 0, 40, 30))


@pytest.mark.parametrize("fmt, suffix", [("TGA", ".tga"), ("JPEG2000", ".jp2"), ("QOI", ".qoi"),
                                         ("PCX", ".pcx"), ("SGI", ".sgi")])
def test_formats_pillow_reads_are_read(photo, tmp_path, fmt, suffix):
    """TGA, JPEG 2000, ... were refused as 'not an image format taco reads' (a7a6ae8)."""
    path = tmp_path / f"photo{suffix}"
    photo.save(path, fmt)
    image = load_image(path)
    assert image.size == (40, 30) and image.info["source_format"] == fmt
    assert load_image("piped", data=path.read_bytes()).size == (40, 30)
    with open_image(path) as im:
        assert im.format == fmt
    assert upright_sizes(path) == [(40, 30)]


def test_a_tga_is_compressed(photo, tmp_path):
    from taco.cli import main

    path = tmp_path / "photo.tga"
    photo.save(path)
    out = tmp_path / "photo.taco"
    assert main(["compress", str(path), "-m", "elic-tiny", "-o", str(out), "--quiet"]) == 0
    assert out.exists()


def ico(width: int, height: int) -> bytes:
    """An ICO of one PNG icon of ``width`` x ``height``."""
    embedded = io.BytesIO()
    Image.new("RGBA", (width, height)).save(embedded, "PNG")
    data = embedded.getvalue()
    return (struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(data), 22)
            + data)


@pytest.mark.parametrize("fmt", ["ICO", "EPS", "ICNS"])
def test_refused_formats_are_named(photo, tmp_path, fmt):
    path = tmp_path / "photo.png"  # by content, whatever the name
    if fmt == "ICO":
        path.write_bytes(ico(16, 16))
    else:
        photo.save(path, fmt)
    expected = rf"not an image format taco reads \(it is {fmt}\)$"
    for call in (lambda: load_image(path), lambda: load_image("up.png", data=path.read_bytes()),
                 lambda: open_image(path)):
        with pytest.raises(ImageReadError, match=expected):
            call()
    assert upright_sizes(path) == []


def test_the_ico_opener_never_runs(tmp_path, monkeypatch):
    """Pillow's ICO opener decodes the largest icon at open: only its directory is parsed."""
    from PIL import IcoImagePlugin

    def refuse(self):
        raise AssertionError("the ICO opener ran")

    monkeypatch.setattr(IcoImagePlugin.IcoImageFile, "_open", refuse)
    path = tmp_path / "icon.ico"
    path.write_bytes(ico(16, 16))
    with pytest.raises(ImageReadError, match=r"\(it is ICO\)$"):
        load_image(path)


def test_a_broken_tga_is_never_called_cur(photo, tmp_path):
    """CUR's signature check matches an uncompressed TGA's first bytes (a7a6ae8 said 'it is CUR')."""
    whole = io.BytesIO()
    photo.save(whole, "TGA")
    assert whole.getvalue()[:4] == b"\0\0\2\0"
    path = tmp_path / "broken.tga"
    path.write_bytes(whole.getvalue()[:12])  # its header cut before the size
    with pytest.raises(ImageReadError, match="not an image file Pillow can identify$"):
        load_image(path)


@pytest.mark.parametrize("bad, error", [(0, TacoValueError), (-3, TacoValueError), ("9", TypeError),
                                        (True, TypeError)])
def test_a_bad_max_pixels_is_the_callers_mistake_not_a_corrupt_file(tmp_path, bad, error):
    path = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(path)
    for where in (path, tmp_path / "missing.png"):  # checked before anything is read
        with pytest.raises(error, match="max_pixels must be"):
            load_image(where, max_pixels=bad)
    with pytest.raises(error, match="max_pixels must be"):
        load_image("piped", data=path.read_bytes(), max_pixels=bad)


@pytest.fixture()
def heic_without_opener(photo, tmp_path, monkeypatch):
    """A HEIC file, in a process where pillow-heif's opener is not registered yet."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "photo.heic"
    photo.save(path, "HEIF")
    monkeypatch.setattr(Image, "ID", [f for f in Image.ID if f != "HEIF"])
    monkeypatch.delitem(Image.OPEN, "HEIF")
    return path


def test_a_heic_header_is_read_by_every_header_check(heic_without_opener):
    """over_cap (taco compress's check before the model loads), open_image and upright_sizes
    registered no HEIF opener (load_image alone did): the check let a HEIC through."""
    from taco.cli.compress import over_cap

    assert over_cap(heic_without_opener, 1000) == (
        "a 40x30 image (1,200 pixels), over the cap of 1,000: pass --max-pixels 0 (or a larger N) "
        "to code it anyway, if the file is trusted")


def test_open_image_reads_a_heic(heic_without_opener):
    with open_image(heic_without_opener) as im:
        assert im.size == (40, 30)


def test_upright_sizes_reads_a_heic(heic_without_opener):
    assert upright_sizes(heic_without_opener) == [(40, 30)]


def test_the_over_cap_line_gives_the_upright_size(photo, tmp_path):
    from taco.cli.compress import over_cap

    path = tmp_path / "rot6.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.save(path, exif=exif)
    assert over_cap(path, 1000).startswith("a 30x40 image (1,200 pixels), over the cap of 1,000")


def _in_a_thread(work: Callable[[], None]) -> Callable[[], None]:
    """Start ``work`` in a thread -> a function that waits for it and fails the test if it is
    still running (a writer that nothing read from) or raised."""
    errors: list[BaseException] = []

    def run():
        try:
            work()
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def finished():
        thread.join(10)
        assert not thread.is_alive(), "the writer still waits: nothing read the pipe"
        assert errors == []

    return finished


def _write_later(path, data: bytes) -> Callable[[], None]:
    """Write ``data`` to the named pipe ``path`` in a thread (its open waits for a reader) ->
    the function that checks it was all written (:func:`_in_a_thread`)."""
    def write():
        with open(path, "wb") as f:
            f.write(data)

    return _in_a_thread(write)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_opened_and_sized(photo, tmp_path):
    """142984b seeked the source before Pillow saw it: open_image on bash's <(cat x) raised
    io.UnsupportedOperation, and upright_sizes said [] (taco compress --skip-existing then took
    another photo's output of the same name for this one's)."""
    whole = io.BytesIO()
    photo.save(whole, "JPEG")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    for read in (lambda: open_image(path).size, lambda: upright_sizes(path)):
        written = _write_later(path, whole.getvalue())
        assert read() in ((40, 30), [(40, 30)])
        written()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_refused_format_in_a_named_pipe_is_named(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    written = _write_later(path, ico(16, 16))
    with pytest.raises(ImageReadError, match=r"\(it is ICO\)$"):
        open_image(path)
    written()


@pytest.mark.parametrize("data, expected", [("jpeg", (40, 30)), ("ico", "ICO")])
def test_a_pipe_file_object_is_opened(photo, data, expected):
    """A stream that cannot seek (a subprocess's stdout) is read as Pillow reads it."""
    whole = io.BytesIO()
    photo.save(whole, "JPEG")
    payload = whole.getvalue() if data == "jpeg" else ico(16, 16)
    r, w = os.pipe()

    def write():
        with os.fdopen(w, "wb") as f:
            f.write(payload)

    written = _in_a_thread(write)
    with os.fdopen(r, "rb") as stream:
        if data == "jpeg":
            with open_image(stream) as im:
                assert im.size == expected
        else:
            with pytest.raises(ImageReadError, match=rf"\(it is {expected}\)$"):
                open_image(stream)
    written()


@pytest.fixture()
def opens(monkeypatch):
    """The paths opened (builtins.open: Pillow's; io.open: pathlib's), counted by name."""
    counted: collections.Counter[str] = collections.Counter()
    real = builtins.open

    def counting(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            counted[os.fspath(file)] += 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting)
    monkeypatch.setattr(io, "open", counting)
    return counted


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_readable_file_is_opened_once(photo, tmp_path, opens, fmt):
    """142984b opened every file twice to read its header (its refused-format and HEIF sniffs,
    then Image.open): taco compress opened each input four times."""
    path = tmp_path / f"photo.{fmt.lower()}"
    photo.save(path, fmt)
    for read in (lambda: load_image(path), lambda: open_image(path).close(), lambda: upright_sizes(path)):
        opens.clear()
        read()
        assert opens[str(path)] == 1


@pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF")
def test_a_mif1_avif_is_read_without_pillow_heif(photo, tmp_path, monkeypatch):
    """An AVIF whose major brand is mif1 (Pillow's AVIF reader takes it) was refused as a HEIC
    needing pillow-heif (142984b), read at 7c1ae82."""
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if not installed
    if "HEIF" in Image.OPEN:  # registered by an earlier test
        monkeypatch.setattr(Image, "ID", [f for f in Image.ID if f != "HEIF"])
        monkeypatch.delitem(Image.OPEN, "HEIF")
    whole = io.BytesIO()
    photo.save(whole, "AVIF")
    data = bytearray(whole.getvalue())
    data[8:12] = b"mif1"
    path = tmp_path / "photo.avif"
    path.write_bytes(data)
    assert load_image(path).size == (40, 30)
    assert load_image("piped", data=bytes(data)).size == (40, 30)
    assert upright_sizes(path) == [(40, 30)]
    with open_image(path) as im:
        assert im.format == "AVIF"


def test_a_heic_without_pillow_heif_says_so_everywhere(heic_without_opener, monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if not installed
    data = heic_without_opener.read_bytes()
    for call in (lambda: load_image(heic_without_opener), lambda: open_image(heic_without_opener),
                 lambda: load_image("piped", data=data), lambda: open_image(io.BytesIO(data))):
        with pytest.raises(ImageReadError, match="need the pillow-heif package"):
            call()
    assert upright_sizes(heic_without_opener) == []


def test_a_piped_image_over_the_cap_is_refused_with_its_upright_size(photo, tmp_path):
    """taco compress worded a regular file's refusal with its upright size (over_cap) but a piped
    one's with its stored size (load_image's ImageReadError.size)."""
    from taco.cli.compress import over_cap

    path = tmp_path / "rot6.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.save(path, exif=exif)
    for source in (path, "piped"):
        with pytest.raises(ImageReadError) as refused:
            load_image(source, data=None if source is path else path.read_bytes(), max_pixels=1000)
        assert refused.value.size == (30, 40) and refused.value.max_pixels == 1000
    assert over_cap(path, 1000).startswith("a 30x40 image")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_skip_existing_compares_a_named_pipes_size(photo, tmp_path, capsys):
    """``taco compress <(cat other.jpg) -o existing.taco --skip-existing`` skipped silently
    (142984b: upright_sizes of a pipe was []), where the output holds another photo."""
    from taco.cli import main

    path = tmp_path / "photo.png"
    photo.save(path)
    out = tmp_path / "photo.taco"
    assert main(["compress", str(path), "-m", "elic-tiny", "-o", str(out), "--quiet"]) == 0
    other = io.BytesIO()
    photo.resize((30, 40)).save(other, "JPEG")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    written = _write_later(pipe, other.getvalue())
    capsys.readouterr()
    assert main(["compress", str(pipe), "-m", "elic-tiny", "-o", str(out), "--skip-existing"]) == 2
    written()
    assert "exists and holds a 40x30 image, not this 30x40 one" in capsys.readouterr().err
