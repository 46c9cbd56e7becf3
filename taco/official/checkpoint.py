"""Import a checkpoint of the TACO authors' code (GitHub effl-lab/TACO) as a taco checkpoint.

Their ``train.py`` saves ``torch.save({"epoch", "state_dict", "optimizer", "aux_optimizer",
"lr_scheduler", "best_psnr", ..., "best_lpips_model_path"}, "*.pth.tar")`` with the state dict of
the DistributedDataParallel wrapper (every key prefixed ``module.``) and the entropy-coder tables
never built (empty). ELIC checkpoints of the code TACO builds on (GitHub JiangWeibeta/ELIC) have
the same layout without the text modules; since its commit b240a4c (2024-09-25) their
entropy-parameter networks have other hidden widths, which import as ``param_widths="elic-2024"``
(:func:`param_widths_of`). Either file, or a bare state dict, imports here, and
so does one of CompressAI's ``Elic2022Official`` (its ``examples/train.py`` dict or a bare state
dict, ``module.`` or not, before or after ``update()``: :func:`compressai_key_to_taco`):

1. ``torch.load(..., weights_only=True)``: tensors and plain containers only, nothing else is
   ever unpickled (a file that needs more is refused);
2. ``module.`` stripped, every name mapped (:func:`official_key_to_taco`; the table is in
   docs/official.md), N, M, the channel groups, the context widths, the entropy-parameter
   widths and the text width read from the shapes (:func:`infer_config`);
3. every name and shape checked against the taco model of that config: a checkpoint of another
   architecture gives one error listing the missing and the unexpected keys;
4. the entropy-coder tables rebuilt (``update(force=True)``) and the result written with
   :func:`taco.models.save_checkpoint` (safetensors + config + fingerprint).

The model is taco's ``taco`` / ``elic`` in the reference layout (:mod:`taco.models.entropy`), whose
eval-mode forward gives the authors' x_hat and likelihoods (tests/official, docs/official.md); an
``Elic2022Official`` imports as ``elic`` in the ``compressai`` layout, which is it weight for weight
(the same likelihoods and strings). A taco model's own state dict is refused with how to save it.
"""

from __future__ import annotations

import errno
import os
import re
import reprlib
from pathlib import Path
from typing import Any

from torch import Tensor

from ..atomic import remove_stale_temporaries
from ..bitstream.container import model_id_problem
from ..errors import OutputExists, TacoValueError
from ..messages import shell_word, some
from ..models import ELIC, CheckpointError, ModelConfig, save_checkpoint
from ..models.architecture import build_model, build_on_meta
from ..models.checkpoint import (  # TABLE_BUFFERS: derived, their files leave them empty
    TABLE_BUFFERS,
    check_finite,
    check_quantiles,
    load_model_state,
)
from ..models.config import MAX_GROUPS, PARAM_WIDTHS, parameter_widths
from ..models.header import checkpoint_metadata
from ..models.registry import looks_like_path, not_a_file_message
from ..text import TEXT_ENCODER_DIMS, text_encoder_dim
from ..text.weights import load_torch_file

__all__ = [
    "OutputExists",
    "compressai_key_to_taco",
    "convert_state_dict",
    "import_checkpoint",
    "import_checkpoint_file",
    "infer_config",
    "official_key_to_taco",
    "read_official_state_dict",
]


# Their g_a is one nn.Sequential; ours is named stages (+ the adapter's three slots in TACO).
_TACO_G_A = {
    0: "base.stage1.0", 1: "base.stage1.1", 2: "base.stage1.2", 3: "base.stage1.3",
    4: "base.stage2.0", 5: "base.stage2.1", 6: "base.stage2.2", 7: "base.stage2.3",
    8: "adapter.ca1", 9: "base.stage3",
    10: "base.stage4.0", 11: "base.stage4.1", 12: "base.stage4.2", 13: "base.stage4.3",
    14: "adapter.ca2", 15: "adapter.ca3", 16: "base.stage5.0", 17: "base.stage5.1",
}
_ELIC_G_A = {
    0: "stage1.0", 1: "stage1.1", 2: "stage1.2", 3: "stage1.3",
    4: "stage2.0", 5: "stage2.1", 6: "stage2.2", 7: "stage2.3", 8: "stage3",
    9: "stage4.0", 10: "stage4.1", 11: "stage4.2", 12: "stage4.3", 13: "stage5.0", 14: "stage5.1",
}
# Residual bottleneck: their branch.{0,2,4} is CompressAI's conv1/conv2/conv3.
_RB = {"0": "conv1", "2": "conv2", "4": "conv3"}
# Injector / extractor: their attribute names -> taco's (the others are equal).
_ADAPTER = {"text_feature_dim_proj": "text_proj", "image_feature_dim_proj": "image_proj",
            "cross_attn": "attn"}
