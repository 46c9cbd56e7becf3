"""Evaluation (paper §4): real-bitstream metrics, caption studies, classic codecs, RD plots.

* :mod:`.evaluate`: ``taco evaluate`` — models × datasets -> per-image CSV + summary JSON,
  caption modes (true / shuffled / empty / fixed) with paired bootstrap comparisons.
* :mod:`.classic`: JPEG / WebP / AVIF (Pillow), BPG and VTM when installed; matched-bpp coding.
* :mod:`.bdrate`: Bjøntegaard BD-rate / BD-metric tables, with bootstrap CIs over images.
* :mod:`.plot`: ``taco plot`` RD figures with the paper's reference points (:mod:`.reference`).
* :mod:`.caption`: ``taco caption`` (BLIP / BLIP-2 / GIT) and BLEU-4 / CIDEr-D text similarity.
* :mod:`.datasets`: Kodak / CLIC / COCO 30k / COCO 40k / folders, with the paper's crop rules.

Submodules import their heavy dependencies (transformers, matplotlib) only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

#: Exported name -> the submodule that defines it (loaded on first use, so that
#: ``taco evaluate --help`` imports no torch).
_LAZY = {
    **dict.fromkeys(("ImageCurve", "bd_bootstrap", "bd_metric", "bd_rate", "bd_table"),
                    "taco.evaluation.bdrate"),
    **dict.fromkeys(("Captioner", "auto_caption", "caption_folder", "text_similarity"),
                    "taco.evaluation.caption"),
    **dict.fromkeys(("code_at_bpp", "evaluate_codec", "evaluate_matched", "get_codec",
                     "interpolate_rd"), "taco.evaluation.classic"),
    **dict.fromkeys(("EvalDataset", "open_dataset"), "taco.evaluation.datasets"),
    **dict.fromkeys(("CaptionMode", "EvalConfig", "compare_caption_modes", "evaluate_model",
                     "format_comparison", "load_model", "run_evaluation"), "taco.evaluation.evaluate"),
    "plot_results": "taco.evaluation.plot",
    **dict.fromkeys(("derangement", "paired_bootstrap"), "taco.evaluation.stats"),
}

__all__ = [
    "CaptionMode",
    "Captioner",
    "EvalConfig",
    "EvalDataset",
    "ImageCurve",
    "auto_caption",
    "bd_bootstrap",
    "bd_metric",
    "bd_rate",
    "bd_table",
    "caption_folder",
    "code_at_bpp",
    "compare_caption_modes",
    "derangement",
    "evaluate_codec",
    "evaluate_matched",
    "evaluate_model",
    "format_comparison",
    "get_codec",
    "interpolate_rd",
    "load_model",
    "open_dataset",
    "paired_bootstrap",
    "plot_results",
    "run_evaluation",
    "text_similarity",
]


if TYPE_CHECKING:  # what the lazy names are, for type checkers (they import nothing here)
    from taco.evaluation.bdrate import (
        ImageCurve as ImageCurve,
        bd_bootstrap as bd_bootstrap,
        bd_metric as bd_metric,
        bd_rate as bd_rate,
        bd_table as bd_table,
    )
    from taco.evaluation.caption import (
        Captioner as Captioner,
        auto_caption as auto_caption,
        caption_folder as caption_folder,
        text_similarity as text_similarity,
    )
    from taco.evaluation.classic import (
        code_at_bpp as code_at_bpp,
        evaluate_codec as evaluate_codec,
        evaluate_matched as evaluate_matched,
        get_codec as get_codec,
        interpolate_rd as interpolate_rd,
    )
    from taco.evaluation.datasets import (
        EvalDataset as EvalDataset,
        open_dataset as open_dataset,
    )
    from taco.evaluation.evaluate import (
        CaptionMode as CaptionMode,
        EvalConfig as EvalConfig,
        compare_caption_modes as compare_caption_modes,
        evaluate_model as evaluate_model,
        format_comparison as format_comparison,
        load_model as load_model,
        run_evaluation as run_evaluation,
    )
    from taco.evaluation.plot import (
        plot_results as plot_results,
    )
    from taco.evaluation.stats import (
        derangement as derangement,
        paired_bootstrap as paired_bootstrap,
    )

if not TYPE_CHECKING:  # hidden from type checkers: a misspelled name is an error there
    __getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
