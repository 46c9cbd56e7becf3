"""Metrics on a device without float64 (MPS, Apple GPUs): no float64 tensor is made there.

There is no MPS here, so "meta" tensors stand in for one: a torch function mode raises, as MPS
does, when any op would leave a float64 tensor on a device other than the CPU, and gives
``.cpu()`` of a meta tensor real values (meta tensors hold none).
"""

import pytest
import torch
from torch import Tensor
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from taco import metrics


class NoFloat64OffCpu(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is Tensor.cpu and args[0].device.type == "meta":
            return torch.full(args[0].shape, 0.25, dtype=args[0].dtype)
        out = func(*args, **kwargs)
        for t in tree_flatten(out)[0]:
            if isinstance(t, Tensor) and t.dtype == torch.float64 and t.device.type != "cpu":
                raise TypeError(f"Cannot convert a {t.device.type} Tensor to float64 dtype")
        return out


def images() -> tuple[Tensor, Tensor]:
    return torch.empty(2, 3, 8, 8, device="meta"), torch.empty(2, 3, 8, 8, device="meta")


def test_the_stand_in_refuses_float64_off_the_cpu():
    x, _ = images()
    with NoFloat64OffCpu(), pytest.raises(TypeError, match="float64"):
        x.double()


def test_psnr_takes_float64_on_the_cpu():
    x, x_hat = images()
    with NoFloat64OffCpu():
        out = metrics.psnr(x, x_hat)
    assert out.dtype == torch.float64 and out.device.type == "cpu" and out.shape == (2,)


def test_compute_metrics_takes_float64_on_the_cpu():
    x, x_hat = images()
    with NoFloat64OffCpu():
        out = metrics.compute_metrics(x, x_hat, "psnr")
    assert out.psnr is not None and out.psnr.dtype == torch.float64
    assert out.psnr.device.type == "cpu"


def test_mmd_and_fid_take_float64_on_the_cpu():
    a, b = torch.empty(4, 3, device="meta"), torch.empty(5, 3, device="meta")
    with NoFloat64OffCpu():
        assert metrics.mmd_rbf(a, b) == pytest.approx(0.0, abs=1e-9)  # both all 0.25
        assert metrics.fid_from_features(a, b) == pytest.approx(0.0, abs=1e-9)


def test_cpu_psnr_is_unchanged():
    g = torch.Generator().manual_seed(0)
    x, x_hat = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    a, b = (x.double().clamp(0, 1) * 255).round(), (x_hat.double().clamp(0, 1) * 255).round()
    expected = 10 * torch.log10(255.0**2 / (a - b).pow(2).flatten(1).mean(1))
    assert torch.equal(metrics.psnr(x, x_hat), expected)
