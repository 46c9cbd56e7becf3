"""``taco evaluate``, ``taco plot``, ``taco caption`` and ``taco import-captions``: thin wrappers
over the library.

``taco.cli`` adds these through ``register(subparsers)`` (module listed in ``COMMAND_MODULES``).
"""

from __future__ import annotations

import argparse
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cli.common import (
    COMMAND_HELP,
    PARTIAL_STATUS,
    CLIError,
    RawDescriptionHelpFormatter,
    add_device_option,
    non_negative_int,
    path_arg,
    positive_int,
    thread_count,
)
from ..cli.files import report_to
from ..fileobjects import own_file_problem
from ..messages import (
    count,
    docs_ref,
    locale_hint,
    lone_surrogate,
    note,
    shown_path,
    to_stderr,
    unprintable,
)
from .defaults import (
    DEFAULT_CAPTIONER,
    DEFAULT_CMMD_CLIP,
    FID_FEATURE_DIMS,
    FID_MIN_IMAGES,
    FID_MODES,
    MIN_RESAMPLES,
    PLOT_STEM,
    caption_mode_problem,
    config_problem,
    is_results_json,
    nothing_to_evaluate,
)
from .quality_names import quality_key

if TYPE_CHECKING:
    from ..captions_file import CaptionRecord

__all__ = ["print_summary", "register"]


def _cli_error(exc: BaseException) -> Exception:
    return CLIError(str(exc))


def _text_arg(text: str) -> str:
    """An argparse ``type`` for text drawn in a figure or kept in a result JSON (``--label``,
    ``--anchor``, ``--title``, ``--captioner``): one holding a lone surrogate (bytes of the
    command line that are not UTF-8) is refused, as a caption is
    (:func:`taco.messages.lone_surrogate`); matplotlib cannot draw it, nor a UTF-8 results file
    hold it. Where its bytes are UTF-8 text the locale's encoding could not read (``LC_ALL=C``),
    the refusal says how to have them read (:func:`taco.messages.locale_hint`). One holding a
    control character, line break or bidi override or isolate is refused too
    (:func:`taco.messages.unprintable`): the summary lines and tables print a label, where a
    line feed would start a forged line, an ESC drive the terminal and U+202E show the rest of
    the line reversed. Text of any script is taken with the marks it may need (a Thai
    zero-width space, an Arabic RLM)."""
    bad = lone_surrogate(text)
    if bad is not None:
        hint = locale_hint(text)
        raise argparse.ArgumentTypeError(f"holds {bad}, which UTF-8 cannot encode: give it as UTF-8 text"
                                         + (f" ({hint})" if hint else ""))
    bad = unprintable(text)
    if bad is not None:
        raise argparse.ArgumentTypeError(f"holds {bad}: give printable text on one line")
    return text


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _check_fixed_commas(modes: list[str]) -> None:
    """``--compare-caption-modes true,fixed:a cat, on a sofa`` is split at its commas: a piece
    that is no caption mode after a ``fixed:TEXT`` is said as the rest of that text."""
    for before, mode in zip(modes, modes[1:], strict=False):
        if before.startswith("fixed:") and (problem := caption_mode_problem(mode)):
            raise CLIError(f"--compare-caption-modes: {problem}; the list is split at commas, so a "
                           f"fixed:TEXT there holds none: give a caption with commas as "
                           f"--caption-mode 'fixed:TEXT' (one more mode compared)")


def _qualities(items: list[str] | None) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        try:
            if not sep:
                raise ValueError
            qualities = [int(v) for v in _split(values)]
        except ValueError:
            raise _cli_error(ValueError(f"--qualities expects NAME=Q1,Q2,..., got {item!r}")) from None
        key = quality_key(name)  # a name in lower case, a path as a path (~ expanded)
        if key in out:  # the last would silently win
            raise _cli_error(ValueError(f"--qualities {key}=... given twice: give each name once, "
                                        f"with all its qualities ({key}=Q1,Q2,...)"))
        out[key] = qualities
    return out


@dataclass(frozen=True)
class _NamedRates:
    """A ``--model`` as its config and header name it (:func:`taco.models.rates.named_rates`):
    what :func:`~taco.evaluation.quality_names.model_qualities` reads of the loaded model."""

    spec: str
    model_id: str
    qualities: list[float] | None


