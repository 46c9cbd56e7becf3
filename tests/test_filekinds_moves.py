"""taco.text.weights named a .taco file or an image given as a checkpoint with
taco.bitstream.container's MAGIC and image_kind, so the text layer imported the bitstream package
for two file signatures. They live in taco.filekinds (what a file given as a checkpoint is, standard
library only); the container takes them from there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import taco.filekinds as filekinds
from taco.bitstream import container

WEIGHTS = Path(__file__).resolve().parents[1] / "taco" / "text" / "weights.py"


def test_the_container_uses_the_signatures_of_filekinds() -> None:
    assert container.MAGIC is filekinds.TACO_MAGIC == b"TACO"
    assert container.image_kind is filekinds.image_kind
    assert filekinds.image_kind(b"\x89PNG\r\n\x1a\n" + bytes(8)) == "a PNG"
    assert filekinds.image_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "a WebP"
    assert filekinds.image_kind(b"TACO\x03") is None


def test_text_weights_does_not_import_the_bitstream_package() -> None:
    imported = set()
    for node in ast.walk(ast.parse(WEIGHTS.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not [m for m in imported if "bitstream" in m], imported


def test_lpips_reads_its_heads_with_load_torch_file(tmp_path, monkeypatch) -> None:
    """lpips' alex.pth was read with a bare torch.load: a broken one (here a Git LFS pointer) was
    an UnpicklingError traceback; read with taco.text.weights.load_torch_file, it is a
    MetricUnavailable saying what the file is."""
    lpips = pytest.importorskip("lpips")
    from taco import metrics

    heads = tmp_path / "weights" / "v0.1" / "alex.pth"
    heads.parent.mkdir(parents=True)
    heads.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 6009\n")
    monkeypatch.setattr(lpips, "__file__", str(tmp_path / "__init__.py"))
    with pytest.raises(metrics.MetricUnavailable, match="alex.pth: a text file, not a checkpoint: "
                                                        "a Git LFS pointer"):
        metrics.lpips_from_trunk({})


def _ftyp(brand: bytes) -> bytes:
    """A HEIF/AVIF file's start: a 24-byte ftyp box of major ``brand`` (compatible with mif1 and itself)."""
    return (24).to_bytes(4, "big") + b"ftyp" + brand + bytes(4) + b"mif1" + brand


@pytest.mark.parametrize("brand", sorted(filekinds.HEIF_BRANDS))
def test_every_heif_brand_is_a_heif(brand: bytes) -> None:
    assert filekinds.image_kind(_ftyp(brand)[:16]) == "a HEIF"
    assert filekinds.image_kind(b"\x00\x00\x00\x18ftyx" + brand + bytes(4)) is None  # no ftyp box


@pytest.mark.parametrize("brand", [b"avif", b"avis"])
def test_avif_brands_are_an_avif(brand: bytes) -> None:
    assert brand not in filekinds.HEIF_BRANDS
    assert filekinds.image_kind(_ftyp(brand)[:16]) == "an AVIF"


def test_taco_images_tells_a_heif_by_the_same_brands() -> None:
    """taco.images kept a list of its own (heim, heis, hevc, hevx too), and image_kind knew four."""
    import taco.images

    assert taco.images.HEIF_BRANDS is filekinds.HEIF_BRANDS
    assert [name for name in vars(taco.images) if "HEIF_BRANDS" in name] == ["HEIF_BRANDS"]
    assert {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"} <= filekinds.HEIF_BRANDS


@pytest.mark.parametrize("brand", [b"hevc", b"heim"])
def test_taco_info_on_a_heif_of_any_brand_says_what_it_is(tmp_path, capsys, brand: bytes) -> None:
    """A HEIF of brand hevc was 'not a .taco file (wrong magic bytes)'."""
    from taco.cli import main

    path = tmp_path / "p.taco"
    path.write_bytes(_ftyp(brand) + bytes(200))
    assert main(["info", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco info: error: {path}: not a .taco file: it is a HEIF image (compress it to make one)")
