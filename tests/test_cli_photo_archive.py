"""Archiving real photos with the codec commands: what an output format keeps of a decoded
16-bit image, what ``--skip-existing`` takes for an output already made, camera RAW files named
on the command line, and the notes on what is not kept (metadata) or is lost again (a lossy
output format). Tiny model, small photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import taco.cli.compress
from taco.cli import main
from taco.samples import SAMPLES_DIR

CODE = ["--caption", "", "-m", "elic-tiny"]
CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _photo(path: Path, size: tuple[int, int] = (32, 24), **save: object) -> Path:
    Image.open(CHELSEA).convert("RGB").resize(size).save(path, **save)
    return path


# --------------------------------------------------------------------------- 16-bit grey out


@pytest.fixture(scope="module")
def grey16_taco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("grey16")
    values = np.linspace(0, 65535, 32 * 24).reshape(24, 32).astype("<u2")
    Image.fromarray(values).save(folder / "scan.png")
    assert main(["compress", str(folder / "scan.png"), *CODE, "--quiet"]) == 0
    return folder / "scan.taco"


@pytest.mark.parametrize("suffix", [".webp", ".avif", ".gif", ".jpg", ".bmp"])
def test_16bit_grey_to_a_format_that_clips_it_is_refused(grey16_taco, tmp_path, capsys, suffix):
    """Decoding a 16-bit grey file to .webp, .avif or .gif wrote a blank image (WebP and AVIF all
    255, GIF all 0) with exit 0: Pillow writes I;16 there, clipping it. Each is refused before
    decoding, as .jpg and .bmp are."""
    out = tmp_path / f"g16{suffix}"
    assert main(["decompress", str(grey16_taco), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "cannot hold the decoded 16-bit grey image; use .png or .tif" in err
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".png", ".tif", ".ppm"])
def test_16bit_grey_to_a_format_that_keeps_it(grey16_taco, tmp_path, suffix):
    out = tmp_path / f"g16{suffix}"
    assert main(["decompress", str(grey16_taco), "-o", str(out), "--quiet"]) == 0
    values = np.asarray(Image.open(out)).astype(np.int64)
    assert values.max() > 255 and (values % 257 == 0).all() and values.std() > 1000


# --------------------------------------------------------------------------- --skip-existing


def test_skip_existing_refuses_another_photo_of_the_same_name(tmp_path, capsys):
    """Two memory cards each with an IMG_0001.jpg, archived into one folder: the second card's
    was skipped as done (its name matched), exit 0, and never archived. Now an output whose
    image size is not the source's is refused for that input; the rest is done."""
    card_a, card_b, arch = tmp_path / "cardA", tmp_path / "cardB", tmp_path / "arch"
    card_a.mkdir()
    card_b.mkdir()
    _photo(card_a / "IMG_0001.jpg", (32, 24))
    _photo(card_b / "IMG_0001.jpg", (40, 24))  # another photo
    _photo(card_b / "IMG_0003.jpg", (32, 24))
    assert main(["compress", str(card_a), *CODE, "-o", str(arch), "--quiet"]) == 0
    first = (arch / "IMG_0001.taco").read_bytes()
    capsys.readouterr()
    assert main(["compress", str(card_b), *CODE, "-o", str(arch), "--skip-existing"]) == 3
    captured = capsys.readouterr()
    assert (f"taco compress: error: {card_b / 'IMG_0001.jpg'}: {arch / 'IMG_0001.taco'} exists "
            "and holds a 32x24 image, not this 40x24 one: another photo of the same name (--force "
            "replaces it; or give another output folder)") in captured.err.splitlines()
    assert (arch / "IMG_0001.taco").read_bytes() == first
    assert _names(arch) == ["IMG_0001.taco", "IMG_0003.taco"]
    assert captured.out.splitlines()[-1].endswith("(1 failed)")
    assert captured.out.startswith(f"[2/2] {card_b / 'IMG_0003.jpg'} -> ")  # the refused one counts
    # the same photo again: skipped, as before
    assert main(["compress", str(card_a), *CODE, "-o", str(arch), "--skip-existing"]) == 0
    assert capsys.readouterr().out.endswith("compressed 0 images (1 skipped: their outputs exist)\n")