def _check_model_qualities(specs: list[str], wanted: dict[str, list[int]], classic: list[str]) -> None:
    """Refuse a ``--qualities`` quality a ``--classic`` codec or a ``--model`` does not have, and
    (when every model could be looked up) a name that is neither a ``--classic`` codec nor a
    model, in the words of the check of the codecs and loaded models
    (:mod:`taco.evaluation.quality_names`), from the codecs' ranges and the models' configs and
    headers: before torch loads. A model that cannot be looked up so is left to the load."""
    from ..errors import TacoError
    from ..models.config import PluginError
    from ..models.rates import named_rates
    from .quality_names import (
        QualitiesError,
        check_classic_qualities,
        check_quality_names,
        model_qualities,
    )

    if not wanted:
        return
    models = []
    for spec in specs:
        try:
            models.append(_NamedRates(spec, *named_rates(spec)))
        except PluginError:  # said now: the import is tried once per process (taco compress too)
            raise
        except (TacoError, OSError):
            pass
    try:
        check_classic_qualities(wanted, classic)
        for m in models:
            model_qualities(m, m, wanted)
        if len(models) == len(specs):  # a model not looked up may be the one a name names
            check_quality_names(wanted, {c.lower() for c in classic}, models)
    except QualitiesError as exc:
        raise CLIError(str(exc)) from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..cli.files import check_folder, refuse_stdin, refuse_stdout
    from .plot import reference_kinds  # no torch

    refuse_stdin(args.datasets, "evaluate")
    refuse_stdout(args.output, "evaluate", "a folder of results", "runs/eval")

    reference_kinds(args.reference)  # a name without reference points: one line, before any work
    given = args.caption_mode or []
    if len(given) > 1:  # the last would silently win
        times = "twice" if len(given) == 2 else f"{len(given)} times"
        raise CLIError(f"--caption-mode given {times}: it names the one mode to run; to run several, "
                       "list them in --compare-caption-modes (e.g. --compare-caption-modes true,shuffled)")
    caption_mode = given[0] if given else None
    labels = args.label or []
    modes = _split(args.compare_caption_modes)
    _check_fixed_commas(modes)  # in words of the split, before the modes' own check
    problem = config_problem(models=args.model or [], classic=_split(args.classic), labels=labels,
                             match_bpp=args.match_bpp, plot=not args.no_plot, anchor=args.anchor,
                             caption_modes=[*modes, *given], datasets=args.datasets,
                             coco30k_protocol=args.coco30k_protocol)
    if problem:  # the rules EvalConfig keeps too (taco.evaluation.evaluate), before torch loads
        raise CLIError(problem)
    if not args.model and not _split(args.classic):  # said by run_evaluation too, after torch loads
        raise CLIError(nothing_to_evaluate())
    if not args.model:
        from ..resolve import DEFAULT_MODEL  # no torch

        note("evaluate", "no --model given, so only the classic codecs run "
             f"(add -m {DEFAULT_MODEL} for taco's default model)")
    from ..models.registry import locate_model  # no torch

    for spec in args.model or []:  # a mistyped name: refused as load_model would, before torch loads
        locate_model(spec)
    qualities = _qualities(args.qualities)
    _check_model_qualities(args.model or [], qualities, _split(args.classic))
    from .datasets import check_dataset  # no torch

    for spec in args.datasets:  # a missing folder or annotation file: refused as open_dataset would
        check_dataset(spec, captions_file=args.captions_file, coco30k_protocol=args.coco30k_protocol)
    # a file on the way to the output folder, a folder that takes no files: said as taco
    # compress says it, before torch loads and the work
    check_folder(Path(args.output), create=True)
    from .evaluate import EvalConfig, EvaluationStopped, run_evaluation

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if caption_mode or not modes:  # --caption-mode with --compare-caption-modes: one more mode
        modes = [*dict.fromkeys([*modes, caption_mode or "true"])]
    cfg = EvalConfig(
        datasets=args.datasets,
        models=args.model or [],
        output=Path(args.output),
        caption_modes=modes,
        compare_caption_modes=bool(args.compare_caption_modes),
        classic=_split(args.classic),
        qualities=qualities,
        match_bpp=args.match_bpp,
        crop=args.crop,
        limit=args.limit,
        captions_file=args.captions_file,
        fid=args.fid,
        fid_min_images=args.fid_min_images,
        cmmd_clip=None if args.cmmd_clip in ("off", "none", "") else args.cmmd_clip,
        text_similarity=args.text_similarity,
        download=args.download,
        device=args.device,
        seed=args.seed,
        bootstrap=args.bootstrap,
        label=labels[0] if len(labels) == 1 else None,
        model_labels=labels if len(labels) > 1 else [],
        plot=not args.no_plot,
        reference=args.reference,
        anchor=args.anchor,
        progress=not args.quiet,
        lpips_input=args.lpips_input,
        coco30k_protocol=args.coco30k_protocol,
    )
    try:
        written = run_evaluation(cfg)  # its errors are TacoErrors and OSErrors: one line each (taco.cli)
    except EvaluationStopped as exc:  # a full disk after some results: what they are, then the line
        print_summary(exc.written)
        to_stderr(f"taco evaluate: error: {shown_path(exc)}")
        return PARTIAL_STATUS
    from ..distributed import dist_env_from_environ

    if not dist_env_from_environ().is_main:
        return 0
    print_summary(written)
    incomplete = _incomplete(written)
    for line in incomplete:
        to_stderr(f"taco evaluate: incomplete: {line}")
    # a run's results miss some of its images (its JSON says "complete": false): the files are
    # written, but they are not the whole set's numbers
    return PARTIAL_STATUS if incomplete else 0


