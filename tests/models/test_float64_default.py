"""Models are float32 whatever torch's default dtype: a process that set float64 (botorch and
gpytorch users do) built float64 models, which taco.compress refused ("convert it back with
model.float()"), and whose fingerprint made a genuine built-in file fail to decode as "made with
other weights ... (a checkpoint's)"."""

from __future__ import annotations

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
