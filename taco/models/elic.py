"""ELIC (He et al., CVPR 2022) composed from CompressAI's layers, in one of two entropy-model layouts.

The transforms g_a and g_s are ELIC's (residual bottleneck blocks, attention blocks); the analysis
transform is split into named stages so that the TACO text adapter can be placed between them
(SPEC table "Analysis transform"). The entropy model (``self.latent_codec``, every part of it in
that one module) comes in two layouts (``layout=``):

- ``"reference"`` (the default): the layout of the TACO authors' code, so that their released
  checkpoints load (:class:`~taco.models.entropy.ReferenceLatentCodec`; SPEC "Reference layout";
  36,932,427 parameters at N=192, M=320, 38,579,275 with the TACO adapter).
- ``"compressai"``: CompressAI's ``Elic2022Official`` layout composed from its latent codecs
  (:func:`elic_latent_codec`; 32,074,200 parameters): h_s N->N->3N/2->2N, one parameter network
  per group shared by both checkerboard passes, anchors where i + j is even, one Gaussian
  conditional per group. The layout of the first built-in models (``elic-small-q3`` ...), kept so
  that they and the files made with them keep working.

The widths of the channel-context networks are configurable so that tests can build tiny models.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from statistics import NormalDist
from typing import Any

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck, GaussianConditional
from compressai.latent_codecs import (
    ChannelGroupsLatentCodec,
    CheckerboardLatentCodec,
    GaussianConditionalLatentCodec,
    HyperLatentCodec,
    HyperpriorLatentCodec,
)
from compressai.layers import AttentionBlock, CheckerboardMaskedConv2d, sequential_channel_ramp
from compressai.models.base import SCALES_LEVELS, CompressionModel
from compressai.models.sensetime import ResidualBottleneckBlock
from compressai.models.utils import conv, deconv, remap_old_keys
from torch import Tensor

from ..bitstream.rans import check_symbols
from ..checks import is_int
from ..errors import TacoValueError
from ..locks import ForkSafeLock
from ..memory import spans, widen
from .config import LAYOUTS, PAD_MULTIPLE, CheckpointError, ModelConfig, check_choice
from .entropy import ReferenceLatentCodec, codes_itself, portable_scale_table
from .gains import check_quality, default_quality

#: Most scale levels a model may code with (:meth:`ELIC.set_scale_levels`): 4x CompressAI's 64,
#: the finest docs/performance.md measured ("Bitstream efficiency"), and the largest scale table
#: a compact checkpoint may hold (``taco.models.checkpoint.MAX_SCALE_TABLE_ENTRIES``: its tables are
#: rebuilt from it at load, before anything can check them).
MAX_SCALE_LEVELS = 256


#: Rows of g_a's H/8 map that an analysis stripe reads beyond its own, above and below. Through
#: stages 1-4 (four 5x5 stride-2 convolutions, 3x3 convolutions in their residual and attention
#: blocks) a row of the map reads input up to 68 px above its own 8 rows and 61 px below, 72 and
#: 65 with a TGIC module (a 3x3 convolution) at H/4 (measured in float64:
#: tests/models/test_analysis_stripes.py), so 9 rows (72 px) make each stripe's rows those of the
#: whole map up to float rounding.
ANALYSIS_HALO = 9


def _rbs(n: int) -> list[nn.Module]:
    return [ResidualBottleneckBlock(n, n) for _ in range(3)]


#: The function :func:`stripe_progress` gives, in the thread inside it.
_STRIPE_PROGRESS = threading.local()


@contextmanager
def stripe_progress(report: Callable[[int, int], None]) -> Iterator[None]:
    """Within, in this thread: :func:`in_stripes` of g_a's early stages calls ``report(done,
    total)`` as its stripes finish (``done`` 1..``total``), as ``taco.codec`` reports analysis
    progress; a model not run in stripes says nothing."""
    outer = getattr(_STRIPE_PROGRESS, "report", None)
    _STRIPE_PROGRESS.report = report
    try:
        yield
    finally:
        _STRIPE_PROGRESS.report = outer


def in_stripes(
    f: Callable[[Tensor], Tensor], x: Tensor, rows: int, halo: int = ANALYSIS_HALO, scale: int = 8,
    *, reported: bool = True,
) -> Tensor:
    """``f`` over horizontal stripes of ``rows`` rows of its output. ``f`` is local (convolutions,
    per-position attention) and maps x (B, C, H, W), H a multiple of ``scale``, to
    (B, C', H/scale, W/scale), e.g. stages 1-4 of g_a (scale 8, the default halo). Each stripe is
    computed from its input rows with ``halo`` output rows of context above and below (clipped
    at the image's edges), and only its own rows are kept: the result equals ``f(x)`` up to
    float rounding when ``halo`` covers ``f``'s reach, and memory follows the stripe. With
    ``reported`` each finished stripe is told to a :func:`stripe_progress` block (``False``: a
    later, lighter pass over the same rows, which would count them again)."""
    h_out = x.shape[-2] // scale
    out: Tensor | None = None
    report = getattr(_STRIPE_PROGRESS, "report", None) if reported else None
    cores = spans(h_out, rows)
    for done, core in enumerate(cores, 1):
        read = widen(core, halo, h_out)
        v = f(x[..., scale * read.start : scale * read.stop, :])  # (B, C', read rows, W/scale)
        if out is None:
            out = v.new_empty((*v.shape[:2], h_out, v.shape[-1]))
        out[..., core, :] = v[..., core.start - read.start : core.stop - read.start, :]
        del v
        if report is not None:
            report(done, len(cores))
    assert out is not None
    return out


def standard_normal_quantile(quantile: float) -> float:
    """The standard normal distribution's ``quantile`` (its inverse CDF), from the standard
    library. CompressAI's Gaussian conditional takes its tail bound from ``scipy.stats.norm.ppf``
    (1 s and ~490 modules to import) for this one number; at its ``tail_mass / 2`` = 5e-10 the
    two give the same double (-6.1094102048693975), and the golden-bytes tests would see a table
    that came out different. :meth:`ELIC.update` and the checkpoint loader's table rebuild use
    it in place of CompressAI's."""
    return NormalDist().inv_cdf(quantile)


def float32_scale_table(scale_table: Sequence[float] | Tensor) -> Tensor:
    """CompressAI's ``GaussianConditional._prepare_scale_table`` (the scale table as a tensor),
    in float32. CompressAI's makes it with ``torch.Tensor(...)``, in torch's process-wide default
    dtype, which another thread may set to float64 at any moment, even inside
    :func:`float32_default`: the coder tables were then computed from a float64 table (other
    tables, and a float64 buffer that every compress refused). :meth:`ELIC.update` and the
    checkpoint loader's table rebuild use it in place of CompressAI's."""
    return torch.tensor([float(s) for s in scale_table], dtype=torch.float32)


#: float32_default's state: how many are inside it, and the default dtype to give back when the
#: last one leaves (None: it was float32 already)
_float32_lock = ForkSafeLock()
_float32_inside = 0
_float32_previous: torch.dtype | None = None


def _float32_after_fork() -> None:
    """In a child forked while a thread was inside :func:`float32_default`: that thread is not
    here to leave, so the default it set is given back now, and nobody is inside."""
    global _float32_inside, _float32_previous
    if _float32_previous is not None:
        torch.set_default_dtype(_float32_previous)
    _float32_inside, _float32_previous = 0, None


def _one_thread_after_fork() -> None:
    """In a forked child, torch's OpenMP runs on one thread, as in torch's own DataLoader
    workers: GNU OpenMP's thread team does not survive a fork, so the child's first parallel
    operation waited for ever on the parent's threads once the parent had run one (a bare
    ``taco.load`` does; gunicorn ``--preload``, a fork pool). The child cannot raise the count
    again (the dead team hangs it alike): more threads need the spawn start method."""
    if torch.backends.openmp.is_available() and torch.get_num_threads() > 1:
        torch.set_num_threads(1)


def _after_fork() -> None:
    """What a forked child puts right before it codes: the default dtype, the thread count."""
    _float32_after_fork()
    _one_thread_after_fork()


os.register_at_fork(after_in_child=_after_fork)


@contextmanager
def float32_default() -> Iterator[None]:
    """Inside it, torch's default dtype is float32. taco's models are float32 (the coder's
    tables and a file's fingerprint are), and layers draw their weights in the default dtype: a
    process that set float64 (botorch and gpytorch users do) built float64 models, whose seed-0
    weights differed from everyone else's. The default is process-wide: it is set when the first
    thread enters (only if it is not float32 already) and given back when the last one leaves,
    so concurrent builds never see it restored under them; meanwhile other threads' new tensors
    are float32 too. Another thread may still set the default itself while a build is inside
    (``set_default_dtype(float64)`` around a computation of its own): the layers made meanwhile
    are of that dtype, so :func:`~taco.models.architecture.build_model` converts whatever came
    out other than float32 (:func:`~taco.models.architecture.float32_weights`) and the scale
    tables are made in float32 whatever the default (:func:`float32_scale_table`)."""
    global _float32_inside, _float32_previous
    with _float32_lock:
        if _float32_inside == 0 and torch.get_default_dtype() != torch.float32:
            _float32_previous = torch.get_default_dtype()
            torch.set_default_dtype(torch.float32)
        _float32_inside += 1
    try:
        yield
    finally:
        with _float32_lock:
            _float32_inside -= 1
            if _float32_inside == 0 and _float32_previous is not None:
                torch.set_default_dtype(_float32_previous)
                _float32_previous = None


class ResidualUnit(nn.Module):
    """The residual unit of CompressAI's ``AttentionBlock`` (``conv`` then ``+ x`` then ``relu``),
    as a class pickle can name: CompressAI defines its own inside ``AttentionBlock.__init__``,
    so a model holding one could not be pickled (a spawn pool, Ray, Dask). Same layers, same
    forward, same state-dict names."""

    conv: nn.Module
    relu: nn.Module

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        out += x
        return self.relu(out)


def attention_block(n: int) -> AttentionBlock:
    """CompressAI's ``AttentionBlock(n)`` whose residual units are :class:`ResidualUnit`."""
    block = AttentionBlock(n)
    for unit in (*block.conv_a, *block.conv_b):
        if type(unit).__qualname__ == "AttentionBlock.__init__.<locals>.ResidualUnit":
            unit.__class__ = ResidualUnit
    return block


class AnalysisTransform(nn.Module):
    """g_a of ELIC, split into the stages the text adapter slots between.

    x (B, 3, H, W) -> y (B, M, H/16, W/16). ``stripe_rows``: run stages 1-4 in horizontal
    stripes of that many rows at H/8 (:func:`in_stripes`), each reading ``halo`` rows of that
    map beyond its own (the model's :attr:`ELIC.analysis_halo`, which :meth:`ELIC.analysis`
    passes), and stage 5 on the assembled map; None (default): the whole image at once.
    """

    def __init__(self, N: int, M: int) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(conv(3, N, kernel_size=5, stride=2), *_rbs(N))  # H/2
        self.stage2 = nn.Sequential(conv(N, N, kernel_size=5, stride=2), *_rbs(N))  # H/4
        self.stage3 = attention_block(N)  # H/4
        self.stage4 = nn.Sequential(conv(N, N, kernel_size=5, stride=2), *_rbs(N))  # H/8
        self.stage5 = nn.Sequential(conv(N, M, kernel_size=5, stride=2), attention_block(M))  # H/16

    def forward(
        self, x: Tensor, stripe_rows: int | None = None, *, halo: int = ANALYSIS_HALO
    ) -> Tensor:
        v = self.to_h8(x) if stripe_rows is None else in_stripes(self.to_h8, x, stripe_rows, halo)
        return self.stage5(v)

    def to_h8(self, x: Tensor) -> Tensor:
        """Stages 1-4: x (B, 3, H, W) -> (B, N, H/8, W/8)."""
        x = self.stage2(self.stage1(x))
        return self.stage4(self.stage3(x))


def synthesis_transform(N: int, M: int) -> nn.Sequential:
    """g_s of ELIC: y_hat (B, M, h, w) -> x_hat (B, 3, 16h, 16w)."""
    return nn.Sequential(
        attention_block(M),
        deconv(M, N, kernel_size=5, stride=2),
        *_rbs(N),
        deconv(N, N, kernel_size=5, stride=2),
        attention_block(N),
        *_rbs(N),
        deconv(N, N, kernel_size=5, stride=2),
        *_rbs(N),
        deconv(N, 3, kernel_size=5, stride=2),
    )


def elic_latent_codec(
    N: int, M: int, groups: Sequence[int], ctx_hidden: Sequence[int] = (224, 128)
) -> HyperpriorLatentCodec:
    """ELIC's entropy model in CompressAI's ``Elic2022Official`` layout (``layout="compressai"``):
    hyperprior z + uneven channel groups with checkerboard context.

    Channel context g_ch^(k): all previous groups -> 5x5 convs ``ctx_hidden`` -> 2 c_k.
    Spatial context g_sp^(k): checkerboard-masked 5x5 conv c_k -> 2 c_k on anchors.
    Parameter aggregation: 1x1 convs ramping to 2 c_k (means, scales).
    """
    groups = list(groups)
    if sum(groups) != M:
        raise TacoValueError(f"channel groups {groups} must sum to M={M}")
    h1, h2 = ctx_hidden
    h_a = nn.Sequential(
        conv(M, N, kernel_size=3, stride=1),
        nn.ReLU(inplace=True),
        conv(N, N, kernel_size=5, stride=2),
        nn.ReLU(inplace=True),
        conv(N, N, kernel_size=5, stride=2),
    )
    h_s = nn.Sequential(
        deconv(N, N, kernel_size=5, stride=2),
        nn.ReLU(inplace=True),
        deconv(N, N * 3 // 2, kernel_size=5, stride=2),
        nn.ReLU(inplace=True),
        deconv(N * 3 // 2, N * 2, kernel_size=3, stride=1),
    )
    channel_context = {
        f"y{k}": nn.Sequential(
            conv(sum(groups[:k]), h1, kernel_size=5, stride=1),
            nn.ReLU(inplace=True),
            conv(h1, h2, kernel_size=5, stride=1),
            nn.ReLU(inplace=True),
            conv(h2, groups[k] * 2, kernel_size=5, stride=1),
        )
        for k in range(1, len(groups))
    }
    scctx = {
        f"y{k}": CheckerboardLatentCodec(
            latent_codec={"y": GaussianConditionalLatentCodec(quantizer="ste")},
            context_prediction=CheckerboardMaskedConv2d(
                groups[k], groups[k] * 2, kernel_size=5, stride=1, padding=2
            ),
            entropy_parameters=sequential_channel_ramp(
                # spatial context + channel context (k > 0) + hyper params
                groups[k] * 2 + (k > 0) * groups[k] * 2 + N * 2,
                groups[k] * 2,
                min_ch=N * 2,
                num_layers=3,
                interp="linear",
                make_layer=nn.Conv2d,
                make_act=lambda: nn.ReLU(inplace=True),
                kernel_size=1,
                stride=1,
                padding=0,
            ),
        )
        for k in range(len(groups))
    }
    return HyperpriorLatentCodec(
        latent_codec={
            "y": ChannelGroupsLatentCodec(
                groups=groups, channel_context=channel_context, latent_codec=scctx
            ),
            "hyper": HyperLatentCodec(
                entropy_bottleneck=EntropyBottleneck(N), h_a=h_a, h_s=h_s, quantizer="ste"
            ),
        }
    )


def apply_context_masks(model: nn.Module) -> None:
    """Zero the masked taps of every checkerboard context conv now, not at its first forward.

    CompressAI's ``MaskedConv2d`` multiplies its weight by the mask *in place* on every forward,
    so a fresh model's weights change the first time it runs. Masking at construction keeps the
    state (and so the model fingerprint written into .taco files) stable from the start.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, CheckerboardMaskedConv2d):
                m.weight.mul_(m.mask)


#: The coder tables of an entropy model (the entropy bottleneck's, each Gaussian conditional's),
#: built by CompressAI's ``update`` from the learned densities.
CODER_TABLES = ("_quantized_cdf", "_offset", "_cdf_length")
#: Every table buffer of the entropy models: the coder tables and the Gaussian conditionals'
#: scale table. Their sizes are set by training (levels, learned densities), not by the config,
#: and CompressAI's ``load_state_dict`` resizes only empty ones (:meth:`ELIC.load_state_dict`
#: resizes each).
TABLE_BUFFERS = (*CODER_TABLES, "scale_table")


#: The largest scale a scale table the loaders rebuild coder tables from may hold: 2x the largest
#: of CompressAI's and the authors' tables (taco.models.checkpoint.MAX_SCALE_TABLE_ENTRIES says
#: why these tables are bounded).
MAX_SCALE = 512.0


def rebuildable_scale_table(scales: Tensor) -> bool:
    """Whether coder tables are rebuilt from this scale table (a ``compact_tables`` checkpoint's,
    a state dict's): 1..:data:`MAX_SCALE_LEVELS` scales in (0, :data:`MAX_SCALE`]."""
    return (scales.dim() == 1 and 1 <= scales.numel() <= MAX_SCALE_LEVELS
            and bool(((scales > 0) & (scales <= MAX_SCALE)).all()))


def check_configured(model: ELIC, who: str = "") -> None:
    """A TypeError unless ``model`` has the :class:`~taco.models.config.ModelConfig` that
    ``.taco`` files, checkpoints and fingerprints record: a bare ``ELIC(...)``/``TACO(...)`` has
    none. ``who`` ("save_checkpoint") starts the message."""
    if getattr(model, "config", None) is None:
        raise TypeError(f"{who + ': ' if who else ''}this {type(model).__name__} was built without a "
                        "ModelConfig, which taco's files record: build it with "
                        "taco.create_model(...) or load it with taco.load(...)")


def load_state_resizing_tables(module: nn.Module, state_dict: Mapping[str, Any],
                               strict: bool = True, assign: bool = False,
                               rebuild: bool = True) -> Any:
    """``nn.Module.load_state_dict(module, ...)`` after resizing each entropy-model table buffer
    (:data:`TABLE_BUFFERS`) whose shape differs from the one in ``state_dict`` (their sizes depend
    on the learned densities and scale levels), and reading the entropy bottlenecks' names of
    older CompressAI versions (``_matrix0``) as CompressAI's ``load_state_dict`` does. The tables
    in ``state_dict`` are loaded as they are, not rebuilt; coder tables (:data:`CODER_TABLES`)
    it leaves out of an entropy model whose state it holds are rebuilt to match that state,
    not kept from the model's old one, after the load: a Gaussian conditional's from the
    incoming scale table (:func:`rebuildable_scale_table`), an entropy bottleneck's from its
    densities (CompressAI's ``update_scale_table`` / ``update``, the tables :func:`taco.load`
    fills a ``compact_tables`` checkpoint with); either way they are not missing keys, so a state
    without any coder tables loads, even with ``strict=True``. :meth:`ELIC.load_state_dict` and
    every load of taco (:func:`taco.models.checkpoint.load_model_state`). Returns the missing and
    unexpected keys (less those rebuilt tables); a mismatch it refuses is torch's RuntimeError
    (a scale table the rebuild refuses, a :class:`~taco.models.config.CheckpointError`).
    ``rebuild`` False: no table is rebuilt and torch checks every key (taco's own loads, which
    check the densities before building tables from them: hostile quantiles would build huge
    ones here)."""
    buffers = dict(module.named_buffers())
    for key, value in state_dict.items():
        buf = buffers.get(key)
        if buf is not None and buf.shape != value.shape and key.rsplit(".", 1)[-1] in TABLE_BUFFERS:
            buf.resize_(value.shape)
    # the entropy models whose coder tables the state lacks
    rebuilt: list[tuple[str, GaussianConditional | EntropyBottleneck]] = []
    for name, m in module.named_modules():
        if isinstance(m, EntropyBottleneck) and any(k.startswith(name) for k in state_dict):
            state_dict = remap_old_keys(name, state_dict)
        if rebuild and isinstance(m, GaussianConditional | EntropyBottleneck):
            prefix = f"{name}."
            if all(prefix + b in state_dict for b in CODER_TABLES):
                continue
            if isinstance(m, GaussianConditional):
                scales = state_dict.get(prefix + "scale_table")
                if scales is None:
                    continue
                if not rebuildable_scale_table(scales):
                    raise CheckpointError(
                        f"the state dict: {prefix}scale_table is not a scale table (1..{MAX_SCALE_LEVELS} "
                        f"scales in (0, {MAX_SCALE:g}])")
                rebuilt.append((prefix, m))
            elif any(k.startswith(prefix) and k[len(prefix):] not in CODER_TABLES for k in state_dict):
                rebuilt.append((prefix, m))
    if not rebuilt:
        return nn.Module.load_state_dict(module, state_dict, strict=strict, assign=assign)
    # the coder tables the state lacks are rebuilt after the load, from the loaded scale table or
    # densities: not missing (torch's strict check, left to it, would refuse them first), all
    # else checked as torch does
    result = nn.Module.load_state_dict(module, state_dict, strict=False, assign=assign)
    left = {prefix + b for prefix, _ in rebuilt for b in CODER_TABLES}
    result = type(result)([k for k in result.missing_keys if k not in left], result.unexpected_keys)
    if strict and (result.missing_keys or result.unexpected_keys):
        errors = [f"{what} key(s) in state_dict: " + ", ".join('"' + k + '"' for k in keys) + ". "
                  for what, keys in (("Missing", result.missing_keys),
                                     ("Unexpected", result.unexpected_keys)) if keys]
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
                           + "\n\t".join(errors))
    with float32_default():  # CompressAI builds the tables in the default dtype
        for _, m in rebuilt:
            if isinstance(m, GaussianConditional):
                m.update_scale_table(m.scale_table, force=True)
            else:
                m.update(force=True)
    return result


def check_input(x: Tensor) -> Tensor:
    """``x`` if it is what :meth:`ELIC.forward` and ``compress`` take: (B, 3, H, W) with H and W
    multiples of :data:`PAD_MULTIPLE` (``taco.codec`` pads any image so; crops for training are)."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise TacoValueError(f"expected images (B, 3, H, W), got {tuple(x.shape)}")
    if x.shape[-2] % PAD_MULTIPLE or x.shape[-1] % PAD_MULTIPLE:
        raise TacoValueError(f"H and W must be multiples of {PAD_MULTIPLE}, got {tuple(x.shape[-2:])}: "
                             "pad with taco.codec.pad_to_multiple (taco.compress takes any size)")
    return x


class ELIC(CompressionModel):
    """ELIC without text: the baseline, and the backbone TACO adds its adapter to.

    Contract (CompressAI's): ``forward(x) -> {"x_hat", "likelihoods"}``,
    ``compress(x) -> {"strings", "shape"}``, ``decompress(strings, shape) -> {"x_hat"}``.
    ``x`` is (B, 3, H, W) in [0, 1] with H, W multiples of :data:`PAD_MULTIPLE`.
    ``compress`` gives one rANS stream per image in the reference layout, CompressAI's
    2 x groups + 1 strings in the CompressAI layout (``.taco`` files are written by
    :mod:`taco.codec`, one stream per image for both).

    A variable-rate model (``qualities``: the λ of each quality; reference layout only) takes
    ``quality=1..Q`` in ``forward`` and ``compress`` (:mod:`taco.models.gains`); ``compress``
    puts it into ``shape``, so ``decompress(**compress(x, quality=q))`` still needs nothing else.
    """

    uses_text = False

    # How taco.codec cuts the transforms to bound memory, read from the model (a backbone with
    # another down-sampling or a wider reach overrides these, or its stripes and tiles get seams):
    #: ``analysis(stripe_rows=)`` counts rows of g_a's map at H/``analysis_stripe_scale`` (stages
    #: 1-4, before the last down-sampling), and each stripe reads :attr:`analysis_halo` rows of
    #: that map beyond its own, above and below (:data:`ANALYSIS_HALO`, :func:`in_stripes`).
    analysis_stripe_scale = 8
    analysis_halo = ANALYSIS_HALO
    #: Pixels per latent position on a side: y is (H/16, W/16), g_s up-samples 16x.
    latent_scale = 16
    #: Latent positions of context each synthesis tile reads beyond its own area, on every side.
    #: ELIC's g_s (attention blocks, residual blocks, four stride-2 transposed convolutions) lets
    #: one latent reach 132 px = 8.25 latents out (measured: tests/test_decoding.py), so 9 make
    #: each tile's pixels those of the whole image's synthesis up to float rounding.
    synthesis_halo = 9

    #: Set by :func:`taco.create_model` / :func:`taco.load` (a bare ``ELIC(...)`` has no config
    #: or metadata): the architecture and widths a file records, the model's name, its
    #: checkpoint's metadata. ``model_id`` is "custom" until set (the name a ``.taco`` header
    #: gives a model taco has no name for), also on a backbone that skips ``ELIC.__init__``.
    config: ModelConfig
    model_id: str = "custom"
    metadata: dict[str, Any]

    def __init__(
        self,
        N: int = 192,
        M: int = 320,
        groups: Sequence[int] = (16, 16, 32, 64, 192),
        ctx_hidden: Sequence[int] = (224, 128),
        layout: str = "reference",
        qualities: Sequence[float] | None = None,
        param_widths: str = "elic-2023",
    ) -> None:
        super().__init__()
        check_choice("layout", layout, LAYOUTS)
        if qualities is not None and layout != "reference":
            raise TacoValueError("variable-rate models (qualities) have the reference layout")
        if param_widths != "elic-2023" and layout != "reference":
            raise TacoValueError(f"param_widths={param_widths!r} is the reference layout's")
        self.N, self.M, self.groups, self.layout = N, M, list(groups), layout
        self.g_a: nn.Module = AnalysisTransform(N, M)
        self.g_s = synthesis_transform(N, M)
        self.latent_codec: ReferenceLatentCodec | HyperpriorLatentCodec
        if layout == "reference":
            self.latent_codec = ReferenceLatentCodec(N, M, groups, ctx_hidden, qualities, param_widths)
        else:
            self.latent_codec = elic_latent_codec(N, M, groups, ctx_hidden)
            apply_context_masks(self)

    @property
    def tiling_width(self) -> int:
        """Channels per pixel that taco.codec's analysis-stripe and synthesis-tile budgets are
        counted in: N, the width of g_a's and g_s's high-resolution stages."""
        return self.N

    @property
    def qualities(self) -> tuple[float, ...] | None:
        """λ of each quality (1..Q, low to high rate) of a variable-rate model; None: one rate."""
        gains = getattr(self.latent_codec, "gains", None)
        return None if gains is None else tuple(gains.lambdas)

    @property
    def default_quality(self) -> int | None:
        """The quality :mod:`taco.codec` codes at when none is given (the middle one)."""
        return None if self.qualities is None else default_quality(len(self.qualities))

    @property
    def scale_levels(self) -> int:
        """Levels of the scale table y is coded with (:meth:`set_scale_levels`): the length of
        the Gaussian conditionals' table (one table, the same in each), or CompressAI's 64 while
        none is built (what ``update`` builds then)."""
        table = self._scale_table()
        return SCALES_LEVELS if table is None else table.numel()

    def set_scale_levels(self, levels: int) -> None:
        """Code y with ``levels`` scale levels: every Gaussian conditional's scale table becomes
        :func:`~taco.models.entropy.portable_scale_table` of ``levels`` (log-spaced from 0.11 to 256, as
        CompressAI's 64, the same on every CPU) and
        its coder tables are rebuilt from it. A scale is coded with the first level at or above
        it, so finer levels cost fewer bits: 256 levels took the payload of the built-ins from
        0.98-2.49 % over the model's own rate to 0.19-0.77 %, for the same decoded image
        (docs/performance.md "Bitstream efficiency").

        The table is part of the model's state: ``update(force=True)``,
        :func:`~taco.models.save_checkpoint` (every form) and :func:`~taco.models.load` keep it,
        and the model fingerprint covers it, so a file decodes only with the table it was coded
        with. Training is unaffected: its likelihoods take the scale itself, bounded below by
        each Gaussian conditional's fixed 0.11 (``lower_bound_scale``), not by the table.
        """
        if not is_int(levels, 2, MAX_SCALE_LEVELS):
            raise TacoValueError(f"scale levels must be an integer 2..{MAX_SCALE_LEVELS}, got {levels!r}")
        self._quantile_without_scipy()
        with float32_default():  # CompressAI builds the tables in the default dtype
            table = portable_scale_table(levels)
            for m in self.modules():
                if isinstance(m, GaussianConditional):
                    m.update_scale_table(table, force=True)

    def update(self, scale_table: Tensor | None = None, force: bool = False,
               update_quantiles: bool = False) -> bool:
        """CompressAI's ``update`` (build the coder tables; ``force``: rebuild them), except that
        without ``scale_table`` the model keeps the scale table it has (:attr:`scale_levels`),
        CompressAI's default of 64 levels only where none is built yet (its table, built the same
        on every CPU: :func:`~taco.models.entropy.portable_scale_table`): the ``update(force=True)``
        of :func:`~taco.models.save_checkpoint` and of training's validation keeps the levels
        :meth:`set_scale_levels` gave."""
        if scale_table is None:
            table = self._scale_table()
            scale_table = portable_scale_table(SCALES_LEVELS) if table is None else table
        self._quantile_without_scipy()
        with float32_default():  # CompressAI builds the tables in the default dtype
            return bool(super().update(scale_table, force=force, update_quantiles=update_quantiles))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> Any:
        """:func:`load_state_resizing_tables`: ``nn.Module.load_state_dict`` after resizing each
        entropy-model table to the one in ``state_dict``. CompressAI's own resizes only empty
        tables, and :func:`taco.create_model` and :func:`taco.load` build them at once, so the
        CompressAI idiom ``net.load_state_dict(sd)`` with a state of other densities or scale
        levels (a fine-tune saved after ``update(force=True)``) refused it."""
        return load_state_resizing_tables(self, state_dict, strict=strict, assign=assign)

    def _quantile_without_scipy(self) -> None:
        """Make every Gaussian conditional take its tail bound from
        :func:`standard_normal_quantile`, not ``scipy.stats`` (1 s to import): the same double,
        so the same tables; and make its scale table with :func:`float32_scale_table`, in
        float32 whatever torch's default dtype. Instance attributes naming module-level
        functions, so the model still pickles and deep-copies."""
        for m in self.modules():
            if isinstance(m, GaussianConditional):
                m._standardized_quantile = standard_normal_quantile
                m._prepare_scale_table = float32_scale_table

    def _scale_table(self) -> Tensor | None:
        """The first built Gaussian-conditional scale table (they are all the same), or None."""
        for m in self.modules():
            if isinstance(m, GaussianConditional) and m.scale_table.numel():
                return m.scale_table
        return None

    def analysis(self, x: Tensor, text: Any = None, *, stripe_rows: int | None = None) -> Tensor:
        """g_a: (B, 3, H, W) -> y (B, M, H/16, W/16). ELIC ignores text. ``stripe_rows``: stages
        1-4 in stripes of that many rows at H/8 (:class:`AnalysisTransform`), each reading
        :attr:`analysis_halo` rows beyond its own; None: whole. A backbone's g_a that is no
        :class:`AnalysisTransform` (an ``nn.Sequential``, say) is called as ``g_a(x)``: it
        analyses the whole image at once whatever ``stripe_rows`` (the same y, in the memory of
        the whole image; a backbone that stripes overrides this method)."""
        if not isinstance(self.g_a, AnalysisTransform):
            return self.g_a(x)
        return self.g_a(x, stripe_rows, halo=self.analysis_halo)

    def forward(self, x: Tensor, quality: int | None = None) -> dict[str, Any]:
        """``quality``: 1..Q for a variable-rate model (required), None for a single-rate one."""
        return self._forward_y(self.analysis(check_input(x)), quality)

    def _forward_y(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        y_out = self._latent_codec_call("forward", y, quality)
        x_hat = self.g_s(y_out["y_hat"])
        return {"x_hat": x_hat, "likelihoods": y_out["likelihoods"], "y": y}

    @torch.no_grad()
    def compress(self, x: Tensor, quality: int | None = None) -> dict[str, Any]:
        """CompressAI's ``compress`` with this model's own float32 latent codec: x ->
        ``{"strings", "shape"}`` for :meth:`decompress` (``quality`` as in :meth:`forward`).

        ``.taco`` files are written by :func:`taco.compress`, not by this: it computes the
        entropy parameters in float64 on the CPU (``taco.models.coding.coding_codec``; float32 ones
        differ in the last bits between machines and thread counts, and a file coded with them
        can fail to decode elsewhere), and writes the stream into the ``.taco`` container, whose
        decoder checks every untrusted byte (``taco.bitstream.rans.StreamDecoder``)."""
        return self._compress_y(self.analysis(check_input(x)), quality)

    def _compress_y(self, y: Tensor, quality: int | None = None) -> dict[str, Any]:
        check_symbols(y)  # NaN or huge latents hang CompressAI's escape code (taco.bitstream.rans)
        out = self._latent_codec_call("compress", y, quality)
        return {"strings": out["strings"], "shape": out["shape"]}

    def _latent_codec_call(self, method: str, y: Tensor, quality: int | None) -> dict[str, Any]:
        if not self.uses_text and type(quality).__name__ in ("TextTokens", "str", "list"):
            # model(x, text) on a model without text puts the text where the quality goes
            raise TacoValueError(f"quality must be an int or None, not {type(quality).__name__} "
                             "(this model reads no text)")
        if codes_itself(self.latent_codec):  # takes the quality and checks it (gain_vectors)
            return getattr(self.latent_codec, method)(y, quality)
        check_quality(quality, None)
        return getattr(self.latent_codec, method)(y)

    @torch.no_grad()
    def decompress(self, strings: list[list[bytes]], shape: dict[str, Any]) -> dict[str, Tensor]:
        """Entropy-decode and synthesise. Takes no text: the decoder never sees a caption (nor a
        quality: a variable-rate model's is in ``shape``, as :meth:`compress` returns it)."""
        y_hat = self.latent_codec.decompress(strings, shape)["y_hat"]
        return {"x_hat": self.g_s(y_hat).clamp_(0, 1)}

    def latent_shapes(self, height: int, width: int, quality: int | None = None) -> dict[str, Any]:
        """The ``shape`` argument of :meth:`decompress` for a padded (height, width) input
        (coded at ``quality``: a variable-rate model needs it, a single-rate one takes None)."""
        if height % PAD_MULTIPLE or width % PAD_MULTIPLE:
            raise TacoValueError(f"size {height}x{width} is not a multiple of {PAD_MULTIPLE}")
        h, w = height // self.latent_scale, width // self.latent_scale
        shape: dict[str, Any] = {
            "y": [torch.Size([c, h, w]) for c in self.groups],
            "hyper": torch.Size([h // 4, w // 4]),
        }
        if codes_itself(self.latent_codec):
            if self.latent_codec.gain_vectors(quality) is not None:  # checks quality either way
                shape["quality"] = quality
        else:
            check_quality(quality, None)
        return shape
