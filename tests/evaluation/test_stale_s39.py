"""F-STALE (s39): ``taco evaluate`` does not resume rows of a photo replaced by another of the same
byte size (a BMP of the same dimensions): the dataset's digests hold each file's modification
time too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import open_dataset
from taco.evaluation.runner import ResultsFileError


def _replace_same_size(photo: Path) -> None:
    """Another picture of the same dimensions (so the same BMP byte size), written later."""
    size = photo.stat().st_size
    before = photo.stat().st_mtime_ns
    Image.effect_noise((48, 32), 60).convert("RGB").save(photo)
    assert photo.stat().st_size == size
    os.utime(photo, ns=(before + 2_000_000_000, before + 2_000_000_000))  # a coarse clock's tick too


def test_a_photo_replaced_by_one_of_the_same_byte_size_changes_both_digests(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    before = open_dataset(str(root))
    content, image_content = before.content, before.image_content  # taken when asked for
    _replace_same_size(root / "a.bmp")
    after = open_dataset(str(root))
    assert after.content != content
    assert after.image_content != image_content


def test_the_digests_are_the_same_while_nothing_changed(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    first, again = open_dataset(str(root)), open_dataset(str(root))
    assert (first.content, first.image_content) == (again.content, again.image_content)


def test_a_resume_after_a_same_size_replacement_is_refused(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    jpeg = get_codec("jpeg")
    out = tmp_path / "out"
    evaluate_codec(jpeg, open_dataset(str(root)), out, qualities=[50], progress=False)
    _replace_same_size(root / "a.bmp")
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        evaluate_codec(jpeg, open_dataset(str(root)), out, qualities=[50], progress=False)


def _result(codec: str, content: str, tmp_path: Path) -> Path:
    """A classic result on ``val`` whose dataset has the image digest ``content``."""
    import json

    points = [{"setting": f"q{q}", "images": 2, "bpp": b, "psnr": p} for q, b, p in
              [(20, 0.4, 28.0), (50, 0.8, 31.0), (80, 1.5, 34.0)]]
    path = tmp_path / "eval" / f"{codec}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "classic", "label": codec.upper(), "codec": codec,
        "dataset": {"name": "val", "kind": "folder", "images": 2, "crop": "none", "image_content": content},
        "run": {"codec": {"name": codec}}, "points": points}), encoding="utf-8")
    return path.parent


def test_taco_plot_refuses_runs_before_and_after_a_same_size_replacement(tmp_path, bmp_folder):
    from taco.evaluation.plot import collect_curves, load_results

    root = bmp_folder(tmp_path / "bmp")
    before = open_dataset(str(root)).image_content
    _replace_same_size(root / "a.bmp")
    _result("jpeg", before, tmp_path)
    folder = _result("webp", open_dataset(str(root)).image_content, tmp_path)
    with pytest.raises(ValueError, match="results on val were run on different images"):
        collect_curves(load_results(folder))


def test_taco_plot_compares_an_older_digest_only_with_its_like(tmp_path, bmp_folder):
    """A result written before the digest held the times (16 hex digits, names and sizes) is not
    refused beside a newer one of the same folder; two older ones that differ still are."""
    from taco.evaluation.datasets import IMAGE_CONTENT_MARK
    from taco.evaluation.plot import collect_curves, load_results

    root = bmp_folder(tmp_path / "bmp")
    new = open_dataset(str(root)).image_content
    assert new.startswith(IMAGE_CONTENT_MARK) and len(new) == len(IMAGE_CONTENT_MARK) + 16
    _result("jpeg", "0123456789abcdef", tmp_path)
    folder = _result("webp", new, tmp_path)
    assert sorted(c.label for c in collect_curves(load_results(folder))["val"]) == ["JPEG", "WEBP"]
    _result("avif", "fedcba9876543210", tmp_path)
    with pytest.raises(ValueError, match="different images") as exc:
        collect_curves(load_results(folder))
    assert "0123456789abcdef: " in str(exc.value) and "fedcba9876543210: " in str(exc.value)
    assert new not in str(exc.value)
