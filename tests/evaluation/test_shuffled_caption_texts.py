"""Caption mode ``shuffled`` gives each image another *text*, not only another image's caption.

A review found the derangement taken over image indices: with repeated captions
(``['a', 'b', 'a']``, COCO's many near-identical ones) an image drawing its twin was coded with its
own text, counted as "shuffled".
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

from taco.errors import TacoWarning
from taco.evaluation.evaluate import CaptionMode
from taco.evaluation.stats import derangement

SHUFFLED = CaptionMode.parse("shuffled")


def shuffled(captions: list[str], seed: int) -> tuple[list[str], list[str]]:
    """The captions drawn, and the warnings' messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = SHUFFLED.captions(captions, seed=seed)
    return out, [str(w.message) for w in caught if issubclass(w.category, TacoWarning)]


def same_text(a: str, b: str) -> bool:
    return a.split() == b.split()


@pytest.mark.parametrize("captions", [
    ["a", "b", "a", "b"],
    ["a", "a", "b", "c"],
    ["a dog", "a  dog", "a cat", "a bird"],  # one text to the encoder (whitespace collapsed)
    ["x", "y", "x", "y", "z", "x"],
])
def test_every_image_gets_another_text_where_possible(captions):
    for seed in range(40):
        out, warned = shuffled(captions, seed)
        assert Counter(out) == Counter(captions)  # a permutation of the captions
        assert not any(same_text(o, c) for o, c in zip(out, captions, strict=True)), (seed, out)
        assert warned == []
        assert SHUFFLED.captions(captions, seed=seed) == out  # the same for a seed


def test_distinct_captions_shuffle_as_before():
    captions = [f"caption {i}" for i in range(25)]
    for seed in (0, 1, 7):
        assert SHUFFLED.captions(captions, seed=seed) == [captions[j] for j in derangement(25, seed)]


@pytest.mark.parametrize(("captions", "kept"), [(["a", "b", "a"], 1), (["a", "a", "a", "b"], 2), (["x", "x"], 2)])
def test_a_text_over_half_of_the_captions_is_said(captions, kept):
    # m images of one text among n: at least 2m - n of them keep it, whatever the shuffle
    for seed in range(10):
        out, warned = shuffled(captions, seed)
        assert Counter(out) == Counter(captions)
        assert sum(same_text(o, c) for o, c in zip(out, captions, strict=True)) == kept
        assert len(warned) == 1 and warned[0].startswith(f"caption mode shuffled: {kept} of the {len(captions)} images")
        assert f"is {Counter(captions).most_common(1)[0][1]} of the {len(captions)} captions" in warned[0]


def test_a_large_set_of_repeated_captions():
    rng = np.random.default_rng(0)
    captions = [f"t{k}" for k in rng.integers(0, 50, 2000)]  # many repeats, none over half
    out, warned = shuffled(captions, 3)
    assert warned == [] and not any(o == c for o, c in zip(out, captions, strict=True))


def test_captions_differing_only_in_case_are_one_text():
    """MiniLM and CLIP read 'A dog' and 'a  dog' alike: the shuffle counts them as one text (it
    gave an image of 'A dog' the caption 'a dog' as another's)."""
    texts = ["A dog", "a  dog", "a cat", "a bird"]
    for seed in range(20):
        out, warned = shuffled(texts, seed)
        assert warned == [] and set(out[:2]) <= {"a cat", "a bird"}, (seed, out)