# Everything outside g_a / g_s: (their prefix, taco's), ``{i}`` standing for an index.
_ENTROPY_NAMES = (
    ("h_a.reduction.", "latent_codec.h_a."),
    ("h_s.increase.", "latent_codec.h_s."),
    ("entropy_bottleneck.", "latent_codec.entropy_bottleneck."),
    ("gaussian_conditional.", "latent_codec.gaussian_conditional."),
    ("local_context.{i}.", "latent_codec.spatial_context.{i}."),
    ("channel_context.{i}.fushion.", "latent_codec.channel_context.{i}."),
    ("entropy_parameters_anchor.{i}.fusion.", "latent_codec.anchor_parameters.{i}."),
    ("entropy_parameters_nonanchor.{i}.fusion.", "latent_codec.nonanchor_parameters.{i}."),
)


def _prefix_rule(source: str, target: str) -> tuple[re.Pattern[str], str]:
    """A name starting with ``source`` -> the same name starting with ``target`` (the index of
    ``{i}`` carried over), as a pattern and its replacement."""
    pattern = r"(?P<i>\d+)".join(re.escape(part) for part in source.split("{i}"))
    return re.compile(f"^{pattern}(?P<rest>.*)"), target.replace("{i}", r"\g<i>") + r"\g<rest>"


_ENTROPY = tuple(_prefix_rule(theirs, ours) for theirs, ours in _ENTROPY_NAMES)
_ENTROPY_BACK = tuple(_prefix_rule(ours, theirs) for theirs, ours in _ENTROPY_NAMES)
_G_A = re.compile(r"^g_a\.analysis_transform\.(\d+)\.(.*)")
_G_S = re.compile(r"^g_s\.synthesis_transform\.(\d+)\.(.*)")
_BRANCH = re.compile(r"^branch\.(\d)\.(.*)")
# Residual bottlenecks inside their g_s (the others: attention blocks, deconvolutions).
_G_S_RBS = {2, 3, 4, 7, 8, 9, 11, 12, 13}


def _inner(rest: str) -> str:
    """Names inside one block: residual bottleneck branch, adapter attributes; others equal."""
    m = _BRANCH.match(rest)
    if m and m.group(1) in _RB:
        return f"{_RB[m.group(1)]}.{m.group(2)}"
    head, _, tail = rest.partition(".")
    return f"{_ADAPTER.get(head, head)}{'.' if tail else ''}{tail}"


# CompressAI before its ParameterList rename saved the bottleneck's ``_matrix0``, ``_bias0``,
# ``_factor0``; its CompressionModel.load_state_dict (so the authors' loader) reads them as
# ``matrices.0``, ``biases.0``, ``factors.0``, and so does this import.
_OLD_BOTTLENECK = re.compile(r"^entropy_bottleneck\._(matrix|bias|factor)(\d+)$")
_BOTTLENECK_LISTS = {"matrix": "matrices", "bias": "biases", "factor": "factors"}


def official_key_to_taco(key: str, architecture: str = "taco") -> str | None:
    """The taco name of one key of the authors' state dict (``module.`` already stripped), or
    None for a key taco has no place for. ``architecture`` picks the g_a numbering; the entropy
    bottleneck's names of older CompressAI versions (``_matrix0``) are read as its current ones
    (``matrices.0``), as CompressAI loads them."""
    key = _OLD_BOTTLENECK.sub(lambda m: f"entropy_bottleneck.{_BOTTLENECK_LISTS[m.group(1)]}."
                              f"{m.group(2)}", key)
    m = _G_A.match(key)
    if m:
        index, rest = int(m.group(1)), m.group(2)
        stage = (_TACO_G_A if architecture == "taco" else _ELIC_G_A).get(index)
        return None if stage is None else f"g_a.{stage}.{_inner(rest)}"
    m = _G_S.match(key)
    if m:
        index, rest = int(m.group(1)), m.group(2)
        return f"g_s.{index}.{_inner(rest) if index in _G_S_RBS else rest}"
    for pattern, repl in _ENTROPY:
        if pattern.match(key):
            return pattern.sub(repl, key)
    return None


# Their names of taco's inside one block, for a missing tensor: _RB and _ADAPTER read backwards.
_INNER_BACK = {**{ours: f"branch.{theirs}" for theirs, ours in _RB.items()},
               **{ours: theirs for theirs, ours in _ADAPTER.items()}}
_TACO_G_S = re.compile(r"^g_s\.(\d+)\.(.*)")