def _incomplete(written: list[Path]) -> list[str]:
    """One line per results JSON in ``written`` whose run is not complete: which, how many of its
    per-image results are missing, the images it skipped as unreadable (a few), what to do (a
    repaired image changes the dataset's digest, so its results are not resumed)."""
    from .result_files import read_result

    lines = []
    for path in filter(is_results_json, written):
        r = read_result(path)
        if r.get("complete", True):
            continue
        missing = r.get("jobs_missing")
        what = count(missing, "per-image result") if isinstance(missing, int) else "some per-image results"
        skipped = [*dict.fromkeys(shown_path(s) for s in r.get("skipped_images") or [])]  # once each
        if skipped:
            what += f" (unreadable: {', '.join(skipped[:3])}{', ...' if len(skipped) > 3 else ''})"
            todo = "replace or remove the unreadable files and run again with a fresh --output"
        else:
            todo = "re-run the same command to code what is missing"
        lines.append(f"{shown_path(path)} lacks {what}: its numbers are not the whole set's; {todo}")
    return lines


def _setting(result: dict[str, Any], point: dict[str, Any], *, weights: bool = False) -> str:
    """What tells one summary line from another of the same label: a classic quality, the model
    and quality of a learned point (runs sharing a label: a λ sweep, a variable-rate model), the
    run a matched-bpp point was matched to. ``weights``: the learned point's model is named with
    its weights' fingerprint as the result files are (``taco-minilm-tiny-6133308d``), for
    checkpoints of one model id under one label, whose lines would read alike."""
    if result.get("matched_to"):
        return f" matched to {Path(str(result['matched_to'])).stem}"
    if result.get("kind") == "learned":
        model = result.get("model", {})
        model_id = str(model.get("model_id", ""))
        quality = f"q{result['quality']}" if result.get("quality") else ""
        fingerprint = str(model.get("fingerprint") or "")[:8]
        if weights and model_id and fingerprint:
            return f" ({model_id}-{fingerprint}{' ' + quality if quality else ''})"
        if model_id and model_id not in result["label"]:
            return " (" + " ".join(filter(None, (model_id, quality))) + ")"
        return f" {quality}" if quality else ""
    return f" {point['setting']}" if point.get("setting") else ""


def _over(point: dict[str, Any], metric: str) -> str:
    """`` (n=1)`` when ``metric``'s mean is over fewer of the point's images than all (MS-SSIM
    is not measured under 161 px a side: the mean of 1 of 24 images read as the set's), else ''."""
    n = point.get(f"{metric}_images")
    return f" (n={n})" if isinstance(n, int) and n < point.get("images", 0) else ""


def _fid_caveat(result: dict[str, Any], point: dict[str, Any]) -> str:
    """`` (6 patches, unreliable)`` when the point's FID is from fewer samples than the Inception
    feature has dimensions (the covariance is rank-deficient, FID biased upwards: the JSON's
    ``set_metrics.fid.reliable`` is false), else ''."""
    n = point.get("fid_samples")
    if not isinstance(n, int) or n >= FID_FEATURE_DIMS:
        return ""
    mode = str(result.get("set_metrics", {}).get("fid", {}).get("mode", ""))
    noun, plural = (("image", None) if mode.startswith("whole images")
                    else ("patch", "patches") if "patches" in mode else ("sample", None))
    return f" ({count(n, noun, plural)}, unreliable)"


def print_summary(written: list[Path]) -> None:
    """Print what ``taco eval`` wrote (``written``, :func:`~taco.evaluation.run_evaluation`'s
    files): a BD-rate table (``*.bdrate.md``) as it is, a line per point of each result file
    (label, setting, dataset, image count; bpp, PSNR, MS-SSIM, LPIPS, FID, CMMD with their
    caveats; where two result files' lines would read alike, checkpoints of one model id under
    one ``--label``, each names its model with its weights' fingerprint, as the file names do:
    ``Tiny (taco-minilm-tiny-6133308d)``), then the paths written. A line that cannot be
    printed (``>/dev/full``) names ``<stdout>``, not the files (:func:`taco.cli.files.report_to`)."""
    from .result_files import read_result

    say = report_to(written)

    results = {path: read_result(path) for path in written if is_results_json(path)}

    def name(r: dict[str, Any], p: dict[str, Any], weights: bool = False) -> str:
        return f"{r['label']}{_setting(r, p, weights=weights)} on {r['dataset']['name']}"

    files_of: dict[str, set[Path]] = {}  # a line's name -> the result files whose lines it names
    for path, r in results.items():
        for p in r.get("points", []):
            files_of.setdefault(name(r, p), set()).add(path)
    for path in written:
        if path.name.endswith(".bdrate.md"):
            say(path.read_text(encoding="utf-8"))
        if path not in results:
            continue
        r = results[path]
        for p in r.get("points", []):
            cells = [f"{k} {p[k]:.4f}{_over(p, k)}{_fid_caveat(r, p) if k == 'fid' else ''}"
                     for k in ("bpp", "psnr", "ms_ssim", "lpips", "fid", "cmmd") if isinstance(p.get(k), float)]
            images = count(p["images"], "image")
            shared = len(files_of[name(r, p)]) > 1
            # a dataset folder's or a received file's text: no line of its own, no terminal code
            say(shown_path(f"{name(r, p, shared)} ({images}): " + ", ".join(cells)))
    say("wrote:\n  " + "\n  ".join(map(shown_path, written)))


