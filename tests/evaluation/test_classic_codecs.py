"""Classic codecs (taco.evaluation.classic): real files, bpp from bytes, matched rate."""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from taco.errors import TacoWarning
from taco.evaluation import classic
from taco.evaluation.classic import (
    CLASSIC_CODECS,
    CODEC_LABELS,
    ClassicCodec,
    CodecUnavailable,
    code_at_bpp,
    evaluate_codec,
    evaluate_matched,
    get_codec,
    interpolate_rd,
)
from taco.evaluation.datasets import open_dataset
from taco.evaluation.evaluate import (
    EvalConfig,
    EvaluationError,
    evaluate_model,
    load_model,
    run_evaluation,
)
from taco.evaluation.quality_names import CODEC_QUALITIES, QualitiesError
from taco.evaluation.runner import Job, JobResult, RunReport, read_rows, run_jobs


@pytest.fixture
def photo(sample_image):
    return sample_image.crop((100, 60, 196, 156))  # 96 x 96


@pytest.mark.parametrize(("name", "magic"), [("jpeg", b"\xff\xd8"), ("webp", b"RIFF"), ("avif", b"ftyp")])
def test_pillow_codecs_write_real_files(photo, name, magic):
    codec = get_codec(name)
    low, _ = codec.code(photo, 10)
    data, decoded = codec.code(photo, 90)
    assert magic in data[:12]
    assert decoded.size == photo.size and decoded.mode == "RGB"
    with Image.open(io.BytesIO(data)) as again:  # the bytes alone decode to the same picture
        assert np.array_equal(np.asarray(again.convert("RGB")), np.asarray(decoded))
    assert len(low) < len(data)
    assert codec.code(photo, 90)[0] == data  # deterministic
    with pytest.raises(ValueError):
        codec.code(photo, 1000)


def test_unknown_and_missing_codecs_say_why(monkeypatch):
    with pytest.raises(CodecUnavailable, match="unknown codec"):
        get_codec("jpeg-xl")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CodecUnavailable, match="bpgenc, bpgdec not on PATH"):
        get_codec("bpg")
    with pytest.raises(CodecUnavailable, match="EncoderApp, DecoderApp not on PATH"):
        get_codec("vtm")


