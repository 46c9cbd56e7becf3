"""The training forward pass and its speed options: bf16 autocast, channels_last, DDP, compile
(of the transforms, see :func:`compile_transforms`).

    training_layout(model, cfg)                     # channels_last: before any optimiser sees it
    net = training_net(model, cfg, env, device)     # what the trainer calls: net(x, tokens, mask)

**bf16** (``bf16: true``): the transforms (g_a with the text adapter, g_s) run under bfloat16
autocast; the latent codec (hyperprior, context and entropy-parameter networks, likelihoods)
always runs in float32, whatever the caller's autocast, because the rate is a sum of
``-log2 p`` over every latent and bf16's 8-bit mantissa would bias it. The loss (MSE, LPIPS,
rate) is computed outside autocast in float32.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import torch
from torch import Tensor, nn

from ..models import ELIC
from ..text.base import TextTokens
from .config import TrainConfig
from .distributed import DistEnv


def _to_float32(value: Any) -> Any:
    if isinstance(value, Tensor) and value.is_floating_point():
        return value.float()
    return value


def _float32_forward(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
    device = next((a.device.type for a in args if isinstance(a, Tensor)), "cpu")
    with torch.autocast(device_type=device, enabled=False):
        args = tuple(_to_float32(a) for a in args)
        kwargs = {k: _to_float32(v) for k, v in kwargs.items()}
        return type(self).forward(self, *args, **kwargs)


def keep_float32(module: nn.Module) -> None:
    """Run ``module``'s forward in float32 under any autocast (float inputs are cast up).

    Set on the instance as a bound method, so ``copy.deepcopy`` (the float64 coding copy of the
    latent codec) binds it to the copy; state dicts are unchanged.
    """
    module.forward = types.MethodType(_float32_forward, module)


def no_buffer_sync(ddp: type) -> dict[str, Any]:
    """DDP keyword that stops buffer broadcasts before each forward.

    The buffers are the entropy coder's tables, which only rank 0 refreshes (``update()`` before
    saving), so their sizes may differ between ranks; the model has no batch-norm statistics.
    """
    if "forward_sync_buffers" in inspect.signature(ddp).parameters:
        return {"forward_sync_buffers": False}  # newer torch; buffers still agree at init
    return {"broadcast_buffers": False}


class TrainingNet(nn.Module):
    """What DDP wraps and torch.compile compiles: the codec alone, text tokens passed in as
    plain tensors, under bf16 autocast when ``bf16``."""

    def __init__(self, model: ELIC, bf16: bool = False) -> None:
        super().__init__()
        self.model = model
        self.bf16 = bf16
        if bf16:
            keep_float32(model.latent_codec)

    def forward(
        self, x: Tensor, tokens: Tensor | None = None, mask: Tensor | None = None,
        quality: int | None = None,
    ) -> Any:
        """``quality``: the step's quality (1..Q) for a variable-rate model, else None."""
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            if tokens is None:
                return self.model(x, quality=quality)
            return self.model(x, TextTokens(tokens, mask), quality=quality)  # type: ignore[arg-type]


def training_layout(model: nn.Module, cfg: TrainConfig) -> None:
    """Put ``model``'s weights in the memory format it trains in (channels_last when
    ``cfg.channels_last``), in place. Done before the optimisers are built and a state is
    loaded: Adam makes its moments like each weight, and a resumed run lays its loaded ones out
    the same way (:func:`taco.train.state.optimizer_from_tensors`)."""
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)


def training_net(model: ELIC, cfg: TrainConfig, env: DistEnv, device: torch.device) -> nn.Module:
    """``model`` (already on ``device``, in its :func:`training_layout`) wrapped for training:
    bf16 autocast, DDP, compile."""
    net: nn.Module = TrainingNet(model, bf16=cfg.bf16)
    if env.distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(
            net,
            device_ids=[device] if device.type == "cuda" else None,
            **no_buffer_sync(DistributedDataParallel),
        )
    if cfg.compile:
        compile_transforms(model)
    return net


def compile_transforms(model: ELIC) -> None:
    """``torch.compile`` g_a (with the text adapter) and g_s in place: they hold nearly all of a
    step's arithmetic, while the latent codec's Python control flow (channel groups,
    checkerboard passes) would only break the graph. In place (``nn.Module.compile``), so the
    state dict keeps its keys and checkpoints stay loadable without torch.compile."""
    model.g_a.compile()
    model.g_s.compile()
