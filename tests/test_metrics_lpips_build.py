"""Tests for how taco.metrics builds LPIPS: without random initialisation, yet the same network."""

from __future__ import annotations

import threading
import warnings
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from taco import metrics as M

pytest.importorskip("lpips")


def trunk() -> dict[str, torch.Tensor]:
    return load_file(M.LPIPS_TRUNK_FILE)


def built_the_old_way(trunk: dict[str, torch.Tensor]) -> nn.Module:
    """lpips_from_trunk before it built on the meta device: a random AlexNet, then overwritten."""
    import lpips

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)
    slices = {0: 1, 3: 2, 6: 3, 8: 4, 10: 5}
    state = {f"slice{s}.{i}.{p}": trunk[f"features.{i}.{p}"].float()
             for i, s in slices.items() for p in ("weight", "bias")}
    model.net.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False)


def fixed_pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return torch.rand(2, 3, 48, 40, generator=g), torch.rand(2, 3, 48, 40, generator=g)  # [0, 1]


def test_lpips_equals_the_old_random_then_overwritten_build() -> None:
    weights = trunk()
    old, new = built_the_old_way(weights), M.lpips_from_trunk(weights)
    old_state, new_state = old.state_dict(), new.state_dict()
    assert old_state.keys() == new_state.keys() and len(new_state) == 22
    for name, tensor in old_state.items():
        assert new_state[name].device.type == "cpu", name
        assert new_state[name].dtype == tensor.dtype and torch.equal(new_state[name], tensor), name
    assert new.lin0 is new.lins[0]  # lpips' second names still share the heads
    assert not new.training and not any(p.requires_grad for p in new.parameters())
    x, y = fixed_pair()
    for a, b in ((x, y), (2 * x - 1, 2 * y - 1)):  # the official and the standard convention
        value = new(a, b)
        assert value.shape == (2, 1, 1, 1) and value.min() > 0
        assert torch.equal(value, old(a, b))  # bit-identical


def test_lpips_build_copies_the_trunk_and_draws_no_random_numbers() -> None:
    weights = trunk()
    rng = torch.get_rng_state()
    model = M.lpips_from_trunk(weights)
    assert torch.equal(torch.get_rng_state(), rng)
    conv = model.net.slice1[0].weight
    assert torch.equal(conv, weights["features.0.weight"])
    assert conv.data_ptr() != weights["features.0.weight"].data_ptr()


def test_lpips_build_names_a_tensor_left_unloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import lpips

    class Grown(lpips.LPIPS):  # a layout lpips might grow: a buffer taco does not fill
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.register_buffer("offset", torch.zeros(3), persistent=False)

    monkeypatch.setattr(lpips, "LPIPS", Grown)
    with pytest.raises(RuntimeError, match=r"not loaded \['offset'\]"):
        M.lpips_from_trunk(trunk())


def test_lpips_builds_from_several_threads_at_once() -> None:
    weights = trunk()
    x, y = fixed_pair()
    expected = built_the_old_way(weights)(x, y)
    start = threading.Barrier(4)
    values: list[torch.Tensor] = []
    errors: list[BaseException] = []
    devices: list[torch.device] = []

    def build() -> None:
        try:
            start.wait()
            for _ in range(3):
                values.append(M.lpips_from_trunk(weights)(x, y))
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    def make_tensors() -> None:  # a thread that is not building: its tensors stay on the CPU
        try:
            start.wait()
            for _ in range(200):
                devices.append(torch.empty(1).device)
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    filters = list(warnings.filters)
    threads = [threading.Thread(target=build) for _ in range(3)]
    threads.append(threading.Thread(target=make_tensors))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert not errors and len(values) == 9 and len(devices) == 200
    assert all(torch.equal(v, expected) for v in values)
    assert set(devices) == {torch.device("cpu")}  # the meta device stayed in the building threads
    assert warnings.filters == filters  # no thread restored a list another had changed
    assert torch.get_default_device() == torch.device("cpu")
    assert torch.empty(1).device == torch.device("cpu")


def test_a_float64_default_builds_the_same_float32_network():
    """The input scaling's buffers were made in torch's default dtype: under float64 (a botorch
    or gpytorch process) LPIPS failed with "Input type (double) and bias type (float)"."""
    x, y = fixed_pair()
    expected = M.lpips_from_trunk(trunk())(x, y, normalize=True)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = M.lpips_from_trunk(trunk())
        assert {t.dtype for t in model.state_dict().values()} == {torch.float32}
        assert torch.equal(model(x, y, normalize=True), expected)
    finally:
        torch.set_default_dtype(previous)
