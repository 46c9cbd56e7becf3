"""Archiving real photos with the codec commands: what an output format keeps of a decoded
16-bit image, and the note on what is lost again (a lossy output format). Tiny model, small
photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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


@pytest.fixture(scope="module")
def colour_taco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("colour")
    _photo(folder / "cat.png")
    assert main(["compress", str(folder / "cat.png"), *CODE, "--quiet"]) == 0
    return folder / "cat.taco"


@pytest.mark.parametrize(("suffix", "how"), [
    (".jpg", "JPEG at quality 75 with 4:2:0 chroma"), (".webp", "WebP at quality 80"),
    (".avif", "AVIF at quality 75"), (".gif", "GIF with at most 256 colours")])
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
