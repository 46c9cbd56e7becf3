"""A faster entropy-coding path for ELIC-style latent codecs, byte-identical to CompressAI's.

It runs the composition that :func:`taco.models.elic.elic_latent_codec` builds and that
CompressAI's ``Elic2022Official`` uses (also as the float64 copy ``taco.codec.coding_codec``
makes of it)::

    HyperpriorLatentCodec
      y:     ChannelGroupsLatentCodec -> CheckerboardLatentCodec -> GaussianConditionalLatentCodec
      hyper: HyperLatentCodec (h_a, EntropyBottleneck, h_s)

with the *same modules and the same tensor operations* on the same inputs, so every float that
reaches the coder is the one CompressAI computes and the strings are identical (tested). What it
leaves out is work whose result CompressAI throws away or recomputes (measured in
``docs/performance.md``):

1. **CDF tables built once.** CompressAI calls ``_quantized_cdf.tolist()`` (64 x 3127 ints for the
   Gaussian conditional, a GPU->CPU copy on GPU) on every one of the 11 coder calls per image.
   Here the table is converted once per entropy model (re-converted when a buffer is replaced or
   written to), each row cut to its ``cdf_length``: the rANS coder never reads past it.
2. **No decoding inside the encoder.** CompressAI entropy-*decodes* each string it has just
   written to get ``y_hat``/``z_hat``. The decoded symbol is the encoded one (values outside the
   table go through the coder's bypass mode), so ``y_hat = symbols + means`` directly.
3. **No context convolution for the anchors.** CompressAI runs the checkerboard context conv on
   an all-zero input and then overwrites its output with zeros; we use the zeros.
4. **Scale -> table index with one ``searchsorted``** instead of 63 compare-and-subtract passes
   (same integer result: the number of table entries below the scale).
5. **One device->host copy** of the symbols and indexes of each coded tensor, and the Python
   lists the bindings need made by numpy (``torch.tensor(list)`` is 2-3x slower than numpy).

Not changed (would alter floats, hence the stream): the non-anchor context conv still runs at full
resolution on a half-zero input, exactly as CompressAI's.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck, EntropyModel, GaussianConditional
from compressai.latent_codecs import (
    ChannelGroupsLatentCodec,
    CheckerboardLatentCodec,
    GaussianConditionalLatentCodec,
    HyperLatentCodec,
    HyperpriorLatentCodec,
)
from torch import Tensor

__all__ = [
    "compress",
    "compress_groups",
    "compress_hyper",
    "compress_latent",
    "decompress",
    "decompress_latent",
    "supports",
]


# --------------------------------------------------------------------------- coder tables


@dataclass(frozen=True)
class _Tables:
    """An entropy model's coder tables as the Python lists the rANS bindings take."""

    sources: tuple[Tensor, Tensor, Tensor]  # the buffers they were made from (kept alive)
    versions: tuple[int, int, int]
    cdfs: list[list[int]]
    lengths: list[int]
    offsets: list[int]


_TABLES: weakref.WeakKeyDictionary[EntropyModel, _Tables] = weakref.WeakKeyDictionary()


def _tables(em: EntropyModel) -> _Tables:
    """The coder tables of ``em``, converted to lists once and reused while its buffers are.

    A buffer replaced (``update(force=True)``, ``.to(device)``) is a new tensor object; one
    overwritten in place (``load_state_dict``) has a new ``_version``. Either rebuilds. The
    cache holds the old buffers, so an identity match can never be a recycled address.
    """
    sources = (em._quantized_cdf, em._cdf_length, em._offset)
    versions = tuple(t._version for t in sources)
    cached = _TABLES.get(em)
    if cached is not None and all(a is b for a, b in zip(cached.sources, sources, strict=True)):
        if cached.versions == versions:
            return cached
    cdf, length, offset = sources
    if cdf.numel() == 0 or length.numel() == 0 or offset.numel() == 0:
        raise ValueError("uninitialised entropy-coder tables: run model.update() first")
    lengths = length.reshape(-1).int().tolist()
    rows = cdf.tolist()
    tables = _Tables(
        sources=sources,  # type: ignore[arg-type]
        versions=versions,  # type: ignore[arg-type]
        cdfs=[row[:n] for row, n in zip(rows, lengths, strict=True)],
        lengths=lengths,
        offsets=offset.reshape(-1).int().tolist(),
    )
    _TABLES[em] = tables
    return tables


