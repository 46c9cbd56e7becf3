"""Models are float32 whatever torch's default dtype: a process that set float64 (botorch and
gpytorch users do) built float64 models, which taco.compress refused ("convert it back with
model.float()"), and whose fingerprint made a genuine built-in file fail to decode as "made with
other weights ... (a checkpoint's)"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

import taco
from taco.models import create_model, load_checkpoint, model_fingerprint, save_checkpoint
from taco.models.architecture import build_model, build_on_meta
from taco.models.registry import architecture_config

IMAGE = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


@pytest.fixture()
def float64_default():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def float_dtypes(model: torch.nn.Module) -> set[torch.dtype]:
    return {t.dtype for t in model.state_dict().values() if t.is_floating_point()}


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_build_is_float32_with_the_seeded_weights(name):
    plain = dict(create_model(name, seed=0).named_parameters())
    torch.set_default_dtype(torch.float64)
    try:
        built = build_model(architecture_config(name))
        seeded = dict(create_model(name, seed=0).named_parameters())
        assert torch.get_default_dtype() == torch.float64  # the caller's default is left as it was
    finally:
        torch.set_default_dtype(torch.float32)
    assert float_dtypes(built) == {torch.float32}
    assert plain.keys() == seeded.keys()
    assert all(torch.equal(plain[k], seeded[k]) for k in plain)


def test_meta_skeleton_is_float32(float64_default):
    skeleton = build_on_meta(architecture_config("elic-tiny"))
    assert float_dtypes(skeleton) == {torch.float32}


@pytest.mark.parametrize("compact", [False, True])
def test_loaded_checkpoint_is_float32_and_codes_as_under_float32(tmp_path, compact):
    model = create_model("elic-tiny", seed=0)
    path = save_checkpoint(model, tmp_path / "m.safetensors", compact_tables=compact)
    expected = taco.compress(IMAGE, "", load_checkpoint(path))
    torch.set_default_dtype(torch.float64)
    try:
        loaded = taco.load(str(path))
        assert float_dtypes(loaded) == {torch.float32}
        assert model_fingerprint(loaded) == model_fingerprint(model)
        assert taco.compress(IMAGE, "", loaded) == expected
    finally:
        torch.set_default_dtype(torch.float32)


def test_created_model_codes_and_a_seed0_file_decodes_without_a_model(float64_default):
    model = create_model("elic-tiny", seed=0)
    assert float_dtypes(model) == {torch.float32}
    data = taco.compress(IMAGE, "", model)
    assert np.asarray(taco.decompress(data)).shape == IMAGE.shape


def test_concurrent_builds_are_all_float32_and_the_default_comes_back(float64_default):
    """float32_default set and gave back the process-wide default per call: one thread gave
    float64 back while another was still building, whose model came out partly float64."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        for _ in range(6):  # a race: each round lost it about half the time
            models = list(pool.map(lambda _: create_model("elic-tiny"), range(8)))
            assert all(float_dtypes(m) == {torch.float32} for m in models)
    assert torch.get_default_dtype() == torch.float64


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_child_forked_during_a_build_has_its_float64_default_back(float64_default):
    """A child forked while another thread was inside float32_default kept float32 for good
    (the thread that would give float64 back is not in the child)."""
    import os
    import threading

    from taco.models.elic import float32_default

    inside, leave = threading.Event(), threading.Event()

    def build() -> None:
        with float32_default():
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=build)
    thread.start()
    try:
        assert inside.wait(30)
        pid = os.fork()
        if pid == 0:  # the child: its default, and a build of its own that gives it back
            ok = torch.get_default_dtype() == torch.float64
            with float32_default():
                ok = ok and torch.get_default_dtype() == torch.float32
            os._exit(0 if ok and torch.get_default_dtype() == torch.float64 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        leave.set()
        thread.join(30)
    assert torch.get_default_dtype() == torch.float64


@contextmanager
def default_flipped_mid_build(monkeypatch) -> Iterator[list[int]]:
    """Another thread setting float64 then float32 as its own work goes (``set_default_dtype``
    around a computation), here at each convolution a build makes (the count of them): a
    float32_default build saw it change under it and came out part float64, refused by every
    compress ("this model's weights are float64 ... convert it back with model.float()")."""
    reset, count = torch.nn.Conv2d.reset_parameters, [0]

    def flipping(self):
        count[0] += 1
        torch.set_default_dtype(torch.float64 if count[0] % 2 else torch.float32)
        return reset(self)

    with monkeypatch.context() as patch:
        patch.setattr(torch.nn.Conv2d, "reset_parameters", flipping)
        try:
            yield count
        finally:
            torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", ["elic-tiny", "taco-tiny"])
def test_a_default_changed_mid_build_still_gives_a_float32_model(monkeypatch, name):
    with default_flipped_mid_build(monkeypatch) as flips:
        model = create_model(name, seed=0)
    assert flips[0] > 2  # the default did change during the build
    assert float_dtypes(model) == {torch.float32}
    assert len(taco.compress(IMAGE, "a cat", model)) > 0


@pytest.mark.parametrize("compact", [False, True])
def test_a_default_changed_mid_load_still_loads_the_float32_weights(tmp_path, compact, monkeypatch):
    model = create_model("elic-tiny", seed=0)
    path = save_checkpoint(model, tmp_path / "m.safetensors", compact_tables=compact)
    expected = taco.compress(IMAGE, "", model)
    with default_flipped_mid_build(monkeypatch) as flips:
        loaded = taco.load(str(path))
    assert flips[0] > 2
    assert float_dtypes(loaded) == {torch.float32}
    assert model_fingerprint(loaded) == model_fingerprint(model)
    assert taco.compress(IMAGE, "", loaded) == expected


def test_a_default_changed_before_the_scale_table_is_made_gives_the_float32_tables(monkeypatch):
    """CompressAI makes the scale table in the default dtype (``torch.Tensor(...)``): changed by
    another thread just before, the coder tables came from a float64 table."""
    import taco.models.elic as elic

    model = create_model("elic-tiny", seed=0)
    expected = {k: v.clone() for k, v in model.state_dict().items()}
    table = elic.portable_scale_table

    def then_float64(levels):
        made = table(levels)
        torch.set_default_dtype(torch.float64)  # another thread, just now
        return made

    monkeypatch.setattr(elic, "portable_scale_table", then_float64)
    try:
        model.set_scale_levels(64)
    finally:
        torch.set_default_dtype(torch.float32)
    state = model.state_dict()
    assert float_dtypes(model) == {torch.float32}
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in state)


def test_builds_while_another_thread_toggles_the_default_are_all_float32():
    """The race itself: a thread switching the default between float64 and float32 while this
    one creates models."""
    import threading
    import time

    stop = threading.Event()

    def toggler() -> None:
        while not stop.is_set():
            torch.set_default_dtype(torch.float64)
            time.sleep(0.0005)
            torch.set_default_dtype(torch.float32)
            time.sleep(0.0005)

    thread = threading.Thread(target=toggler)
    thread.start()
    try:
        models = [create_model(name, seed=0) for name in ["elic-tiny", "taco-tiny"] * 2]
    finally:
        stop.set()
        thread.join(30)
        torch.set_default_dtype(torch.float32)
    assert [float_dtypes(m) for m in models] == [{torch.float32}] * len(models)
