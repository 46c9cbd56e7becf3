"""What ``taco bench`` measures (:class:`BenchConfig`) and the check of its two architectures
(:func:`check_models`): no torch, so the command refuses a mistyped name before torch loads
(:mod:`.cli`), and :mod:`.latency` checks the same way."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import TacoValueError


def sample_images() -> list[str]:
    """The built-in sample photos' names: the images bench times by default."""
    from .inputs import SAMPLE_IMAGES  # numpy, PIL: not for ``taco --help``

    return list(SAMPLE_IMAGES)


@dataclass
class BenchConfig:
    """What ``taco bench`` measures. ``quick`` swaps in tiny models, small crops and few runs."""

    quick: bool = False
    runs: int = 5
    warmup: int = 1
    crop: int = 256  # centre crop side (paper Table 2: 256x256 COCO); 0 = whole image, padded
    images: list[str] = field(default_factory=sample_images)
    taco_model: str = "taco-minilm"
    elic_model: str = "elic"
    clip_b: bool = True  # also time TACO's backbone with a CLIP-B-sized (random) text encoder
    batch: int = 0  # >0: compress_batch throughput with this batch size
    device: str = "cpu"
    threads: int | None = None
    output: str | None = None

    @classmethod
    def with_overrides(cls, **overrides: Any) -> BenchConfig:
        """The defaults with every override that is not None."""
        return dataclasses.replace(cls(), **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def quick_defaults(cls, **overrides: Any) -> BenchConfig:
        quick = cls(quick=True, runs=3, warmup=1, crop=128, images=sample_images()[:2],
                    taco_model="taco-tiny", elic_model="elic-tiny", clip_b=False, batch=2)
        return dataclasses.replace(quick, **{k: v for k, v in overrides.items() if v is not None})


def check_models(taco_model: str, elic_model: str, *, any_text: bool = False) -> None:
    """:class:`~taco.errors.TacoValueError` unless ``taco_model`` and ``elic_model`` (``taco
    bench``'s ``--taco-model`` and ``--elic-model``) name architectures (the bench times random
    weights: a built-in trained model or a checkpoint is not one), the first text-guided and the
    second not, with the same backbone (N, M, and groups where both are taco's own architectures;
    a registered backbone's groups are ELIC's defaults, unread): every TACO/ELIC ratio compares
    the two.
    ``any_text`` (``--memory``, which measures each alone): either may be either, on any backbone.
    The one check of both, by the command before torch loads and by
    :func:`.latency.run_bench`."""
    from ..messages import did_you_mean
    from ..models import MODEL_CONFIGS
    from ..models.config import BUILTIN_ARCHITECTURES

    for option, name, text in (("--taco-model", taco_model, True), ("--elic-model", elic_model, False)):
        if name not in MODEL_CONFIGS:
            raise TacoValueError(f"{option} {name!r}: not an architecture name (taco bench times an "
                                 f"architecture's random weights): one of {', '.join(sorted(MODEL_CONFIGS))}"
                                 f"{did_you_mean(name, MODEL_CONFIGS)}")
        if not any_text and (MODEL_CONFIGS[name].text_encoder is not None) != text:
            fits = sorted(n for n, c in MODEL_CONFIGS.items() if (c.text_encoder is not None) == text)
            raise TacoValueError(f"{option} {name!r}: {'takes no text' if text else 'is text-guided'}; "
                                 f"{option} takes {'a text-guided architecture' if text else 'one without text'}: "
                                 f"{', '.join(fits)}")
    if any_text:
        return

    # groups are ELIC's and TACO's: a registered backbone carries ELIC's defaults unread (as
    # taco.train.config reasons), so with one of those only N and M are compared and printed
    own = all(MODEL_CONFIGS[n].architecture in BUILTIN_ARCHITECTURES for n in (taco_model, elic_model))

    def widths(name: str) -> tuple[int, int, list[int]]:
        c = MODEL_CONFIGS[name]
        return c.N, c.M, list(c.groups) if own else []

    taco, elic = widths(taco_model), widths(elic_model)
    if taco != elic:
        def said(w: tuple[int, int, list[int]]) -> str:
            return f"N={w[0]}, M={w[1]}" + (f", groups={w[2]}" if own else "")

        raise TacoValueError(
            f"--taco-model {taco_model} ({said(taco)}) and --elic-model {elic_model} ({said(elic)}) "
            f"have different backbones: the bench compares TACO with ELIC on the same one")
