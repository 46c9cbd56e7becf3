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


#: Names torch spells a device by and names it does not, each as torch parses it or refuses it.
SPELLINGS = ("cpu", "cpu:0", "cuda", "cuda:0", "cuda:1", "cuda:10", "cuda:127", "mps", "mps:0",
             "cdua", "gpu", "xpu", "meta", "CUDA", "Cpu", " cuda", "cuda ", "cuda:", "cuda:x", "cuda:01",
             "cuda:-1", "cuda:+1", "cuda:1:2", "cuda:1.0", "cuda:0x1", "cuda:\u0661", "cuda: 1", "")


@pytest.mark.parametrize("name", SPELLINGS)
def test_device_problem_takes_what_torch_names_a_device_of_taco(name):
    """device_problem, without torch, takes a name exactly when torch names by it the device of
    that type and index (cpu, cuda or mps), as resolve_device took it by torch.device."""
    from taco.devices import device_problem

    try:
        parsed = torch.device(name)
    except RuntimeError:
        parsed = None
    torch_takes = parsed is not None and parsed.type in ("cpu", "cuda", "mps") and str(parsed) == name
    assert (device_problem(name) is None) == torch_takes, name


@pytest.mark.parametrize("name", ["cuda:128", "cuda:32767", "cpu:200", "mps:300", "cuda:" + "9" * 5000])
def test_a_device_index_torch_cannot_hold_is_refused(four_gpus, name):
    """torch.device("cuda:128") is cuda:-128 (an 8-bit index), which passed check_device on a
    machine of four GPUs, and cuda:32767 was cuda: the local rank's GPU."""
    from taco.devices import device_problem

    assert device_problem(name) == ("torch numbers a machine's devices 0 to 127; give one of "
                                    "auto, cpu, cuda, cuda:N, mps")
    with pytest.raises(DeviceUnavailable, match=f"^device '{name}': torch numbers a machine's devices 0 to 127"):
        resolve_device(name)


def test_a_misspelt_device_names_the_closest():
    from taco.devices import device_problem

    assert device_problem("auto") is None
    assert device_problem("cdua") == ("not a device taco runs on; give one of auto, cpu, cuda, cuda:N, mps "
                                      "(did you mean 'cuda'?)")
    with pytest.raises(DeviceUnavailable, match="^device 'cdua': not a device taco runs on; .*'cuda'"):
        resolve_device("cdua")


@pytest.mark.parametrize("command", ["evaluate", "caption", "bench", "train"])
def test_every_device_option_refuses_a_name_that_is_none(command, capsys):
    """``--device cdua`` was refused only by resolve_device, once torch had loaded (2-5 s)."""
    from taco.cli import build_parser

    given = {"evaluate": ["evaluate", "."], "caption": ["caption", "."], "bench": ["bench"], "train": ["train"]}
    parser = build_parser()
    with pytest.raises(SystemExit) as caught:
        parser.parse_args([*given[command], "--device", "cdua"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"taco {command}: error: argument --device: 'cdua': not a device taco runs on; give one of "
        "auto, cpu, cuda, cuda:N, mps (did you mean 'cuda'?)\n")
    assert parser.parse_args([*given[command], "--device", "cuda:1"]).device == "cuda:1"
