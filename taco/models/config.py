"""A model's architecture as data (:class:`ModelConfig`), without torch: what a checkpoint's
header holds, what ``taco models`` lists and what ``--model`` names resolve to, known before any
model is built (:mod:`taco.models.architecture` builds one).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..bitstream.container import PAD_MULTIPLES, PAD_REPLICATE_64
from ..checks import as_float, is_int, is_number
from ..errors import TacoError, TacoValueError
from ..messages import did_you_mean, docs_ref
from ..recipe import LAMBDAS

#: The entropy model's layouts (:mod:`taco.models.elic`): the authors' code, and CompressAI's
#: ``Elic2022Official`` (the first built-in models).
LAYOUTS = ("reference", "compressai")

#: The hidden widths of the reference layout's entropy-parameter networks (1x1 convolutions
#: in -> h1 -> h2 -> out, :func:`parameter_widths`): "elic-2023" out*5//3, out*4//3, as in
#: JiangWeibeta/ELIC's released code (0ffce54, 2023-04-26) and effl-lab/TACO, the default;
#: "elic-2024" in*2//3 + out//3, in//3 + out*2//3, as in JiangWeibeta/ELIC since b240a4c
#: (2024-09-25). docs/official.md, "ELIC checkpoints".
PARAM_WIDTHS = ("elic-2023", "elic-2024")


def parameter_widths(rule: str, in_ch: int, out_ch: int) -> tuple[int, int]:
    """The two hidden widths of an entropy-parameter network from ``in_ch`` to ``out_ch``
    channels under ``rule`` (one of :data:`PARAM_WIDTHS`)."""
    check_choice("param_widths", rule, PARAM_WIDTHS)
    if rule == "elic-2024":
        return in_ch * 2 // 3 + out_ch // 3, in_ch // 3 + out_ch * 2 // 3
    return out_ch * 5 // 3, out_ch * 4 // 3

#: How a TACO model's encoder takes the text (:class:`taco.models.TextGuidedAnalysis`): the
#: paper's adapter, or TGIC's image-text attention (the ablation of issue 8).
TEXT_INJECTIONS = ("adapter", "tgic")

#: Where the text enters g_a: at H/4 and H/8 (the paper's), at H/4 only, or at H/8 only.
INJECTOR_POSITIONS = ("both", "h4", "h8")

#: The text injectors' residual R(v) (:mod:`taco.models.adapter`): LN(v) as in the paper, or v.
RESIDUALS = ("paper", "identity")

#: Architectures a config may name, and those among them that read no text (their model class's
#: ``uses_text`` is False: tests/models/test_registry.py holds the two to each other).
#: :func:`taco.models.register_architecture` adds to both, in place: a module that imported them
#: by name sees a backbone registered later.
ARCHITECTURES: list[str] = ["taco", "elic"]
TEXTLESS_ARCHITECTURES: list[str] = ["elic"]

#: The architectures taco itself builds: ELIC's fields (``groups``, ``ctx_hidden``, ``layout``,
#: the text options) are theirs; a registered backbone takes its own settings from ``options``.
BUILTIN_ARCHITECTURES = ("taco", "elic")

#: Total down-sampling factor of g_a (y) times that of h_a (z): a coded image is padded to a
#: multiple of it (:mod:`taco.models.elic` codes with it; ``taco train`` checks crops without torch).
#: The multiple of the ``.taco`` header's padding scheme (:data:`taco.bitstream.container.PAD_MULTIPLES`).
PAD_MULTIPLE = PAD_MULTIPLES[PAD_REPLICATE_64]

#: Qualities a model may have: the ``.taco`` header stores the quality in one byte (0 = single-rate).
MAX_QUALITIES = 255

#: The λ of the built-in variable-rate models' qualities 1..7: the paper's six rate points
#: (:data:`taco.recipe.LAMBDAS`, §4.1) and one lower, 2e-4, continuing the doubling of the low
#: end. Seven gives the default a true middle, quality 4 = λ 0.0016 (the paper's third point),
#: and reaches the low rates (≈ 0.1 bpp and below) where previews live and AVIF is the classic
#: to beat.
QUALITY_LAMBDAS: tuple[float, ...] = (0.0002, *LAMBDAS)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """TacoValueError naming option ``name`` and its ``choices`` unless ``value`` is one of them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices[:-1])
        listed = f"{listed} or {choices[-1]!r}" if listed else repr(choices[-1])
        raise TacoValueError(f"{name} must be {listed}, got {value!r}")


#: Settings a config gives in fields of its own, never in ``options``: a class builder
#: (:func:`taco.models.architecture.class_builder`) passes them beside the options.
OWN_FIELDS = ("N", "M", "qualities")


