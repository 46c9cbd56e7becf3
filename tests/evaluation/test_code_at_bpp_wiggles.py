"""--match-bpp picked WebP q13 (0.3854 bpp) for a target of 0.3822 where q14 gave 0.3815: file
sizes are not monotonic in quality, and the bisection kept the better of its two bracketing
qualities only. The bracket's neighbours (two either side) are tried too now."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from taco.errors import TacoValueError
from taco.evaluation.classic import ClassicCodec, code_at_bpp

#: bytes of the file at each quality of a codec whose sizes wiggle: q14 is smaller than q13
SIZES = {q: 10 * q + 10 for q in range(21)} | {14: 138}


def test_the_closest_file_beside_the_bracket_is_found():
    image = Image.new("RGB", (8, 8))  # 64 px: bpp = bytes / 8
    encodes: list[int] = []

    def encode(img: Image.Image, q: int) -> tuple[bytes, Image.Image]:
        encodes.append(q)
        return bytes(SIZES[q]), img

    codec = ClassicCodec("fake", "Fake", (5, 10), (0, 20), +1, encode)
    q, data, _ = code_at_bpp(codec, image, 137.5 / 8)  # bisection brackets q12 (130) and q13 (140)
    assert (q, len(data)) == (14, 138)
    assert len(set(encodes)) <= 5 + 6 and len(encodes) == len(set(encodes))  # each quality coded once
    assert code_at_bpp(codec, image, 1000.0)[0] == 20 and code_at_bpp(codec, image, 0.01)[0] == 0


def _codec(sizes: dict[int, int]) -> ClassicCodec:
    return ClassicCodec("fake", "Fake", (5,), (min(sizes), max(sizes)), +1, lambda im, q: (b"x" * sizes[q], im))


def test_the_matched_rate_search_looks_two_qualities_past_its_bracket():
    """A codec whose size wobbles: the closest file (q10, 81 B for an 80 B target) lies
    two qualities beyond the bisection's bracket."""
    sizes = {1: 10, 2: 20, 3: 30, 4: 40, 5: 50, 6: 60, 7: 70, 8: 90, 9: 95, 10: 81, 11: 110, 12: 120}
    q, data, _ = code_at_bpp(_codec(sizes), Image.new("RGB", (8, 8)), 80 / 8)
    assert (q, len(data)) == (10, 81)


def test_of_two_equally_close_qualities_the_lower_is_taken():
    """Q7 (70 B) and q8 (80 B) are as close to 75 B: the tie goes to q7."""
    q, data, _ = code_at_bpp(_codec({q: 10 * q for q in range(1, 11)}), Image.new("RGB", (8, 8)), 75 / 8)
    assert (q, len(data)) == (7, 70)


def test_a_bad_image_or_target_is_refused_before_anything_is_coded(tmp_path):
    """code_at_bpp(codec, 'path.png', 1) raised AttributeError from deep in the search, and a
    negative or NaN target_bpp was taken (the lowest or some quality, silently)."""
    coded: list[int] = []

    def encode(img: Image.Image, q: int) -> tuple[bytes, Image.Image]:
        coded.append(q)
        return b"x" * q, img

    codec = ClassicCodec("fake", "Fake", (5,), (1, 10), +1, encode)
    image = Image.new("RGB", (8, 8))
    for given, says in ((str(tmp_path / "p.png"), "str (for a file, pass taco.images.load_image(path))"),
                        (tmp_path / "p.png", f"{type(tmp_path).__name__} (for a file, pass taco.images.load_image(path))"),
                        (np.zeros((8, 8, 3), np.uint8), "ndarray (for an (H, W, 3) uint8 array, pass Image.fromarray(a))"),
                        (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^code_at_bpp takes a PIL image, not {re.escape(says)}$"):
            code_at_bpp(codec, given, 1)
    for target in (-1, 0, 0.0, float("nan"), float("inf"), np.float32("nan")):
        with pytest.raises(TacoValueError, match=r"^code_at_bpp: target_bpp must be a finite number above 0 "
                                                 r"\(bits per pixel\), got "):
            code_at_bpp(codec, image, target)
    for target, kind in (("1", "str"), (True, "bool"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^code_at_bpp: target_bpp must be a number \(bits per pixel\), "
                                            rf"not {kind}$"):
            code_at_bpp(codec, image, target)
    assert coded == []
    assert code_at_bpp(codec, image, np.float32(0.5))[0] == code_at_bpp(codec, image, 0.5)[0] == 4  # NumPy's taken
