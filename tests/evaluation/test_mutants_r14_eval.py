"""Mutation round 14 (taco.evaluation): tests that kill mutants of the s40 changes the earlier
tests let live."""

from __future__ import annotations

import errno
import os

import pytest

from taco.evaluation import caption


def test_an_empty_captions_file_there_before_is_kept(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path):
    """The append did not make it (it was there, empty): a failed append cuts it back to empty
    and leaves it, as it was."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "captions.jsonl").write_bytes(b"")
    fail_writes_to(folder / "captions.jsonl", after_bytes=10)
    with pytest.raises(OSError) as e:
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert e.value.errno == errno.ENOSPC
    assert (folder / "captions.jsonl").is_file() and (folder / "captions.jsonl").read_bytes() == b""


def test_a_file_the_append_made_is_removed_only_while_empty(stub_captioner, monkeypatch, fail_writes_to, folder_factory,
                                                             tmp_path):
    """The bytes could not be taken back (ftruncate failing too): the file holds something, so it
    is not removed (only a file still empty is: nothing in it can be anyone's)."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    fail_writes_to(folder / "captions.jsonl", after_bytes=10)

    def ftruncate(fd, size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    with pytest.raises(OSError):
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert (folder / "captions.jsonl").is_file() and len((folder / "captions.jsonl").read_bytes()) == 10


# --------------------------------------------------------------------------- EvaluationStopped


def _figure_fails(monkeypatch, exc: OSError) -> None:
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

    _figure_fails(monkeypatch, BrokenPipeError(errno.EPIPE, "Broken pipe"))
    with pytest.raises(BrokenPipeError):
        run_evaluation(_config(tiny_folder, tmp_path))


def test_a_model_s_result_counts_as_written_when_the_figure_fails(tiny_folder, tmp_path, monkeypatch):
    """A model's JSON, written, is among the files a stop names (not only the classic codecs')."""
    from taco.evaluation.evaluate import EvalConfig, EvaluationStopped, run_evaluation

    _figure_fails(monkeypatch, OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "rd.png")))
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
    _figure_fails(monkeypatch, refused)
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


def test_check_run_writable_checks_the_features_folders_only_with_jobs_left(tmp_path, monkeypatch):
    """No job left (a complete rerun): neither STEM.features nor originals.features is checked
    (they are only read); a job left: both are (without a dataset, originals with STEM)."""
    from taco.evaluation import results
    from taco.evaluation.runner import Job

    class Sets:
        feature_names = ["clip-x"]

    checked: list = []
    monkeypatch.setattr(results, "check_writable", lambda files, folders: checked.append(list(folders)))
    json_path, csv_path, features = tmp_path / "jpeg.json", tmp_path / "jpeg.csv", tmp_path / "jpeg.features"
    results.check_run_writable(json_path, csv_path, features, [], Sets())
    results.check_run_writable(json_path, csv_path, features, [Job(0, "a.png", 50)], Sets())
    results.check_run_writable(json_path, csv_path, features, [Job(0, "a.png", 50)], None)
    assert checked == [[], [features, tmp_path / results.ORIGINALS_FEATURES], []]


def test_stored_feature_names_leaves_out_a_feature_a_key_has_no_rows_of(tmp_path):
    """Two keys in one chunk, each with another feature: each is said to hold its own only (a
    count of 0 rows is no feature kept), as FeatureStore.load reads them."""
    import numpy as np

    from taco.evaluation.measure import stored_feature_names
    from taco.evaluation.runner import FeatureStore

    folder = tmp_path / "originals.features"
    store = FeatureStore(folder, "orig")
    store.add("a.png\t1", {"clip-x": np.ones((1, 4), "float32")})
    store.add("b.png\t2", {"inception": np.ones((2, 3), "float32")})
    store.flush()
    assert stored_feature_names(folder) == {"a.png\t1": {"clip-x"}, "b.png\t2": {"inception"}}
    assert stored_feature_names(folder) == {k: set(v) for k, v in FeatureStore.load(folder).items()}