def _encode(em: EntropyModel, symbols: Tensor, indexes: Tensor) -> list[bytes]:
    """rANS-encode int32 ``symbols`` (N, ...) with CDF ``indexes`` (N, ...): one string per item."""
    t = _tables(em)
    n = symbols.shape[0]
    sym = symbols.reshape(n, -1).int().cpu().numpy()  # numpy's tolist is the fastest way to
    idx = indexes.reshape(n, -1).int().cpu().numpy()  # the Python ints the bindings take
    coder = em.entropy_coder
    return [
        coder.encode_with_indexes(sym[i].tolist(), idx[i].tolist(), t.cdfs, t.lengths, t.offsets)
        for i in range(n)
    ]


def _decode(em: EntropyModel, strings: list[bytes], indexes: Tensor) -> Tensor:
    """Inverse of :func:`_encode`: int32 symbols shaped like ``indexes``, on its device."""
    if not isinstance(strings, (list, tuple)) or len(strings) != indexes.shape[0]:
        raise ValueError(f"expected {indexes.shape[0]} strings, got {len(strings)}")
    t = _tables(em)
    idx = indexes.reshape(indexes.shape[0], -1).int().cpu().numpy()
    coder = em.entropy_coder
    out = np.empty(idx.shape, dtype=np.int32)
    for i, s in enumerate(strings):
        values = coder.decode_with_indexes(s, idx[i].tolist(), t.cdfs, t.lengths, t.offsets)
        out[i] = np.fromiter(values, dtype=np.int32, count=idx.shape[1])  # 2x torch.tensor(list)
    return torch.from_numpy(out).reshape(indexes.shape).to(indexes.device)


def _symbols(inputs: Tensor, means: Tensor) -> Tensor:
    """EntropyModel.quantize(inputs, "symbols", means), operation for operation.

    The difference is stored in ``inputs``' dtype before rounding (an in-place ``-=``): with a
    float64 codec fed float32 latents (``taco.codec.coding_codec``), ``round(y - means)`` in
    float64 would differ where the float32 difference lands on x.5.
    """
    outputs = inputs.clone()
    outputs -= means
    return torch.round(outputs).int()


def _dequantize(symbols: Tensor, means: Tensor) -> Tensor:
    # EntropyModel.dequantize: symbols.type_as(means) + means (same float op, same result)
    return symbols.type_as(means) + means


# --------------------------------------------------------------------------- y: Gaussian conditional


def _scale_indexes(gc: GaussianConditional, scales: Tensor) -> Tensor:
    """GaussianConditional.build_indexes in one pass: #{table[:-1] entries < scale}."""
    scales = gc.lower_bound_scale(scales)
    table = gc.scale_table[:-1].to(scales.dtype).contiguous()
    return torch.searchsorted(table, scales.contiguous()).int()


def _gaussian_params(lc: GaussianConditionalLatentCodec, ctx_params: Tensor) -> tuple[Tensor, Tensor]:
    """(indexes, means) for the coder from the context parameters."""
    scales, means = lc._chunk(lc.entropy_parameters(ctx_params))
    return _scale_indexes(lc.gaussian_conditional, scales), means


def _gaussian_compress(
    lc: GaussianConditionalLatentCodec, y: Tensor, ctx_params: Tensor
) -> tuple[list[bytes], Tensor]:
    indexes, means = _gaussian_params(lc, ctx_params)
    symbols = _symbols(y, means)
    return _encode(lc.gaussian_conditional, symbols, indexes), _dequantize(symbols, means)


def _gaussian_decompress(
    lc: GaussianConditionalLatentCodec, strings: list[bytes], ctx_params: Tensor
) -> Tensor:
    indexes, means = _gaussian_params(lc, ctx_params)
    return _dequantize(_decode(lc.gaussian_conditional, strings, indexes), means)


# --------------------------------------------------------------------------- y: checkerboard


