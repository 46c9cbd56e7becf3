"""taco in a long-running service: a forked worker process that still compresses."""

from __future__ import annotations

import multiprocessing
import os
import queue
import warnings

import numpy as np
import pytest
import torch

import taco
from taco.models import create_model


@pytest.fixture(scope="module")
def model():
    return create_model("taco-tiny", seed=0)


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)


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