def test_the_label_table_is_the_codecs_labels(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # labels of codecs missing here too
    assert {name: make()[0].label for name, make in CLASSIC_CODECS.items()} == CODEC_LABELS == {
        "jpeg": "JPEG", "webp": "WebP", "avif": "AVIF", "bpg": "BPG", "vtm": "VTM (intra)"}
    # the ranges taco evaluate checks --qualities against before torch loads
    assert {name: make()[0].quality_range for name, make in CLASSIC_CODECS.items()} == CODEC_QUALITIES


def test_labels_are_checked_without_building_a_codec(tiny_folder, tmp_path, monkeypatch):
    """Checking --label against the codecs' labels built every codec, probing whether each runs
    here (AVIF in Pillow, bpgenc/EncoderApp on PATH), to read five constant strings."""
    def built() -> None:
        raise AssertionError("a codec was built")

    for name in CLASSIC_CODECS:
        monkeypatch.setitem(CLASSIC_CODECS, name, built)
    cfg = EvalConfig(datasets=[str(tiny_folder)], models=["elic-tiny"], label="vtm (INTRA)",
                     output=tmp_path / "ev", fid="off", cmmd_clip="off", plot=False, progress=False)
    with pytest.raises(EvaluationError, match="the classic codec vtm's label"):
        run_evaluation(cfg)
    cfg.label, cfg.limit = "ELIC", 1
    assert run_evaluation(cfg)  # a label of its own passes the check, and no codec is built


def _fake_binaries(folder: Path, scripts: dict[str, str], monkeypatch) -> None:  # noqa: ANN001
    """Python stand-ins for codec binaries in ``folder``, put first on PATH."""
    folder.mkdir()
    for name, body in scripts.items():
        path = folder / name
        path.write_text(f"#!{sys.executable}\nimport sys, shutil\nargs = sys.argv[1:]\n{body}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_bpg_through_its_binaries(photo, tmp_path, monkeypatch):
    # stand-ins for bpgenc/bpgdec that "encode" by copying the PNG: exercises the plumbing
    _fake_binaries(tmp_path / "bin", {
        "bpgenc": "assert args[args.index('-f') + 1] == '444'\n"
                  "shutil.copy(args[-1], args[args.index('-o') + 1])",
        "bpgdec": "shutil.copy(args[-1], args[args.index('-o') + 1])",
    }, monkeypatch)
    codec = get_codec("bpg")
    data, decoded = codec.code(photo, 30)
    assert data[:4] == b"\x89PNG" and np.array_equal(np.asarray(decoded), np.asarray(photo))


def test_vtm_through_its_binaries(photo, tmp_path, monkeypatch):
    _fake_binaries(tmp_path / "bin", {
        "EncoderApp": "assert '--ChromaFormatIDC=444' in args\n"
                      "shutil.copy(args[args.index('-i') + 1], args[args.index('-b') + 1])",
        "DecoderApp": "shutil.copy(args[args.index('-b') + 1], args[args.index('-o') + 1])",
    }, monkeypatch)
    with pytest.raises(CodecUnavailable, match="TACO_VTM_CFG"):
        get_codec("vtm")
    cfg = tmp_path / "encoder_intra_vtm.cfg"
    cfg.write_text("")
    monkeypatch.setenv("TACO_VTM_CFG", str(cfg))
    data, decoded = get_codec("vtm").code(photo, 32)
    assert len(data) == 3 * 96 * 96  # the raw 4:4:4 planes the fake "encoder" copied
    # YCbCr 8-bit round trip: within a couple of levels of the original
    assert np.abs(np.asarray(decoded, np.int16) - np.asarray(photo, np.int16)).max() <= 3


def test_code_at_bpp_finds_the_closest_quality(photo):
    codec = get_codec("jpeg")
    bpps = {q: 8 * len(codec.code(photo, q)[0]) / (96 * 96) for q in range(1, 101)}
    for target in (0.5, 1.3, 2.0, 50.0):
        q, data, _ = code_at_bpp(codec, photo, target)
        best = min(abs(b - target) for b in bpps.values())
        assert abs(8 * len(data) / (96 * 96) - target) == pytest.approx(best, abs=0.1)
        assert bpps[q] == 8 * len(data) / (96 * 96)
    assert code_at_bpp(codec, photo, 50.0)[0] == max(bpps, key=bpps.get)  # out of range: top end


def test_interpolate_rd():
    points = [{"bpp": 0.25, "psnr": 30.0}, {"bpp": 1.0, "psnr": 34.0}, {"bpp": 0.5, "psnr": 32.0}]
    assert interpolate_rd(points, 0.5, "psnr") == pytest.approx(32.0)
    assert interpolate_rd(points, math.sqrt(0.5), "psnr") == pytest.approx(33.0)  # linear in log
    assert math.isnan(interpolate_rd(points, 2.0, "psnr"))
    assert math.isnan(interpolate_rd(points, 0.5, "lpips"))


def test_sweep_run_is_resumable(tiny_folder, tmp_path):
    ds = open_dataset(str(tiny_folder))
    jpeg = get_codec("jpeg")
    path = evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False)
    result = json.loads(path.read_text())
    rows = read_rows(tmp_path / result["csv"])
    assert len(rows) == 8 and [p["setting"] for p in result["points"]] == ["q20", "q80"]
    assert result["points"][0]["bpp"] < result["points"][1]["bpp"]
    assert result["points"][0]["psnr"] < result["points"][1]["psnr"]
    for r in rows:  # bpp from the bytes written
        assert float(r["bpp"]) == 8 * int(r["bytes"]) / (int(r["height"]) * int(r["width"]))
    # resumable like model runs
    again = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False).read_text())
    assert again["timing"]["images_timed"] == 0 and again["points"] == result["points"]


@pytest.mark.parametrize("qualities, message", [
    ([], "--qualities jpeg= names no quality: JPEG has qualities 1..100"),
    ([30, 30], "--qualities jpeg=30,30: JPEG has qualities 1..100; give each at most once"),
    ([50, 500], "--qualities jpeg=...: 500 outside JPEG's qualities 1..100"),
])
def test_a_sweep_the_codec_cannot_take_is_refused_before_anything_is_written(tiny_folder, tmp_path,
                                                                               qualities, message):
    """Review ST2: ``qualities=[]`` ran the whole default sweep, ``[30, 30]`` coded q30 once, and
    ``[500]`` stopped mid-run with a bare ValueError after writing jpeg.csv (its header) and an
    incomplete jpeg.json; each is refused first, in the words of ``taco evaluate --qualities``."""
    ds = open_dataset(str(tiny_folder), limit=2)
    out = tmp_path / "out"
    with pytest.raises(QualitiesError, match=f"^{re.escape(message)}$") as refused:
        evaluate_codec(get_codec("jpeg"), ds, out, qualities=qualities, progress=False)
    assert isinstance(refused.value, ValueError)
    assert not out.exists() or not any(out.iterdir())


