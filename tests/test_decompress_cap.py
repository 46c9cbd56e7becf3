"""``taco decompress --max-pixels`` and the decoder's cap: what is accepted, and each caller's
hint for lifting the cap (the CLI's option, the Python API's argument)."""

from __future__ import annotations

import pytest

import taco
from taco.cli import main


@pytest.fixture()
def small_file(tmp_path, sample_image, tiny_elic):
    """A 64x48 file of elic-tiny at seed 0 (the architecture the file names: no --model)."""
    path = tmp_path / "small.taco"
    path.write_bytes(taco.compress(sample_image.crop((0, 0, 64, 48)), None, tiny_elic))
    return path


def test_a_negative_max_pixels_is_refused_by_argparse(small_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["decompress", str(small_file), "-o", str(tmp_path / "x.png"), "--max-pixels", "-5"])
    assert exc.value.code == 2
    assert "argument --max-pixels: must be at least 0, got -5" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_max_pixels_0_is_no_cap(small_file, tmp_path, capsys):
    assert main(["decompress", str(small_file), "-o", str(tmp_path / "x.png"), "--max-pixels", "0"]) == 0
    assert (tmp_path / "x.png").exists()


def test_the_cli_says_its_own_option(small_file, tmp_path, capsys):
    assert main(["decompress", str(small_file), "-o", str(tmp_path / "x.png"), "--max-pixels", "100"]) == 2
    err = capsys.readouterr().err
    assert "over the decoder's cap of 100" in err
    assert err.rstrip().endswith("pass --max-pixels 0 to decode it anyway"), err
    assert "max_pixels=None" not in err


def test_the_api_says_its_own_argument(small_file):
    with pytest.raises(taco.TacoFormatError) as exc:
        taco.decompress(small_file.read_bytes(), max_pixels=100)
    assert str(exc.value).endswith("pass max_pixels=None to decode it anyway")
    assert "--max-pixels" not in str(exc.value)
    with pytest.raises(ValueError, match="max_pixels must be positive, got -5"):
        taco.decompress(small_file.read_bytes(), max_pixels=-5)


# With no file left to decode (each refused by its header check, e.g. over --max-pixels), taco
# decompress says so and ends without loading a model: no torch is imported for an error line (it
# took 4.7 s and 647 MiB to print one).

HEAVY = {"torch", "compressai"}


def test_a_file_over_the_cap_is_refused_without_torch(probe, tmp_path, small_file):
    r = probe(tmp_path, "decompress", str(small_file), "-o", str(tmp_path / "x.png"), "--max-pixels", "100")
    assert r["code"] == 2
    assert "over the decoder's cap of 100" in r["stderr"]
    assert not (tmp_path / "x.png").exists()
    assert not HEAVY & set(r["modules"])


def test_a_batch_all_refused_says_so_without_torch(probe, tmp_path, small_file):
    other = tmp_path / "other.taco"
    other.write_bytes(small_file.read_bytes())
    r = probe(tmp_path, "decompress", str(small_file), str(other), "-m", "elic-tiny",
              "-o", str(tmp_path / "out"), "--max-pixels", "100")
    assert r["code"] == 2
    assert "decompressed 0 files in 0.00 s (2 failed)" in r["stdout"]
    assert "2 of 2 files failed" in r["stderr"]
    assert not HEAVY & set(r["modules"])