def cmd_plot(args: argparse.Namespace) -> int:
    from ..cli.files import check_folder, refuse_stdin, refuse_stdout
    from .plot import OutputExists, output_stem, plot_results

    refuse_stdout(args.output, "plot", "files (-o NAME: NAME.png, NAME.svg, ...)", PLOT_STEM)
    refuse_stdin(args.results, "plot")
    # the folder the files go to, checked before the figure is drawn, as taco compress checks
    # it: a folder given (-o DIR/, the stem inside it) is made if missing; a stem's own folder
    # (-o figs/kodak) must exist, as compress's -o FILE's
    folder = output_stem(args.output).parent
    check_folder(folder, create=folder != Path(args.output).parent)
    # its mistakes are TacoErrors (a bad --anchor, --metrics or result file) and OSErrors (a path
    # not found): one line each (taco.cli); any other error is a bug and keeps its traceback
    try:
        written = plot_results(args.results, args.output, reference=args.reference,
                               metrics=None if args.metrics is None else _split(args.metrics),
                               anchor=args.anchor, auto_anchor=True,
                               title=args.title, bootstrap=args.bootstrap, seed=args.seed,
                               overwrite=args.force)
    except OutputExists as exc:  # as every command that writes files the user names
        them = "it" if len(exc.paths) == 1 else "them"
        if exc.meanwhile:  # not there when checked: another plot wrote it since, as compress says it
            raise CLIError(f"{exc}: --force replaces {them}") from None
        raise CLIError(f"{exc}; pass --force to overwrite {them}") from None
    say = report_to(written)  # a line that cannot be printed names <stdout>, not the files
    for p in written:
        if p.suffix == ".md":
            say(p.read_text(encoding="utf-8"))
    say("wrote:\n  " + "\n  ".join(map(shown_path, written)))
    return 0


def cmd_caption(args: argparse.Namespace) -> int:
    from ..cli.files import refuse_stdin, refuse_stdout
    from .caption_plan import plan_captions  # no torch

    refuse_stdin([args.folder], "caption")
    refuse_stdout(args.output, "caption", "a captions file inside FOLDER", "captions.jsonl")
    # the folder and its captions file first: a mistake there is one line before torch loads; the
    # mistakes are TacoErrors (NoImagesError, CaptionsFileError, CaptionerUnavailable) and OSErrors
    # (no such folder, a captions file that cannot be written: caption_plan.check_writable): one
    # line each (taco.cli); any other error is a bug and keeps its traceback
    plan = plan_captions(args.folder, output=args.output, limit=args.limit)
    from ..devices import resolve_device

    device = str(resolve_device(args.device))  # a device this machine lacks: one line, exit 2
    from ..locks import hold_folder
    from .caption import Captioner, CaptionStopped, check_captioner_name, run_caption_plan

    check_captioner_name(args.model)  # a path that is not a folder, even with nothing to do
    # images whose names are not UTF-8 are left out, each named in a warning: rename them
    misnamed = (f", {count(len(plan.misnamed), 'image')} left out (file name not UTF-8: rename it)"
                if plan.misnamed else "")
    if not plan.todo:  # no captioner to load
        every = "the 1 image" if plan.already == 1 else f"all {plan.already:,} images"
        if misnamed:  # not all of the folder's
            every = count(plan.already, "image")
        report_to([plan.path])(f"{shown_path(plan.path)}: nothing to caption, {every} already had "
                               f"captions{misnamed}")
        return PARTIAL_STATUS if misnamed else 0
    # the folder first: a second run on it is refused before its captioner loads (minutes), not after
    with hold_folder(plan.path.parent, "taco caption") as lock:
        captioner = Captioner(args.model, device=device, max_new_tokens=args.max_new_tokens,
                              prompt=args.prompt)
        try:
            report = run_caption_plan(plan, captioner, batch_size=args.batch_size,
                                      progress=not args.quiet, lock=lock)
        except CaptionStopped as exc:  # a full disk after some lines: they stay, a rerun does the rest
            to_stderr(f"taco caption: error: {exc}")
            return PARTIAL_STATUS
    if report.unreadable and not report.written:
        n = len(report.unreadable)
        more = f"; {n - 1:,} more" if n > 1 else ""
        raise CLIError(f"{shown_path(args.folder)}: none of the {count(n, 'image')} to caption could "
                       f"be read ({shown_path(report.unreadable[0])}{more}); nothing written to "
                       f"{shown_path(report.path)}")
    for bad in report.unreadable:  # NAME: why
        to_stderr(f"skipped {shown_path(bad)}")
    # a line that cannot be printed names <stdout>, not the captions file written
    report_to([report.path])(f"{shown_path(report.path)}: {count(report.written, 'image')} captioned with "
                             f"{shown_path(args.model)}, {report.already} already had captions{misnamed}")
    return PARTIAL_STATUS if report.unreadable or report.blank or misnamed else 0  # a rerun does the rest


