"""taco in a long-running service: a bounded caption cache, a cap on caption length, a forked
worker process that still compresses, and warnings raised where the caller can see them."""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
import time
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import taco
from taco.models import create_model
from taco.text import (
    MAX_CAPTION_CHARS,
    CaptionTooLongError,
    CaptionTruncatedWarning,
    get_text_encoder,
)
from taco.text.base import TextEncoder, TextTokens, normalize_caption
from taco.text.worker import encode_captions, encode_captions_async

LONG = " ".join(f"word{i}" for i in range(60))  # more than 38 tokens with every encoder


class _Counting(TextEncoder):
    """Tokens that name the caption's length; records each batch it is asked to encode."""

    name, dim, max_tokens = "counting", 2, 3

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def _encode(self, captions: list[str]) -> TextTokens:
        self.calls.append(list(captions))
        tokens = torch.stack([torch.full((3, 2), float(len(c))) for c in captions])
        return TextTokens(tokens, torch.ones(len(captions), 3, dtype=torch.bool))


@pytest.fixture(scope="module")
def model():
    return create_model("taco-tiny", seed=0)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- the caption cache


def test_the_caption_cache_is_bounded_and_least_recently_used():
    """A service coding photos with distinct captions grew the cache without limit (~115 KB a
    caption with MiniLM: +346 MiB over 3,000 captions)."""
    encoder = _Counting()
    encoder.cache_entries = 3
    for c in ("a", "bb", "ccc"):
        encoder.encode([c])
    encoder.encode(["a"])  # used again: now the most recent
    encoder.encode(["dddd"])  # evicts "bb", the least recently used
    assert list(encoder._cache) == ["ccc", "a", "dddd"]
    encoder.calls.clear()
    encoder.encode(["a"])
    encoder.encode(["bb"])
    assert encoder.calls == [["bb"]]
    assert len(encoder._cache) == 3


def test_the_default_bound_holds_for_many_distinct_captions():
    encoder = _Counting()
    assert 256 <= TextEncoder.cache_entries <= 4096
    for i in range(TextEncoder.cache_entries + 50):
        encoder.encode([f"caption {i}"])
    assert len(encoder._cache) == TextEncoder.cache_entries


def test_a_batch_larger_than_the_cache_is_encoded_whole():
    """The tokens come from this call's encode, not from entries it evicted itself."""
    encoder = _Counting()
    encoder.cache_entries = 2
    captions = ["a", "bb", "ccc", "dddd", "a"]
    out = encoder.encode(captions)
    assert out.tokens[:, 0, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 1.0]
    assert len(encoder._cache) == 2
    encoder.cache_entries = 0  # no cache at all
    encoder.clear_cache()
    assert encoder.encode(["a", "bb"]).tokens[:, 0, 0].tolist() == [1.0, 2.0]
    assert encoder.encode(["a"]).tokens[0, 0, 0].item() == 1.0
    assert len(encoder._cache) == 0 and encoder.calls[-2:] == [["a", "bb"], ["a"]]


def test_cached_batch_tokens_do_not_keep_their_whole_batch_alive():
    encoder = _Counting()
    encoder.encode(["a", "bb", "ccc"])
    tokens = encoder._cache["bb"][0]
    assert tokens.untyped_storage().nbytes() == tokens.numel() * tokens.element_size()


class _SlowToReorder(OrderedDict):
    """An LRU whose reordering takes long enough for another thread to evict the entry first:
    without the cache's lock, encode then fails with a KeyError (seen: 2 of 4 threads)."""

    def move_to_end(self, key, last=True):  # type: ignore[no-untyped-def]
        time.sleep(0.0002)
        super().move_to_end(key, last)


def test_the_cache_is_safe_to_share_between_threads():
    encoder = _Counting()
    encoder.cache_entries = 4
    encoder._cache = _SlowToReorder()
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(200):
                c = "x" * (1 + (i * 7 + k) % 10)
                assert encoder.encode([c]).tokens[0, 0, 0].item() == len(c)
        except BaseException as e:  # pragma: no cover - what the test looks for
            failures.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len(encoder._cache) <= 4


# --------------------------------------------------------------------------- overlong captions


def test_a_caption_over_the_cap_is_refused_at_once():
    """A 1 MB caption took 1.5 s and +122 MiB to tokenize, on the one thread every caption
    goes through, for a model that reads its first 38 tokens."""
    assert 4096 <= MAX_CAPTION_CHARS <= 100_000
    huge = "A cat.  " + "a" * MAX_CAPTION_CHARS
    with pytest.raises(CaptionTooLongError, match=r"^caption 'A cat. aaa.*\.\.\.' has 10,008 "
                                                  r"characters.*first tokens \(its max_tokens: 38"):
        normalize_caption(huge)
    assert issubclass(CaptionTooLongError, ValueError)
    encoder = _Counting()
    with pytest.raises(CaptionTooLongError):
        encoder.encode([huge])
    with pytest.raises(CaptionTooLongError):  # on the caller's thread, not the worker's
        encode_captions_async(encoder, ["fine", huge])
    assert encoder.calls == [] and len(encoder._cache) == 0
    normalize_caption("a" * MAX_CAPTION_CHARS)  # at the cap: accepted


