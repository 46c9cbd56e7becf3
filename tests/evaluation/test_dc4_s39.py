"""F-DC4 (s39): ``taco.evaluation.caption.text_similarity([], [])`` returned no ``tokenizer``
key, though its docstring and docs/evaluation.md say ``tokenizer`` says which tokenizer ran; with
no captions nothing ran, and it now says so (None), with the keys a scored call has."""

from __future__ import annotations

from taco.evaluation.caption import text_similarity


def test_no_captions_say_no_tokenizer_ran():
    empty = text_similarity([], [])
    assert empty["tokenizer"] is None
    assert empty == {"images": 0, "bleu4": None, "cider_d": None, "spice": None, "tokenizer": None}


def test_no_captions_give_the_keys_a_scored_call_gives():
    scored = text_similarity(["a cat on a mat"], ["a cat on the mat"])
    assert set(text_similarity([], [])) == set(scored) - {"spice_skipped"}
