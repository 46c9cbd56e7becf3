"""A rerun of ``taco evaluate`` refused for a results file it may not write touches nothing.

Found as root without the bypass capabilities (``capsh --drop=cap_dac_override,...``): with
``chmod 444 ev10/ds/*.csv ev10/ds/*.json`` (the folder writable), rerunning the same command
said ``ev10/ds/elic-small-q3-1eb8dc41.csv: permission denied`` (exit 2) but had already
replaced the complete JSON (points, set_metrics, timing) by the header written as a run starts
(a read-only file in a writable folder is replaced by an atomic write), so ``taco plot`` found no
points; the same with ``--classic jpeg`` and when resuming an incomplete run. A fresh run whose
``STEM.features/`` folder was read-only failed only at the first feature flush, after the header
and the first image's coding. The files a run writes are now checked before the header is
written, and a run with nothing left to code does not open its CSV.

Permissions are simulated (EACCES from ``open`` / ``os.open`` / ``os.access`` for the paths
denied) so that the tests also hold as root; one test uses real modes where it runs as a user
whom they stop.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
from pathlib import Path

import pytest

from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
from taco.evaluation.measure import SetMetrics
from taco.evaluation.runner import Job, JobResult, check_writable, read_rows, run_jobs

pytestmark = pytest.mark.filterwarnings("ignore:.*colours converted from its")

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT


def _denied(path: object) -> PermissionError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def deny_writes(monkeypatch: pytest.MonkeyPatch, files=(), folders=()) -> None:
    """Behave as the kernel does for a user whom ``files`` (mode 0444) and ``folders`` (0555)
    stop: writing those files, or creating files in those folders, is EACCES; reading is not."""
    files = {os.path.abspath(f) for f in files}
    folders = {os.path.abspath(f) for f in folders}

    def blocked(path: object, writing: bool, creating: bool) -> bool:
        if isinstance(path, int):
            return False
        full = os.path.abspath(os.fspath(path))
        return ((writing and (full in files or full in folders))  # a folder: O_TMPFILE in it
                or (creating and os.path.dirname(full) in folders and not os.path.exists(full)))

    real_open, real_os_open, real_access = builtins.open, os.open, os.access

    def fake_open(file, mode="r", *args, **kwargs):
        if blocked(file, any(c in mode for c in "wax+"), any(c in mode for c in "wax")):
            raise _denied(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if blocked(path, bool(flags & _WRITE_FLAGS), bool(flags & os.O_CREAT)):
            raise _denied(path)
        return real_os_open(path, flags, *args, **kwargs)

    def fake_access(path, mode, *args, **kwargs):
        if not isinstance(path, int) and mode & os.W_OK:
            full = os.path.abspath(os.fspath(path))
            if full in files or full in folders:
                return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "access", fake_access)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file under ``folder`` and its bytes (None: a folder)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def tiny_model():
    return load_model("taco-tiny")


def evaluate(model_info, folder: Path, out: Path, **kw) -> Path:
    model, info = model_info
    return evaluate_model(model, info, open_dataset(str(folder)), out, progress=False, **kw)


@pytest.mark.parametrize("which", ["csv", "json"])
def test_a_rerun_refused_for_a_read_only_result_file_leaves_the_results_as_they_were(
        tiny_model, tiny_folder, tmp_path, monkeypatch, which):
    json_path = evaluate(tiny_model, tiny_folder, tmp_path)
    csv_path = json_path.with_suffix(".csv")
    before = snapshot(tmp_path)
    assert json.loads(json_path.read_text())["points"]
    denied = csv_path if which == "csv" else json_path
    deny_writes(monkeypatch, files=[denied])
    with pytest.raises(PermissionError) as caught:
        evaluate(tiny_model, tiny_folder, tmp_path)
    assert caught.value.filename == str(denied)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before  # the complete JSON still has its points and timing


def test_resuming_an_incomplete_run_with_a_read_only_csv_keeps_its_json(
        tiny_model, tiny_folder, tmp_path, monkeypatch):
    json_path = evaluate(tiny_model, tiny_folder, tmp_path)
    csv_path = json_path.with_suffix(".csv")
    csv_path.write_text("".join(csv_path.read_text().splitlines(keepends=True)[:3]))  # 2 of 4 rows
    before = snapshot(tmp_path)
    deny_writes(monkeypatch, files=[csv_path])
    with pytest.raises(PermissionError) as caught:
        evaluate(tiny_model, tiny_folder, tmp_path)
    assert caught.value.filename == str(csv_path)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
    assert len(read_rows(csv_path)) == 2
    # writable again, the resume codes the two images left
    result = json.loads(evaluate(tiny_model, tiny_folder, tmp_path).read_text())
    assert result["complete"] and result["timing"]["images_timed"] == 2


class FakeInception:
    """Per-channel means and variances as features (stands in for Inception)."""

    source = "fake (test)"

    def __call__(self, images):
        import torch

        flat = images.flatten(2)
        return torch.cat([flat.mean(-1), flat.var(-1)], dim=1).float()


def test_a_read_only_features_folder_is_refused_before_anything_is_written(
        tiny_model, tiny_folder, tmp_path, monkeypatch):
    model, info = tiny_model
    sets = SetMetrics(n_images=4, fid="full", extractor=FakeInception())
    stem = info.tag
    out = tmp_path / "out"
    features = out / f"{stem}.features"
    features.mkdir(parents=True)
    deny_writes(monkeypatch, folders=[features])
    with pytest.raises(PermissionError) as caught:
        evaluate(tiny_model, tiny_folder, out, sets=sets)
    assert caught.value.filename == str(features)
    monkeypatch.undo()
    assert snapshot(out) == {f"{stem}.features": None}  # no header, no CSV, nothing coded
    # writable, the same run goes through and keeps its features there
    result = json.loads(evaluate(tiny_model, tiny_folder, out, sets=sets).read_text())
    assert result["complete"] and result["features"] == features.name and any(features.iterdir())


def test_the_cli_refuses_a_read_only_classic_csv_in_one_line_and_keeps_its_json(
        taco_main, tiny_folder, tmp_path, monkeypatch, capsys):
    args = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=10,50", "--fid", "off",
            "--cmmd-clip", "off", "-o", str(tmp_path / "ev"), "--no-plot"]
    assert taco_main(args) == 0
    folder = next((tmp_path / "ev").iterdir())
    before = snapshot(folder)
    assert json.loads((folder / "jpeg.json").read_text())["points"]
    capsys.readouterr()
    deny_writes(monkeypatch, files=[folder / "jpeg.csv"])
    assert taco_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    monkeypatch.undo()
    assert err[-1] == f"taco evaluate: error: {folder / 'jpeg.csv'}: permission denied"
    assert snapshot(folder) == before


#: ``python -c RERUN DATASET OUT``: the rerun, for a process of its own: the file a
#: PermissionError names.
RERUN = """
import sys
from pathlib import Path
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import evaluate_model, load_model
model, info = load_model("taco-tiny")
try:
    evaluate_model(model, info, open_dataset(sys.argv[1]), Path(sys.argv[2]), progress=False)