def _inner_back(rest: str) -> str:
    head, _, tail = rest.partition(".")
    return f"{_INNER_BACK.get(head, head)}{'.' if tail else ''}{tail}"


def _official_name(name: str, architecture: str = "taco") -> str | None:
    """The authors' name (without ``module.``) of a taco key: :func:`official_key_to_taco`
    backwards, for naming a tensor a file lacks; None for a name it does not give."""
    if name.startswith("g_a."):
        for index, stage in (_TACO_G_A if architecture == "taco" else _ELIC_G_A).items():
            if name.startswith(f"g_a.{stage}."):
                return f"g_a.analysis_transform.{index}.{_inner_back(name[len(stage) + 5:])}"
        return None
    m = _TACO_G_S.match(name)
    if m:
        index, rest = int(m.group(1)), m.group(2)
        return f"g_s.synthesis_transform.{index}.{_inner_back(rest) if index in _G_S_RBS else rest}"
    for pattern, repl in _ENTROPY_BACK:
        if pattern.match(name):
            return pattern.sub(repl, name)
    return None


# CompressAI's Elic2022Official (compressai.models) is taco's layout="compressai" ELIC name for
# name, but for g_a: one nn.Sequential there (g_a.{i}), named stages here (_ELIC_G_A).
_CAI_G_A = re.compile(r"^g_a\.(\d+)\.(.*)")
_CAI_KEYS = ("latent_codec.hyper.", "latent_codec.y.")
_CAI_GROUP = re.compile(r"^latent_codec\.y\.latent_codec\.y(\d+)\.")
_CAI = "CompressAI's Elic2022Official"
# taco's own g_a names (ELIC's stages, TACO's base and adapter): a taco model's state dict
_OWN_G_A = re.compile(r"^g_a\.(stage\d|base\.|adapter\.)")


def _own_state_dict_problem(state: dict[str, Any], loaded: str) -> str | None:
    """What to do with ``state`` if it is a taco model's own state dict (``module.`` stripped;
    taco's ``g_a.stage*`` / ``base.`` / ``adapter.`` names), else None: load it into its model,
    built in the layout its keys show (``layout='compressai'`` where ``latent_codec.hyper.*``
    keys are, as the built-in trained models' are), and save that with ``save_checkpoint``.
    ``loaded``: the Python expression of the state to give ``load_state_dict``
    (``torch.load(FILE)``, or what takes the ``state_dict`` entry and strips ``module.``)."""
    own = next((k for k in state if _OWN_G_A.match(k)), None)
    if own is None:
        return None
    layout = ", layout='compressai'" if any(k.startswith("latent_codec.hyper.") for k in state) else ""
    return (f"a taco model's own state dict ({_shown(own, 60)} is taco's name), not a checkpoint of the "
            f"authors' TACO or ELIC or of {_CAI}: nothing to import; load it into its model, "
            f"model = taco.load(NAME) for a fine-tune of the built-in model NAME, else "
            f"model = taco.create_model(NAME{layout}, ...) (the architecture and options it was "
            f"made with), then model.load_state_dict({loaded}) and "
            "taco.save_checkpoint(model, 'MODEL.safetensors'), which taco compress -m and "
            "taco.load read")


def compressai_key_to_taco(key: str) -> str | None:
    """The taco name (``layout="compressai"`` ELIC) of one key of a CompressAI
    ``Elic2022Official`` state dict (``module.`` already stripped): g_a's index -> taco's stage,
    every other name as it is; None for a g_a index past ELIC's 14."""
    m = _CAI_G_A.match(key)
    if m:
        stage = _ELIC_G_A.get(int(m.group(1)))
        return None if stage is None else f"g_a.{stage}.{m.group(2)}"
    return key


# --------------------------------------------------------------------------- reading