def check_options(options: Any, architecture: str) -> dict[str, Any]:
    """A copy of a config's ``options``; TacoValueError unless a mapping of names to JSON values
    (what a checkpoint's header can hold), without the config's own fields (:data:`OWN_FIELDS`)
    and empty for taco's own architectures."""
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise TacoValueError(f"options must be a mapping of names to values, got {options!r:.200}")
    if options and architecture in BUILTIN_ARCHITECTURES:
        raise TacoValueError(f"architecture {architecture!r} takes no options, got {sorted(options)}")
    if own := [k for k in OWN_FIELDS if k in options]:
        raise TacoValueError(f"options must not give {', '.join(own)}: the config's own fields do")
    try:
        return json.loads(json.dumps(options, allow_nan=False))
    except (TypeError, ValueError):
        raise TacoValueError(f"options must hold JSON values (numbers, text, lists, mappings), "
                             f"got {options!r:.200}") from None


def default_quality(num_qualities: int) -> int:
    """The quality used when none is asked for: the middle one (the lower middle for even Q)."""
    return (num_qualities + 1) // 2


def check_lambdas(qualities: Sequence[float]) -> list[float]:
    """The λ of each quality as Python floats; TacoValueError unless a list, tuple or 1-D array (or
    tensor) of 1..255 finite numbers > 0 (NumPy's too, a float32 or float16 one read as its
    shortest decimal; not bools or strings: a header's ``true`` or ``"0.2"`` is no λ), strictly
    ascending."""
    # A NumPy value cannot exist unless NumPy is imported: taco models, taco train --print-config
    # and taco info read this module and need not pay for it (60 ms)
    np = sys.modules.get("numpy")
    if np is not None and hasattr(qualities, "tolist") and getattr(qualities, "ndim", None) == 1:
        qualities = list(np.asarray(qualities))  # a NumPy array (or a tensor) of λ values
    if not isinstance(qualities, list | tuple):
        raise TacoValueError(f"qualities must be a list of λ values, got {qualities!r:.60}")
    if not 1 <= len(qualities) <= MAX_QUALITIES:
        raise TacoValueError(f"qualities must list 1..{MAX_QUALITIES} λ values, got {len(qualities)}")
    lambdas = []
    for value in qualities:
        number = as_float(value)
        if number is None or number <= 0:
            raise TacoValueError(f"qualities must be positive λ values, got {list(qualities)!r:.200}")
        if np is not None and isinstance(value, np.floating) and np.finfo(value.dtype).bits < 64:
            # float32's 0.0002 is 0.00019999999494757503 as a float: the shortest decimal that
            # reads back as it is what was meant (and gives the built-in's config and id)
            number = float(str(value))
        lambdas.append(number)
    if any(b <= a for a, b in zip(lambdas, lambdas[1:], strict=False)):
        raise TacoValueError(f"qualities must be strictly increasing (low to high rate), got {lambdas}")
    return lambdas


#: The largest channel count (N, M, a group, a context width, attention heads) a config may
#: give: 200x the paper's M (320). It bounds what checking a checkpoint's shapes costs before
#: the file is trusted (16 MB): CompressAI's entropy bottleneck allocates its N channels'
#: parameters (244 bytes each) even when the rest of the model is built on the meta device.
MAX_WIDTH = 1 << 16

#: The most channel groups a config may give: the paper's models have 5 (the -small and -tiny
#: ones 4 and 3). Each group is a context model of its own, so their number, not their widths,
#: sets what building the architecture costs: a header with M = 65,536 in 65,536 groups of one
#: channel took 4 min and 4 GB to build on the meta device before its tensors were compared;
#: 64 groups of 1,024 channels build in 0.3 s (N = M = 65,536, either layout).
MAX_GROUPS = 64


#: The largest finite float32, 3.4028234663852886e38 (``torch.finfo(torch.float32).max``, written
#: out: this module imports no torch): the largest ``gamma_init`` either way, as the adapter's γ
#: is a float32 tensor (``torch.full`` refuses more, "value cannot be converted to type float
#: without overflow", a RuntimeError deep in the build).
FLOAT32_MAX = 3.4028234663852886e38


class CheckpointError(TacoError, ValueError):
    """A checkpoint is missing, malformed, or does not match the model it is loaded into."""


#: The environment variable that names the modules (comma-separated, importable: on PYTHONPATH)
#: that register backbones (:func:`taco.models.register_architecture`) for the CLI and for checkpoints that
#: name them: ``TACO_PLUGINS=my_backbone taco train --set model=my-backbone-tiny``.
PLUGINS_VARIABLE = "TACO_PLUGINS"

