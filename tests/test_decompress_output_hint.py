"""taco decompress -o NAME (one file in, no suffix): the refusal offers the folder form, NAME/,
as compress's does, and NAME/ is indeed a new folder that gets the image."""
from __future__ import annotations

from PIL import Image

from taco.cli import main


def test_a_name_without_a_suffix_points_to_the_folder_form(tmp_path, capsys):
    Image.new("RGB", (64, 64), (90, 140, 200)).save(tmp_path / "small.png")
    assert main(["compress", str(tmp_path / "small.png"), "--caption", "", "-m", "elic-tiny",
                 "--quiet"]) == 0
    taco = tmp_path / "small.taco"
    capsys.readouterr()
    assert main(["decompress", str(taco), "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("cannot write an image to a name without a suffix; use .png (lossless), "
                        "or .tif, .webp, .bmp, ..., or x/ for a folder")
    assert not (tmp_path / "x").exists()
    assert main(["decompress", str(taco), "-o", str(tmp_path / "x") + "/", "--quiet"]) == 0
    assert Image.open(tmp_path / "x" / "small.png").size == (64, 64)


def test_the_help_says_a_trailing_slash_makes_a_folder(capsys):
    try:
        main(["decompress", "--help"])
    except SystemExit:
        pass
    help_text = " ".join(capsys.readouterr().out.split())
    assert "a new one ending with / where one file is named" in help_text
