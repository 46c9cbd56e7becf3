"""``--device``: one rule (taco.devices.resolve_device) for evaluate, caption, train and bench."""

from __future__ import annotations

import pytest
import torch

import taco.devices
import taco.distributed
from taco.devices import DeviceUnavailable, device_description, resolve_device
from taco.distributed import DistEnv
from taco.evaluation.measure import environment

RANK_3_OF_4 = DistEnv(rank=3, local_rank=3, world_size=4)


@pytest.fixture()
def four_gpus(monkeypatch):
    """A machine torch says has four CUDA GPUs (nothing runs on them here)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)


@pytest.mark.parametrize(("given", "single", "rank_3"), [
    ("auto", "cuda:0", "cuda:3"),
    ("cuda", "cuda:0", "cuda:3"),
    ("cuda:1", "cuda:1", "cuda:1"),  # an explicit GPU stays that GPU under torchrun
    ("cpu", "cpu", "cpu"),
])
def test_the_local_rank_picks_the_gpu_unless_one_is_named(four_gpus, given, single, rank_3):
    assert str(resolve_device(given)) == single
    assert str(resolve_device(given, RANK_3_OF_4)) == rank_3


def test_auto_is_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", RANK_3_OF_4) == torch.device("cpu")


def test_a_gpu_past_the_only_one_counts_it_in_the_singular(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(DeviceUnavailable) as caught:
        resolve_device("cuda:1")
    assert str(caught.value).startswith("device 'cuda:1': this machine has 1 CUDA GPU")
    assert "GPUs" not in str(caught.value) and "(s)" not in str(caught.value)


@pytest.mark.parametrize(("given", "message"), [
    ("cuda:4", "device 'cuda:4': this machine has 4 CUDA GPUs"),
    ("gpu", "device 'gpu': not a device taco runs on; give one of auto, cpu, cuda, cuda:N, mps"),
    ("xpu", "device 'xpu': not a device taco runs on"),
    ("cuda:x", "device 'cuda:x': not a device taco runs on"),
])
def test_a_device_that_cannot_be_used_is_one_error(four_gpus, given, message):
    with pytest.raises(DeviceUnavailable) as caught:
        resolve_device(given)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_device_checks_live_in_taco_devices_alone():
    assert {"DeviceUnavailable", "check_device"} <= set(taco.devices.__all__)
    assert not {"DeviceUnavailable", "check_device"} & set(dir(taco.distributed))


def test_a_cpu_is_described_by_its_model_and_torch_threads(monkeypatch):
    """One description for every result file (evaluate's JSON and bench's used to differ)."""
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    described = device_description("cpu")
    assert described.startswith("cpu (") and described.endswith(", 1 thread)")
    try:
        models = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")]
    except OSError:
        models = []
    if models:
        assert described == f"cpu ({models[0]}, 1 thread)"
    assert environment("cpu")["device"] == described


def test_a_gpu_is_described_by_its_name(four_gpus, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU 80GB")
    assert device_description("cuda:2") == "cuda:2 (Test GPU 80GB)"