_plugins_loaded: list[str] = []  # the TACO_PLUGINS modules imported so far, in order
# the one being imported: a name it misses (its own, as it registers them) imports no other
# plugin, whose failure would then read as this one's
_plugins_importing: list[str] = []


class PluginError(CheckpointError):
    """A module named in ``TACO_PLUGINS`` cannot be imported (or fails while registering), or a
    registered backbone's builder fails; ``module``: the module that failed to import (None for
    a builder's failure)."""

    def __init__(self, message: str, *, module: str | None = None) -> None:
        super().__init__(message)
        self.module = module


def named_plugins() -> list[str]:
    """The modules ``TACO_PLUGINS`` names, in order, each once (blanks and spaces around the
    commas dropped): what :func:`load_plugins` imports and the hints about them name."""
    named = os.environ.get(PLUGINS_VARIABLE, "").split(",")
    return list(dict.fromkeys(n.strip() for n in named if n.strip()))


class UnknownArchitectureError(CheckpointError):
    """A config names an architecture no builder is registered for: a typo, or a backbone whose
    module is not imported (:func:`unknown_architecture_message`). A ValueError, as any bad
    config value; a CheckpointError, so that a checkpoint or ``.taco`` file made with a
    backbone, read without its module, is not called an invalid config."""


def unknown_architecture_message(name: object) -> str:
    """``unknown architecture 'NAME' (known: taco, elic)``, then where a backbone's name comes
    from: its module, imported (in Python) or named in ``TACO_PLUGINS`` (a checkpoint made
    with one names its architecture, not its module)."""
    named = os.environ.get(PLUGINS_VARIABLE, "").strip()
    where = (f"{PLUGINS_VARIABLE}={named:.200} registers none of that name: name its module there"
             if named else f"import its module (or name it in {PLUGINS_VARIABLE})")
    return (f"unknown architecture {name!r:.100} (known: {', '.join(ARCHITECTURES)}): a registered "
            f"backbone? {where}; see {docs_ref('models.md', 'Adding a backbone')}")


def load_plugins() -> bool:
    """Import the modules ``TACO_PLUGINS`` names that are not imported yet (a backbone module
    registers itself on import with :func:`taco.models.register_architecture`); whether any was. Called when
    a model name or architecture is not found, and by :func:`taco.models.list_models`: with the variable
    unset, or for a built-in name, nothing is imported (``taco --help`` and ``taco info``
    import no torch). While one of them imports, nothing more is (False): a name it misses as
    it registers is no cue for the next. :class:`PluginError` for a module that fails to import,
    naming the line of its own file where it failed (:func:`plugin_frame`)."""
    if _plugins_importing:  # the next modules are imported after this one, by the first call
        return False
    new = [n for n in named_plugins() if n not in _plugins_loaded]
    for name in new:
        _plugins_loaded.append(name)  # once per process, also when it fails
        _plugins_importing.append(name)
        try:
            importlib.import_module(name)
        except Exception as e:
            raise PluginError(f"{PLUGINS_VARIABLE}: cannot import {name!r}: "
                              f"{type(e).__name__}: {e}{plugin_frame(name, e)}", module=name) from e
        finally:
            _plugins_importing.remove(name)
    return bool(new)


def plugin_frame(name: str, exc: BaseException) -> str:
    """`` (at FILE:LINE in FUNC)``: the deepest frame of ``exc``'s traceback inside plugin
    module ``name``'s own file (its folder, for a package), where its import failed; "" when
    none is (the module not found, a SyntaxError: its message names the line)."""
    import traceback
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
    except Exception:  # a parent package that fails to import: no file of its own to name
        return ""
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return ""
    origin = os.path.abspath(spec.origin)
    folder = os.path.dirname(origin) + os.sep if spec.submodule_search_locations else None
    own = [f for f in traceback.extract_tb(exc.__traceback__)
           if os.path.abspath(f.filename) == origin
           or (folder and os.path.abspath(f.filename).startswith(folder))]
    return f" (at {own[-1].filename}:{own[-1].lineno} in {own[-1].name})" if own else ""