def test_another_sweep_into_the_same_folder_keeps_the_earlier_qualities(tiny_folder, tmp_path):
    """A resume with ``--qualities jpeg=50`` after ``jpeg=10,30`` kept the q10 and q30 rows in the
    CSV but summarised q50 alone in the JSON (and the BD table had one point). A warning says so
    (it was a bare print from the library), blamed on the line that called evaluate_codec."""
    jpeg = get_codec("jpeg")
    evaluate_codec(jpeg, open_dataset(str(tiny_folder), limit=2), tmp_path, qualities=[10, 30], progress=False)
    ds = open_dataset(str(tiny_folder), limit=3)  # one image more: the earlier qualities code it too
    with pytest.warns(TacoWarning, match="also holds qualities 10, 30 of an earlier run") as said:
        result = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[50], progress=False).read_text())
    (earlier,) = [w for w in said if "earlier run" in str(w.message)]
    assert earlier.filename == __file__  # blamed on the caller's line
    assert result["qualities"] == [10, 30, 50]
    assert {p["setting"]: p["images"] for p in result["points"]} == {"q50": 3, "q10": 3, "q30": 3}
    assert result["timing"]["images_timed"] == 3 + 1 + 1
    assert len(read_rows(tmp_path / result["csv"])) == 9


def test_matched_to_a_model(tiny_folder, tmp_path):
    ds = open_dataset(str(tiny_folder))
    jpeg = get_codec("jpeg")
    model, info = load_model("elic-tiny")
    model_json = evaluate_model(model, info, ds, tmp_path, progress=False)
    matched = json.loads(evaluate_matched(jpeg, ds, tmp_path, model_json, progress=False).read_text())
    assert matched["kind"] == "classic-matched" and matched["points"][0]["images"] == 4
    targets = {r["image"]: float(r["bpp"]) for r in read_rows(model_json.with_suffix(".csv"))}
    for r in read_rows(tmp_path / matched["csv"]):
        assert float(r["target_bpp"]) == targets[r["image"]]
    assert matched["bpp_gap"]["mean_abs"] < 0.5


def test_classic_timings_are_ms_of_the_encoder_and_the_decoder_alone(monkeypatch) -> None:  # noqa: ANN001
    """With a clock that moves 1 s per reading, Pillow's save and its open each took 1 s:
    1000 ms each (the decoder's time starts where the encoder's ends)."""
    ticks = iter(range(100))
    monkeypatch.setattr(classic, "time", SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    image = Image.new("RGB", (32, 32), (40, 90, 160))
    data, decoded, timings = classic.get_codec("jpeg").code_timed(image, 50)
    assert data and decoded.size == (32, 32)
    assert timings == {"encode_ms": 1000.0, "decode_ms": 1000.0}


def test_the_quality_search_looks_two_qualities_past_the_bracket():
    """Bytes 10 q + 10, except q15 with 138: the target 137.5 bytes brackets q12..q13, and the
    closest file (q15) is two qualities above it."""
    sizes = {q: 10 * q + 10 for q in range(21)} | {15: 138}
    codec = ClassicCodec("fake", "Fake", (5, 10), (0, 20), +1, lambda img, q: (bytes(sizes[q]), img))
    q, data, _ = code_at_bpp(codec, Image.new("RGB", (8, 8)), 137.5 * 8 / 64)
    assert (q, len(data)) == (15, 138)


@pytest.mark.parametrize("name", ["jpeg", "webp"])
def test_describe_says_a_higher_quality_is_more_bits(name):
    assert get_codec(name).describe()["quality_direction"] == "higher = more bits"


def test_describe_says_a_lower_setting_is_more_bits_for_a_downward_codec():
    codec = ClassicCodec("fake", "Fake", (5, 10), (0, 20), -1, lambda img, q: (b"", img))
    assert codec.describe()["quality_direction"] == "lower = more bits"


def _first_image(folder: Path) -> Image.Image:
    with Image.open(sorted(folder.glob("*.png"))[0]) as im:
        return im.convert("RGB")


def test_a_classic_run_times_its_codec_and_a_resume_keeps_both_means(tiny_folder, tmp_path):
    ds = open_dataset(str(tiny_folder))
    jpeg = get_codec("jpeg")
    timing = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False)
                        .read_text())["timing"]
    assert timing["images_timed"] == 8
    assert timing["encode_ms_mean"] > 0 and timing["decode_ms_mean"] > 0
    assert all(math.isfinite(timing[k]) for k in ("encode_ms_mean", "decode_ms_mean"))
    again = json.loads(evaluate_codec(jpeg, ds, tmp_path, qualities=[20, 80], progress=False)
                       .read_text())["timing"]
    assert again["images_timed"] == 0
    assert again["encode_ms_mean"] is None and again["decode_ms_mean"] is None