def test_skip_existing_compares_the_upright_size(tmp_path, capsys):
    """A phone photo stored 24x32 with EXIF orientation 6 is coded upright, 32x24: its output
    is the same photo, skipped."""
    folder = tmp_path / "phone"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6
    _photo(folder / "IMG_0001.jpg", (24, 32), exif=exif)
    _photo(folder / "IMG_0002.jpg", (32, 24))
    out = tmp_path / "out"
    assert main(["compress", str(folder), *CODE, "-o", str(out), "--quiet"]) == 0
    (out / "IMG_0002.taco").unlink()
    capsys.readouterr()
    assert main(["compress", str(folder), *CODE, "-o", str(out), "--skip-existing", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    assert captured.out.endswith("(1 skipped: their outputs exist)\n")


def test_an_output_name_does_not_depend_on_the_batch(tmp_path, capsys):
    """IMG_1.jpg and IMG_1.png in one folder, compressed one by one (a loop over the files):
    both went to IMG_1.taco, the second "skipped" with --skip-existing. A name is kept whole
    when another image of the source's own folder shares its stem, whatever the batch."""
    folder = tmp_path / "loop"
    folder.mkdir()
    _photo(folder / "IMG_1.jpg")
    _photo(folder / "IMG_1.png")
    _photo(folder / "IMG_2.png")
    for name in ("IMG_1.jpg", "IMG_1.png", "IMG_2.png"):
        assert main(["compress", str(folder / name), *CODE, "--skip-existing", "--quiet"]) == 0
    assert _names(folder) == ["IMG_1.jpg", "IMG_1.jpg.taco", "IMG_1.png", "IMG_1.png.taco",
                              "IMG_2.png", "IMG_2.taco"]
    # the folder at once: the same names, all done
    assert main(["compress", str(folder), *CODE, "--skip-existing"]) == 0
    assert capsys.readouterr().out.endswith("compressed 0 images (3 skipped: their outputs exist)\n")


def test_an_output_left_by_a_name_now_shared_is_named(tmp_path, capsys):
    """A folder with IMG_1.jpg, archived to IMG_1.taco; IMG_1.png added and the folder coded
    again: IMG_1.jpg now keeps its whole name, and IMG_1.taco from before is named in a note."""
    folder = tmp_path / "inc"
    folder.mkdir()
    _photo(folder / "IMG_1.jpg")
    assert main(["compress", str(folder), *CODE, "--quiet"]) == 0
    assert (folder / "IMG_1.taco").is_file()
    _photo(folder / "IMG_1.png")
    capsys.readouterr()
    assert main(["compress", str(folder), *CODE, "--skip-existing", "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert (f"taco compress: note: {folder / 'IMG_1.taco'} is left from before: images whose names "
            "differ only by suffix are written to their whole names (IMG_1.jpg.taco), so it is "
            "no output of this run") in err


def test_the_exists_refusal_says_how_skip_existing_matches(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "a.png")
    _photo(folder / "b.png")
    assert main(["compress", str(folder), *CODE, "--quiet"]) == 0
    (folder / "b.taco").unlink()
    capsys.readouterr()
    assert main(["compress", str(folder), *CODE]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "or --skip-existing to write only the others (it matches outputs by name and image size)")


def test_stems_that_differ_only_by_case_are_named_alike_alone_and_in_a_batch(tmp_path, capsys):
    """Photo.jpg and photo.png in one folder: together they kept their whole names, one by one
    they went to Photo.taco and photo.taco -- one file on macOS and Windows, where the second,
    of the same size, was then "skipped" with --skip-existing. The folder's stems are compared
    as the batch's outputs are, blind to case."""
    folder = tmp_path / "case"
    folder.mkdir()
    _photo(folder / "Photo.jpg")
    _photo(folder / "photo.png")
    for name in ("Photo.jpg", "photo.png"):
        assert main(["compress", str(folder / name), *CODE, "--skip-existing", "--quiet"]) == 0
    assert _names(folder) == ["Photo.jpg", "Photo.jpg.taco", "photo.png", "photo.png.taco"]
    capsys.readouterr()
    assert main(["compress", str(folder / "Photo.jpg"), str(folder / "photo.png"), *CODE,
                 "--skip-existing"]) == 0
    assert capsys.readouterr().out.endswith("compressed 0 images (2 skipped: their outputs exist)\n")


def test_an_output_that_cannot_be_read_fails_its_input_alone(tmp_path, capsys, monkeypatch):
    """--skip-existing reads an existing output's header to compare image sizes: one that could
    not be read (permission denied) stopped the whole batch, exit 2, IMG_3 never coded. Now it is
    that input's failure, on one line naming it; the rest is done."""
    folder = tmp_path / "perm"
    folder.mkdir()
    _photo(folder / "IMG_2.jpg")
    _photo(folder / "IMG_3.jpg")
    assert main(["compress", str(folder / "IMG_2.jpg"), *CODE, "--quiet"]) == 0
    locked = folder / "IMG_2.taco"
    open_path = Path.open

    def refused(self, *args, **kwargs):  # as a file without read permission (root reads any file)
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return open_path(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refused)
    capsys.readouterr()
    assert main(["compress", str(folder / "IMG_2.jpg"), str(folder / "IMG_3.jpg"), *CODE,
                 "--skip-existing"]) == 3
    captured = capsys.readouterr()
    assert (f"taco compress: error: {folder / 'IMG_2.jpg'}: {locked}: cannot read it to compare "
            "image sizes (permission denied) (--force replaces it; or give another output folder)"
            ) in captured.err.splitlines()
    assert f"taco compress: error: 1 of 2 images failed: {folder / 'IMG_2.jpg'}" in captured.err
    assert (folder / "IMG_3.taco").is_file()
    assert captured.out.splitlines()[-1].endswith("(1 failed)")


def test_skip_existing_help_and_hint_belong_to_their_command(tmp_path, capsys):
    """--skip-existing's help, shared by both commands, told taco decompress about taco
    compress's size check; so did decompress's refusal of existing outputs."""
    helps = {}
    for command in ("compress", "decompress"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps[command] = " ".join(capsys.readouterr().out.split())
    assert "it matches outputs by name and image size" in helps["compress"]
    assert "it matches outputs by name" in helps["decompress"]
    assert "image size" not in helps["decompress"] and "compress" not in helps["decompress"].replace(
        "decompress", "")
    folder = tmp_path / "photos"
    folder.mkdir()
    _photo(folder / "a.png")
    _photo(folder / "b.png")
    assert main(["compress", str(folder), *CODE, "--quiet"]) == 0
    assert main(["decompress", str(folder), "--quiet"]) == 0
    (folder / "b.decoded.png").unlink()
    capsys.readouterr()
    assert main(["decompress", str(folder)]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "or --skip-existing to write only the others (it matches outputs by name)")


def test_readme_says_the_naming_rule_of_a_single_input():
    """README said only that two inputs differing by suffix keep their whole names; one alone
    beside another image of its stem does too (IMG_1.jpg beside IMG_1.png: IMG_1.jpg.taco)."""
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert "an input whose folder holds another image of its stem" in readme


# --------------------------------------------------------------------------- camera RAW


def test_camera_raw_named_is_refused_and_the_batch_goes_on(tmp_path, capsys, monkeypatch):
    """A DNG is a TIFF whose first page is a small preview: named on the command line it was
    coded from that thumbnail, exit 0 (in a folder it was left out with a note)."""
    raw = _photo(tmp_path / "IMG_0001.dng", (16, 12), format="TIFF")
    good = _photo(tmp_path / "IMG_0002.png")
    out = tmp_path / "out"
    assert main(["compress", str(raw), str(good), *CODE, "-o", str(out)]) == 3
    captured = capsys.readouterr()
    assert (f"taco compress: error: {raw}: camera RAW is not read: export a TIFF/JPEG/PNG first"
            in captured.err.splitlines())
    assert _names(out) == ["IMG_0002.taco"]
    assert captured.out.splitlines()[-1].startswith("compressed 1 image ")
    # alone: refused before any model loads
    monkeypatch.setattr(taco.cli.compress, "command_model", None)
    for suffix in (".CR2", ".nef", ".arw", ".raw"):
        other = raw.rename(raw.with_suffix(suffix))
        assert main(["compress", str(other), *CODE]) == 2
        assert capsys.readouterr().err.startswith(f"taco compress: error: {other}: camera RAW is not read")
        assert not other.with_suffix(".taco").exists()
        raw = other


def test_an_input_refused_before_coding_keeps_its_place_in_the_count(tmp_path, capsys):
    """A RAW file refused in a batch of two: the photo coded was labelled [1/1] while the
    summary said "1 of 2 images failed". Each input keeps its place in the batch's count, as
    taco decompress counts a file refused before decoding."""
    raw = _photo(tmp_path / "IMG_0001.dng", (16, 12), format="TIFF")
    good = _photo(tmp_path / "IMG_0002.png")
    assert main(["compress", str(raw), str(good), *CODE, "-o", str(tmp_path / "out")]) == 3
    captured = capsys.readouterr()
    assert captured.out.startswith(f"[2/2] {good} -> ")
    assert f"1 of 2 images failed: {raw}" in captured.err
    # refused after it: the photo is the first of two
    assert main(["compress", str(good), str(raw), *CODE, "-o", str(tmp_path / "o2")]) == 3
    assert capsys.readouterr().out.startswith(f"[1/2] {good} -> ")


# --------------------------------------------------------------------------- what is not kept


def test_one_note_when_photos_carry_metadata_that_is_not_kept(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    camera = Image.Exif()
    camera[0x010F], camera[0x0110], camera[0x0132] = "Canon", "EOS R5", "2023:01:02 03:04:05"
    _photo(folder / "a.jpg", exif=camera)
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
           b'22-rdf-syntax-ns#"/></x:xmpmeta>')
    _photo(folder / "b.jpg", xmp=xmp)
    turned = Image.Exif()
    turned[0x0112] = 6  # orientation alone is applied, not lost
    _photo(folder / "c.jpg", exif=turned)
    _photo(folder / "d.png")
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_itxt("Copyright", "(c) A. Photographer", zip=True)  # a PNG's text chunks alone
    _photo(folder / "e.png", pnginfo=text)
    assert main(["compress", str(folder), *CODE, "-o", str(tmp_path / "out"), "--quiet"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "metadata" in line]
    assert notes == ["taco compress: note: 3 images' metadata (EXIF, XMP, IPTC or PNG text: "
                     "date, camera, GPS, author, copyright) is not kept in .taco files"]
    assert main(["compress", str(folder / "d.png"), str(folder / "c.jpg"), *CODE, "-o",
                 str(tmp_path / "o2"), "--quiet"]) == 0
    assert "metadata" not in capsys.readouterr().err


@pytest.fixture(scope="module")
def colour_taco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("colour")
    _photo(folder / "cat.png")
    assert main(["compress", str(folder / "cat.png"), *CODE, "--quiet"]) == 0
    return folder / "cat.taco"


@pytest.mark.parametrize(("suffix", "how"), [
    (".jpg", "JPEG at quality 75 with 4:2:0 chroma"), (".webp", "WebP at quality 80"),
    (".avif", "AVIF at quality 75"), (".gif", "GIF with at most 256 colours"),
    (".pdf", "JPEG at quality 75 inside a PDF")])
def test_a_lossy_output_format_is_noted(colour_taco, tmp_path, capsys, suffix, how):
    assert main(["decompress", str(colour_taco), "-o", str(tmp_path / f"x{suffix}"), "--quiet"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "lossy" in line]
    assert notes == [
        f"taco decompress: note: {suffix} is written by Pillow as {how}, a second lossy step "
        "after the codec's (.png keeps the decoded pixels)"]


@pytest.mark.parametrize("suffix", [".png", ".tif", ".ppm", ".bmp"])
def test_a_lossless_output_format_is_not_noted(colour_taco, tmp_path, capsys, suffix):
    assert main(["decompress", str(colour_taco), "-o", str(tmp_path / f"x{suffix}"), "--quiet"]) == 0
    assert "lossy" not in capsys.readouterr().err