def cmd_import_captions(args: argparse.Namespace) -> int:
    from ..cli.files import is_stdout, refuse_stdout, refuse_system_name, stdout_data_problem
    from .import_captions import CaptionImportError, import_captions, write_captions_jsonl

    if args.output == "-":  # standard output to taco compress and decompress: said as every command says it
        refuse_stdout(args.output, "import-captions", "a captions file", "captions.jsonl", dash="./-/")
    to_stdout = is_stdout(args.output)  # -o /dev/stdout -f: written as -o - writes, never replaced
    if to_stdout:  # not closed (>&-: the JSONL lost), nor shared with stderr (2>&1: the report line in it)
        problem = stdout_data_problem("-o FILE", text=True)
        if problem:
            raise CLIError(problem)
    else:  # a device or pipe (-o /dev/null -f) is written into
        refuse_system_name(args.output, "import-captions")  # not a file made inside /dev or /proc
    out, new_folder = _captions_output(args.output)
    if out != Path(args.output):  # -o FOLDER: its captions.jsonl is taco's name, never a link
        why = own_file_problem(out, writer="-o names a folder, whose captions.jsonl taco writes itself",
                               otherwise="name the file with -o FILE (written through a link, as cp does)")
        if why is not None:
            raise CLIError(why)
    if os.path.lexists(out) and not args.force:  # -o FILE a link to a missing file too: written through
        raise CLIError(f"{shown_path(out)} exists; pass --force to overwrite it")
    if new_folder and out.parent.exists():  # a file of the folder's name
        raise CLIError(f"{shown_path(out.parent)} exists and is not a folder")
    if not new_folder and not out.parent.is_dir():
        raise CLIError(f"{shown_path(out.parent)}: no such folder")
    try:
        records = import_captions(args.file, args.images)
    except CaptionImportError as exc:
        raise CLIError(str(exc)) from None
    from ..messages import utf8_text

    # a file name's bytes that are not UTF-8 as \xff: the captions file is UTF-8 text
    captioner = args.captioner or utf8_text(Path(args.file).name)
    if to_stdout:
        _captions_to_stdout(records, captioner)
    else:
        try:  # without --force not replacing a file another import wrote after the check above
            write_captions_jsonl(records, out, captioner, replace=args.force)
        except FileExistsError as exc:
            if exc.filename != str(out):
                raise
            raise CLIError(f"{shown_path(out)} exists (written meanwhile, by another process?): "
                           "--force replaces it") from None
    n_captions = sum(len(r.captions) for r in records)
    report_to([out])(f"{shown_path(out)}: {count(len(records), 'image')}, {count(n_captions, 'caption')} "
                     f"(captioner: {shown_path(captioner)})")  # a line that cannot be printed names <stdout>, not OUT
    return 0


def _captions_to_stdout(records: list[CaptionRecord], captioner: str) -> None:
    """The captions JSONL written to standard output, as ``taco compress -o -`` writes its data
    (:func:`taco.cli.files.write_stdout`), for an ``-o`` that names it (``/dev/stdout``): written
    through that name, the atomic write followed it to the file standard output is and renamed a
    new file over it, so ``-o /dev/stdout -f >> log.txt`` replaced log.txt, its earlier lines
    gone."""
    from ..cli.files import write_stdout
    from .import_captions import captions_jsonl_text

    write_stdout(captions_jsonl_text(records, captioner).encode("utf-8"))


def _captions_output(output: str) -> tuple[Path, bool]:
    """Where ``taco import-captions -o OUTPUT`` writes: (the captions file, whether its folder is
    to be made). OUTPUT is a folder, holding ``captions.jsonl``, when it is one, ends with a
    slash, or is not there yet and has no suffix at all (``-o kodak`` for a Kodak folder not made
    yet); an existing file, or a name with the .jsonl or .json suffix, is the file. Any other
    name (``./-`` included: ``-o -`` is refused before, as standard output, and ``-o ./-/`` names
    a folder ``-``) is a one-line CLIError, as ``taco compress`` refuses an output without its
    suffix."""
    path = Path(output)
    if path.is_dir():
        return path / "captions.jsonl", False
    new = not path.exists()
    if output.endswith(("/", os.sep)) or (new and path.name not in ("", "-") and not path.suffix):
        return path / "captions.jsonl", True
    if new and path.suffix.lower() not in (".jsonl", ".json"):
        name = "captions" if path.name == "-" else path.stem
        raise CLIError(f"{shown_path(output)}: import-captions writes a captions file: name it "
                       f"{name}.jsonl, or {name}/ for a folder")
    return path, False


