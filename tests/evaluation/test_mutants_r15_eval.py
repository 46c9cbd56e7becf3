"""Mutation round 15 (evaluation): taco plot's publish refusals, OutputExists across processes,
and the caption layouts of other tools."""

from __future__ import annotations

import errno
import json
import pickle
from pathlib import Path

import pytest

from taco.evaluation import plot
from taco.evaluation.import_captions import CaptionImportError, read_caption_json


def test_plot_results_raises_another_files_exists_error_as_it_is(rd_folder, tmp_path, monkeypatch):
    """A FileExistsError naming none of the plot's files is no OutputExists (written meanwhile)."""
    results = rd_folder(tmp_path / "res")
    elsewhere = str(tmp_path / "elsewhere")

    def write_all_atomic(files, *args, **kwargs):
        raise FileExistsError(errno.EEXIST, "File exists", elsewhere)

    monkeypatch.setattr(plot, "write_all_atomic", write_all_atomic)
    with pytest.raises(FileExistsError) as e:
        plot.plot_results(results, tmp_path / "rd", overwrite=False)
    assert not isinstance(e.value, plot.OutputExists)
    assert e.value.filename == elsewhere


@pytest.mark.parametrize("meanwhile", [True, False])
def test_output_exists_keeps_meanwhile_through_pickle(tmp_path, meanwhile):
    """As a worker's error is rebuilt in the parent."""
    exc = plot.OutputExists([tmp_path / "rd.png"], meanwhile=meanwhile)
    back = pickle.loads(pickle.dumps(exc))
    assert back.meanwhile is meanwhile
    assert back.paths == [tmp_path / "rd.png"]
    assert str(back) == str(exc)


def _json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("item", "what"), [
    ({"image": "a.png", "file": "b.png", "caption": "x"}, "an image name by one of 'image', 'file', 'file_name'"),
    ({"image": "a.png", "caption": "x", "text": "y"}, "its captions by one of 'caption', 'captions', 'text'"),
])
def test_a_list_item_with_two_keys_of_one_kind_is_refused(tmp_path, item, what):
    with pytest.raises(CaptionImportError, match=f"must give {what}"):
        read_caption_json(_json(tmp_path / "list.json", [item]))


def test_a_coco_file_with_one_id_twice_is_refused(tmp_path):
    coco = {"images": [{"id": 74, "file_name": "a.jpg"}, {"id": 74, "file_name": "b.jpg"}],
            "annotations": [{"image_id": 74, "caption": "a dog"}]}
    with pytest.raises(CaptionImportError, match=r"images\[1\] has the id 74 of an image before it"):
        read_caption_json(_json(tmp_path / "captions_val2014.json", coco))


def test_a_resumed_matched_run_of_another_model_run_names_its_fingerprint(bmp_folder, model_result, tmp_path):
    """The run's record is compared (check_resume) before the rows' targets (_check_targets):
    another model run (another fingerprint, other bpps) is refused for its fingerprint."""
    from taco.evaluation import open_dataset
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.runner import ResultsFileError

    dataset = open_dataset(str(bmp_folder(tmp_path / "bmp")))
    out = tmp_path / "out"
    model_json = model_result(out, {"a.bmp": 1.0, "b.bmp": 2.0})
    evaluate_matched(get_codec("jpeg"), dataset, out, model_json, progress=False)
    model_json = model_result(out, {"a.bmp": 1.5, "b.bmp": 2.5})
    data = json.loads(model_json.read_text())
    data["model"] = {"tag": "m-1234", "fingerprint": "5678"}  # its tag, so its stem, kept
    model_json.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError) as e:
        evaluate_matched(get_codec("jpeg"), dataset, out, model_json, progress=False)
    assert "differs in: matched_to_fingerprint" in str(e.value)
    assert "target_bpp" not in str(e.value)


def test_a_text_model_run_encodes_a_caption_before_its_first_job(tiny_folder, tmp_path, monkeypatch):
    """The text encoder is loaded before any job is timed (before_jobs)."""
    import taco.codec
    from taco.evaluation import evaluate_model, load_model, open_dataset

    calls: list[object] = []
    real = taco.codec.encode_text

    def encode_text(model, captions, *args, **kwargs):
        calls.append(list(captions))
        return real(model, captions, *args, **kwargs)

    monkeypatch.setattr(taco.codec, "encode_text", encode_text)
    model, info = load_model("taco-tiny")
    evaluate_model(model, info, open_dataset(str(tiny_folder), limit=1), tmp_path, progress=False)
    assert calls and calls[0] == [""]