def test_a_codec_that_says_no_timings_is_not_counted_as_timed(tiny_folder, tmp_path):
    """A ClassicCodec with an encode of its own (no clock): its images are coded, none timed."""
    import dataclasses

    jpeg = get_codec("jpeg")
    def encode(image: Image.Image, quality: int) -> tuple[bytes, Image.Image]:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=quality)
        with Image.open(io.BytesIO(buf.getvalue())) as decoded:
            return buf.getvalue(), decoded.convert("RGB")

    own = dataclasses.replace(jpeg, encode=encode)
    assert own.code_timed(_first_image(tiny_folder), 50)[2] == {}
    assert set(jpeg.code_timed(_first_image(tiny_folder), 50)[2]) == {"encode_ms", "decode_ms"}
    result = json.loads(evaluate_codec(own, open_dataset(str(tiny_folder), limit=2), tmp_path / "x",
                                       qualities=[50], progress=False).read_text())
    assert result["complete"] and result["points"][0]["images"] == 2
    assert result["timing"]["images_timed"] == 0
    assert result["timing"]["encode_ms_mean"] is None and result["timing"]["decode_ms_mean"] is None


def test_run_jobs_counts_only_the_jobs_that_returned_timings(tmp_path):
    jobs = [Job(i, f"{i}.png") for i in range(3)]

    def work(job: Job) -> JobResult:
        timings = {"encode_ms": 2.0, "decode_ms": 4.0} if job.index == 1 else {}
        return JobResult({"index": job.index}, timings=timings)

    report = run_jobs(jobs, work, tmp_path / "r.csv", ("index", "image", "setting"), progress=False)
    assert (report.coded, report.timed) == (3, 1)
    assert report.timing_summary() == {"encode_ms_mean": 2.0, "decode_ms_mean": 4.0}
    assert RunReport().timing_summary() == {"encode_ms_mean": None, "decode_ms_mean": None}


def test_vtm_config_under_home_and_missing(photo, tmp_path, monkeypatch):
    # TACO_VTM_CFG='~/vtm.cfg' (quoted, so the shell left the ~) is read under $HOME; a path that
    # is not a file is named, not answered with "set TACO_VTM_CFG"
    _fake_binaries(tmp_path / "bin", {
        "EncoderApp": "cfg = args[args.index('-c') + 1]\n"
                      "assert open(cfg).read() == 'intra', cfg\n"
                      "shutil.copy(args[args.index('-i') + 1], args[args.index('-b') + 1])",
        "DecoderApp": "shutil.copy(args[args.index('-b') + 1], args[args.index('-o') + 1])",
    }, monkeypatch)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TACO_VTM_CFG", "~/vtm.cfg")
    with pytest.raises(CodecUnavailable, match=re.escape(f"VTM: TACO_VTM_CFG={home / 'vtm.cfg'} is not a file")):
        get_codec("vtm")
    (home / "vtm.cfg").write_text("intra")
    codec = get_codec("vtm")
    assert codec.settings["config"] == str(home / "vtm.cfg")
    data, _ = codec.code(photo, 32)
    assert len(data) == 3 * 96 * 96
    monkeypatch.setenv("TACO_VTM_CFG", str(tmp_path))  # a folder
    with pytest.raises(CodecUnavailable, match=re.escape(f"VTM: TACO_VTM_CFG={tmp_path} is not a file")):
        get_codec("vtm")
    monkeypatch.setenv("TACO_VTM_CFG", "")  # empty is unset
    with pytest.raises(CodecUnavailable, match="VTM: set TACO_VTM_CFG to an intra config"):
        get_codec("vtm")
