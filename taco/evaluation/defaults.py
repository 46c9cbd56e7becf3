"""The evaluation's defaults (the figure's file stem, model names, FID's whole-image threshold and modes, the fewest
bootstrap resamples) and the rules of its settings that need no model (:func:`config_problem`), in a
torch- and numpy-free module so that ``taco evaluate --help`` (which shows them) and its refusals
import neither."""

from collections.abc import Sequence
from pathlib import PurePath

#: The path stem of the RD figure and BD table (``taco plot``'s ``-o`` default; ``taco evaluate``
#: writes OUT/DATASET/rd.png, rd.svg, rd.bdrate.md, rd.bdrate.json).
PLOT_STEM = "rd"
#: The endings of the JSONs an evaluation writes beside its results that are not results (a BD
#: table, a caption-mode comparison): ``taco plot out/kodak/*.json`` passes over them.
COMPANION_JSON_SUFFIXES = (".bdrate.json", ".caption-modes.json")
#: The endings of every file an evaluation (or ``taco plot``) writes beside its results that is
#: not one (those, its per-image CSVs, tables and figures): ``taco plot out/kodak/*`` passes
#: over them, where a file of another kind named on its own is refused.
BESIDE_RESULTS_SUFFIXES = (*COMPANION_JSON_SUFFIXES, ".csv", ".md", ".png", ".svg")


def is_results_json(path: PurePath) -> bool:
    """Whether ``path``, a file an evaluation wrote, is a run's results JSON (not a BD-rate
    table's ``*.bdrate.json`` nor a ``*.caption-modes.json`` comparison)."""
    return path.suffix == ".json" and not path.name.endswith(COMPANION_JSON_SUFFIXES)

DEFAULT_CAPTIONER = "Salesforce/blip-image-captioning-base"
DEFAULT_CMMD_CLIP = "openai/clip-vit-large-patch14-336"  # the CMMD paper's CLIP

#: Width of the Inception pool3 features FID compares: fewer samples leave their covariance
#: rank-deficient (FID biased upwards).
FID_FEATURE_DIMS = 2048
#: FID on whole images needs at least as many images as feature dimensions to be full rank; a
#: smaller set gets FID on 256 px patches (``--fid-min-images``).
FID_MIN_IMAGES = FID_FEATURE_DIMS
#: SetMetrics' ``fid`` (``taco evaluate --fid``): by the set's size, whole images, patches, none.
FID_MODES = ("auto", "full", "patches", "off")

#: The fewest bootstrap resamples an interval is drawn from (:func:`taco.evaluation.stats.paired_bootstrap`,
#: :func:`taco.evaluation.bdrate.bd_bootstrap`); fewer give none, saying why. The central 95 %
#: of a handful of draws is not an interval: one draw (``--bootstrap 1``) gives ``[x, x]``, which
#: need not hold the estimate and "excludes 0" for rounding noise.
MIN_RESAMPLES = 100


def config_problem(*, models: Sequence[str], classic: Sequence[str], labels: Sequence[str],
                   match_bpp: bool, plot: bool, anchor: str | None) -> str | None:
    """The sentence refusing a combination of ``taco evaluate`` settings that would be ignored,
    or None: an ``anchor`` with no figure (``plot`` false), ``labels`` with no ``models`` or of
    another count (one, for every model, or one per model), ``match_bpp`` with ``classic``
    codecs and no model to match. One rule for the CLI (before torch loads) and
    :class:`~taco.evaluation.evaluate.EvalConfig` (before anything loads); said in the CLI's
    words (``--label``: ``label`` or ``model_labels``)."""
    if anchor is not None and not plot:  # the anchor is only the BD table's
        return ("--anchor names the BD-rate table's anchor, which --no-plot does not write: "
                "give one or the other (taco plot --anchor draws the table later)")
    if labels and not models:  # a classic codec's curve keeps its name (JPEG, ...)
        return ("--label names the RD curve of the --model runs, and no --model is given: "
                "give --model too, or leave --label out")
    if len(labels) > 1 and len(labels) != len(models):
        return (f"--label given {len(labels)} times for {len(models)} --model: give it once "
                "(every model) or once per --model, in the same order")
    if match_bpp and classic and not models:
        from ..resolve import DEFAULT_MODEL  # no torch

        return f"--match-bpp codes the classic codecs at a model's bpp: give --model too (e.g. -m {DEFAULT_MODEL})"
    return None
