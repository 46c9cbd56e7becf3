"""The note on images coded without a caption names a captions.jsonl that is beside them
(review B).

A folder whose captions.jsonl lists ``cof.png`` and a decomposed (NFD) ``café.png`` beside the
files ``Cof.PNG`` and a composed (NFC) ``café.png`` got the note "... or a captions.jsonl beside
them", though one is there. It now says that file has no caption for them, and names the names
it lists that differ from theirs only in case or Unicode form."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from taco import captions_file
from taco.cli.inputs import CaptionSource, uncaptioned_note


def _captions(folder: Path, *names: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "captions.jsonl").write_text(
        "".join(json.dumps({"image": n, "captions": ["a caption"]}) + "\n" for n in names),
        encoding="utf-8")


def test_a_captions_file_beside_them_is_named_with_its_near_misses(tmp_path):
    folder = tmp_path / "f2"
    nfc, nfd = (unicodedata.normalize(form, "café.png") for form in ("NFC", "NFD"))
    _captions(folder, "cof.png", nfd, "other.png")
    images = [folder / "Cof.PNG", folder / nfc]
    note = uncaptioned_note(images, [None, None])
    assert note is not None
    assert "or a captions.jsonl beside them" not in note
    assert f"or lines for them in {folder / 'captions.jsonl'}, which has no caption for them" in note
    assert f"it lists cof.png, {nfd}, which differ from their names only in case or Unicode" in note
    assert "other.png" not in note
    one = uncaptioned_note(images[:1], [None])
    assert one is not None and one.endswith(
        f"or a line for it in {folder / 'captions.jsonl'}, which has no caption for it; it lists "
        "cof.png, which differs from its name only in case or Unicode form (NFC/NFD): a name "
        "must match exactly)")


def test_without_near_misses_or_a_file_the_note_says_so_plainly(tmp_path):
    folder = tmp_path / "f"
    _captions(folder, "x.png")
    note = uncaptioned_note([folder / "a.png"], [None])
    assert note is not None and note.endswith(
        f"or a line for it in {folder / 'captions.jsonl'}, which has no caption for it)")
    bare = tmp_path / "bare"
    bare.mkdir()
    note = uncaptioned_note([bare / "a.png", bare / "b.png"], [None, None])
    assert note is not None and note.endswith("or a captions.jsonl beside them)")


def test_a_captions_file_in_another_case_is_named_as_it_is(tmp_path):
    # review U3: with CAPTIONS.JSONL beside Cat.png the note said "a line for it in captions.jsonl"
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "CAPTIONS.JSONL").write_text(
        json.dumps({"image": "cat.png", "captions": ["a cat"]}) + "\n", encoding="utf-8")
    note = uncaptioned_note([folder / "Cat.png"], [None])
    assert note is not None
    assert f"or a line for it in {folder / 'CAPTIONS.JSONL'}, which has no caption" in note
    assert "captions.jsonl," not in note


def test_the_lookup_that_found_the_captions_is_asked_not_the_files_again(tmp_path, monkeypatch):
    # review U3: the note read and parsed every captions.jsonl again with a new lookup
    folder = tmp_path / "f"
    _captions(folder, "x.png")
    source = CaptionSource(None, None)
    assert source(folder / "a.png") is None
    reads: list[Path] = []
    real = captions_file.read_captions_file
    monkeypatch.setattr(captions_file, "read_captions_file", lambda p: reads.append(p) or real(p))
    note = uncaptioned_note([folder / "a.png"], [None], lookup=source.lookup)
    assert note is not None and note.endswith(
        f"or a line for it in {folder / 'captions.jsonl'}, which has no caption for it)")
    assert reads == []
