"""The evaluation's defaults (the figure's file stem, model names, FID's whole-image threshold and modes, the fewest
bootstrap resamples, the caption modes) and the rules of its settings that need no model
(:func:`config_problem`, :func:`caption_mode_problem`), in a torch- and numpy-free module so that
``taco evaluate --help`` (which shows them) and its refusals import neither."""

from collections.abc import Sequence
from pathlib import PurePath

from ..messages import did_you_mean, unprintable
from .quality_names import CodecNameError, check_classic_names

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

#: The caption modes named by a word (:class:`~taco.evaluation.evaluate.CaptionMode`); the other
#: is ``fixed:TEXT``.
CAPTION_MODE_WORDS = ("true", "shuffled", "empty", "best-lpips")


def caption_mode_problem(spec: str) -> str | None:
    """The sentence refusing ``spec`` as a caption mode (``--caption-mode``, an item of
    ``--compare-caption-modes``), or None for one of :data:`CAPTION_MODE_WORDS` or a
    ``fixed:TEXT`` with some text, printable on one line (:func:`taco.messages.unprintable`:
    the text is in the run's label, which summary lines and tables print; no control character,
    line break or bidi override, while a caption of any script is taken): the check of
    :meth:`~taco.evaluation.evaluate.CaptionMode.parse`, and of ``taco evaluate`` before torch
    loads (:func:`config_problem`)."""
    kind, sep, text = spec.partition(":")
    if kind == "fixed" and sep:
        if not text.strip():  # it would be coded, and named in the results, apart from "empty"
            return f"caption mode {spec!r} has no text: use empty for no caption"
        if bad := unprintable(text):
            return f"caption mode {spec!r}: its text has {bad}: give a caption of printable text on one line"
        return None
    if spec in CAPTION_MODE_WORDS:
        return None
    return (f"unknown caption mode {spec!r}: use true, shuffled, empty, fixed:TEXT or "
            f"best-lpips{did_you_mean(spec, CAPTION_MODE_WORDS)}")


def nothing_to_evaluate() -> str:
    """The sentence refusing a run given neither a model nor a classic codec (``taco evaluate``
    before torch loads, :class:`~taco.evaluation.evaluate.EvalConfig`), with an example of each
    (``--classic`` alone is no option: it takes a list)."""
    from ..resolve import DEFAULT_MODEL  # no torch

    return f"nothing to evaluate: give --model and/or --classic (e.g. -m {DEFAULT_MODEL}, or --classic jpeg,webp)"


def config_problem(*, models: Sequence[str], classic: Sequence[str], labels: Sequence[str],
                   match_bpp: bool, plot: bool, anchor: str | None, caption_modes: Sequence[str] = (),
                   datasets: Sequence[str] = (), coco30k_protocol: str = "paper") -> str | None:
    """The sentence refusing ``taco evaluate`` settings that would be ignored or name nothing,
    or None: an ``anchor`` with no figure (``plot`` false), ``labels`` with no ``models`` or of
    another count (one, for every model, or one per model), ``match_bpp`` with ``classic``
    codecs and no model to match, a ``classic`` name that is no codec
    (:func:`~taco.evaluation.quality_names.check_classic_names`), a caption mode that is none
    (:func:`caption_mode_problem`), a ``coco30k_protocol`` other than ``paper`` with no
    ``coco30k:ROOT`` among the ``datasets``. One rule for the CLI (before torch loads) and
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
    try:  # a typo, not a codec missing here (that one is skipped, with a warning)
        check_classic_names(classic)
    except CodecNameError as exc:
        return str(exc)
    for mode in caption_modes:
        if problem := caption_mode_problem(mode):
            return problem
    if coco30k_protocol != "paper" and not any(str(d).startswith("coco30k:") for d in datasets):
        return "--coco30k-protocol applies to coco30k:ROOT datasets only"
    return None
