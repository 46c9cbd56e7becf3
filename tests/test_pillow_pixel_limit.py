"""Pillow's own decompression-bomb check (an error over twice ``PIL.Image.MAX_IMAGE_PIXELS``,
~179 MP) is moved by :func:`taco.images.load_image` above its ``max_pixels`` (lifted for None),
so that taco's cap alone decides; Pillow's value is a process global, and threads reading with
different caps at once leave it as it was (:func:`taco.images.pillow_pixel_limit`)."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

import taco.images
from taco.images import MAX_PIXELS, ImageReadError, load_image, open_image, pillow_pixel_limit
from taco.memory import MAX_ENCODE_PIXELS

WIDTH, HEIGHT = 16320, 12240  # a 200 MP phone photo, over Pillow's ~179 MP


def test_the_cap_is_defined_once():
    assert MAX_PIXELS is MAX_ENCODE_PIXELS == 100_000_000


@pytest.mark.parametrize("cap", [None, 200_000_000])
def test_a_cap_above_pillows_limit_decides_alone(png_header, tmp_path, cap):
    before = Image.MAX_IMAGE_PIXELS
    path = png_header(tmp_path / "big.png", WIDTH, HEIGHT, bits=1)
    with pytest.raises(ImageReadError) as exc:
        load_image(path, max_pixels=cap)
    assert "truncated or corrupt" in exc.value.reason  # taco's own check of the pixels
    assert "decompression bomb" not in str(exc.value)
    assert exc.value.size is None and exc.value.max_pixels is None
    assert Image.MAX_IMAGE_PIXELS == before


def test_over_the_cap_the_error_carries_the_size_and_cap(png_header, tmp_path):
    path = png_header(tmp_path / "big.png", WIDTH, HEIGHT, bits=1)
    with pytest.raises(ImageReadError) as exc:
        load_image(path)
    assert exc.value.size == (WIDTH, HEIGHT) and exc.value.max_pixels == MAX_PIXELS
    assert "over the cap of 100,000,000" in str(exc.value)


def test_open_image_lets_its_cap_through(png_header, tmp_path):
    path = png_header(tmp_path / "big.png", WIDTH, HEIGHT, bits=1)
    with open_image(path, max_pixels=None) as im:
        assert im.size == (WIDTH, HEIGHT)
    with pytest.raises(ImageReadError) as exc:  # the default cap, under Pillow's limit: Pillow's
        open_image(path).close()  # check stays, and its refusal is taco's, with the size
    assert exc.value.size == (WIDTH, HEIGHT) and exc.value.max_pixels == MAX_PIXELS


def test_a_limit_pillow_lets_through_already_is_left_alone(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pillow_pixel_limit(2000):
        assert Image.MAX_IMAGE_PIXELS == 1000
    with pillow_pixel_limit(2001):
        assert Image.MAX_IMAGE_PIXELS == 2001
    assert Image.MAX_IMAGE_PIXELS == 1000


def lets_through(cap):
    limit = Image.MAX_IMAGE_PIXELS
    return limit is None or (cap is not None and cap <= 2 * limit)


def test_overlapping_threads_never_lower_a_reader_and_restore_at_the_end():
    """A lifts (None), B raises to 300 MP, A leaves while B reads: a save/set/restore each left
    B under Pillow's default, then restored A's None for good."""
    before = Image.MAX_IMAGE_PIXELS
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with pillow_pixel_limit(None):
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with pillow_pixel_limit(300_000_000):
            b_in.set()
            a_out.wait(5)
            seen["b"] = lets_through(300_000_000)

    threads = [threading.Thread(target=f) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"b": True}
    assert Image.MAX_IMAGE_PIXELS == before


def test_many_threads_with_different_caps(tmp_path):
    before = Image.MAX_IMAGE_PIXELS
    small = tmp_path / "small.png"
    Image.new("RGB", (8, 8)).save(small)
    caps = [None, 300_000_000, MAX_PIXELS, 1_000_000_000, 50]
    bad, errors = [], []

    def work(cap):
        try:
            for _ in range(50):
                with pillow_pixel_limit(cap):
                    if not lets_through(cap) and cap is not None and cap > 2 * before:
                        bad.append(cap)
                try:
                    load_image(small, max_pixels=cap)
                except ImageReadError:
                    pass  # 50: over the cap
        except BaseException as e:  # a thread's error is reported by the test thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(c,)) for c in caps * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and bad == []
    assert Image.MAX_IMAGE_PIXELS == before
    assert taco.images._limit_inside == 0


def test_a_lowered_pillow_limit_does_not_override_max_pixels(tmp_path, monkeypatch):
    """``max_pixels=None`` disables the cap, as documented, whatever Pillow's global says; the
    global is as the caller set it afterwards."""
    path = tmp_path / "small.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)  # Pillow alone refuses > 2 x 1000
    assert load_image(path, max_pixels=None).size == (100, 100)
    assert load_image(path, max_pixels=10_000).size == (100, 100)
    with pytest.raises(ImageReadError, match=r"over the cap of 9,999"):
        load_image(path, max_pixels=9_999)
    assert Image.MAX_IMAGE_PIXELS == 1_000