#: ModelConfig fields added after the first release, with the value a config written before the
#: field existed means. At that value a field is left out of :meth:`ModelConfig.digest`, so the
#: first checkpoints (and every ``.taco`` file made with them) keep their fingerprints. ``layout``:
#: those checkpoints have CompressAI's entropy-model layout; new configs default to the authors'.
#: ``qualities``: None is a single-rate model, as every model was before variable rate.
#: ``options``: a registered backbone's own settings; empty for taco's architectures.
#: (``param_widths`` is not among them: :meth:`ModelConfig.to_dict` leaves it out at its default,
#: "elic-2023", every model's widths before it, so configs written and hashed stay as they were.)
_ADDED_FIELDS: dict[str, Any] = {"text_injection": "adapter", "injector_at": "both",
                                 "layout": "compressai", "qualities": None, "options": {}}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model's architecture (not its weights).

    ``text_encoder`` is ``None`` for an architecture that reads no text
    (:data:`TEXTLESS_ARCHITECTURES`: ELIC), else ``{"name": ..., **options}`` as accepted by
    :func:`taco.text.get_text_encoder`; the adapter's input width follows it.
    ``text_injection`` (:data:`TEXT_INJECTIONS`) and ``injector_at`` (:data:`INJECTOR_POSITIONS`)
    select the ablation variants of issue 8 (see :class:`taco.models.TextGuidedAnalysis`).
    ``layout`` is the entropy model's: "reference" (the authors' code, their checkpoints import
    into it) or "compressai" (CompressAI's ``Elic2022Official``: the first built-in models); see
    :mod:`taco.models.elic`. A config read from a file without the field is "compressai".
    ``qualities``: the λ of each quality of a variable-rate model (ascending; quality q = 1..Q is
    trained with ``qualities[q - 1]``; reference layout only; :mod:`taco.models.gains`), or None
    for a single-rate model (one λ, in its checkpoint's metadata).
    ``options``: the settings of a backbone registered with
    :func:`taco.models.register_architecture` beyond N, M and qualities (JSON values by name,
    handed to its builder; part of the digest only when not empty); taco's architectures
    (:data:`BUILTIN_ARCHITECTURES`) take none. ``groups`` and ``ctx_hidden`` are ELIC's: they
    must sum to M and list two widths for taco's architectures only. ``param_widths``
    (:data:`PARAM_WIDTHS`): the hidden widths of ELIC's entropy-parameter networks, "elic-2023"
    (the default, every model before the field) or "elic-2024" (JiangWeibeta/ELIC's code since
    2024-09-25; reference layout only).
    """

    architecture: str = "taco"  # one of ARCHITECTURES
    N: int = 192
    M: int = 320
    groups: list[int] = field(default_factory=lambda: [16, 16, 32, 64, 192])
    ctx_hidden: list[int] = field(default_factory=lambda: [224, 128])
    text_encoder: dict[str, Any] | None = field(default_factory=lambda: {"name": "clip"})
    heads: int = 8
    residual: str = "paper"  # one of RESIDUALS
    use_mask: bool = False
    learn_gamma: bool = True
    gamma_init: float = 0.0
    text_injection: str = "adapter"  # one of TEXT_INJECTIONS
    injector_at: str = "both"  # one of INJECTOR_POSITIONS
    layout: str = "reference"  # one of LAYOUTS
    qualities: list[float] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    param_widths: str = "elic-2023"  # one of PARAM_WIDTHS

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            load_plugins()  # a backbone registered by a TACO_PLUGINS module
        if self.architecture not in ARCHITECTURES:
            raise UnknownArchitectureError(unknown_architecture_message(self.architecture))
        builtin = self.architecture in BUILTIN_ARCHITECTURES
        for name in ("N", "M", "heads"):
            if not is_int(getattr(self, name), 1, MAX_WIDTH):
                raise TacoValueError(f"{name} must be an integer 1..{MAX_WIDTH}, got {getattr(self, name)!r}")
        for name, count in (("groups", None), ("ctx_hidden", 2 if builtin else None)):
            widths = getattr(self, name)
            if not (isinstance(widths, (list, tuple)) and len(widths) == (count or len(widths)) > 0
                    and all(is_int(v, 1, MAX_WIDTH) for v in widths)):
                raise TacoValueError(f"{name} must be a list of {f'{count} ' if count else ''}"
                                     f"integers 1..{MAX_WIDTH}, got {widths!r:.200}")
        for name in ("use_mask", "learn_gamma"):  # "false" would mean true; 0 and 1 were always read
            if getattr(self, name) not in (True, False) or not isinstance(getattr(self, name), int):
                raise TacoValueError(f"{name} must be true or false (or 1 or 0), got {getattr(self, name)!r:.40}")
        gamma = self.gamma_init
        if not is_number(gamma):  # an int past float's range too (JSON's 1 and 400 zeros)
            hint = ""
            if isinstance(gamma, str):  # --set model_overrides.gamma_init=1e-3: YAML 1.1 reads text
                try:
                    hint = f" (write {float(gamma)!r}: YAML reads {gamma} as text)" if math.isfinite(float(gamma)) else ""
                except ValueError:
                    pass
            shown = ("an integer too large for a float" if isinstance(gamma, int) and not isinstance(gamma, bool)
                     else f"{gamma!r:.40}")  # 400 digits cut to 40 would read as a number in range
            raise TacoValueError(f"gamma_init must be a finite number, got {shown}{hint}")
        if abs(gamma) > FLOAT32_MAX:  # torch.full(..., 1e39) is torch's RuntimeError, deep in the build
            raise TacoValueError(f"gamma_init must be within float32's range, ±{FLOAT32_MAX!r} (γ is a "
                                 f"float32 tensor), got {float(gamma)!r}")
        if len(self.groups) > MAX_GROUPS:
            raise TacoValueError(f"groups must list 1..{MAX_GROUPS} channel groups, got {len(self.groups)}")
        if builtin and sum(self.groups) != self.M:
            raise TacoValueError(f"groups {self.groups} must sum to M={self.M}")
        if self.architecture in TEXTLESS_ARCHITECTURES:
            self.text_encoder = None
        elif not self.text_encoder or "name" not in self.text_encoder:
            raise TacoValueError(f"architecture {self.architecture!r} is text-guided: it needs "
                                 "text_encoder={'name': ...}")
        for name, choices in (("residual", RESIDUALS), ("text_injection", TEXT_INJECTIONS),
                              ("injector_at", INJECTOR_POSITIONS), ("layout", LAYOUTS),
                              ("param_widths", PARAM_WIDTHS)):
            check_choice(name, getattr(self, name), choices)
        if self.param_widths != "elic-2023" and self.layout != "reference":
            raise TacoValueError(
                f"param_widths={self.param_widths!r} needs layout='reference' (the authors' entropy "
                f"layout), got {self.layout!r} (CompressAI's, whose widths are fixed)")
        if self.qualities is not None:
            if isinstance(self.qualities, (str, bytes)) or not hasattr(self.qualities, "__len__"):
                raise TacoValueError(f"qualities must be a list of λ values, got {self.qualities!r}")
            self.qualities = check_lambdas(self.qualities)
            if self.layout != "reference":
                raise TacoValueError(
                    "a variable-rate model (qualities) needs layout='reference' (the authors' "
                    f"entropy layout), got {self.layout!r} (CompressAI's: the built-in trained "
                    "models', which cannot start one)")
        self.options = check_options(self.options, self.architecture)

    def to_dict(self) -> dict[str, Any]:
        """The fields by name; ``param_widths`` only where it is not "elic-2023", so that the
        config a checkpoint records, and its digest, are those of before the field (and a
        taco without it still reads the checkpoint)."""
        d = dataclasses.asdict(self)
        if d["param_widths"] == "elic-2023":
            del d["param_widths"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """The config of ``d`` (ModelConfig's fields by name; those added since the first
        release at their old meaning when absent). CheckpointError for a field ModelConfig
        lacks, pointing a registered backbone's settings to ``options``; TacoValueError (or
        TypeError) for a bad value."""
        problem = cls.unknown_fields_problem(d)
        if problem:
            raise CheckpointError(problem)
        return cls(**{**_ADDED_FIELDS, **d})

    @classmethod
    def unknown_fields_problem(cls, d: Mapping[str, Any]) -> str | None:
        """What is wrong with the keys of ``d`` that ModelConfig lacks: the field each may be a
        typo of (:func:`~taco.messages.did_you_mean`), then the known fields, or for a
        registered backbone the way to give its own settings (``options``); None when it lacks
        none."""
        fields = sorted(f.name for f in dataclasses.fields(cls))
        unknown = sorted(set(d) - set(fields))
        if not unknown:
            return None
        typos = {k: hint for k in unknown if (hint := did_you_mean(str(k), fields))}
        if len(unknown) == 1:
            close = "".join(typos.values())
        else:
            close = ": " + ", ".join(f"{k!r:.50}{hint}" for k, hint in typos.items()) if typos else ""
        if d.get("architecture", cls.architecture) not in BUILTIN_ARCHITECTURES:
            settings = ", ".join(f"{k!r:.50}: ..." for k in unknown[:5])
            return f"unknown model config fields: {unknown}{close} (a backbone's own settings go in options={{{settings}}})"
        return f"unknown model config fields: {unknown}{close}; known: {', '.join(fields)}"

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of this config.

        Fields added after the first release are left out while at their defaults, so existing
        models keep their digest (and every ``.taco`` file written with them its fingerprint).
        """
        d = self.to_dict()
        for name, default in _ADDED_FIELDS.items():
            if d[name] == default:
                del d[name]
        blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()