def test_a_caption_over_the_cap_is_refused_by_compress(model, image):
    with pytest.raises(CaptionTooLongError, match="characters"):
        taco.compress(image, "a cat " * 5000, model)


@pytest.mark.parametrize("name", ["clip-tiny", "minilm"])
def test_a_long_caption_under_the_cap_is_still_truncated_with_a_warning(name):
    encoder = get_text_encoder(name)
    caption = ("a tabby cat on a sofa " * 2000)[:MAX_CAPTION_CHARS]
    with pytest.warns(CaptionTruncatedWarning, match="truncated to 38"):
        out = encoder.encode([caption])
    assert bool(out.mask.all())


# --------------------------------------------------------------------------- fork


def _compress_in_child(image, caption, model, timeout: float) -> tuple[str, object]:
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()

    def child() -> None:
        try:
            results.put(("ok", taco.compress(image, caption, model)))
        except BaseException as e:
            results.put(("error", repr(e)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12: fork() of a threaded process
        process = ctx.Process(target=child, daemon=True)
        process.start()
    try:
        return results.get(timeout=timeout)
    except queue.Empty:
        return "hung", None
    finally:
        if process.is_alive():
            process.kill()
        process.join()


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="needs fork")
def test_a_forked_child_compresses_after_the_parent_did(model, image):
    """gunicorn --preload, multiprocessing 'fork': the child inherited the parent's text worker
    (a ThreadPoolExecutor whose thread exists only in the parent), its caption future never ran
    and compress waited forever."""
    torch.set_num_threads(1)  # torch's own thread pool is not fork-safe (conftest puts it back)
    expected = taco.compress(image, "a cat", model)  # starts the parent's worker thread
    status, value = _compress_in_child(image, "a dog", model, timeout=60)
    assert status == "ok", value
    assert value == taco.compress(image, "a dog", model)
    assert _compress_in_child(image, "a cat", model, timeout=60) == ("ok", expected)


# --------------------------------------------------------------------------- warnings


def _truncated_in(record: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in record if issubclass(w.category, CaptionTruncatedWarning)]


def test_truncation_warns_where_taco_compress_was_called(model, image):
    """It was raised on the worker thread and blamed taco/text/worker.py (whose
    __warningregistry__ took an entry per distinct message)."""
    get_text_encoder("clip-tiny").clear_cache()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        taco.compress(image, LONG + " first", model)  # the CPU default: encoded on the worker
        line = sys._getframe().f_lineno - 1
    caught = _truncated_in(record)
    assert len(caught) == 1 and "truncated to 38" in str(caught[0].message)
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


@pytest.mark.parametrize("overlap", [True, False])
def test_truncation_warns_where_the_analysis_was_called(model, overlap):
    from taco.codec import analysis_with_text_overlap

    get_text_encoder("clip-tiny").clear_cache()
    x = torch.rand(1, 3, 64, 64)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        analysis_with_text_overlap(model, x, [f"{LONG} {overlap}"], overlap=overlap)
        line = sys._getframe().f_lineno - 1
    assert [(w.filename, w.lineno) for w in _truncated_in(record)] == [(__file__, line)]


def test_truncation_warns_on_the_calling_thread_for_both_paths():
    encoder = get_text_encoder("clip-tiny")
    encoder.clear_cache()
    seen: list[str] = []
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        seen.append(threading.current_thread().name)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        try:
            future = encode_captions_async(encoder, [LONG + " async"])
            future.result()
            future.result()  # once, however often the result is read
            encode_captions(encoder, [LONG + " sync", LONG + " sync"])
            encode_captions(encoder, [LONG + " sync"])  # cached: still cut, still said
        finally:
            warnings.showwarning = original
    assert seen == [threading.current_thread().name] * 3


def test_the_async_path_encodes_off_the_calling_thread():
    encoder = _Counting()
    threads: list[str] = []
    real = encoder._encode

    def spy(captions: list[str]) -> TextTokens:
        threads.append(threading.current_thread().name)
        return real(captions)

    encoder._encode = spy  # type: ignore[method-assign]
    out = encode_captions_async(encoder, ["a", "bb"]).result(timeout=30)
    assert out.tokens[:, 0, 0].tolist() == [1.0, 2.0]
    assert threads and all(t.startswith("taco-text") for t in threads)


def test_an_encoder_pickles_and_deep_copies_without_its_lock_and_cache():
    """Spawned workers and copy.deepcopy of a module holding one: the cache's lock cannot be
    pickled, so a copy gets a fresh lock and an empty cache, and encodes the same."""
    import copy
    import pickle

    from taco.text import get_text_encoder

    encoder = get_text_encoder("clip-tiny")
    want = encoder.encode(["a cat on a mat"])
    for other in (copy.deepcopy(encoder), pickle.loads(pickle.dumps(encoder))):
        assert len(other._cache) == 0 and other._cache_lock is not encoder._cache_lock
        got = other.encode(["a cat on a mat"])
        assert torch.equal(got.tokens, want.tokens) and torch.equal(got.mask, want.mask)