def _checkerboard_params(
    cb: CheckerboardLatentCodec, step: int, y_hat_: Tensor, side_: Tensor
) -> Tensor:
    """Entropy parameters of step 0 (anchors) or 1 (non-anchors), half width (N, 2c, h, w/2)."""
    if step == 0:
        # CompressAI convolves the all-zero y_hat_ and then zeros the result: same zeros.
        n, _, h, w_half = side_[0].shape
        ctx = side_.new_zeros((n, cb.context_prediction.out_channels, h, w_half))
    else:
        ctx = cb.unembed(cb.context_prediction(cb.embed(y_hat_)))[1]
    return cb.entropy_parameters(cb.merge(ctx, side_[step]))


def _checkerboard_compress(
    cb: CheckerboardLatentCodec, y: Tensor, side_params: Tensor
) -> tuple[list[list[bytes]], Tensor]:
    n, c, h, w = y.shape
    y_hat_ = side_params.new_zeros((2, n, c, h, w // 2))  # (anchors, non-anchors) halves
    side_ = cb.unembed(side_params)
    y_ = cb.unembed(y)
    strings: list[list[bytes]] = []
    for step in range(2):
        params = _checkerboard_params(cb, step, y_hat_, side_)
        s, y_hat_[step] = _gaussian_compress(cb.latent_codec["y"], y_[step], params)
        strings.append(s)
    return strings, cb.embed(y_hat_)


def _checkerboard_decompress(
    cb: CheckerboardLatentCodec, strings: list[list[bytes]], shape: Any, side_params: Tensor
) -> Tensor:
    c, h, w = shape
    n = len(strings[0])
    y_hat_ = side_params.new_zeros((2, n, c, h, w // 2))
    side_ = cb.unembed(side_params)
    for step in range(2):
        params = _checkerboard_params(cb, step, y_hat_, side_)
        y_hat_[step] = _gaussian_decompress(cb.latent_codec["y"], strings[step], params)
    return cb.embed(y_hat_)


# --------------------------------------------------------------------------- z: hyperprior


def _z_indexes_and_medians(eb: EntropyBottleneck, n: int, size: Any, device: Any) -> tuple[Tensor, Tensor]:
    c = eb._quantized_cdf.shape[0]
    indexes = torch.arange(c, dtype=torch.int32, device=device).view(1, c, 1, 1)
    indexes = indexes.expand(n, c, *size)
    medians = eb._get_medians().detach().reshape(1, -1, 1, 1).expand(n, -1, 1, 1)
    return indexes, medians


def _hyper_compress(hc: HyperLatentCodec, y: Tensor) -> tuple[list[bytes], Any, Tensor]:
    z = hc.h_a(y)
    eb = hc.entropy_bottleneck
    indexes, medians = _z_indexes_and_medians(eb, z.shape[0], z.shape[2:], z.device)
    symbols = _symbols(z, medians)
    strings = _encode(eb, symbols, indexes)
    return strings, z.size()[-2:], hc.h_s(_dequantize(symbols, medians))


def _hyper_decompress(hc: HyperLatentCodec, strings: list[bytes], shape: Any) -> Tensor:
    eb = hc.entropy_bottleneck
    indexes, medians = _z_indexes_and_medians(eb, len(strings), tuple(shape), eb.quantiles.device)
    return hc.h_s(_dequantize(_decode(eb, strings, indexes), medians))


# --------------------------------------------------------------------------- public API


def supports(codec: nn.Module) -> bool:
    """Whether ``codec`` is the ELIC composition this module codes (else use its own methods)."""
    if not isinstance(codec, HyperpriorLatentCodec):
        return False
    y, hyper = codec.latent_codec["y"], codec.latent_codec["hyper"]
    if not isinstance(hyper, HyperLatentCodec) or not isinstance(
        hyper.entropy_bottleneck, EntropyBottleneck
    ):
        return False
    if not isinstance(y, ChannelGroupsLatentCodec):
        return False
    for k in range(len(y.groups)):
        cb = y.latent_codec[f"y{k}"]
        if not isinstance(cb, CheckerboardLatentCodec):
            return False
        gc = cb.latent_codec["y"]
        if not isinstance(gc, GaussianConditionalLatentCodec) or set(gc.chunks) != {"scales", "means"}:
            return False
    return True


def _check(codec: nn.Module) -> None:
    if not supports(codec):
        raise TypeError(f"{type(codec).__name__} is not an ELIC latent codec; use its own methods")


@torch.no_grad()
def compress_hyper(codec: HyperpriorLatentCodec, y: Tensor) -> dict[str, Any]:
    """The hyper branch: y -> z strings, z shape and the side parameters h_s(z_hat)."""
    _check(codec)
    strings, shape, params = _hyper_compress(codec.latent_codec["hyper"], y)
    return {"strings": strings, "shape": shape, "params": params}


@torch.no_grad()
def compress_groups(codec: HyperpriorLatentCodec, y: Tensor, side_params: Tensor) -> dict[str, Any]:
    """The y branch: channel groups, each in two checkerboard passes -> 2 strings per group."""
    _check(codec)
    groups: ChannelGroupsLatentCodec = codec.latent_codec["y"]
    y_ = torch.split(y, groups.groups, dim=1)
    y_hat = torch.zeros_like(y)
    y_hat_ = y_hat.split(groups.groups, dim=1)  # views: filling them fills y_hat
    strings: list[list[bytes]] = []
    shapes = []
    for k in range(len(groups.groups)):
        params = groups._get_ctx_params(k, side_params, y_hat_)
        s, y_hat_k = _checkerboard_compress(groups.latent_codec[f"y{k}"], y_[k], params)
        y_hat_[k][:] = y_hat_k
        strings.extend(s)
        shapes.append(y_hat_k.shape[1:])
    return {"strings": strings, "shape": shapes, "y_hat": y_hat}


@torch.no_grad()
def compress_latent(codec: HyperpriorLatentCodec, y: Tensor) -> dict[str, Any]:
    """``codec.compress(y)`` with the same output: strings, shape and y_hat.

    y: (B, M, h, w) -> strings: [anchor, non-anchor per group..., z], each a list of B bytes.
    """
    hyper = compress_hyper(codec, y)
    out = compress_groups(codec, y, hyper["params"])
    return {
        "strings": [*out["strings"], hyper["strings"]],
        "shape": {"y": out["shape"], "hyper": hyper["shape"]},
        "y_hat": out["y_hat"],
    }


@torch.no_grad()
def decompress_latent(
    codec: HyperpriorLatentCodec, strings: list[list[bytes]], shape: dict[str, Any]
) -> dict[str, Tensor]:
    """``codec.decompress(strings, shape)``: the exact y_hat (B, M, h, w)."""
    _check(codec)
    groups: ChannelGroupsLatentCodec = codec.latent_codec["y"]
    *y_strings, z_strings = strings
    if len(y_strings) != 2 * len(groups.groups):
        raise ValueError(f"expected {2 * len(groups.groups) + 1} strings, got {len(strings)}")
    side_params = _hyper_decompress(codec.latent_codec["hyper"], z_strings, shape["hyper"])
    n = len(z_strings)
    c_total = sum(s[0] for s in shape["y"])
    y_hat = torch.zeros((n, c_total, *shape["y"][0][1:]), device=side_params.device)
    y_hat_ = y_hat.split(groups.groups, dim=1)
    for k in range(len(groups.groups)):
        params = groups._get_ctx_params(k, side_params, y_hat_)
        y_hat_[k][:] = _checkerboard_decompress(
            groups.latent_codec[f"y{k}"], y_strings[2 * k : 2 * k + 2], shape["y"][k], params
        )
    return {"y_hat": y_hat}


@torch.no_grad()
def compress(model: Any, x: Tensor, text: Any = None) -> dict[str, Any]:
    """``model.compress`` through the fast path: g_a (with ``text`` for TACO), then the codec.

    Works for taco's ELIC/TACO and CompressAI's ``Elic2022Official`` (``model.g_a``).
    """
    analysis = getattr(model, "analysis", None)
    y = analysis(x, text) if analysis is not None else model.g_a(x)
    out = compress_latent(model.latent_codec, y)
    return {"strings": out["strings"], "shape": out["shape"]}


@torch.no_grad()
def decompress(model: Any, strings: list[list[bytes]], shape: dict[str, Any]) -> dict[str, Tensor]:
    """``model.decompress`` through the fast path. Takes no text."""
    y_hat = decompress_latent(model.latent_codec, strings, shape)["y_hat"]
    return {"x_hat": model.g_s(y_hat).clamp_(0, 1)}