except PermissionError as error:
    print(error.filename)
"""


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_real_read_only_modes(tiny_model, tiny_folder, tmp_path, request):
    json_path = evaluate(tiny_model, tiny_folder, tmp_path)
    csv_path = json_path.with_suffix(".csv")
    before = snapshot(tmp_path)
    csv_path.chmod(0o444)
    json_path.chmod(0o444)
    try:
        if os.geteuid() == 0:  # root writes anyway: the bypass dropped (skips without capsh)
            done = request.getfixturevalue("without_bypass")(["-c", RERUN, str(tiny_folder), str(tmp_path)])
            assert (done.returncode, done.stdout) == (0, f"{json_path}\n"), done.stderr
            assert snapshot(tmp_path) == before
            return
        if os.access(csv_path, os.W_OK):
            pytest.skip("this user may write read-only files (root with CAP_DAC_OVERRIDE)")
        with pytest.raises(PermissionError) as caught:
            evaluate(tiny_model, tiny_folder, tmp_path)
        assert caught.value.filename == str(json_path)
        assert snapshot(tmp_path) == before
    finally:
        csv_path.chmod(0o644)
        json_path.chmod(0o644)


def test_run_jobs_with_nothing_left_does_not_open_its_csv(tmp_path, monkeypatch):
    csv_path = tmp_path / "r.csv"
    columns = ["index", "image", "setting", "bytes"]
    jobs = [Job(i, f"{i}.png") for i in range(3)]

    def work(job: Job) -> JobResult:
        return JobResult({"index": job.index, "bytes": 10 + job.index})

    assert run_jobs(jobs, work, csv_path, columns, progress=False).coded == 3
    data = csv_path.read_bytes()
    deny_writes(monkeypatch, files=[csv_path])  # as a read-only CSV: r+b to check its tail fails
    assert run_jobs(jobs, work, csv_path, columns, progress=False).coded == 0
    monkeypatch.undo()
    assert csv_path.read_bytes() == data
    # a job left still opens it, and a read-only CSV says so naming it
    deny_writes(monkeypatch, files=[csv_path])
    with pytest.raises(PermissionError) as caught:
        run_jobs([*jobs, Job(3, "3.png")], work, csv_path, columns, progress=False)
    assert caught.value.filename == str(csv_path)


def test_check_writable_passes_what_is_not_there_and_names_what_cannot_be_written(tmp_path, monkeypatch):
    new, folder = tmp_path / "new.csv", tmp_path / "x.features"
    check_writable([new], [folder])  # a new run's files: nothing to check, nothing made
    assert not new.exists() and not folder.exists()
    folder.mkdir()
    (tmp_path / "a.json").write_text("{}")
    check_writable([tmp_path / "a.json"], [folder])
    assert (tmp_path / "a.json").read_text() == "{}"
    deny_writes(monkeypatch, folders=[folder])
    with pytest.raises(PermissionError) as caught:
        check_writable([tmp_path / "a.json"], [folder])
    assert caught.value.filename == str(folder)


def test_rerunning_a_complete_run_reads_a_read_only_features_folder(
        tiny_model, tiny_folder, tmp_path, monkeypatch):
    """fc08ada checked STEM.features/ whether or not a job was left: rerunning a complete run
    whose features folder is read-only said 'STEM.features: permission denied' (exit 2), where
    the summary is made from the features there, only read. Checked only when a job is left."""
    from taco.evaluation.classic import evaluate_codec, get_codec

    sets = SetMetrics(n_images=4, fid="full", extractor=FakeInception())
    json_path = evaluate(tiny_model, tiny_folder, tmp_path, sets=sets)
    first = json.loads(json_path.read_text())
    features = json_path.with_suffix(".features")
    assert first["complete"] and first["features"] == features.name and any(features.iterdir())
    jpeg = get_codec("jpeg")
    jpeg_json = evaluate_codec(jpeg, open_dataset(str(tiny_folder)), tmp_path, qualities=[10, 50],
                               sets=sets, progress=False)
    jpeg_features = jpeg_json.with_suffix(".features")
    assert any(jpeg_features.iterdir())
    csvs = {p: p.read_bytes() for p in (json_path.with_suffix(".csv"), jpeg_json.with_suffix(".csv"))}
    deny_writes(monkeypatch, folders=[features, jpeg_features])
    again = json.loads(evaluate(tiny_model, tiny_folder, tmp_path, sets=sets).read_text())
    assert again["complete"] and again["points"] == first["points"]
    assert again["set_metrics"] == first["set_metrics"]
    jpeg_first = json.loads(jpeg_json.read_text())
    jpeg_again = json.loads(evaluate_codec(jpeg, open_dataset(str(tiny_folder)), tmp_path,
                                           qualities=[10, 50], sets=sets, progress=False).read_text())
    assert jpeg_again["complete"] and jpeg_again["points"] == jpeg_first["points"]
    assert {p: p.read_bytes() for p in csvs} == csvs  # nothing coded again
    # with a job left (another quality), the read-only folder is refused before the header
    before = snapshot(tmp_path)
    with pytest.raises(PermissionError) as caught:
        evaluate_codec(jpeg, open_dataset(str(tiny_folder)), tmp_path, qualities=[10, 50, 90],
                       sets=sets, progress=False)
    assert caught.value.filename == str(jpeg_features)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
