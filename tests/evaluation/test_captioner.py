"""taco caption and caption similarity (taco.evaluation.caption), with a tiny random BLIP."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from taco.evaluation.caption import (
    Captioner,
    CaptionerUnavailable,
    auto_caption,
    caption_folder,
    text_similarity,
)


@pytest.fixture(scope="module")
def captioner(tiny_captioner_dir):
    return Captioner(str(tiny_captioner_dir), max_new_tokens=6)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_captioner_returns_one_string_per_image(captioner, sample_image):
    caps = captioner([sample_image, sample_image.convert("L"), sample_image.resize((40, 30))])
    assert len(caps) == 3 and all(isinstance(c, str) and c for c in caps)
    assert caps[0] == captioner([sample_image])[0]  # greedy decoding: deterministic


def test_caption_folder_fills_and_resumes(captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "kodak", captions=False)
    report = caption_folder(folder, captioner, batch_size=3, progress=False)
    assert report.written == 4 and report.already == 0
    recs = lines(folder / "captions.jsonl")
    assert sorted(r["image"] for r in recs) == sorted(p.name for p in folder.glob("*.png"))
    assert all(r["captioner"] == str(captioner.name) and len(r["captions"]) == 1 for r in recs)

    # nothing left to do
    assert caption_folder(folder, captioner, progress=False).written == 0
    # an interrupted run: last line lost, the one before half written -> two captioned again
    text = (folder / "captions.jsonl").read_text().splitlines(keepends=True)
    (folder / "captions.jsonl").write_text("".join(text[:2]) + text[2][:15])
    again = caption_folder(folder, captioner, progress=False)
    assert again.written == 2 and again.already == 2
    assert sorted(map(json.dumps, lines(folder / "captions.jsonl"))) == sorted(map(json.dumps, recs))

    # the dataset reader takes the file as is
    from taco.evaluation.datasets import open_dataset

    ds = open_dataset(str(folder))
    assert ds.captioned and str(captioner.name) in ds.caption_source


def test_captioner_and_caption_folder_take_paths(tiny_captioner_dir, folder_factory, tmp_path):
    captioner = Captioner(tiny_captioner_dir, max_new_tokens=2)  # a Path, not a str
    assert captioner.name == str(tiny_captioner_dir)
    folder = folder_factory(tmp_path / "photos", captions=False)
    report = caption_folder(folder, captioner, output=Path("blip.jsonl"), progress=False)
    assert report.path == folder / "blip.jsonl" and report.written == 4
    assert {r["captioner"] for r in lines(report.path)} == {str(tiny_captioner_dir)}


def test_human_captions_are_kept(captioner, tiny_folder):
    before = (tiny_folder / "captions.jsonl").read_text()
    report = caption_folder(tiny_folder, captioner, progress=False)
    assert report.written == 0 and report.already == 4
    assert (tiny_folder / "captions.jsonl").read_text() == before


def test_caption_folder_reads_the_captions_file_as_every_reader_does(captioner, folder_factory, tmp_path):
    from taco.captions_file import CaptionsFileError

    folder = folder_factory(tmp_path / "photos", captions=False)
    path = folder / "captions.jsonl"
    # a caption with a line separator (U+2028, written as is by ensure_ascii=False) is one line
    path.write_text(json.dumps({"image": "skimage-astronaut.png", "captions": ["a\u2028b"]}, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    report = caption_folder(folder, captioner, progress=False)
    assert report.already == 1 and report.written == 3

    path.write_bytes(b'{"image": "skimage-astronaut.png", "captions": ["\xff"]}\n')
    with pytest.raises(CaptionsFileError, match="captions.jsonl:1: not UTF-8 text"):
        caption_folder(folder, captioner, progress=False)
    path.write_text('{"image": "skimage-astronaut.png"}\n{"images": "x.png"}\n', encoding="utf-8")
    with pytest.raises(CaptionsFileError, match=r"captions.jsonl:2: expected"):
        caption_folder(folder, captioner, progress=False)


def test_caption_folder_leaves_out_decoded_outputs(captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "skimage-chelsea.decoded.png").write_bytes((folder / "skimage-chelsea.png").read_bytes())
    report = caption_folder(folder, captioner, progress=False)
    assert report.written == 4
    assert "skimage-chelsea.decoded.png" not in {r["image"] for r in lines(report.path)}


def test_unreadable_images_are_reported(captioner, tmp_path, sample_image):
    sample_image.save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    report = caption_folder(tmp_path, captioner, progress=False)
    assert report.written == 1 and report.unreadable and "bad.png" in report.unreadable[0]


def test_auto_caption(tiny_captioner_dir, tiny_folder):
    paths = sorted(tiny_folder.glob("*.png"))
    caps = auto_caption(paths, str(tiny_captioner_dir), batch_size=3)
    assert len(caps) == 4 and all(isinstance(c, str) for c in caps)
    assert auto_caption(paths[:1], tiny_captioner_dir) == caps[:1]  # the name as a Path: the same one


def test_missing_captioner_fails_fast(tmp_path, monkeypatch):
    """Refused at once, without a try of the network (huggingface_hub retries a dead one for
    minutes)."""
    # what Captioner imports first takes seconds (10 s under load): not what is timed
    from transformers import AutoConfig, AutoImageProcessor, AutoProcessor, AutoTokenizer  # noqa: F401

    def no_network(*args: object, **kwargs: object) -> None:
        pytest.fail("a missing captioner tried the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    t0 = time.perf_counter()
    with pytest.raises(CaptionerUnavailable, match="not a local model folder"):
        Captioner(str(tmp_path / "empty"), allow_download=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CaptionerUnavailable, match="HF_HUB_OFFLINE"):
        Captioner("Salesforce/no-such-captioner-xyz")
    assert time.perf_counter() - t0 < 10


def test_text_similarity_scores():
    pytest.importorskip("pycocoevalcap")
    refs = ["a cat sits on a red mat", "two dogs run across a grassy field", "a bowl of soup on a table"]
    same = text_similarity(refs, refs)
    assert same["bleu4"] == pytest.approx(1.0, abs=1e-6)
    assert same["cider_d"] == pytest.approx(10.0, rel=1e-6)  # pycocoevalcap's 0-10 scale
    assert same["images"] == 3 and (same["spice"] is not None or same["spice_skipped"])
    other = text_similarity(refs, ["a cat on a mat", "a dog in a field", "soup"])
    assert other["bleu4"] < same["bleu4"] and other["cider_d"] < same["cider_d"]
    with pytest.raises(ValueError):
        text_similarity(refs, refs[:2])


def test_text_similarity_in_an_evaluation(captioner, tiny_folder, tmp_path):
    pytest.importorskip("pycocoevalcap")
    from taco.evaluation.datasets import open_dataset
    from taco.evaluation.evaluate import evaluate_model, load_model
    from taco.evaluation.runner import read_rows

    model, info = load_model("elic-tiny")
    path = evaluate_model(model, info, open_dataset(str(tiny_folder)), tmp_path, captioner=captioner,
                          progress=False)
    result = json.loads(path.read_text())
    rows = read_rows(path.with_suffix(".csv"))
    assert all(r["gen_caption_original"] and r["gen_caption_recon"] for r in rows)
    sim = result["points"][0]["text_similarity"]
    assert sim["images"] == 4 and 0.0 <= sim["bleu4"] <= 1.0 and 0.0 <= sim["cider_d"] <= 10.0
    assert result["text_similarity"]["captioner"] == str(captioner.name)


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
@pytest.mark.filterwarnings("ignore")
def test_candidates_the_tokenizer_cannot_run_on_take_both_sides_to_lower_case_words(monkeypatch):
    """The references PTB-tokenised but the tokenizer failing on the candidates: both
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