def read_official_state_dict(path: str | os.PathLike[str]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The model weights of an authors' checkpoint -> (state dict without ``module.``, info).

    ``info`` has the file's other plain entries (``epoch``, ``best_*``) for the record. Loaded
    with ``weights_only=True``; optimizer and scheduler states are read (plain data) and dropped.
    """
    path = _checked_source(path)
    try:
        obj = load_torch_file(path)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict (a checkpoint or a state dict), got "
                              f"{type(obj).__name__}")
    state = obj.get("state_dict", obj)
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{path}: 'state_dict' is not a non-empty dict of tensors")
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        _check_entry(path, obj, key, value)
        name = key.removeprefix("module.")
        if name in out:  # both 'module.x' and 'x': which one the model was is not known
            raise CheckpointError(f"{path}: {_shown(_first_key(state, name))} and {_shown(key)} "
                                  f"both give {_shown(name)}")
        out[name] = value
    entries = "torch.load(FILE)['state_dict']" if "state_dict" in obj else "torch.load(FILE)"
    if any(k.startswith("module.") for k in state):
        entries = f"{{k.removeprefix('module.'): v for k, v in {entries}.items()}}"
    if problem := _own_state_dict_problem(out, entries.replace("FILE", repr(os.fspath(path)))):
        raise CheckpointError(f"{path}: {problem}")
    stored = sum(v.numel() * v.element_size() for v in out.values())
    if stored > 2 * path.stat().st_size + (1 << 20):  # many tensors viewing one storage
        raise CheckpointError(f"{path}: its tensors hold {stored:,} bytes, more than the "
                              f"{path.stat().st_size:,}-byte file stores: not a saved model's weights")
    info = {k: v for k, v in obj.items()
            if isinstance(k, str) and k != "state_dict" and isinstance(v, (int, float, str))}
    return out, info


def _checked_source(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if it is a file to import: not a folder, a pipe, a device, a broken
    link (:func:`not_a_file_message`, as ``taco.load`` says it), a missing file or a taco
    checkpoint; else the CheckpointError saying which (checked in that order)."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file")
    shown = os.fspath(path)
    problem = not_a_file_message(path, shown[: len(shown) - len(path.name)])  # as taco.load says it
    if problem:  # a pipe, a device, a broken link
        raise CheckpointError(problem)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if _is_taco_checkpoint(path):  # (torch.load reads a safetensors file's tensors too)
        # -m reads text with no folder part and no checkpoint ending as a model name taco may know: ./NAME
        given = os.fspath(path) if looks_like_path(os.fspath(path)) else f"./{path}"
        raise CheckpointError(
            f"{path}: a taco checkpoint already, nothing to import: give it as the model "
            f"(taco compress -m {shell_word(given)}; taco.load in Python)")
    return path


def _check_entry(path: Path, obj: dict[Any, Any], key: Any, value: Any) -> None:
    """Refuse one entry ``key: value`` of the state dict of ``obj`` (the file's dict, read from
    ``path``) unless it is a name and a tensor that owns its values: a bare state dict's
    non-tensor (a dict of something else: its top-level keys), a non-tensor entry, a view that
    repeats its storage."""
    if "state_dict" not in obj and not isinstance(value, Tensor):
        keys = list(obj)
        raise CheckpointError(
            f"{path}: no 'state_dict' entry (the key taco reads the weights from, as the "
            f"authors' train.py writes them), and not a bare state dict: its entry {_shown(key)} "
            f"is no tensor (top-level keys: {some([_shown(k, 40) for k in keys[:8]] + keys[8:], 8)})")
    if not isinstance(key, str) or not isinstance(value, Tensor):
        raise CheckpointError(f"{path}: the state dict holds a non-tensor entry {_shown(key)}")
    if value.untyped_storage().nbytes() < value.numel() * value.element_size():
        # a view that repeats its storage (stride 0, overlapping strides): a 132 KB file
        # declared 96 M parameters (2.2 GB to import); torch.save never writes a parameter so
        raise CheckpointError(f"{path}: tensor {_shown(key)} is a view of {value.numel():,} "
                              f"values over storage of {value.untyped_storage().nbytes():,} "
                              "bytes: not a saved model's weights")


#: How a key of a loaded file that is not a string is shown: a few levels and items of it (a
#: tuple nested 28 deep of shared halves is 1.4 KB in a file and 2**28 items in full)
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxtuple = _REPR.maxlist = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 4
_REPR.maxstring = _REPR.maxlong = _REPR.maxother = 40


def _shown(key: object, width: int = 80) -> str:
    """A key (or other value) of a loaded file as a message shows it: its repr cut at ``width``
    characters, made of a bounded part of it (a few levels and items of a tuple; the first
    ``width`` characters of a string): never the whole of what may be gigabytes in full."""
    if isinstance(key, str):
        return f"{key[:width]!r:.{width}}"
    try:
        return f"{_REPR.repr(key):.{width}}"
    except (ValueError, RecursionError):  # an int past Python's 4,300 digits to a str
        return f"a {type(key).__name__}"


def _first_key(state: dict[str, Any], name: str) -> str:
    """The key of ``state`` that gave ``name`` first (``module.`` stripped)."""
    return next(k for k in state if isinstance(k, str) and k.removeprefix("module.") == name)


def _is_taco_checkpoint(path: Path) -> bool:
    """Whether ``path`` is a taco checkpoint (a safetensors file with a taco header)."""
    try:
        return "taco" in checkpoint_metadata(path)
    except CheckpointError:
        return False


def _shape(state: dict[str, Tensor], key: str, dims: int = 4,
           source: str = "the authors' TACO or ELIC") -> tuple[int, ...]:
    """The shape of ``state[key]``, which must be a ``dims``-dimensional tensor (a convolution's
    weight: 4) with no empty dimension; ``source`` names the checkpoint kind in the refusal."""
    if key not in state:
        raise CheckpointError(
            f"no tensor {key!r}: not a checkpoint of {source} "
            f"(first keys: [{', '.join(_shown(k, 40) for k in sorted(state)[:5])}])"
        )
    shape = tuple(state[key].shape)
    if len(shape) != dims or 0 in shape:
        raise CheckpointError(f"{key} is {list(shape)}: not a checkpoint of {source} "
                              f"(expected a {dims}-dimensional weight with no empty dimension)")
    return shape


_LOCAL_CONTEXT = re.compile(r"^local_context\.(\d+)\.")
# Where the adapter's text width shows: the injectors' text projection (text -> image width)
# takes it as input, the extractor's image projection gives it as output.
_TEXT_WIDTH_KEYS = (("g_a.analysis_transform.8.text_feature_dim_proj.weight", 1),
                    ("g_a.analysis_transform.15.text_feature_dim_proj.weight", 1),
                    ("g_a.analysis_transform.14.image_feature_dim_proj.weight", 0))


def _taco_only(key: str) -> bool:
    """Whether ``key`` (``module.`` stripped) is a name only the authors' TACO has: one of the
    adapter's modules, or a g_a index past ELIC's last (14)."""
    m = _G_A.match(key)
    return m is not None and (int(m.group(1)) > max(_ELIC_G_A)
                              or m.group(2).partition(".")[0] in _ADAPTER)


def infer_config(state: dict[str, Tensor], text_encoder: str | None = "clip") -> ModelConfig:
    """The taco :class:`ModelConfig` of an authors' state dict (keys without ``module.``).

    TACO if any of its keys is one only TACO has (an adapter's projection or attention, a g_a
    index past ELIC's 14), else ELIC. N, M, the channel groups, the channel-context widths,
    the entropy-parameter widths (:func:`param_widths_of`) and the text width come from tensor
    shapes. ``text_encoder``
    (taco's name) must produce tokens of the checkpoint's text width (CLIP: 512); 8 attention
    heads, as in their code (head counts are not visible in the weights). A CompressAI
    ``Elic2022Official`` state dict (``latent_codec.hyper.*`` / ``latent_codec.y.*`` keys) gives
    ``elic`` with ``layout="compressai"``; a taco model's own state dict is refused with what to
    do with it.
    """
    if problem := _own_state_dict_problem(state, "torch.load(FILE)"):
        raise CheckpointError(problem)
    if any(k.startswith(_CAI_KEYS) for k in state):
        return _compressai_config(state)
    architecture = "taco" if any(map(_taco_only, state)) else "elic"
    N, M = _shape(state, "h_a.reduction.0.weight")[:2]  # conv3x3 M -> N: (N, M, 3, 3)
    # one spatial context per group: counted from every local_context.{k}.* key, so a file
    # lacking one group's weight is told so rather than that the others do not sum to M
    count = 1 + max((int(m.group(1)) for k in state if (m := _LOCAL_CONTEXT.match(k))), default=0)
    if count > MAX_GROUPS:
        raise CheckpointError(f"local_context.{count - 1}.*: {count} channel groups, over the "
                              f"{MAX_GROUPS} of any taco model: not a checkpoint of the authors' "
                              "TACO or ELIC")
    groups = [_shape(state, f"local_context.{k}.weight")[1] for k in range(count)]
    ctx_hidden = [224, 128]
    if len(groups) > 1:
        ctx_hidden = [_shape(state, "channel_context.1.fushion.0.weight")[0],
                      _shape(state, "channel_context.1.fushion.2.weight")[0]]
    if sum(groups) != M:
        raise CheckpointError(f"channel groups {groups} (from local_context.*) do not sum to "
                              f"M={M} (from h_a): not a checkpoint of the authors' TACO or ELIC")
    widths = param_widths_of(state, M, groups) or "elic-2023"  # fitting neither: told by the check
    if architecture == "elic":
        return _config(architecture="elic", N=N, M=M, groups=groups, ctx_hidden=ctx_hidden,
                       param_widths=widths)
    if text_encoder is None:
        raise CheckpointError("a TACO checkpoint needs a text encoder (e.g. 'clip')")
    try:
        want = text_encoder_dim(text_encoder)
    except KeyError:
        raise CheckpointError(f"unknown text encoder {text_encoder!r}") from None
    # the text width, from the first of the adapter's projections the file has; with none of
    # them, the encoder's, and the check against the model lists what is missing
    seen = [_shape(state, key, 2)[axis] for key, axis in _TEXT_WIDTH_KEYS if key in state]
    text_dim = seen[0] if seen else want
    if want != text_dim:
        fits = [name for name, dim in TEXT_ENCODER_DIMS.items() if dim == text_dim]
        widths = ", ".join(f"{name} {dim}" for name, dim in TEXT_ENCODER_DIMS.items())
        hint = (f"{' and '.join(map(repr, fits))} gives {text_dim}: import with --text-encoder "
                f"{fits[0]} (text_encoder={fits[0]!r})" if fits
                else f"no taco text encoder gives {text_dim} ({widths})")
        raise CheckpointError(
            f"the checkpoint's adapter takes text tokens of width {text_dim}; the text encoder "
            f"{text_encoder!r} gives {want} (the authors' TACO uses CLIP ViT-B/32: 'clip', 512); "
            f"{hint}"
        )
    return _config(architecture="taco", N=N, M=M, groups=groups, ctx_hidden=ctx_hidden,
                   text_encoder={"name": text_encoder}, heads=8, residual="paper", use_mask=False,
                   param_widths=widths)


def param_widths_of(state: dict[str, Tensor], M: int, groups: list[int]) -> str | None:
    """The rule (:data:`taco.models.config.PARAM_WIDTHS`) of the hidden widths of an authors'
    entropy-parameter networks (``entropy_parameters_{anchor,nonanchor}.k.fusion.{0,2}.weight``,
    keys without ``module.``): the first rule that every network the file has fits, "elic-2023"
    (JiangWeibeta/ELIC's released code, effl-lab/TACO) before "elic-2024" (JiangWeibeta/ELIC
    since b240a4c, 2024-09-25); None when none fits them all."""
    seen: list[tuple[int, int, tuple[int, int]]] = []  # (in, out, (h1, h2)) of each network
    for k, c in enumerate(groups):
        for kind, inputs in (("anchor", 2 * M + 2 * c * (k > 0)), ("nonanchor", 2 * M + 2 * c * (1 + (k > 0)))):
            first, second = (state.get(f"entropy_parameters_{kind}.{k}.fusion.{i}.weight") for i in (0, 2))
            if isinstance(first, Tensor) and isinstance(second, Tensor) and first.dim() and second.dim():
                seen.append((inputs, 2 * c, (first.shape[0], second.shape[0])))
    return next((rule for rule in PARAM_WIDTHS
                 if all(parameter_widths(rule, i, o) == hidden for i, o, hidden in seen)), None)


def _widths_problem(config: ModelConfig, wrong: list[str]) -> str:
    """What a shape refusal adds when entropy-parameter networks are among the ``wrong``
    tensors: the hidden widths taco builds, each upstream rule's, neither of which fits."""
    if config.layout != "reference" or not any("_parameters." in w for w in wrong):
        return ""
    return ("; the entropy parameters' hidden widths fit neither JiangWeibeta/ELIC's released "
            "code (out*5//3, out*4//3: param_widths 'elic-2023', also effl-lab/TACO's) nor its "
            "code since 2024-09-25 (in*2//3 + out//3, in//3 + out*2//3: 'elic-2024')")


def _compressai_config(state: dict[str, Tensor]) -> ModelConfig:
    """The taco config of a CompressAI ``Elic2022Official`` state dict: ``elic``,
    ``layout="compressai"``, N and M from h_a, the groups from the spatial contexts, the
    channel-context widths from the first channel context (CompressAI's 224 and 128)."""
    N, M = _shape(state, "latent_codec.hyper.h_a.0.weight", source=_CAI)[:2]  # (N, M, 3, 3)
    count = 1 + max((int(m.group(1)) for k in state if (m := _CAI_GROUP.match(k))), default=0)
    if count > MAX_GROUPS:
        raise CheckpointError(f"latent_codec.y.latent_codec.y{count - 1}.*: {count} channel groups, "
                              f"over the {MAX_GROUPS} of any taco model: not a checkpoint of {_CAI}")
    groups = [_shape(state, f"latent_codec.y.latent_codec.y{k}.context_prediction.weight",
                     source=_CAI)[1] for k in range(count)]
    ctx_hidden = [224, 128]
    if len(groups) > 1:
        ctx_hidden = [_shape(state, f"latent_codec.y.channel_context.y1.{i}.weight", source=_CAI)[0]
                      for i in (0, 2)]
    if sum(groups) != M:
        raise CheckpointError(f"channel groups {groups} (from the context predictions) do not sum "
                              f"to M={M} (from h_a): not a checkpoint of {_CAI}")
    return _config(architecture="elic", N=N, M=M, groups=groups, ctx_hidden=ctx_hidden,
                   layout="compressai", source=_CAI)


def _config(source: str = "the authors' TACO or ELIC", **fields: Any) -> ModelConfig:
    """The ModelConfig of sizes read from a file's shapes; sizes it refuses (N = 0 or 70,000,
    65 groups, heads not dividing a width) are the file's CheckpointError."""
    try:
        return ModelConfig(**fields)
    except ValueError as exc:
        raise CheckpointError(f"sizes no taco model has ({exc}): not a checkpoint of "
                              f"{source}") from None


def _source(config: ModelConfig) -> str:
    """What the checkpoint of ``config`` (an inferred one) was: its maker and model."""
    return _CAI if config.layout == "compressai" else f"the authors' {config.architecture.upper()}"


def _listing(keys: set[str], limit: int = 8, architecture: str | None = None) -> str:
    """``N: a, b, ... and M more``; with ``architecture``, each taco name followed by theirs."""
    def shown(key: str) -> str:
        theirs = architecture and _official_name(key, architecture)
        name = key if len(key) <= 80 else f"{key[:79]}…"  # a file's key may be any length
        return f"{name} (theirs {theirs})" if theirs else name
    ordered = sorted(keys)
    return f"{len(keys)}: {some([shown(k) for k in ordered[:limit]] + ordered[limit:], limit)}" if keys else "none"


def convert_state_dict(
    state: dict[str, Tensor], text_encoder: str | None = "clip"
) -> tuple[ModelConfig, dict[str, Tensor]]:
    """An authors' (or CompressAI's ``Elic2022Official``) state dict (``module.`` stripped) ->
    (taco config, taco state dict).

    Raises :class:`CheckpointError` unless the names map one-to-one onto the taco model of the
    inferred config (derived entropy-coder tables aside) and every shape matches.
    """
    config = infer_config(state, text_encoder)
    compressai = config.layout == "compressai"

    def to_taco(key: str) -> str | None:
        return compressai_key_to_taco(key) if compressai else official_key_to_taco(key, config.architecture)
    reference = build_on_meta(config).state_dict()  # shapes only: no memory, no initialisation
    mapped: dict[str, Tensor] = {}
    unknown: set[str] = set()
    for key, value in state.items():
        if key.rsplit(".", 1)[-1] in TABLE_BUFFERS:
            continue  # empty in their files; rebuilt from the weights
        name = to_taco(key)
        if name is None or name not in reference:
            unknown.add(key)
        elif name in mapped:  # an old and a new bottleneck name ('_matrix0', 'matrices.0')
            first = next(k for k in state if to_taco(k) == name)
            raise CheckpointError(f"{_shown(first)} and {_shown(key)} both give {_shown(name)}")
        else:
            mapped[name] = value
    optional = {k for k in reference if k.rsplit(".", 1)[-1] in TABLE_BUFFERS}
    missing = set(reference) - set(mapped) - optional - _constant_buffers(reference)
    if missing or unknown:
        raise CheckpointError(
            f"the weights do not fit {_source(config)} with N={config.N}, "
            f"M={config.M}, groups {config.groups}: missing (taco names) "
            f"{_listing(missing, architecture=None if compressai else config.architecture)}; "
            f"unexpected (their names) {_listing(unknown)}"
        )
    wrong = [f"{k} {tuple(v.shape)} (expected {tuple(reference[k].shape)})"
             for k, v in mapped.items() if v.shape != reference[k].shape]
    wrong += [f"{k} is {v.dtype} (expected a real floating-point tensor)" for k, v in mapped.items()
              if reference[k].is_floating_point() and not v.is_floating_point()]
    if wrong:
        raise CheckpointError(f"tensor shapes do not fit the inferred architecture: "
                              f"{'; '.join(wrong[:8])}{' ...' if len(wrong) > 8 else ''}"
                              f"{_widths_problem(config, wrong)}")
    return config, mapped


def _constant_buffers(reference: dict[str, Tensor]) -> set[str]:
    """Buffers set at construction (likelihood bounds, the bottleneck's target) that some
    CompressAI versions do not save: taco's own values are used where a file lacks them."""
    return {k for k in reference if k.endswith(("likelihood_lower_bound.bound",
                                                "lower_bound_scale.bound", "scale_bound",
                                                "entropy_bottleneck.target"))}


#: The most characters of the authors' file's text that an import keeps in the checkpoint's
#: metadata, each: the records are a few words (``best_psnr``, an epoch), and a 2,000,000-character
#: ``best_*`` string made a taco header too long for taco to read back. Longer names are left
#: out, longer values cut with an ellipsis.
SOURCE_TEXT_CHARS = 200


def _shortened(value: Any) -> Any:
    """``value``, a string cut to :data:`SOURCE_TEXT_CHARS` characters (its last one "…")."""
    if isinstance(value, str) and len(value) > SOURCE_TEXT_CHARS:
        return value[: SOURCE_TEXT_CHARS - 1] + "…"
    return value


def _checked_model(state: dict[str, Tensor], text_encoder: str | None) -> tuple[ModelConfig, ELIC]:
    """The taco model of an authors' state dict (``module.`` stripped), its weights loaded and
    checked (:func:`convert_state_dict`, :func:`check_finite`, :func:`check_quantiles`), its
    tables not yet built; the refusals are CheckpointErrors, which :func:`import_checkpoint`
    prefixes with the file. ``build_model`` and ``load_model_state`` add none of their own:
    the same config was built already (``build_on_meta`` in :func:`convert_state_dict`), and a
    load that rebuilds no table refuses only with torch's RuntimeError."""
    config, mapped = convert_state_dict(state, text_encoder)
    model = build_model(config)
    # not CompressAI's load_state_dict: it wants the (derived, here absent) coder tables in the dict
    result = load_model_state(model, mapped, strict=False)
    assert not result.unexpected_keys  # checked by convert_state_dict
    check_finite(mapped)  # NaN made update() fail in CompressAI's pmf_to_quantized_cdf
    check_quantiles(model)  # ±10^6 made update() run for minutes in GBs
    return config, model


def import_checkpoint(
    path: str | os.PathLike[str], text_encoder: str | None = "clip", model_id: str | None = None
) -> ELIC:
    """An authors' checkpoint -> taco model (eval mode, entropy tables built), not yet saved; a
    CompressAI ``Elic2022Official`` one likewise (``elic``, ``layout="compressai"``).

    ``model_id`` names the model in its checkpoint and in every ``.taco`` header made with it
    (``taco info``, evaluation labels): by default ``taco-official``, ``elic-official`` or (from
    CompressAI) ``elic-compressai``, none of taco's own names, so such a file is decoded with the model given (docs/format.md). Any
    model id is printable text of 1 to 255 UTF-8 bytes
    (:func:`taco.bitstream.container.model_id_problem`).
    """
    problem = None if model_id is None else model_id_problem(model_id)
    if problem:
        raise TacoValueError(f"model id {model_id!r}: {problem}")
    state, info = read_official_state_dict(path)
    try:
        config, model = _checked_model(state, text_encoder)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    model.eval()
    model.update(force=True)
    compressai = config.layout == "compressai"
    model.model_id = model_id or ("elic-compressai" if compressai else f"{config.architecture}-official")
    model.metadata = {
        "imported_from": (f"{_CAI} checkpoint" if compressai else "effl-lab/TACO checkpoint")
        + " (taco import-checkpoint)",
        "source_file": _shortened(Path(path).name),
        **{f"source_{k}": _shortened(v) for k, v in info.items()
           if len(k) <= SOURCE_TEXT_CHARS and (k == "epoch" or k.startswith("best_")
                                               and not k.endswith("_path"))},
    }
    return model


def import_checkpoint_file(
    path: str | os.PathLike[str], output: str | os.PathLike[str], text_encoder: str | None = "clip",
    model_id: str | None = None, force: bool = False,
) -> Path:
    """:func:`import_checkpoint` and write the result with :func:`save_checkpoint` to ``output``;
    an existing ``output`` (a symbolic link of its name too, whether or not it points to a
    file: as ``taco compress`` and ``taco demo`` count their outputs) is :class:`OutputExists`
    before anything is read, unless ``force``, which replaces it (as ``taco import-checkpoint``
    wants ``--force``). A link is written through, as by every taco writer
    (:mod:`taco.atomic`), ``cp`` and the shell's ``>``: the file it points to is replaced (written
    where it points to nothing yet, if that folder exists; else :class:`FileNotFoundError`
    naming ``output``) and the link stays. Without ``force``, an ``output`` that another process
    wrote while this one imported (two imports to one file) is not replaced either: the file is
    published only if nothing has its name then (:func:`taco.atomic.write_bytes_atomic` with
    ``replace=False``), else it is a :class:`FileExistsError` naming ``output`` (not an
    :class:`OutputExists`: ``output`` was checked and not there)."""
    if not force and os.path.lexists(output):
        raise OutputExists(errno.EEXIST, "exists; pass force=True to overwrite it", os.fspath(output))
    remove_stale_temporaries([Path(output)])  # what an import killed while writing it left
    return save_checkpoint(import_checkpoint(path, text_encoder, model_id), output, replace=force)
