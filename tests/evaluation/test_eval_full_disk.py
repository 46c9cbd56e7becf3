"""``taco evaluate`` stopped by a full disk after some of its results were written (the RD figure
after complete results, a later codec's run) is done in part: it prints what was written, says in
one line which files were written and which not, and to run it again to finish, and exits 3 (not
2, a usage error or a command that did nothing). A stop before any result, or by any other
error (a permission, a file in a folder's place: a rerun would meet it again), is the plain error
line, exit 2. A rerun finishes without coding anything again."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from taco.evaluation import classic, plot, results
from taco.evaluation.evaluate import EvalConfig, EvaluationStopped, run_evaluation

ARGS = ["--fid", "off", "--cmmd-clip", "off", "--quiet"]


def _full(path: Path, code: int = errno.ENOSPC) -> OSError:
    return OSError(code, "No space left on device" if code == errno.ENOSPC else os.strerror(code), str(path))


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("taco evaluate: error:")]


def _figure_fails(monkeypatch) -> None:
    def write_all_atomic(files, *args, **kwargs):
        raise _full(next(iter(files)))

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)


def _json_fails(monkeypatch, name: str, code: int = errno.ENOSPC) -> None:
    real = classic.write_json

    def write_json(path, *args, **kwargs):
        if Path(path).name == name:
            raise _full(path, code)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(classic, "write_json", write_json)

    monkeypatch.setattr(results, "write_json", write_json)  # a run's first write (code_run)


def test_a_full_disk_at_the_figure_says_what_was_written_and_exits_3(taco_main, tiny_folder, tmp_path, monkeypatch,
                                                                      capsys):
    out = tmp_path / "ev"
    args = ["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=10,50", *ARGS, "-o", str(out)]
    _figure_fails(monkeypatch)
    assert taco_main(args) == 3
    captured = capsys.readouterr()
    folder = out / tiny_folder.name
    assert _errors(captured.err) == [
        f"taco evaluate: error: stopped after writing 1 result file ({tiny_folder.name}/jpeg.json): {folder / 'rd.png'}: no space "
        f"left on device; not written: the RD figure and BD-rate table (rd.png, ...) in {folder}: free some "
        "space and run the same command again to finish (the results written are read, not coded again)"]
    assert "JPEG" in captured.out and str(folder / "jpeg.json") in captured.out  # the summary of what was written
    assert json.loads((folder / "jpeg.json").read_text())["complete"] and not (folder / "rd.png").exists()
    csv = (folder / "jpeg.csv").read_bytes()
    monkeypatch.undo()
    assert taco_main(args) == 0  # the rerun draws the figure, coding nothing again
    assert (folder / "rd.png").is_file() and (folder / "jpeg.csv").read_bytes() == csv


def test_a_full_disk_at_a_later_codec_keeps_the_first_and_exits_3(taco_main, tiny_folder, tmp_path, monkeypatch,
                                                                   capsys):
    out = tmp_path / "ev"
    args = ["evaluate", str(tiny_folder), "--classic", "jpeg,webp", "--qualities", "jpeg=10,50",
            "--qualities", "webp=10,50", *ARGS, "-o", str(out), "--no-plot"]
    _json_fails(monkeypatch, "webp.json")
    assert taco_main(args) == 3
    err = _errors(capsys.readouterr().err)
    folder = out / tiny_folder.name
    assert err == [f"taco evaluate: error: stopped after writing 1 result file ({tiny_folder.name}/jpeg.json): "
                   f"{folder / 'webp.json'}: "
                   "no space left on device; not written: the runs left: free some space and run the same "
                   "command again to finish (the results written are read, not coded again)"]
    assert json.loads((folder / "jpeg.json").read_text())["complete"]


def test_a_full_disk_before_any_result_is_the_error_line_and_exit_2(taco_main, tiny_folder, tmp_path, monkeypatch,
                                                                   capsys):
    out = tmp_path / "ev"
    _json_fails(monkeypatch, "jpeg.json")
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg", "--qualities", "jpeg=10", *ARGS,
                      "-o", str(out)]) == 2
    folder = out / tiny_folder.name
    assert _errors(capsys.readouterr().err) == [
        f"taco evaluate: error: {folder / 'jpeg.json'}: no space left on device"]


def test_the_library_raises_evaluation_stopped_with_the_files_written(tiny_folder, tmp_path, monkeypatch):
    _figure_fails(monkeypatch)
    cfg = EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], qualities={"jpeg": [10]}, output=tmp_path / "ev",
                     fid="off", cmmd_clip=None, progress=False)
    with pytest.raises(EvaluationStopped) as e:
        run_evaluation(cfg)
    assert [p.name for p in e.value.written] == ["jpeg.json"] and e.value.errno == errno.ENOSPC
    assert isinstance(e.value, RuntimeError) and isinstance(e.value.__cause__, OSError)


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTDIR, errno.EIO])
def test_another_error_after_some_results_is_the_error_line_and_exit_2(taco_main, tiny_folder, tmp_path,
                                                                       monkeypatch, capsys, code):
    # not a full disk: a rerun meets it again, so it is not "done in part, run again" (exit 3)
    out = tmp_path / "ev"
    _json_fails(monkeypatch, "webp.json", code)
    assert taco_main(["evaluate", str(tiny_folder), "--classic", "jpeg,webp", "--qualities", "jpeg=10",
                      "--qualities", "webp=10", *ARGS, "-o", str(out), "--no-plot"]) == 2
    folder = out / tiny_folder.name
    reason = os.strerror(code)
    assert _errors(capsys.readouterr().err) == [
        f"taco evaluate: error: {folder / 'webp.json'}: {reason[:1].lower() + reason[1:]}"]
    assert json.loads((folder / "jpeg.json").read_text())["complete"]


def test_a_quota_after_some_results_exits_3(tiny_folder, tmp_path, monkeypatch):
    def write_all_atomic(files, *args, **kwargs):
        raise _full(next(iter(files)), errno.EDQUOT)

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)
    cfg = EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], qualities={"jpeg": [10]}, output=tmp_path / "ev",
                     fid="off", cmmd_clip=None, progress=False)
    with pytest.raises(EvaluationStopped) as e:
        run_evaluation(cfg)
    assert e.value.errno == errno.EDQUOT and "free some space" in str(e.value)


def test_the_line_counts_results_jsons_only_named_under_the_output_folder(taco_main, tiny_folder, tmp_path,
                                                                          monkeypatch, capsys):
    # the first dataset's BD-rate table (rd.bdrate.json) is no result file; names say the dataset
    second = tmp_path / "second"
    shutil.copytree(tiny_folder, second)
    out = tmp_path / "ev"
    real = classic.write_json

    def write_json(path, *args, **kwargs):
        if Path(path).parent.name == "second" and Path(path).name == "jpeg.json":
            raise _full(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(classic, "write_json", write_json)

    monkeypatch.setattr(results, "write_json", write_json)  # a run's first write (code_run)
    assert taco_main(["evaluate", str(tiny_folder), str(second), "--classic", "jpeg,webp", "--qualities",
                      "jpeg=10,50", "--qualities", "webp=10,50", *ARGS, "-o", str(out)]) == 3
    assert (out / tiny_folder.name / "rd.bdrate.json").is_file()
    err = _errors(capsys.readouterr().err)
    name = tiny_folder.name
    assert len(err) == 1 and err[0].startswith(
        f"taco evaluate: error: stopped after writing 2 result files ({name}/jpeg.json, {name}/webp.json): "
        f"{out / 'second' / 'jpeg.json'}: no space left on device; "), err


def _figure_fails_with(monkeypatch, exc: OSError) -> None:
    from taco.evaluation import plot

    def write_all_atomic(files, *args, **kwargs):
        raise exc

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)


def _config(tiny_folder, tmp_path):
    from taco.evaluation.evaluate import EvalConfig

    return EvalConfig(datasets=[str(tiny_folder)], classic=["jpeg"], qualities={"jpeg": [10]},
                      output=tmp_path / "ev", fid="off", cmmd_clip=None, progress=False)


def test_a_broken_pipe_after_some_results_is_not_a_stop(tiny_folder, tmp_path, monkeypatch):
    """A BrokenPipeError (the reader of taco's output gone) is raised as it is, for taco.cli to
    end quietly, not made an EvaluationStopped (exit 3, a line to a pipe no one reads)."""
    from taco.evaluation.evaluate import run_evaluation

    _figure_fails_with(monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe"))
    with pytest.raises(BrokenPipeError):
        run_evaluation(_config(tiny_folder, tmp_path))


def test_a_model_s_result_counts_as_written_when_the_figure_fails(tiny_folder, tmp_path, monkeypatch):
    """A model's JSON, written, is among the files a stop names (not only the classic codecs')."""
    from taco.evaluation.evaluate import EvalConfig, EvaluationStopped, run_evaluation

    _figure_fails_with(monkeypatch, OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "rd.png")))
    cfg = EvalConfig(datasets=[str(tiny_folder)], models=["elic-tiny"], output=tmp_path / "ev", fid="off",
                     cmmd_clip=None, progress=False)
    with pytest.raises(EvaluationStopped) as e:
        run_evaluation(cfg)
    assert [p.suffix for p in e.value.written] == [".json"] and "stopped after writing 1 result file" in str(e.value)


def test_a_stop_at_a_later_dataset_names_its_results_and_the_runs_left(tiny_folder, folder_factory, tmp_path,
                                                                       monkeypatch):
    """The first dataset done, its figure drawn; the second's JSON hits a full disk: the line
    counts result files (JSONs, not the figure's images) and says the runs left are not
    written (not the first dataset's figure, which was)."""
    from pathlib import Path

    from taco.evaluation import classic, results
    from taco.evaluation.evaluate import EvalConfig, EvaluationStopped, run_evaluation

    other = folder_factory(tmp_path / "other", captions=False)
    real = classic.write_json

    def write_json(path, *args, **kwargs):
        if Path(path).parent.name == "other" and Path(path).name == "jpeg.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(classic, "write_json", write_json)

    monkeypatch.setattr(results, "write_json", write_json)  # a run's first write (code_run)
    cfg = EvalConfig(datasets=[str(tiny_folder), str(other)], classic=["jpeg"], qualities={"jpeg": [10]},
                     output=tmp_path / "ev", fid="off", cmmd_clip=None, progress=False)
    with pytest.raises(EvaluationStopped) as e:
        run_evaluation(cfg)
    assert any(p.suffix == ".png" for p in e.value.written)  # the first dataset's figure, drawn
    named = str(e.value).split("(", 1)[1].split(")", 1)[0].split(", ")
    assert any(n.endswith("jpeg.json") for n in named) and all(n.endswith(".json") for n in named)  # no rd.png
    assert "; not written: the runs left: free some space" in str(e.value)


def test_a_taco_error_that_stops_it_is_said_in_its_own_words(tiny_folder, tmp_path, monkeypatch):
    """An OSError that is a TacoError (its own whole line) is said as it is, not re-worded."""
    from taco.errors import TacoError
    from taco.evaluation.evaluate import EvaluationStopped, run_evaluation

    class Refused(TacoError, OSError):
        pass

    refused = Refused("Quota of the results folder reached (ask for more)")
    refused.errno = errno.EDQUOT  # a quota: a stop
    _figure_fails_with(monkeypatch, refused)
    with pytest.raises(EvaluationStopped) as e:
        run_evaluation(_config(tiny_folder, tmp_path))
    assert "json): Quota of the results folder reached (ask for more); not written:" in str(e.value)


def test_evaluation_stopped_pickles_whole():
    """A worker's stop reaches its parent with the files written and the errno."""
    import pickle
    from pathlib import Path

    from taco.evaluation.evaluate import EvaluationStopped

    stop = pickle.loads(pickle.dumps(EvaluationStopped("stopped", [Path("a.json")], errno.ENOSPC)))
    assert (str(stop), stop.written, stop.errno) == ("stopped", [Path("a.json")], errno.ENOSPC)
