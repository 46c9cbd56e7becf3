"""The entropy-coding path of taco's latent codecs: one rANS stream per image, for every layout.

The public functions take the latent codec of either layout (``model.latent_codec``, or the
float64 copy ``taco.models.coding.coding_codec`` makes of it; see :mod:`taco.models.elic`). The
reference layout (:class:`~taco.models.entropy.ReferenceLatentCodec`) codes itself into one
stream, with the helpers below (symbols, scale indexes, z); this module hands the work to it.

For the CompressAI layout this module is the coder. It runs the composition that
:func:`taco.models.elic.elic_latent_codec` builds and that CompressAI's ``Elic2022Official`` uses::

    HyperpriorLatentCodec
      y:     ChannelGroupsLatentCodec -> CheckerboardLatentCodec -> GaussianConditionalLatentCodec
      hyper: HyperLatentCodec (h_a, EntropyBottleneck, h_s)

with the *same modules and the same tensor operations* on the same inputs, so every float that
reaches the coder is the one CompressAI computes, and the symbols, CDF indexes, y_hat and z_hat
are CompressAI's (tested). The difference is the container of the symbols: CompressAI writes 11
rANS strings (z, and an anchor and a non-anchor pass per channel group), each ending with its
8-byte state; here z and then every y pass, in decoding order, go into **one** rANS stream per
image (``compressai.ans.BufferedRansEncoder``; decoded with one ``RansDecoder``: ``set_stream``
once, ``decode_stream`` per part), 40-52 bytes smaller per image (.taco format version 2).
The stream itself and the bounds on decoding untrusted ones: :mod:`taco.bitstream.rans`.

It also leaves out work whose result CompressAI throws away or recomputes (measured in
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

Not changed (would alter floats, hence the symbols): the non-anchor context conv still runs at
full resolution on a half-zero input, exactly as CompressAI's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck
from compressai.latent_codecs import (
    ChannelGroupsLatentCodec,
    CheckerboardLatentCodec,
    GaussianConditionalLatentCodec,
    HyperLatentCodec,
    HyperpriorLatentCodec,
)
from torch import Tensor

from ..bitstream.rans import StreamDecoder, StreamEncoder, UnchunkedStream
from ..errors import BackboneError
from ..memory import spans
from ..messages import docs_ref
from .entropy import (
    CHANNEL_CONTEXT_HALO,
    SPATIAL_CONTEXT_HALO,
    PassCoder,
    ReferenceLatentCodec,
    band_rows,
    check_latent_shapes,
    check_streams,
    codes_itself,
    compress_hyper_latent,
    decompress_hyper_latent,
    dequantize_symbols,
    pass_parameters,
    quantize_symbols,
    stream_symbols,
)
from .gains import check_quality

#: The latent codecs this module codes: either layout (see :func:`supports`).
LatentCodec: TypeAlias = "ReferenceLatentCodec | HyperpriorLatentCodec"

__all__ = [
    "BRANCH_METHODS",
    "codes_by_branch",
    "compress",
    "compress_groups",
    "compress_hyper",
    "compress_latent",
    "decompress",
    "decompress_latent",
    "num_symbols",
    "supports",
]


# --------------------------------------------------------------------------- y: the driver


def _band_rows(groups: ChannelGroupsLatentCodec, h: int, w: int, side_channels: int) -> int:
    """Latent rows per band of :func:`_code_groups` (:func:`taco.models.entropy.band_rows`)."""
    widest = max(groups.groups)
    contexts = list(groups.channel_context.values())  # each: conv, ReLU, conv, ReLU, conv
    hidden = sum(m.out_channels for m in list(contexts[0])[:-1] if isinstance(m, nn.Conv2d)) if contexts else 0
    # float64 per latent position: side and channel-context slices, their concatenation and
    # checkerboard halves, the channel context's hidden layers, the parameter network's layers
    return band_rows(h, w, 8 * (3 * (side_channels + 2 * widest) + hidden + 3 * side_channels))


def _code_groups(codec: HyperpriorLatentCodec, side_params: Tensor, code: PassCoder) -> Tensor:
    """Every channel group's anchor and non-anchor pass in decoding order -> y_hat (float32).
    ``code`` gets table indexes, and CompressAI's checkerboard halves (anchors where i + j is
    even).

    The entropy parameters are CompressAI's, computed with its modules (channel context, the
    checkerboard's ``unembed``/``embed``, masked context convolution, parameter network) in bands
    of latent rows (:func:`_band_rows`): only a pass's table indexes and means are held for the
    whole latent. A latent of one band gets exactly the values of one whole-latent computation;
    more bands get them up to float rounding, identically in the encoder and the decoder. The
    anchors' context is zeros (CompressAI convolves an all-zero input, then zeros the result).
    """
    groups: ChannelGroupsLatentCodec = codec.latent_codec["y"]
    n, side_channels, h, w = side_params.shape
    bands = spans(h, _band_rows(groups, h, w, side_channels))
    y_hat = torch.zeros((n, sum(groups.groups), h, w), dtype=torch.float32, device=side_params.device)
    y_hat_ = y_hat.split(groups.groups, dim=1)  # views: filling them fills y_hat
    for k in range(len(groups.groups)):
        cb: CheckerboardLatentCodec = groups.latent_codec[f"y{k}"]
        gcodec: GaussianConditionalLatentCodec = cb.latent_codec["y"]
        ctx_n: dict[int, Tensor] = {}  # band start -> the channel context's non-anchor half

        def gaussian(params: Tensor, gcodec: GaussianConditionalLatentCodec = gcodec) -> tuple[Tensor, Tensor]:
            """(scales, means) as CompressAI's Gaussian-conditional codec splits them."""
            scales, means = gcodec._chunk(gcodec.entropy_parameters(params))
            return scales, means

        def anchor_params(a: int, e: int, k: int = k, cb: CheckerboardLatentCodec = cb,
                          ctx_n: dict[int, Tensor] = ctx_n) -> tuple[Tensor, Tensor]:
            side = side_params[..., a:e, :]
            if k > 0:
                lo, hi = max(0, a - CHANNEL_CONTEXT_HALO), min(h, e + CHANNEL_CONTEXT_HALO)
                prev = groups.merge_y(*(t[..., lo:hi, :] for t in y_hat_[:k]))
                ctx = groups.channel_context[f"y{k}"](prev)[..., a - lo : e - lo, :]
                ctx_n[a] = cb.unembed(ctx)[1]
                side = groups.merge_params(ctx, side)
            side_a = cb.unembed(side)[0]
            zeros = side_a.new_zeros((n, cb.context_prediction.out_channels, *side_a.shape[2:]))
            return gaussian(cb.entropy_parameters(cb.merge(zeros, side_a)))

        halves = side_params.new_zeros((2, n, groups.groups[k], h, w // 2))  # (anchors, non-anchors)
        gc = gcodec.gaussian_conditional
        halves[0] = code(k, 0, *pass_parameters(anchor_params, bands, gc))

        def nonanchor_params(a: int, e: int, cb: CheckerboardLatentCodec = cb, ctx_n: dict[int, Tensor] = ctx_n,
                             halves: Tensor = halves) -> tuple[Tensor, Tensor]:
            lo, hi = max(0, a - SPATIAL_CONTEXT_HALO), min(h, e + SPATIAL_CONTEXT_HALO)
            ctx = cb.unembed(cb.context_prediction(cb.embed(halves[..., lo:hi, :])))[1][..., a - lo : e - lo, :]
            side_n = cb.unembed(side_params[..., a:e, :])[1]
            if a in ctx_n:
                side_n = torch.cat([ctx_n.pop(a), side_n], dim=1)
            return gaussian(cb.entropy_parameters(cb.merge(ctx, side_n)))

        halves[1] = code(k, 1, *pass_parameters(nonanchor_params, bands, gc))
        y_hat_[k][:] = cb.embed(halves)
    return y_hat


# --------------------------------------------------------------------------- public API


def supports(codec: nn.Module) -> bool:
    """Whether ``codec`` is a latent codec this module codes: one that codes itself
    (:func:`codes_itself`), or the CompressAI ELIC composition (else use its own methods)."""
    if codes_itself(codec):
        return True
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


def _check(codec: nn.Module, quality: Any = None) -> None:
    if not supports(codec):
        raise TypeError(f"{type(codec).__name__} is a latent codec which taco cannot code: {_WHAT_IT_CODES}")
    if not codes_itself(codec):  # the CompressAI layout has one rate; the others check their own
        check_quality(quality, None)


#: The methods of a codec that codes itself with which :func:`compress_hyper` and
#: :func:`compress_groups` code its two branches one at a time (optional: docs/models.md,
#: "Adding a backbone"; the reference layout has them).
BRANCH_METHODS = ("compress_hyper", "compress_groups")


def codes_by_branch(codec: nn.Module) -> bool:
    """Whether :func:`compress_hyper` and :func:`compress_groups` code ``codec`` (the hyper
    branch, then the y groups, as ``taco bench`` times them): the CompressAI composition, and a
    codec that codes itself and has :data:`BRANCH_METHODS`. Every codec :func:`supports` is
    coded whole by :func:`compress_latent`."""
    if not supports(codec):
        return False
    return not codes_itself(codec) or all(callable(getattr(codec, m, None)) for m in BRANCH_METHODS)


#: The methods of a latent codec that codes itself (:func:`~taco.models.entropy.codes_itself`),
#: as :class:`~taco.models.entropy.ReferenceLatentCodec` has them: what :func:`compress_latent`,
#: :func:`decompress_latent`, :func:`num_symbols` and the model's ``forward``, ``compress`` and
#: ``latent_shapes`` call on it, and ``forward(y, quality) -> {"y_hat", "likelihoods"}``, what
#: training calls (docs/models.md, "Adding a backbone", item 2).
ONE_STREAM_METHODS = ("forward", "compress", "decompress", "num_symbols", "gain_vectors")


#: The latent codecs this module codes, as an error says it.
_WHAT_IT_CODES = ("it must be the reference layout, CompressAI's ELIC composition, or a codec with "
                  f"one_stream = True and the methods {', '.join(ONE_STREAM_METHODS)}; "
                  f"see {docs_ref('models.md', 'Adding a backbone')}")


def check_latent_codec(model: nn.Module) -> None:
    """:class:`~taco.errors.BackboneError` (a TypeError) naming ``model``'s class and what is
    missing, unless this module codes its ``latent_codec``: the CompressAI ELIC composition, or
    a codec that codes itself and has every one of :data:`ONE_STREAM_METHODS`. :func:`taco.models.architecture.build_model` calls
    it, so a new backbone's codec is refused when the model is built, not at its first
    ``taco.compress`` (which codes with this module, never with the codec's own methods)."""
    owner = type(model).__name__
    codec = getattr(model, "latent_codec", None)
    if not isinstance(codec, nn.Module):
        raise BackboneError(f"{owner} has no latent_codec module (got {type(codec).__name__}): "
                            "taco.compress entropy-codes model.latent_codec")
    name = type(codec).__name__
    if not supports(codec):
        raise BackboneError(f"{owner}.latent_codec is a {name}, which taco cannot code: "
                            f"{_WHAT_IT_CODES}")
    missing = [m for m in ONE_STREAM_METHODS if not callable(getattr(codec, m, None))
               or getattr(type(codec), m, None) is getattr(nn.Module, m, None)]  # Module's own forward raises
    if codes_itself(codec) and missing:
        raise BackboneError(f"{owner}.latent_codec ({name}) says it codes itself (one_stream) but "
                            f"has no {', '.join(missing)}: a codec that codes itself needs "
                            f"{', '.join(ONE_STREAM_METHODS)}; see {docs_ref('models.md', 'Adding a backbone')}")


def _branch_method(codec: nn.Module, name: str) -> Callable[..., dict[str, Any]]:
    """``codec``'s own ``name`` (one of :data:`BRANCH_METHODS`), for a codec that codes itself."""
    method = getattr(codec, name, None)
    if not callable(method):
        raise TypeError(f"{type(codec).__name__} codes itself in one call and has no {name}: "
                        "code it with compress_latent (see codes_by_branch)")
    return method


def num_symbols(codec: LatentCodec, shape: dict[str, Any]) -> int:
    """Symbols one image's stream holds for latent shapes ``shape`` (z, then every y group)."""
    _check(codec)
    if codes_itself(codec):
        return codec.num_symbols(shape)  # type: ignore[union-attr]
    assert isinstance(codec, HyperpriorLatentCodec)
    return stream_symbols(codec.latent_codec["hyper"].entropy_bottleneck, shape)


@torch.no_grad()
def compress_hyper(
    codec: LatentCodec, y: Tensor, stream: StreamEncoder | None = None, quality: int | None = None
) -> dict[str, Any]:
    """The hyper branch: y -> z coded into ``stream`` (a new one if None), the z shape and the
    side parameters h_s(z_hat). ``quality``: 1..Q for a variable-rate codec, else None.
    TypeError for a codec that codes itself without this step (:func:`codes_by_branch`)."""
    _check(codec, quality)
    stream = StreamEncoder() if stream is None else stream
    if codes_itself(codec):
        return _branch_method(codec, "compress_hyper")(y, stream, quality)
    assert isinstance(codec, HyperpriorLatentCodec)
    shape, params = compress_hyper_latent(codec.latent_codec["hyper"], y, stream)
    return {"stream": stream, "shape": shape, "params": params}


@torch.no_grad()
def compress_groups(
    codec: LatentCodec, y: Tensor, side_params: Tensor, stream: StreamEncoder | None = None,
    quality: int | None = None,
) -> dict[str, Any]:
    """The y branch: channel groups, each in two checkerboard passes, coded into ``stream``
    (at ``quality`` for a variable-rate codec) after :func:`compress_hyper`'s z. TypeError for a
    codec that codes itself without this step (:func:`codes_by_branch`)."""
    _check(codec, quality)
    stream = StreamEncoder() if stream is None else stream
    if codes_itself(codec):
        return _branch_method(codec, "compress_groups")(y, side_params, stream, quality)
    assert isinstance(codec, HyperpriorLatentCodec)
    groups: ChannelGroupsLatentCodec = codec.latent_codec["y"]
    y_ = [groups.latent_codec[f"y{k}"].unembed(t) for k, t in enumerate(y.split(groups.groups, dim=1))]

    def encode(k: int, step: int, indexes: Tensor, means: Tensor) -> Tensor:
        symbols = quantize_symbols(y_[k][step], means)
        stream.encode(groups.latent_codec[f"y{k}"].latent_codec["y"].gaussian_conditional, symbols, indexes)
        return dequantize_symbols(symbols, means)

    y_hat = _code_groups(codec, side_params, encode).to(y.dtype)
    return {"stream": stream, "shape": [t.shape[1:] for t in y_hat.split(groups.groups, dim=1)],
            "y_hat": y_hat}


@torch.no_grad()
def compress_latent(codec: LatentCodec, y: Tensor, quality: int | None = None) -> dict[str, Any]:
    """Entropy-code y (B, M, h, w) into one stream per image.

    Returns ``{"strings": [[stream_0, ..., stream_{B-1}]], "shape", "y_hat"}`` (CompressAI's
    layout: a list of string kinds, each a list over the batch; here one kind). For the
    CompressAI layout the symbols, y_hat and shapes are those of ``codec.compress(y)``; the
    strings are not: z, then each channel group's anchor and non-anchor pass go into ONE rANS
    stream per image instead of 11. A variable-rate codec codes at ``quality`` (1..Q) and
    returns it in ``shape["quality"]``.
    """
    _check(codec, quality)
    if codes_itself(codec):
        return codec.compress(y, quality)
    hyper = compress_hyper(codec, y)
    out = compress_groups(codec, y, hyper["params"], hyper["stream"])
    return {
        "strings": [out["stream"].flush()],
        "shape": {"y": out["shape"], "hyper": hyper["shape"]},
        "y_hat": out["y_hat"],
    }


@torch.no_grad()
def decompress_latent(
    codec: LatentCodec, strings: Sequence[Sequence[bytes | memoryview | UnchunkedStream]], shape: dict[str, Any]
) -> dict[str, Tensor]:
    """Inverse of :func:`compress_latent`: the exact y_hat (B, M, h, w) (a variable-rate codec
    reads the quality from ``shape["quality"]``).

    ``strings`` are untrusted: a malformed stream raises ``TacoFormatError`` (see
    :class:`StreamDecoder`), never reads outside the memory handed to the C++ decoder.
    """
    _check(codec, shape.get("quality"))
    check_streams(strings)  # a codec that codes itself checks the latent shapes
    if codes_itself(codec):
        return codec.decompress(strings, shape)  # type: ignore[union-attr]
    assert isinstance(codec, HyperpriorLatentCodec)
    groups: ChannelGroupsLatentCodec = codec.latent_codec["y"]
    check_latent_shapes(shape, groups.groups)
    streams = strings[0]
    stream = StreamDecoder(streams, num_symbols(codec, shape))
    side_params = decompress_hyper_latent(codec.latent_codec["hyper"], stream, len(streams),
                                          shape["hyper"])

    def decode(k: int, step: int, indexes: Tensor, means: Tensor) -> Tensor:
        gc = groups.latent_codec[f"y{k}"].latent_codec["y"].gaussian_conditional
        return dequantize_symbols(stream.decode(gc, indexes), means)

    y_hat = _code_groups(codec, side_params, decode)
    if stream.symbols_left:
        raise RuntimeError(f"{stream.symbols_left} declared symbols were not decoded")
    return {"y_hat": y_hat}


@torch.no_grad()
def compress(model: Any, x: Tensor, text: Any = None, quality: int | None = None) -> dict[str, Any]:
    """``model.compress`` through the fast path: g_a (with ``text`` for TACO), then the codec.

    Works for taco's ELIC/TACO (either layout) and CompressAI's ``Elic2022Official`` (``model.g_a``).
    ``strings`` is ``[[one stream per image]]`` (:func:`compress_latent`).
    """
    analysis = getattr(model, "analysis", None)
    y = analysis(x, text) if analysis is not None else model.g_a(x)
    out = compress_latent(model.latent_codec, y, quality)
    return {"strings": out["strings"], "shape": out["shape"]}


@torch.no_grad()
def decompress(model: Any, strings: Sequence[Sequence[bytes]], shape: dict[str, Any]) -> dict[str, Tensor]:
    """``model.decompress`` through the fast path, for :func:`compress`'s strings. Takes no text."""
    y_hat = decompress_latent(model.latent_codec, strings, shape)["y_hat"]
    return {"x_hat": model.g_s(y_hat).clamp_(0, 1)}
