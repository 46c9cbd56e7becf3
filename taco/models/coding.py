"""The float64 CPU copy of a model's latent codec that ``.taco`` files are entropy-coded with.

:func:`coding_codec` builds it once per model and keeps it in a module-level weak dictionary
keyed by the model (:data:`_CODING_CODECS`), not on the model: the copy goes when the model does,
and pickling or copying a model leaves it out (the copy is rebuilt on first use).
"""

from __future__ import annotations

import copy
import weakref
from typing import Any, TypeVar

import torch
import torch.nn as nn
from compressai.latent_codecs import HyperpriorLatentCodec
from torch import Tensor

from ..bitstream.rans import guard_entropy_coders
from .checkpoint import check_entropy_tables, model_fingerprint
from .conv_bands import band_convolutions
from .elic import ELIC

ModuleT = TypeVar("ModuleT", bound=nn.Module)

#: model -> (its fingerprint when the copy was built, the copy). The copy is a deep copy of the
#: model's latent codec and holds no reference to the model, so the entry goes with the model.
_CODING_CODECS: weakref.WeakKeyDictionary[ELIC, tuple[bytes, HyperpriorLatentCodec]] = (
    weakref.WeakKeyDictionary())


def _inputs_to_float64(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.double() if isinstance(a, Tensor) else a for a in args)


def float64_copy(module: ModuleT) -> ModuleT:
    """A copy of ``module`` on the CPU with its floating-point parameters and buffers in float64:
    what ``copy.deepcopy(module).to("cpu", torch.float64)`` gives (same modules, hooks and
    tensors), without that path's float32 clone of every tensor before its float64 copy (half
    of the time :func:`coding_codec` took on the default model). Shares no tensor with ``module``."""
    memo: dict[int, Any] = {}  # deepcopy takes these as the copies of the float tensors
    for p in module.parameters():
        if p.is_floating_point():
            memo[id(p)] = nn.Parameter(p.detach().to("cpu", torch.float64, copy=True), p.requires_grad)
    for b in module.buffers():
        if b.is_floating_point():
            memo[id(b)] = b.detach().to("cpu", torch.float64, copy=True)
    return copy.deepcopy(module, memo).to("cpu", torch.float64)  # the rest (int tables) to the CPU


def coding_codec(model: ELIC, *, fingerprint: bytes | None = None) -> HyperpriorLatentCodec:
    """The latent codec that :func:`taco.compress` and :func:`taco.decompress` code with.

    A float64 copy of ``model.latent_codec`` on the CPU, whose convolutions take float32 inputs
    (y, y_hat) and compute in float64. In float32, scales and means differ in the last bits
    between thread counts, oneDNN on/off, memory layouts and devices, and one scale crossing a
    scale-table boundary makes the decoder use another CDF than the encoder from there on
    (docs/reliability.md: a file encoded with 2 threads and decoded with 1 lost 61k of 245k
    symbols). In float64 they agree to ~1e-16 and the decoded latents are bit-identical; y_hat
    stays float32 on both sides. Built once per model (rebuilt when its fingerprint changes;
    ~8 bytes per latent-codec parameter, freed with the model), tables checked
    (:func:`~taco.models.checkpoint.check_entropy_tables`), coders guarded
    (:func:`taco.bitstream.rans.guard_entropy_coders`: CompressAI's own ``compress`` /
    ``decompress`` on it, as ``taco bench`` calls them, check what they decode;
    :func:`taco.decompress` reads its stream through :class:`taco.bitstream.rans.StreamDecoder`).
    On big latents the entropy parameters are computed in bands of rows, keeping only each
    pass's table indexes and means (``taco.models.entropy.BAND_BYTES``), and each convolution
    within a band in bands of its own (:mod:`taco.models.conv_bands`): float64 convolutions unfold
    their input, 13-38 KB per latent position, several GB on a 36 MP image.

    ``fingerprint``: ``model_fingerprint(model)`` when the caller has just computed it (taco.compress
    hashes the model once per image, for this and the file's header: each call walks the model's
    ~400 tensors to confirm its cached hash); None computes it here.
    """
    if fingerprint is None:
        fingerprint = model_fingerprint(model)
    cached = _CODING_CODECS.get(model)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    # ordinary tensors even when the first call runs under torch.inference_mode(): the copy is
    # kept for calls outside it
    with torch.inference_mode(False), torch.no_grad():
        check_entropy_tables(model.latent_codec)  # the copy's tables are exactly these (checked once)
        codec: HyperpriorLatentCodec = float64_copy(model.latent_codec).eval()
        for m in codec.modules():
            if isinstance(m, nn.modules.conv._ConvNd):
                m.register_forward_pre_hook(_inputs_to_float64)
        band_convolutions(codec)
        guard_entropy_coders(codec)
    _CODING_CODECS[model] = (fingerprint, codec)
    return codec
