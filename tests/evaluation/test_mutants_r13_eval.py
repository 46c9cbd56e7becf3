"""Mutation round 13 (evaluation): tests that kill mutants of session 39's code that survived."""

from __future__ import annotations

import logging
import shutil
import subprocess

import pytest

from taco.evaluation.caption import text_similarity
from taco.evaluation.plot import plot_results


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
@pytest.mark.filterwarnings("ignore")
def test_candidates_the_tokenizer_cannot_run_on_take_both_sides_to_lower_case_words(monkeypatch):
    """(CA2) The references PTB-tokenised but the tokenizer failing on the candidates: both
    sides fall back to lower-case words (not the references' tokens against nothing)."""
    real, calls = subprocess.run, []

    def run(cmd, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if "edu.stanford.nlp.process.PTBTokenizer" in cmd:
            calls.append(cmd)
            if len(calls) == 2:
                return subprocess.CompletedProcess(cmd, 1, b"", b"failed")
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    result = text_similarity(["A cat, on a mat."], ["a cat on a mat"])
    assert len(calls) == 2
    assert result["tokenizer"] == "lower-case words"
    assert result["bleu4"] == pytest.approx(1.0, abs=1e-6)


def test_a_plot_leaves_no_filter_on_matplotlibs_logger(rd_folder, tmp_path, monkeypatch):
    """(PL3) The filter that quiets matplotlib's no-home-folder warning while it is imported is
    taken off after: matplotlib's later messages are its own again."""
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    logger = logging.getLogger("matplotlib")
    before = list(logger.filters)
    plot_results(rd_folder(tmp_path / "results"), tmp_path / "out" / "rd")
    assert logger.filters == before


def test_matched_rows_of_images_the_model_run_no_longer_has_are_left_to_the_resume(bmp_folder, model_result, tmp_path):
    """(K1) The model's run made again on fewer images (a smaller --limit): the matched rows of
    an image it has no row for now are not compared with a target (no KeyError)."""
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.datasets import open_dataset

    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    model_result(tmp_path / "model", {"a.bmp": 1.5})
    assert evaluate_matched(jpeg, ds, out, model_json, progress=False).is_file()


def test_matched_rows_in_rank_shards_for_another_target_are_refused(bmp_folder, model_result, tmp_path):
    """(K3) An interrupted run's rows in its rank shards are checked as the CSV's are."""
    from taco.evaluation.classic import evaluate_matched, get_codec
    from taco.evaluation.datasets import open_dataset
    from taco.evaluation.runner import ResultsFileError

    ds, jpeg, out = open_dataset(str(bmp_folder(tmp_path / "bmp"))), get_codec("jpeg"), tmp_path / "out"
    model_json = model_result(tmp_path / "model", {"a.bmp": 1.5, "b.bmp": 2.0})
    evaluate_matched(jpeg, ds, out, model_json, progress=False)
    csv_path = out / "jpeg.matched-m-1234.csv"
    csv_path.rename(out / "jpeg.matched-m-1234.rank1.csv")  # the rows in a rank's shard alone
    model_result(tmp_path / "model", {"a.bmp": 1.0, "b.bmp": 2.0})
    with pytest.raises(ResultsFileError, match=r"differs in: target_bpp of a\.bmp"):
        evaluate_matched(jpeg, ds, out, model_json, progress=False)


def test_the_clip_feature_name_holds_the_weights_last_values_and_shapes():
    """(ME2, ME3) Networks that differ only in a weight's last values, or only in a weight's
    shape (the same values), get other feature names."""
    import torch

    from taco.evaluation.measure import clip_feature_name

    def net(shape, last=0.0):  # noqa: ANN001, ANN202
        module = torch.nn.Module()
        weight = torch.zeros(shape)
        weight.view(-1)[-1] = last
        module.weight = torch.nn.Parameter(weight)
        return module

    base = clip_feature_name(net((4, 40)))
    assert base == clip_feature_name(net((4, 40)))
    assert clip_feature_name(net((4, 40), last=1.0)) != base
    assert clip_feature_name(net((40, 4))) != base
