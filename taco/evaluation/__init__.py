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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals())