def _register_import_captions(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-captions", help=COMMAND_HELP["import-captions"],
        description="Convert a caption JSON file of effl-lab/TACO (materials/kodak_ofa.json, "
        "clic_ofa.json: {NAME: CAPTION}; mscoco_val41k_img_cap_pair.json: {NAME: [CAPTION, ...]}), "
        "a COCO captions file (captions_val2014.json: images [{id, file_name}], annotations "
        "[{image_id, caption}]) or {image, caption} objects: a list of them, one alone, or JSON "
        "Lines, one a line (image, file or file_name; caption, captions or text) "
        "into taco's captions.jsonl, for `taco evaluate kodak:DIR`, `clic:DIR`, `coco30k:ROOT "
        f"--coco30k-protocol official` or a folder; see {docs_ref('evaluation.md')}.")
    p.add_argument("file", metavar="FILE.json", type=path_arg,
                   help="the caption JSON file (the authors', COCO's, or {image, caption} objects: a list, "
                   "one alone, or JSON Lines)")
    p.add_argument("-o", "--output", default="captions.jsonl", type=path_arg,
                   help="output file (.jsonl), or a folder to write captions.jsonl into: one that exists, "
                   "ends with /, or is new and has no suffix (created) "
                   "(default: captions.jsonl)")
    p.add_argument("--images", metavar="LIST.json", type=path_arg,
                   help="keep exactly the images of this JSON list of names (e.g. mscoco_30k_list.json)")
    p.add_argument("--captioner", metavar="NAME", type=_text_arg,
                   help="who wrote the captions, recorded in every line (e.g. OFA, human; "
                   "default: the JSON file's name, bytes of it that are not UTF-8 written as \\xff)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite the output file")
    p.set_defaults(func=cmd_import_captions)


#: The end of ``taco evaluate --help``: each DATASET's layout on disk (a wheel has no docs/).
DATASETS_EPILOG = f"""\
DATASET, as laid out on disk:
  FOLDER        its images + captions.jsonl or a sidecar IMAGE.txt per image
  kodak:DIR     DIR/kodim01.png ... DIR/kodim24.png + DIR/captions.jsonl
  clic:DIR      DIR/*.png (CLIC 2020 test) + DIR/captions.jsonl
  coco30k:ROOT  ROOT/dataset_coco.json (Karpathy's split) + ROOT/val2014/; with
                --coco30k-protocol official, ROOT/captions.jsonl (taco
                import-captions) instead of dataset_coco.json
  coco40k:ROOT  ROOT/val2014/ + ROOT/annotations/captions_val2014.json
  samples       the 4 captioned photos shipped with taco
kodak and clic captions: taco caption DIR, or taco import-captions
kodak_ofa.json -o DIR (the authors' OFA captions).
FID, BD-rate tables and --text-similarity need the eval extra
(pip install 'taco-codec[eval]').
More: {docs_ref('evaluation.md')}"""


