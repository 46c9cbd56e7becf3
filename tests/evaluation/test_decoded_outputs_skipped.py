"""A folder whose only images are ``taco decompress``'s outputs beside their sources
(``*.decoded.png`` next to ``*.taco``): ``taco caption`` and ``taco evaluate`` say they skipped
them, naming them, when they find no images; an empty folder says no more than before."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taco.evaluation.caption_plan import NoImagesError, plan_captions
from taco.evaluation.datasets import DatasetError, open_dataset
from taco.suffixes import decoded_skipped


@pytest.fixture
def decoded_only(tmp_path: Path) -> Path:
    """A folder where taco decompress ran and the photos were taken away: a.taco, b.taco and
    their a.decoded.png, b.decoded.png."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.taco").write_bytes(b"x")
        Image.new("RGB", (8, 8)).save(folder / f"{name}.decoded.png")
    return folder


SKIPPED = ("; skipped 2 decoded outputs (*.decoded.png) of taco decompress beside their sources "
           "(a.decoded.png, b.decoded.png)")


def test_caption_names_the_decoded_outputs_it_skipped(decoded_only):
    with pytest.raises(NoImagesError) as exc:
        plan_captions(decoded_only)
    assert str(exc.value).startswith(f"no images in {decoded_only} (looked for ")
    assert str(exc.value).endswith(SKIPPED), exc.value


def test_evaluate_names_the_decoded_outputs_it_skipped(decoded_only):
    with pytest.raises(DatasetError) as exc:
        open_dataset(str(decoded_only))
    assert str(exc.value) == f"{decoded_only}: no images found{SKIPPED}"


def test_an_empty_folder_says_no_more_than_before(tmp_path):
    assert decoded_skipped(set()) == ""
    assert decoded_skipped({"x.decoded.png"}) == (
        "; skipped 1 decoded output (*.decoded.png) of taco decompress beside its source (x.decoded.png)")
    with pytest.raises(DatasetError) as exc:
        open_dataset(str(tmp_path))
    assert str(exc.value) == f"{tmp_path}: no images found"


def test_the_skipped_outputs_are_named_in_order_with_the_commands_that_wrote_them() -> None:
    said = decoded_skipped(["b.decoded.png", "a.decoded.png"])
    assert said.endswith("of taco decompress beside their sources (a.decoded.png, b.decoded.png)")
    assert decoded_skipped(["x.side-by-side.png"]) == (
        "; skipped 1 output (*.side-by-side.png) of taco demo beside its source (x.side-by-side.png)")
    assert decoded_skipped(["x.side-by-side.png", "x.decoded.png"]) == (
        "; skipped 2 outputs (*.decoded.png, *.side-by-side.png) of taco decompress and taco demo beside "
        "their sources (x.decoded.png, x.side-by-side.png)")
