"""Sidecars and captions.jsonl whose names differ from the expected ones only in case
(IMG_1.TXT beside IMG_1.PNG, Captions.jsonl: one file on macOS and Windows) are found, one
listing per folder; where two case-variants are there, the exact name alone (no guess)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from taco.captions_file import CaptionLookup, folder_captions, has_captions


def test_a_sidecar_in_another_case_is_the_images(tmp_path):
    (tmp_path / "IMG_1.PNG").write_bytes(b"")
    (tmp_path / "IMG_1.TXT").write_text("a red kite")
    lookup = CaptionLookup()
    found = lookup.find(tmp_path, "IMG_1.PNG")
    assert found is not None and found.captions == ("a red kite",) and found.source == "sidecar"
    assert lookup.sidecar(tmp_path, "IMG_1.PNG") == tmp_path / "IMG_1.TXT"
    assert has_captions(tmp_path, ["IMG_1.PNG"])


def test_a_captions_file_in_another_case_is_the_folders(tmp_path):
    (tmp_path / "Captions.JSONL").write_text(json.dumps({"image": "a.png", "caption": "a cat"}) + "\n")
    result = folder_captions(tmp_path, ["a.png"])
    assert [r.captions for r in result.records] == [("a cat",)] and result.counts == {"folder": 1}
    assert has_captions(tmp_path, ["a.png"])


def test_two_case_variants_leave_the_exact_name_alone(tmp_path):
    (tmp_path / "img_1.txt").write_text("lower")
    (tmp_path / "IMG_1.TXT").write_text("upper")
    lookup = CaptionLookup()
    assert lookup.find(tmp_path, "img_1.png").captions == ("lower",)  # its exact name
    for name in ("IMG_1.PNG", "Img_1.png"):  # IMG_1.txt, Img_1.txt: which of the two? neither
        assert lookup.find(tmp_path, name) is None and not lookup.has_sidecar(tmp_path, name)


def test_the_exact_name_wins_over_a_case_variant(tmp_path):
    (tmp_path / "a.txt").write_text("exact")
    (tmp_path / "A.TXT").write_text("variant")
    assert CaptionLookup().find(tmp_path, "a.png").captions == ("exact",)


def test_one_listing_per_folder(tmp_path, monkeypatch):
    for i in range(5):
        (tmp_path / f"IMG_{i}.TXT").write_text(f"caption {i}")
    calls = []
    scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: calls.append(Path(path)) or scandir(path))
    result = folder_captions(tmp_path, [f"IMG_{i}.PNG" for i in range(5)])
    assert [r.captions for r in result.records] == [(f"caption {i}",) for i in range(5)]
    assert calls == [tmp_path]


def test_a_case_variant_sidecar_claimed_by_another_image_is_not_shared(tmp_path):
    # Linux: IMG_1.PNG and img_1.png are two images; IMG_1.TXT is IMG_1.PNG's (only its suffix's
    # case differs), not img_1.png's as well
    (tmp_path / "IMG_1.PNG").write_bytes(b"")
    (tmp_path / "img_1.png").write_bytes(b"")
    (tmp_path / "IMG_1.TXT").write_text("a cat")
    result = folder_captions(tmp_path, ["IMG_1.PNG", "img_1.png"])
    assert {r.file: r.captions for r in result.records} == {"IMG_1.PNG": ("a cat",), "img_1.png": ()}
    lookup = CaptionLookup()
    assert lookup.find(tmp_path, "img_1.png") is None and not lookup.has_sidecar(tmp_path, "img_1.png")


def test_no_guess_between_two_images_differing_in_case(tmp_path):
    (tmp_path / "IMG_1.PNG").write_bytes(b"")
    (tmp_path / "img_1.png").write_bytes(b"")
    (tmp_path / "Img_1.txt").write_text("whose?")
    lookup = CaptionLookup()
    assert lookup.find(tmp_path, "IMG_1.PNG") is None and lookup.find(tmp_path, "img_1.png") is None
