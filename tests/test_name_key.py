"""One key for names that a file system takes for one file: ``taco.fileobjects.name_key`` (NFC +
casefold: café with its é composed or decomposed is one file on macOS, Photo and photo on macOS
and Windows, ς and σ on Windows). The command line's output checks, taco plot's and taco
evaluate's output clashes and the captions lookup's sidecars all use that one definition; a
sidecar named in the other Unicode form is found as one in another case is (one file on macOS),
while the names a captions file lists stay matched exactly, as in another case."""
from __future__ import annotations

import json
import unicodedata

from taco import fileobjects
from taco.captions_file import CaptionLookup, folder_captions
from taco.cli import files, inputs
from taco.evaluation import evaluate, plot
from taco.fileobjects import name_key

NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


def test_name_key_is_one_library_function():
    assert NFC != NFD
    assert fileobjects.name_key(NFC + ".png") == fileobjects.name_key(NFD + ".PNG") == NFC + ".png"
    assert fileobjects.name_key("\u03b1\u03c2") == fileobjects.name_key("\u0391\u03a3")  # final sigma
    for module in (files, inputs, plot, evaluate):  # imported, not defined again
        assert module.name_key is fileobjects.name_key, module.__name__


def test_a_sidecar_in_the_other_unicode_form_is_the_images(tmp_path):
    (tmp_path / f"{NFC}.png").write_bytes(b"")
    (tmp_path / f"{NFD}.txt").write_text("a cup")
    lookup = CaptionLookup()
    found = lookup.find(tmp_path, f"{NFC}.png")
    assert found is not None and found.captions == ("a cup",) and found.source == "sidecar"
    assert lookup.sidecar(tmp_path, f"{NFC}.png") == tmp_path / f"{NFD}.txt"


def test_a_unicode_form_variant_sidecar_claimed_by_another_image_is_not_shared(tmp_path):
    # two images on Linux, one name on macOS: the sidecar is its own image's alone (no guess)
    (tmp_path / f"{NFC}.png").write_bytes(b"")
    (tmp_path / f"{NFD}.png").write_bytes(b"")
    (tmp_path / f"{NFD}.txt").write_text("a cup")
    result = folder_captions(tmp_path, [f"{NFC}.png", f"{NFD}.png"])
    assert {r.file: r.captions for r in result.records} == {f"{NFC}.png": (), f"{NFD}.png": ("a cup",)}


def test_listed_names_stay_matched_exactly(tmp_path):
    # as a listed IMG_1.png is not IMG_1.PNG's, a listed NFD name is not the NFC image's
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": f"{NFD}.png", "caption": "a cup"}) + "\n")
    found = CaptionLookup().find(tmp_path, f"{NFC}.png")
    assert found is None or found.captions == ()


def test_case_is_folded_one_letter_at_a_time(tmp_path):
    """Review R5a #1: name_key folded Straße to strasse and ﬁ to fi (full case folding), which
    neither Windows nor macOS does: Straße.png and strasse.png, two files there, were taken for
    one, so their outputs got whole names (Straße.png.taco) or, where case is not told apart,
    were refused as one file. Each letter now folds to one letter: ς/σ and NFC/NFD stay one."""
    key = fileobjects.name_key
    assert key("Straße.png") != key("strasse.png") and key("STRASSE.PNG") == key("strasse.png")
    assert key("\ufb01le") != key("file")  # the ligature ﬁ
    assert key("\u03b1\u03c2") == key("\u0391\u03a3") == key("\u03b1\u03c3")
    assert key(NFD + ".PNG") == NFC + ".png"
    folder = tmp_path / "z"
    folder.mkdir()
    sources = [folder / "Straße.png", folder / "strasse.png"]
    for source in sources:
        source.touch()
    planned = files.plan_outputs(sources, str(tmp_path / "out"), to_folder=True, suffix=".taco",
                                 beside_suffix=".taco", force=False)
    assert [d.name for d in planned] == ["Straße.taco", "strasse.taco"]


def test_name_key_keeps_a_character_whose_fold_and_lower_are_both_longer():
    # İ (U+0130): casefold and lower are both two characters; name_key keeps it as it is
    assert "\u0130".lower() != "\u0130" and len("\u0130".lower()) == 2
    assert name_key("\u0130.png") == "\u0130.png"
    assert name_key("A\u0130b.PNG") == "a\u0130b.png"
