"""taco bench's headline ratio is taco's decode time over ELIC's (above 1 when taco is
slower), the batch speedup is one-by-one time over compress_batch time (above 1 when batching
is faster), and TACO's caption overlap is timed."""

from __future__ import annotations

import time

import pytest
import torch

from taco.bench import latency
from taco.bench.latency import BenchConfig, batch_throughput, headline_ratios


def test_the_decode_ratio_is_taco_over_elic():
    r = headline_ratios({"taco": {"decode": {"median": 300.0}}, "elic": {"decode": {"median": 100.0}}})
    assert r["taco_decode/elic_decode"] == pytest.approx(3.0)


class NoText:
    def encode(self, captions):
        return None


def test_the_batch_speedup_is_above_one_when_batching_is_faster(monkeypatch):
    monkeypatch.setattr(latency, "encode_with_text_overlap", lambda *a, **k: time.sleep(0.03))
    monkeypatch.setattr(latency, "compress_batch", lambda *a, **k: time.sleep(0.005))
    inputs = [("a", torch.rand(1, 3, 8, 8), "a cat")]
    cfg = BenchConfig.quick_defaults(runs=1, warmup=0, batch=2)
    r = batch_throughput(None, NoText(), inputs, cfg, torch.device("cpu"))  # type: ignore[arg-type]
    assert r["images"] == 4 and r["speedup"] > 2
    assert r["speedup"] == pytest.approx(r["compress_batch_images_per_s"] / r["one_by_one_images_per_s"])


def test_the_bench_times_taco_s_overlap():
    """TACO (and only TACO) is handed the caption still being encoded: its overlap is timed."""
    from taco.bench.latency import BenchConfig, run_bench

    cfg = BenchConfig(taco_model="taco-tiny", elic_model="elic-tiny", clip_b=False, runs=1,
                      warmup=0, crop=64, images=["skimage-chelsea.png"])
    timed = run_bench(cfg)["systems"]["taco"]
    assert {"overlap_front", "overlap_text_wait"} <= set(timed)


def test_the_json_names_images_in_utf8_text_under_every_locale(tmp_path):
    """`LC_ALL=C` without Python's UTF-8 mode reads the name café.png as caf\\udcc3\\udca9.png:
    the JSON names it café.png, as under a UTF-8 locale; a 0xff byte, not UTF-8 in any locale,
    is written \\xff (as taco evaluate writes it), so the JSON is UTF-8 text any reader takes."""
    import json
    import shutil

    from taco.bench.latency import BenchConfig, run_bench
    from taco.samples import SAMPLES_DIR

    c_locale, not_utf8 = tmp_path / "caf\udcc3\udca9.png", tmp_path / "bad\udcff.png"
    for path in (c_locale, not_utf8):  # (the bytes caf\xc3\xa9 and bad\xff)
        shutil.copy(SAMPLES_DIR / "skimage-chelsea.png", path)
    cfg = BenchConfig(taco_model="taco-tiny", elic_model="elic-tiny", clip_b=False, runs=1,
                      warmup=0, crop=64, images=[str(c_locale), str(not_utf8)])
    result = run_bench(cfg)
    assert [image["name"] for image in result["images"]] == ["café.png", "bad\\xff.png"]
    assert result["config"]["images"] == [str(tmp_path / "café.png"), str(tmp_path / "bad\\xff.png")]
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # no lone surrogate left
