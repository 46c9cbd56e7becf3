"""Output naming and refusals of the codec commands (compress, decompress): a decompress batch into
one of its sources' folders never writes over the original photo, an output that is an input is
refused, the exists refusal offers --skip-existing only when there are other outputs to write, a
grey .gif gets no lossy note (GIF holds 256 greys), and WebP's 16,383-pixel side is allowed. Tiny
model, small images."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taco.cli import main
from taco.cli.common import CLIError
from taco.cli.files import check_image_format

CODE = ["--caption", "", "-m", "elic-tiny", "--quiet"]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_decompress_into_one_sources_folder_keeps_the_original_photo(tmp_path):
    """``decompress photos/a.taco other/b.taco -o photos --force``: photos/ holds the original
    a.png; every output of the batch is named NAME.decoded.png (as beside its source), so the
    original is not the output and --force does not replace it."""
    photos, other = tmp_path / "photos", tmp_path / "other"
    photos.mkdir()
    other.mkdir()
    Image.new("RGB", (32, 24), "blue").save(photos / "a.png")
    Image.new("RGB", (32, 24), "red").save(other / "b.png")
    for png in (photos / "a.png", other / "b.png"):
        assert main(["compress", str(png), *CODE]) == 0
    original = (photos / "a.png").read_bytes()
    assert main(["decompress", str(photos / "a.taco"), str(other / "b.taco"), "-o", str(photos),
                 "--force", "--quiet"]) == 0
    assert (photos / "a.png").read_bytes() == original
    assert _names(photos) == ["a.decoded.png", "a.png", "a.taco", "b.decoded.png"]


def test_an_output_that_is_its_own_input_is_refused(tmp_path, capsys):
    """A .taco file under an image name decoded to itself (``-o coded.png --force``) is refused,
    not overwritten: it may be the only copy."""
    Image.new("RGB", (32, 24), "blue").save(tmp_path / "blue.png")
    assert main(["compress", str(tmp_path / "blue.png"), *CODE, "-o", str(tmp_path / "coded.taco")]) == 0
    coded = tmp_path / "coded.png"
    (tmp_path / "coded.taco").rename(coded)
    before = coded.read_bytes()
    capsys.readouterr()
    assert main(["decompress", str(coded), "-o", str(coded), "--force"]) == 2
    assert f"{coded} is an input; it cannot be its own output" in capsys.readouterr().err
    assert coded.read_bytes() == before


def test_the_exists_refusal_of_the_only_output_offers_no_skip_existing(tmp_path, capsys):
    """With one output, and it exists, there are no others: --skip-existing is not suggested."""
    Image.new("RGB", (32, 24), "blue").save(tmp_path / "blue.png")
    (tmp_path / "blue.taco").write_bytes(b"old")
    assert main(["compress", str(tmp_path / "blue.png"), *CODE]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("blue.taco exists; pass --force to overwrite it"), err
    assert "--skip-existing" not in err
    assert (tmp_path / "blue.taco").read_bytes() == b"old"


def test_a_grey_image_to_gif_gets_no_lossy_note(tmp_path, capsys):
    """GIF holds 256 greys: a grey image decoded to .gif is kept as decoded, so no note of a
    second lossy step (that is for a colour image's 256-colour palette)."""
    Image.linear_gradient("L").resize((32, 24)).save(tmp_path / "grey.png")
    assert main(["compress", str(tmp_path / "grey.png"), *CODE]) == 0
    capsys.readouterr()
    assert main(["decompress", str(tmp_path / "grey.taco"), "-o", str(tmp_path / "grey.gif")]) == 0
    err = capsys.readouterr().err
    assert "lossy" not in err and "GIF" not in err, err
    assert (tmp_path / "grey.gif").is_file()


def test_webp_takes_16383_pixels_a_side_and_refuses_one_more():
    check_image_format(Path("out.webp"), "RGB", (16383, 64))
    check_image_format(Path("out.webp"), "RGB", (64, 16383))
    with pytest.raises(CLIError, match=r"\.webp holds at most 16383 pixels a side"):
        check_image_format(Path("out.webp"), "RGB", (16384, 64))
