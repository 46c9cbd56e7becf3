"""Results written before the dataset's digest held the images' modification times
(an earlier taco's ``run.dataset.content``: 16 hex digits of names, byte sizes and captions)
resume, and ``taco plot`` takes them beside the same run written now; a real dataset change is
still refused."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
from pathlib import Path

import pytest
import yaml
from PIL import Image

from taco.evaluation.classic import evaluate_codec, get_codec
from taco.evaluation.datasets import IMAGE_CONTENT_MARK, DatasetDigests, open_dataset
from taco.evaluation.runner import ResultsFileError


def _names_sizes(root: Path) -> str:
    """The digest taco recorded as ``run.dataset.content`` before it held the times (taken as
    eb0f0ba took it: each image's name, byte size and captions; these have none, listed as one
    empty caption)."""
    digest = hashlib.sha256()
    for name in ("a.bmp", "b.bmp"):
        digest.update(json.dumps([name, (root / name).stat().st_size, [""]]).encode())
    return digest.hexdigest()[:16]


def _age(folder: Path, seconds: int = 60) -> None:
    """Every image of ``folder`` modified ``seconds`` ago (made before the results were)."""
    for photo in folder.iterdir():
        before = photo.stat().st_mtime_ns - seconds * 1_000_000_000
        os.utime(photo, ns=(before, before))


def _as_written_before(json_path: Path, content: str, image_content: str | None = None) -> None:
    """Rewrite a result JSON as an earlier taco wrote it: its digests unmarked."""
    data = json.loads(json_path.read_text(encoding="utf-8"))
    data["run"]["dataset"]["content"] = content
    if image_content is not None:
        data["dataset"]["image_content"] = image_content
    json_path.write_text(json.dumps(data), encoding="utf-8")


def _jpeg_run(root: Path, out: Path) -> Path:
    return evaluate_codec(get_codec("jpeg"), open_dataset(str(root)), out, qualities=[50], progress=False)


def test_the_run_digest_is_marked_and_knows_the_older_ones(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    dataset = open_dataset(str(root))
    content, digests = dataset.content, dataset.digests()
    assert type(content) is str and content.startswith(IMAGE_CONTENT_MARK)  # a plain str: yaml/json safe
    assert isinstance(digests, DatasetDigests) and digests.content == content
    assert content == IMAGE_CONTENT_MARK + digests.unmarked and len(digests.unmarked) == 16
    assert digests.names_sizes == _names_sizes(root)
    newest = max((root / n).stat().st_mtime_ns for n in ("a.bmp", "b.bmp"))
    assert digests.newest[0] == newest and digests.newest[1] in ("a.bmp", "b.bmp")
    for again in (pickle.loads(pickle.dumps(digests)), copy.deepcopy(digests)):
        assert again == digests
    assert json.loads(json.dumps({"content": content})) == {"content": content}
    assert yaml.safe_load(yaml.safe_dump({"content": content})) == {"content": content}


def test_check_resume_takes_an_older_digest_only_with_the_dataset_s_digests(tmp_path, bmp_folder):
    """The older forms are known only through ``digests``: without them (or with another
    dataset's) an earlier taco's ``run.dataset.content`` is compared as it is."""
    from taco.evaluation.results import check_resume

    root = bmp_folder(tmp_path / "bmp")
    _age(root)
    json_path = _jpeg_run(root, tmp_path / "out")
    run = json.loads(json_path.read_text(encoding="utf-8"))["run"]  # as a resume's header has it
    digests = open_dataset(str(root)).digests()
    assert run["dataset"]["content"] == digests.content
    other = DatasetDigests("t-0123456789abcdef", digests.names_sizes, digests.newest)
    for stored in (digests.unmarked, _names_sizes(root)):
        _as_written_before(json_path, stored)
        check_resume(json_path, run, digests=digests)  # not refused
        with pytest.raises(ResultsFileError, match=r"differs in: dataset"):
            check_resume(json_path, run)
        with pytest.raises(ResultsFileError, match=r"differs in: dataset"):
            check_resume(json_path, run, digests=other)  # not the run's dataset's


def test_results_of_an_earlier_taco_resume_and_record_the_new_digest(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    _age(root)
    out = tmp_path / "out"
    json_path = _jpeg_run(root, out)
    rows = (json_path.parent / "jpeg.csv").read_text(encoding="utf-8")
    _as_written_before(json_path, _names_sizes(root), "0123456789abcdef")
    assert _jpeg_run(root, out) == json_path  # not refused ("differs in: dataset")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["run"]["dataset"]["content"] == open_dataset(str(root)).content
    assert data["run"]["dataset"]["content"].startswith(IMAGE_CONTENT_MARK)
    assert (json_path.parent / "jpeg.csv").read_text(encoding="utf-8") == rows  # resumed, not coded again


def test_results_with_the_times_but_no_mark_resume(tmp_path, bmp_folder):
    """Written by the taco between the two marks: ``dataset.image_content`` marked,
    ``run.dataset.content`` the same digest of the times without its mark."""
    root = bmp_folder(tmp_path / "bmp")
    out = tmp_path / "out"
    json_path = _jpeg_run(root, out)
    _as_written_before(json_path, open_dataset(str(root)).digests().unmarked)
    _jpeg_run(root, out)  # not refused
    assert json.loads(json_path.read_text(encoding="utf-8"))["run"]["dataset"]["content"].startswith(
        IMAGE_CONTENT_MARK)


def test_an_earlier_taco_s_results_of_another_dataset_are_still_refused(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    _age(root)
    out = tmp_path / "out"
    json_path = _jpeg_run(root, out)
    _as_written_before(json_path, _names_sizes(root), "0123456789abcdef")
    Image.new("RGB", (64, 32), "green").save(root / "a.bmp")  # another photo, of another size
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg_run(root, out)
    _as_written_before(json_path, "0123456789abcdef")  # neither digest of these images
    with pytest.raises(ResultsFileError, match=r"another configuration \(differs in: dataset\)"):
        _jpeg_run(root, out)


def test_an_earlier_taco_s_results_with_a_photo_modified_since_are_refused_in_their_own_words(tmp_path, bmp_folder):
    """Names and sizes agree, but a.bmp was written after the results: it may have been replaced
    by another photo of the same byte size, which the old digest cannot tell."""
    root = bmp_folder(tmp_path / "bmp")
    _age(root)
    out = tmp_path / "out"
    json_path = _jpeg_run(root, out)
    _as_written_before(json_path, _names_sizes(root), "0123456789abcdef")
    Image.effect_noise((48, 32), 60).convert("RGB").save(root / "a.bmp")  # the same byte size
    later = json_path.stat().st_mtime_ns + 2_000_000_000
    os.utime(root / "a.bmp", ns=(later, later))
    assert open_dataset(str(root)).digests().names_sizes == _names_sizes(root)
    before = json_path.read_text(encoding="utf-8")
    with pytest.raises(ResultsFileError) as exc:
        _jpeg_run(root, out)
    message = str(exc.value)
    assert "written by an earlier taco, which did not record the images' modification times" in message
    assert "a.bmp was modified after them" in message
    assert message.endswith(f"; delete {json_path.with_suffix('.csv')} and {json_path}, or choose another --output")
    assert "\n" not in message
    assert json_path.read_text(encoding="utf-8") == before  # refused before the header is written


def test_a_marked_digest_of_other_images_is_refused(tmp_path, bmp_folder):
    root = bmp_folder(tmp_path / "bmp")
    out = tmp_path / "out"
    json_path = _jpeg_run(root, out)
    _as_written_before(json_path, IMAGE_CONTENT_MARK + _names_sizes(root))  # marked: compared as it is
    with pytest.raises(ResultsFileError, match=r"differs in: dataset"):
        _jpeg_run(root, out)


# taco plot ---------------------------------------------------------------------------------------

POINTS = [{"setting": "q50", "images": 2, "bpp": 0.8, "psnr": 31.0}]


def _result(path: Path, content: str, image_content: str, points=POINTS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "format": "taco-eval", "version": 1, "kind": "classic", "label": "JPEG", "codec": "jpeg",
        "dataset": {"name": "val", "kind": "folder", "images": 2, "crop": "none", "image_content": image_content},
        "run": {"codec": {"name": "jpeg"}, "dataset": {"name": "val", "kind": "folder", "crop": "none",
                                                       "content": content},
                "set_metrics": [], "captioner": None, "lpips_input": "standard", "label": "JPEG"},
        "points": points}), encoding="utf-8")
    return path


OLD = ("38ed12a5de79a2e9", "d64f9e7e052fc2f6")  # an earlier taco's: names, sizes (and captions)
BETWEEN = ("f3ec1c5e48729d01", "t-c1e30d328efb1549")  # the times, the run digest unmarked
NEW = ("t-f3ec1c5e48729d01", "t-c1e30d328efb1549")  # the times, both marked


@pytest.mark.parametrize(("a", "b"), [(OLD, NEW), (NEW, OLD), (OLD, BETWEEN), (BETWEEN, NEW), (NEW, BETWEEN)])
def test_taco_plot_takes_an_earlier_taco_s_result_beside_the_same_run_written_now(tmp_path, a, b):
    from taco.evaluation.plot import collect_curves, load_results

    _result(tmp_path / "a" / "jpeg.json", *a)
    _result(tmp_path / "b" / "jpeg.json", *b)
    results = load_results([tmp_path / "a" / "jpeg.json", tmp_path / "b" / "jpeg.json"])
    (curve,) = collect_curves(results)["val"]
    assert len(curve.sources) == 1 and [p["setting"] for p in curve.points] == ["q50"]


@pytest.mark.parametrize(("a", "b"), [
    (OLD, ("0123456789abcdef", OLD[1])),  # two of an earlier taco: other captions
    (NEW, ("t-0123456789abcdef", NEW[1])),  # two of now
    (BETWEEN, ("0123456789abcdef", BETWEEN[1])),  # two between the marks
    (BETWEEN, ("t-0123456789abcdef", NEW[1])),  # between and now: the same digest of other times
])
def test_taco_plot_still_tells_runs_with_other_digests_of_the_same_kind_apart(tmp_path, a, b):
    from taco.evaluation.plot import collect_curves, load_results

    _result(tmp_path / "a" / "jpeg.json", *a)
    _result(tmp_path / "b" / "jpeg.json", *b)
    with pytest.raises(ValueError, match="has setting q50 twice, with other results"):
        collect_curves(load_results([tmp_path / "a" / "jpeg.json", tmp_path / "b" / "jpeg.json"]))


def test_taco_plot_knows_the_mark_the_datasets_write():
    """taco.evaluation.plot writes the mark out (importing the datasets module would load what
    ``taco plot`` must not: tests/evaluation/test_plot_startup.py)."""
    from taco.evaluation import plot

    assert plot.IMAGE_CONTENT_MARK == IMAGE_CONTENT_MARK