#: ``taco plot --metrics``'s names, its panels (:data:`taco.evaluation.plot.PANELS`, which imports
#: numpy: not for ``--help``).
PLOT_METRICS = ("psnr", "ms_ssim", "lpips", "fid", "cmmd")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate``, ``plot`` and ``caption`` to the ``taco`` command line."""
    _add_evaluate(sub)
    _add_plot(sub)
    _add_caption(sub)
    _register_import_captions(sub)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    """``taco evaluate``: models and classic codecs x datasets."""
    e = sub.add_parser(
        "evaluate", help=COMMAND_HELP["evaluate"],
        description=textwrap.fill("Code every image of each dataset through the real .taco container (and/or "
        "classic codecs), measure bpp, PSNR, MS-SSIM, LPIPS, FID, CMMD, and write a per-image CSV "
        "and a summary JSON per run under OUTPUT/DATASET/, or OUTPUT/DATASET-cropN/ with a crop "
        "(--crop N; coco30k's default 256), -lpips-official appended with --lpips-input official "
        "(the folder to give taco plot). Re-running resumes. Runs on several "
        "GPUs with torchrun (each rank a shard). Exit status 3: a run's results lack some images "
        "(files found unreadable while coding; its JSON says complete: false; one line says "
        "which; files the dataset skipped up front are warned about and not counted), or a full "
        "disk stopped it after some results were written (the figure, or the runs left, are not: "
        "run it again to finish).", 79,
        break_on_hyphens=False),
        epilog=DATASETS_EPILOG, formatter_class=RawDescriptionHelpFormatter)
    e.add_argument("datasets", nargs="+", metavar="DATASET", type=path_arg)
    e.add_argument("-m", "--model", action="append", type=path_arg,
                   help="checkpoint, trained name or architecture (random seed-0); repeatable")
    e.add_argument("-o", "--output", default="runs/eval", type=path_arg, help="output folder (default: runs/eval)")
    e.add_argument("--caption-mode", metavar="MODE", action="append",
                   help="true | shuffled | empty | fixed:TEXT | best-lpips (each caption of the "
                   "image, keep the lowest-LPIPS file), given once (default: true; with "
                   "--compare-caption-modes, one more mode compared)")
    e.add_argument("--compare-caption-modes", metavar="MODES",
                   help="e.g. true,shuffled,empty,fixed:NA: run each (and --caption-mode's) and "
                   "report differences vs true with paired bootstrap CIs (none with fewer than 6 "
                   "images)")
    e.add_argument("--classic", metavar="CODECS", help="classic codecs: jpeg,webp,avif,bpg,vtm")
    e.add_argument("--qualities", action="append", metavar="NAME=Q,...",
                   help="quality sweep of a classic codec (jpeg=10,30,50,70,90), or the qualities "
                   "of a variable-rate --model to code at (taco-minilm-vr=2,4,6; default: all) "
                   "(repeatable, once per name)")
    e.add_argument("--match-bpp", action="store_true",
                   help="also code each image with each classic codec at the model's bpp for it "
                   "(its run with the true captions, else with --caption-mode's)")
    e.add_argument("--crop", type=non_negative_int, default=None, metavar="N",
                   help="centre crop size (default: the protocol's rule: 256 for coco30k, none for the "
                   "official coco30k protocol and every other dataset; 0 = none); images smaller "
                   "than the crop are skipped (one warning counts them), not upscaled; results go "
                   "to OUTPUT/DATASET-cropN/")
    e.add_argument("--limit", type=positive_int, metavar="N", help="only the first N images")
    e.add_argument("--captions", "--captions-file", dest="captions_file", default=None,
                   type=path_arg, metavar="FILE.jsonl",
                   help="captions file: a name inside the dataset folder, or a path such as "
                   "./kodak-ofa.jsonl (one dataset per call then); the only source of captions "
                   "(sidecars and captions.jsonl are not read; an image it does not list has "
                   "none and is skipped) (default: each image's sidecar IMAGE.txt, else the "
                   "folder's captions.jsonl); "
                   "`taco import-captions` makes one from the authors' JSON files")
    e.add_argument("--coco30k-protocol", choices=("paper", "official"), default="paper",
                   help="coco30k:ROOT as the paper states it (Karpathy restval, centre crop 256, "
                   "first caption; default) or as effl-lab/TACO's script (their image list, "
                   "uncropped, their captions: a captions file from `taco import-captions`)")
    e.add_argument("--lpips-input", choices=("standard", "official"), default="standard",
                   help="LPIPS convention: standard (inputs scaled to [-1, 1], the default) or "
                   "official (inputs left in [0, 1] as effl-lab/TACO's scripts; the convention of "
                   "the paper's LPIPS numbers, 10-31%% lower). Results go to DATASET-lpips-official/")
    e.add_argument("--fid", choices=FID_MODES, default="auto",
                   help="FID on whole images (>= --fid-min-images) or 256 px patches (default: auto)")
    e.add_argument("--fid-min-images", type=non_negative_int, default=FID_MIN_IMAGES, metavar="N",
                   help="with --fid auto, whole-image FID from N images on, else 256 px patches "
                   f"(default: {FID_MIN_IMAGES}, the Inception feature size)")
    e.add_argument("--cmmd-clip", default=DEFAULT_CMMD_CLIP, metavar="NAME|off",
                   help=f"CLIP for CMMD, local folder or cached HF id (default: {DEFAULT_CMMD_CLIP}; "
                   "skipped if unavailable)")
    e.add_argument("--text-similarity", nargs="?", const=DEFAULT_CAPTIONER, metavar="CAPTIONER",
                   help=f"caption originals and reconstructions, score BLEU-4/CIDEr-D (default "
                   f"captioner: {DEFAULT_CAPTIONER})")
    e.add_argument("--download", action="store_true",
                   help="let CMMD's CLIP (--cmmd-clip) and the --text-similarity captioner download "
                   "their weights into the Hugging Face cache when missing (without it CMMD is "
                   "skipped, saying why, and the captioner is refused); a -m taco model's CLIP text "
                   "encoder is fetched without it, as taco compress fetches it")
    add_device_option(e, torchrun=True, note="the CPU's results are byte-identical run to run, a GPU's can "
                      "differ from them in the last digits: --device cpu for numbers to compare "
                      "across machines (the JSON records the device)")
    e.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                   help="seed of the shuffled captions and the bootstraps (default: 0)")
    e.add_argument("--bootstrap", type=non_negative_int, default=2000, metavar="N",
                   help="bootstrap resamples of the images: CIs of the caption-mode differences and "
                   f"of the BD table's BD-rate/BD-metric (0, or fewer than {MIN_RESAMPLES}: no CIs; default: 2000)")
    e.add_argument("--label", action="append", type=_text_arg,
                   help="legend label of the --model curves (needs --model): once for every model, "
                   "or once per --model in the same order (models sharing a label form one RD curve; "
                   "not a classic codec's label such as JPEG; default: the model id)")
    e.add_argument("--no-plot", action="store_true", help="do not draw the RD figure nor write the "
                   "BD-rate table (taco plot does both from the results later)")
    e.add_argument("--reference", default="auto",
                   help="published points to draw: auto (same dataset only) | none | kodak | "
                   "coco30k (comma-separated; default: auto)")
    e.add_argument("--anchor", metavar="LABEL", type=_text_arg,
                   help="BD-rate anchor label (default: of the --classic codecs run, else of the "
                   "classic codecs with results in the output folder, the first in the order jpeg, "
                   "webp, avif, bpg, vtm, then any other by label, as taco plot picks it; with none, "
                   "no table; not with --no-plot)")
    e.add_argument("--threads", type=thread_count, metavar="N",
                   help="CPU threads for torch (1 is fastest on a busy machine; default: torch's "
                   "own choice)")
    e.add_argument("--quiet", action="store_true",
                   help="no progress: no bars, and off a terminal no 'done:' line per finished run "
                   "nor a line a minute of how far it is")
    e.set_defaults(func=cmd_evaluate)


def _add_plot(sub: argparse._SubParsersAction) -> None:
    """``taco plot``: RD figure and BD-rate table from result JSONs."""
    p = sub.add_parser("plot", help=COMMAND_HELP["plot"],
                       description="Draw bpp vs PSNR / MS-SSIM / LPIPS / FID / CMMD from taco "
                       "evaluate's JSONs (files or folders), with the paper's reference points "
                       "for the same dataset as dashed lines.")
    p.add_argument("results", nargs="+", type=path_arg, help="result JSON files or folders")
    p.add_argument("-o", "--output", default=PLOT_STEM, type=path_arg,
                   help="output path stem (default: rd -> rd.png, rd.svg, rd.bdrate.md, rd.bdrate.json; "
                   "with several datasets rd-DATASET.png ...; a .png or .svg suffix is dropped, another "
                   "image suffix such as .pdf refused), or a folder to write those into: one "
                   "that exists, a name ending with /, . or ..")
    p.add_argument("--reference", default="auto",
                   help="published points to draw: auto (same dataset only) | none | kodak | "
                   "coco30k (comma-separated; default: auto)")
    p.add_argument("--metrics", metavar="NAMES",
                   help=f"panels, comma-separated, of {', '.join(PLOT_METRICS)} (default: all); a name given "
                   "twice is one panel")
    p.add_argument("--anchor", metavar="LABEL", type=_text_arg, help="BD-rate table against this curve label (e.g. JPEG; default: "
                   "the first classic codec with results, in the order jpeg, webp, avif, bpg, vtm, then "
                   "codecs of your own by label, as taco evaluate without --classic; with none, no table)")
    p.add_argument("--bootstrap", type=non_negative_int, default=2000, metavar="N",
                   help="bootstrap resamples of the images for the BD table's CIs, from the CSVs "
                   f"beside the JSONs (0, or fewer than {MIN_RESAMPLES}: none; default: 2000)")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                   help="seed of the bootstrap (default: 0)")
    p.add_argument("--title", type=_text_arg, help="figure title")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite existing outputs (the figure, the BD table); without it an existing "
                   "one stops the command before anything is written, and one another process "
                   "writes meanwhile stops it with none of its files written")
    p.set_defaults(func=cmd_plot)


def _add_caption(sub: argparse._SubParsersAction) -> None:
    """``taco caption``: captions.jsonl for a folder."""
    c = sub.add_parser("caption", help=COMMAND_HELP["caption"],
                       description="Caption every image of FOLDER not yet in its captions file "
                       "(nor, for captions.jsonl, in a sidecar IMAGE.txt) with a transformers captioner (BLIP, BLIP-2, GIT, ...; local folder or "
                       "Hugging Face id). Resumable; existing captions are kept. A folder "
                       "without images is an error (exit status 2); one whose images all have "
                       "captions is done (status 0) without loading the captioner; images left uncaptioned "
                       "(unreadable, or given an empty caption) are named and the status is 3 (a rerun "
                       "captions them), as are images whose file names are not UTF-8 (rename them).")
    c.add_argument("folder", type=path_arg)
    c.add_argument("-m", "--model", default=DEFAULT_CAPTIONER, type=path_arg, help=f"captioner (default: {DEFAULT_CAPTIONER})")
    c.add_argument("-o", "--output", default="captions.jsonl", type=path_arg, metavar="FILE",
                   help="the captions file: a bare name is a file inside FOLDER, a path with a "
                   "folder part (./x.jsonl, FOLDER/sub/x.jsonl, /data/x.jsonl) that path, as "
                   "taco evaluate --captions reads it (default: captions.jsonl); "
                   "the image names in it are FOLDER's")
    c.add_argument("--batch-size", type=positive_int, default=8, metavar="N",
                   help="images per captioner call (default: 8)")
    c.add_argument("--max-new-tokens", type=positive_int, default=30, metavar="N",
                   help="longest caption, in the captioner's tokens (default: 30)")
    c.add_argument("--prompt", help="text prompt for conditional captioning (e.g. 'a photography of'), "
                   "left out of the captions")
    c.add_argument("--limit", type=positive_int, metavar="N", help="caption at most N new images")
    add_device_option(c, note="the captioner's")
    c.add_argument("--quiet", action="store_true",
                   help="no progress: no bar, and off a terminal no line a minute of how far it is")
    c.set_defaults(func=cmd_caption)
