"""Writing the result files of an evaluation run, whatever it codes with (a model or a classic codec).

:func:`code_run` runs one, from its header to its summary. Per run, in ``OUT/DATASET/``: ``STEM.csv`` (one row per image, written by :mod:`.runner`) and
``STEM.json``, whose header (:func:`result_header`) is written when a new run starts, marked
incomplete, and completed with the summary by :func:`finish_run` (a rerun leaves the JSON it
finds until then). :func:`check_resume` refuses
to append to results of another configuration. Reading them back (:func:`read_result`,
:func:`taco.evaluation.result_files.result_rows`) is :mod:`.result_files`, which needs no
torch (``taco plot``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..distributed import DistEnv
from ..errors import TacoWarning, warn_at_caller
from ..jsonfiles import write_json
from ..messages import count, shown_path, some
from .datasets import IMAGE_CONTENT_MARK, DatasetDigests, EvalDataset
from .measure import (
    SetMetrics,
    environment,
    image_digests,
    metric_notes,
    original_features,
    original_keys,
    originals_left,
    stored_feature_names,
    summarize_run,
)
from .result_files import RECORDED_LATER, RESULT_FORMAT, RESULT_VERSION, read_result
from .runner import (
    Job,
    JobResult,
    ResultsFileError,
    check_columns,
    check_writable,
    jobs_left,
    read_rows,
    refuse_linked,
    resume_advice,
    run_jobs,
    shard_paths,
)

__all__ = [
    "DATASET_NOT_COMPARED",
    "MTIMES",
    "NAMES_SIZES",
    "ORIGINALS_FEATURES",
    "check_resume",
    "check_rows_recorded",
    "check_run_writable",
    "code_run",
    "dataset_dir",
    "finish_run",
    "result_header",
]


#: The folder of ``OUT/DATASET/`` where :func:`finish_run` keeps the set-metric features of the
#: dataset's original images, shared by every run on the dataset.
ORIGINALS_FEATURES = "originals.features"

#: The key of a result's ``dataset`` (not of its ``run``: not compared) that records the
#: digest of the images' names, byte sizes and captions alone
#: (:attr:`~taco.evaluation.datasets.DatasetDigests.names_sizes`): when it is the dataset's
#: but ``run.dataset.content`` is not, only the images' modification times changed (a folder
#: copied with ``cp -r`` or unpacked from tar or zip), and :func:`check_resume` says so.
#: Results written before it have none.
NAMES_SIZES = "names_sizes"
#: The key of a result's ``dataset`` (not compared) that records the earliest and the latest
#: modification time of its images, in ns (``[oldest, newest]``): with :data:`NAMES_SIZES`,
#: how :func:`check_resume` tells every image's time changed (each one now after the newest
#: then: copied anew; each cut to the whole second: unpacked from tar or zip) from some photos
#: changed (one replaced by another of the same byte size).
MTIMES = "mtimes_ns"

#: Keys of ``run.dataset`` that an earlier taco recorded (a model run's ``caption_source``,
#: which names a captions file as it was typed: ``./caps.jsonl``) but that are not compared on a resume:
#: the captions' text is in ``run.dataset.content``, and the same file named another way (an
#: absolute path, from another folder, an identical copy) codes the same.
DATASET_NOT_COMPARED = ("caption_source",)


def check_run_writable(json_path: Path, csv_path: Path, features_dir: Path, jobs: Sequence[Job],
                       sets: SetMetrics | None, *, dataset: EvalDataset | None = None) -> None:
    """Refuse (:func:`~taco.evaluation.runner.check_writable`: the ``OSError`` naming the path)
    a run whose results it may not write, before it writes anything: its JSON and CSV
    and, where it takes set-metric features, the features folders it will add to. Its
    ``STEM.features`` folder (``features_dir``) while a job of ``jobs`` is left to code
    (:func:`~taco.evaluation.runner.jobs_left`); the dataset's shared
    :data:`ORIGINALS_FEATURES` folder beside it while an original of ``dataset`` has features
    missing there (:func:`~taco.evaluation.measure.originals_left`, from the cached keys and
    feature names alone: :func:`finish_run` takes them). A folder that holds what the run needs
    is only read, so it is not checked. Without ``dataset``, :data:`ORIGINALS_FEATURES` is
    checked with ``STEM.features``."""
    folders = []
    if sets is not None and sets.feature_names:
        left = jobs_left(csv_path, jobs)
        if left:
            folders.append(features_dir)
        originals = json_path.parent / ORIGINALS_FEATURES
        if left if dataset is None else originals_left(
                sets, dataset, original_keys(dataset, digests=image_digests(dataset)),
                stored_feature_names(originals)):
            folders.append(originals)
    check_writable([json_path, csv_path], folders)


def check_resume(json_path: Path, run: dict[str, Any], *, digests: DatasetDigests | None = None) -> None:
    """Refuse to append to results made with another model, dataset or configuration, or
    under another label (a resume under ``--label B`` would move A's points to curve B).

    ``run`` is the new header's (:func:`result_header`: it holds the label); a JSON written
    before labels were recorded in its ``run`` is compared by its top-level ``label``. A JSON
    that cannot be read as a result (:func:`read_result`: not UTF-8, not a JSON object, another
    format or version, ...) is refused too: its configuration is unknown, and the CSV beside it
    may hold another's rows. A key of :data:`RECORDED_LATER` (a model run's device kind and
    taco version) that the old ``run`` lacks is no difference, nor is a key of
    ``run.dataset`` in :data:`DATASET_NOT_COMPARED` (the captions source as an earlier taco
    recorded it: the captions themselves are in ``run.dataset.content``).

    ``digests``: the dataset's (:meth:`~taco.evaluation.datasets.EvalDataset.digests`, whose
    ``content`` is ``run.dataset.content``). With them, a ``run.dataset.content`` written by an
    earlier taco, without :data:`~taco.evaluation.datasets.IMAGE_CONTENT_MARK`, is the
    dataset's too when it is what that taco recorded of it: the same digest unmarked, or the digest of the images' names, sizes and captions alone, taken before
    modification times were; for the latter, an image modified after the results JSON was last
    written (it may have been replaced by one of the same byte size) is refused in its own
    words. Without them (or with another dataset's) an old digest is compared as it is. With
    them, results whose ``dataset`` records :data:`NAMES_SIZES` and differ from the dataset only
    in the images' modification times (the folder copied with ``cp -r``, or unpacked from tar
    or zip) are refused in those words, saying how to give the photos their times back.
    """
    if not json_path.is_file():
        return
    try:
        data = read_result(json_path)
    except ResultsFileError as exc:
        raise ResultsFileError(f"{exc}; {resume_advice(json_path)}") from None
    old = dict(data.get("run", {}))
    if "label" in run and "label" not in old and "label" in data:
        old["label"] = data["label"]
    if "label" in run and old.get("label") != run["label"]:  # either may be long: cut in the message
        raise ResultsFileError(
            f"{json_path} holds results labelled {old.get('label')!r:.40}, not {run['label']!r:.40}; "
            "resume with that --label, or choose another --output for a separate result"
        )
    old, run = _compared(old), _compared(run)
    untimed = _older_content(old, run, digests)
    if untimed:
        old["dataset"] = run["dataset"]  # what an earlier taco recorded of the same images
    diff = sorted(k for k in set(old) | set(run) if old.get(k) != run.get(k)
                  and not (k in RECORDED_LATER and k not in old))
    if diff == ["dataset"] and _only_times_differ(data, old, run, digests):
        raise ResultsFileError(
            f"{json_path} holds results of images of the same names, byte sizes and captions; "
            "only their modification times differ, every one of them: copied or unpacked without "
            "them? (cp -r does not keep them, tar and zip keep them to the whole second at best; "
            "cp -a and rsync -a keep them.) If they are the same photos, give them their times "
            "back (rsync -a ORIGINAL/ COPY/ sets them from the original folder) and run again; "
            "on a FAT/exFAT drive, which keeps times only to 1-2 s, they cannot be given back: "
            "there, as for other photos, " + resume_advice(json_path)
        )
    if diff:
        named = some([f"{k:.40}" for k in diff], 8)
        raise ResultsFileError(
            f"{json_path} holds results of another configuration (differs in: {named}); "
            + resume_advice(json_path)
        )
    if untimed == "names and sizes" and digests is not None:  # (untimed is None without digests)
        # a photo replaced by one of the same size looks the same
        _check_not_modified_since(json_path, digests)


def check_rows_recorded(json_path: Path, csv_path: Path) -> None:
    """Refuse to resume the rows of ``csv_path`` (or of its rank shards,
    :func:`~taco.evaluation.runner.shard_paths`) when ``json_path``, which records what made them,
    is gone. :func:`code_run` writes the JSON's header before any job runs, so rows without it
    are of a run whose JSON was deleted (as a refusal of :func:`check_resume` advises): with
    nothing to compare them to, every row would count as done, and a run on a changed dataset or
    with another configuration would report the old rows' numbers and record its own
    configuration for them. A CSV with its header alone (no row) is no refusal."""
    if json_path.exists():
        return
    rows = {path: read_rows(path) for path in [csv_path, *shard_paths(csv_path)]}
    held = [path for path, found in rows.items() if found]
    if not held:
        return
    jobs = {(r.get("image"), r.get("setting", "")) for found in rows.values() for r in found}
    files = shown_path(held[0]) if len(held) == 1 else some([shown_path(p) for p in held], 3)
    raise ResultsFileError(
        f"{files} {'holds' if len(held) == 1 else 'hold'} {count(len(jobs), 'row')} "
        f"but {shown_path(json_path)}, which records what made them, is gone: delete "
        f"{files if len(held) == 1 else 'those files'} too, or choose another --output"
    )


def _compared(run: dict[str, Any]) -> dict[str, Any]:
    """``run`` (a result's or a new header's) as :func:`check_resume` compares it: its
    ``dataset`` without :data:`DATASET_NOT_COMPARED`."""
    dataset = run.get("dataset")
    if isinstance(dataset, dict) and any(k in dataset for k in DATASET_NOT_COMPARED):
        return {**run, "dataset": {k: v for k, v in dataset.items() if k not in DATASET_NOT_COMPARED}}
    return run


def _only_times_differ(data: dict[str, Any], old: dict[str, Any], run: dict[str, Any],
                       digests: DatasetDigests | None) -> bool:
    """Whether the old result ``data`` (its ``run`` compared as ``old``) differs from the new
    ``run`` only in the images' modification times, every one of them changed: ``run.dataset``
    differs in its ``content`` alone, the result's :data:`NAMES_SIZES` is the dataset's, and by
    its :data:`MTIMES` (both recorded since they were) every image was modified after the
    newest of them then (copied anew: ``cp -r``) or every time was cut to the whole second
    (unpacked from tar or zip; exFAT through exfat-fuse) or to the even second below (FAT keeps
    times to 2 s). A photo replaced by one of the same byte size beside photos left as they
    were is neither."""
    old_ds, new_ds, recorded = old.get("dataset"), run.get("dataset"), data.get("dataset")
    if not (digests is not None and isinstance(old_ds, dict) and isinstance(new_ds, dict)
            and isinstance(recorded, dict) and new_ds.get("content") == digests.content
            and {**old_ds, "content": digests.content} == new_ds
            and recorded.get(NAMES_SIZES) == digests.names_sizes):
        return False
    times = recorded.get(MTIMES)
    if not (isinstance(times, list) and len(times) == 2
            and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in times)):
        return False
    (was_oldest, was_newest), now = times, (digests.oldest, digests.newest[0])
    cuts = {(was_oldest // step * step, was_newest // step * step)
            for step in (1_000_000_000, 2_000_000_000)}  # tar, zip, exFAT; FAT
    return digests.oldest > was_newest or (digests.whole_seconds and now in cuts
                                           and now != (was_oldest, was_newest))


def _check_not_modified_since(json_path: Path, digests: DatasetDigests) -> None:
    """Refuse to resume results whose digest held no modification times when an image of the
    dataset was modified after their JSON was last written: it may be another photo of the same
    byte size, and the rows are of the one before."""
    newest_ns, newest = digests.newest
    try:
        written_ns = json_path.stat().st_mtime_ns
    except OSError:
        written_ns = -1
    if newest_ns > written_ns:
        raise ResultsFileError(
            f"{json_path} holds results written by an earlier taco, which did not record the images' "
            f"modification times, and {shown_path(newest)} was modified after them: its rows may be "
            f"of another photo; {resume_advice(json_path)}"
        )


def _older_content(old: dict[str, Any], run: dict[str, Any], digests: DatasetDigests | None) -> str | None:
    """How the old ``run`` (a result JSON's) records the new ``run``'s dataset where an earlier
    taco wrote it (``run.dataset.content`` unmarked, the rest of ``run.dataset`` the same):
    ``"unmarked"`` (the same digest, of the times too, without the mark), ``"names and sizes"``
    (the digest of names, sizes and captions taco took before it held the times); None when
    it is not (another dataset, recorded as taco records it now, or ``digests`` None or not
    of the new ``run``'s dataset)."""
    old_ds, new_ds = old.get("dataset"), run.get("dataset")
    if not (isinstance(old_ds, dict) and isinstance(new_ds, dict)):
        return None
    stored, content = old_ds.get("content"), new_ds.get("content")
    if (digests is None or content != digests.content or not isinstance(stored, str)
            or stored.startswith(IMAGE_CONTENT_MARK) or {**old_ds, "content": content} != new_ds):
        return None
    return {digests.unmarked: "unmarked", digests.names_sizes: "names and sizes"}.get(stored)


def dataset_dir(out: Path, dataset: EvalDataset, lpips_input: str = "standard") -> Path:
    """``OUT/NAME`` (``OUT/NAME-cropN`` when cropped), shared by every run on the dataset.

    Runs with ``lpips_input="official"`` go to ``OUT/NAME[-cropN]-lpips-official``: their LPIPS
    values are in another convention, so they never share a folder (an RD figure, a BD-rate
    table) with standard ones.
    """
    name = dataset.name + (f"-crop{dataset.crop}" if dataset.crop else "")
    return out / (name + ("-lpips-official" if lpips_input == "official" else ""))


def result_header(
    kind: str,
    label: str,
    codec: str,
    dataset: EvalDataset,
    run: dict[str, Any],
    device: str,
    *,
    digests: DatasetDigests | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON of a run as it starts: what codes what, how, where (``complete``: False).

    Its ``run`` is ``run`` with the ``label``, so that :func:`check_resume` given it refuses to
    resume the results under another label. Its ``dataset`` (not compared on a resume) holds,
    besides :meth:`~taco.evaluation.datasets.EvalDataset.describe`, the ``image_content``
    digest ``taco plot`` compares, :data:`NAMES_SIZES` (the digest of the images' names, byte
    sizes and captions without their times) and :data:`MTIMES` (the earliest and latest of
    those times), with which :func:`check_resume` tells a dataset copied without its files'
    times from one changed; ``digests``: the dataset's
    (:meth:`~taco.evaluation.datasets.EvalDataset.digests`; None: taken here, where
    ``dataset`` can: a stand-in with ``describe`` and ``image_content`` alone records neither).
    """
    if digests is None and hasattr(dataset, "digests"):
        digests = dataset.digests()
    untimed = {} if digests is None else {NAMES_SIZES: digests.names_sizes,
                                          MTIMES: [digests.oldest, digests.newest[0]]}
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "complete": False,
        "kind": kind,
        "label": label,
        "codec": codec,
        "dataset": {**dataset.describe(), "image_content": dataset.image_content, **untimed},
        "lpips_input": run["lpips_input"],
        **extra,
        "run": {**run, "label": label},
        "metric_notes": metric_notes(run["lpips_input"]),
        "environment": environment(device),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def finish_run(
    json_path: Path,
    header: dict[str, Any],
    csv_path: Path,
    jobs: Sequence[Job],
    report: Any,
    dataset: EvalDataset,
    out_dir: Path,
    sets: SetMetrics | None,
    captioner: Any,
    features_dir: Path,
    progress: bool,
    *,
    not_run: Sequence[str] = (),
    skipped_before: Sequence[str] = (),
) -> Path:
    """Summarise a finished run (rank 0): points, set metrics, timings; mark the JSON complete
    when every job has its row and ``not_run`` is empty.

    ``not_run``: images of the dataset the run had no job for (a matched-bpp run's images
    that the model's run lacks): each counts in ``jobs_missing``. ``skipped_before``: those of
    them that the run it derives from skipped as unreadable, listed in ``skipped_images``.
    ``timing``: ``images_timed``, the jobs of this session that returned timings, and the means
    of their ``encode_ms`` and ``decode_ms`` (null when none).
    """
    originals = {}
    if sets is not None and sets.feature_names:
        originals = original_features(sets, dataset, out_dir / ORIGINALS_FEATURES, progress=progress,
                                      digests=image_digests(dataset))
    points = summarize_run(csv_path, jobs, sets=sets, originals=originals,
                           features_dir=features_dir, text=captioner is not None)
    samples = points[0].get("fid_samples") if points else None
    coded = sum(p["images"] for p in points)
    missing = len(jobs) - coded + len(not_run)
    header.update(
        complete=missing == 0,
        jobs_missing=missing,
        points=points,
        set_metrics=(sets.describe(samples) if sets is not None else {}),
        text_similarity=(
            {"captioner": captioner.name, "metrics": "BLEU-4, CIDEr-D (pycocoevalcap), captions of "
             "original vs reconstruction"} if captioner is not None else {"computed": False}
        ),
        timing={"images_timed": report.timed, **report.timing_summary(),
                "note": "wall clock of the images coded in the latest session only"},
        skipped_images=[*dict.fromkeys([*skipped_before, *report.skipped])],
        features=features_dir.name if features_dir.is_dir() else None,
    )
    return write_json(json_path, header)


def code_run(
    kind: str,
    label: str,
    codec: str,
    dataset: EvalDataset,
    out_dir: Path,
    stem: str,
    jobs: list[Job],
    work: Callable[[Job], JobResult],
    columns: Sequence[str],
    *,
    coder: Mapping[str, Any],
    device: str,
    sets: SetMetrics | None,
    captioner: Any,
    lpips_input: str,
    dist: DistEnv | None,
    progress: bool,
    desc: str,
    run_captions: Mapping[str, Any] | None = None,
    run_settings: Mapping[str, Any] | None = None,
    header_fields: Mapping[str, Any] | None = None,
    header_tail: Mapping[str, Any] | None = None,
    check: Callable[[Path, Path], None] | None = None,
    resume_note: str = "",
    before_jobs: Callable[[], object] | None = None,
    not_run: Sequence[str] = (),
    skipped_before: Sequence[str] = (),
) -> Path:
    """Run ``jobs`` with ``work`` into ``out_dir/STEM.{csv,json}`` (and ``STEM.features``), the
    one sequence of every evaluation run (a model's, a classic codec's); return the JSON path.

    First, on the main process, its own files and folders there that are links are refused
    (:func:`~taco.evaluation.runner.refuse_linked`; its rank shards ``STEM.rankR.csv`` too),
    before anything is read or computed.
    The dataset is hashed once (:meth:`~taco.evaluation.datasets.EvalDataset.digests`). The
    JSON's ``run`` is ``coder`` (what codes), the dataset, ``run_captions``, the set metrics,
    captioner and LPIPS convention, then ``run_settings``; its header
    (:func:`result_header`, ``kind``, ``label``, ``codec``, ``device``) has ``header_fields``,
    ``csv`` and ``header_tail`` besides. On the main process, before anything is written:
    :func:`check_resume`, the CSV's and its rank shards' ``columns``
    (:func:`~taco.evaluation.runner.check_columns`), :func:`check_rows_recorded` (rows whose
    JSON is gone), ``check(json_path, csv_path)`` (a refusal of its own),
    :func:`check_run_writable`, then ``resume_note``, a warning said once the resume is known to
    go on; then the header is written as the JSON where there is none yet. A JSON there (of the
    same configuration: :func:`check_resume`), complete or not, is left as it is until
    :func:`finish_run` replaces it with the new summary, so that a rerun refused, interrupted or
    failing never leaves less than the results it found (a complete run run again codes nothing
    and rewrites the JSON once). ``before_jobs`` runs on every process after that, before any
    job is timed. Then :func:`~taco.evaluation.runner.run_jobs` (``desc``: its progress bar)
    and, on the main process, :func:`finish_run` (``not_run``, ``skipped_before``).
    """
    dist = dist or DistEnv()
    csv_path, json_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.json"
    features_dir = out_dir / f"{stem}.features"
    if dist.is_main:  # before the dataset is hashed and the JSON read: taco's own names, never links
        refuse_linked([json_path, csv_path, *shard_paths(csv_path), features_dir, out_dir / ORIGINALS_FEATURES])
    digests = dataset.digests()  # its content and what an earlier taco recorded (check_resume)
    run = {
        **coder,
        "dataset": {**{k: dataset.describe()[k] for k in ("name", "kind", "crop")}, "content": digests.content},
        **(run_captions or {}),
        "set_metrics": sets.feature_names if sets else [],
        "captioner": getattr(captioner, "name", None),
        "lpips_input": lpips_input,
        **(run_settings or {}),
    }
    header = result_header(kind, label, codec, dataset, run, device, digests=digests,
                           **(header_fields or {}), csv=csv_path.name, **(header_tail or {}))
    if dist.is_main:
        check_resume(json_path, header["run"], digests=digests)
        # a file the run may not write or resume is refused before anything is written: a CSV
        # or rank shard of other columns, rows whose JSON is gone, then a file or features
        # folder it may not write (those folders only where it will add to them: a job left;
        # an original's missing)
        check_columns(csv_path, columns)
        check_rows_recorded(json_path, csv_path)
        if check is not None:
            check(json_path, csv_path)
        check_run_writable(json_path, csv_path, features_dir, jobs, sets, dataset=dataset)
        if resume_note:
            warn_at_caller(resume_note, TacoWarning)
        if not json_path.is_file():  # a new run's header; a JSON there (of this configuration,
            write_json(json_path, header)  # complete or not) stays until finish_run replaces it
    if before_jobs is not None:
        before_jobs()
    report = run_jobs(jobs, work, csv_path, columns, features_dir=features_dir, dist=dist,
                      progress=progress, desc=desc)
    if not dist.is_main:
        return json_path
    return finish_run(json_path, header, csv_path, jobs, report, dataset, out_dir, sets, captioner,
                      features_dir, progress, not_run=not_run, skipped_before=skipped_before)
