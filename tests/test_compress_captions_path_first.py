"""``taco compress IMAGE --captions FILE``: a line naming the path as given wins over a line
naming the image's bare name (review B).

A captions file with lines for ``cat.png`` (a dog caption), ``a/cat.png`` and ``b/cat.png`` gave
``taco compress a/cat.png`` the bare name's dog caption, silently: the bare name was tried first.
Now the path as given is tried first, then the bare name; a folder's lookup (evaluate, train),
which has no path as given, is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from taco.captions_file import CaptionLookup, folder_captions
from taco.cli.inputs import CaptionSource


def _named(tmp_path: Path, lines: dict[str, str]) -> Path:
    path = tmp_path / "caps.jsonl"
    path.write_text("".join(json.dumps({"image": n, "captions": [c]}) + "\n"
                            for n, c in lines.items()), encoding="utf-8")
    return path


def test_the_path_as_given_wins_over_the_bare_name(tmp_path):
    named = _named(tmp_path, {"cat.png": "a dog", "a/cat.png": "cat a", "b/cat.png": "cat b"})
    lookup = CaptionLookup(named)
    assert lookup.find(Path("a"), "cat.png", "a/cat.png") == (("cat a",), "named")
    assert lookup.find(Path("b"), "cat.png", "./b/cat.png") == (("cat b",), "named")
    # no line for the path as given: the bare name's
    assert lookup.find(Path("c"), "cat.png", "c/cat.png") == (("a dog",), "named")
    source = CaptionSource(None, str(named))
    assert source(Path("a/cat.png")) == "cat a"
    assert source(Path("c/cat.png")) == "a dog"


def test_a_folder_lookup_still_goes_by_the_name_in_the_folder(tmp_path):
    named = _named(tmp_path, {"cat.png": "by name", "sub/cat.png": "in sub"})
    found = folder_captions(tmp_path, ["cat.png"], named)
    by_file = {r.file: r.captions for r in found.records}
    assert by_file["cat.png"] == ("by name",)
    assert by_file["sub/cat.png"] == ("in sub",)
