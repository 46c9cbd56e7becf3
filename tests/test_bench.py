"""``taco bench``: it runs, and its JSON has what issue 6 asks for. No assertion on any time."""

from __future__ import annotations

import json

import pytest
import torch

from taco import cli
from taco.bench import latency
from taco.bench.latency import BenchConfig, _run_elic, batch_throughput, headline_ratios
from taco.bench.peak_memory import peak_memory
from taco.bench.report import format_table
from taco.bench.systems import bench_text_encoder
from taco.bench.timing import Recorder, summary
from taco.devices import device_description
from taco.models import create_model

# "elic-float32-codec" always (taco.codec codes with a float64 copy of every latent codec)
SYSTEMS = {"taco", "elic", "compressai-elic", "elic-float32-codec"}
RATIOS = {
    "taco_encode_cold/elic_encode",
    "taco_encode_cached/elic_encode",
    "taco_encode_cold_sequential/elic_encode",
    "taco_decode/elic_decode",
    "elic_codec/compressai_elic_codec",
    "elic_entropy_path/compressai_elic_entropy_path",
}


def _bench(argv, monkeypatch):
    # through the real CLI parser, whether or not taco.cli lists taco.bench.cli yet
    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    return cli.main(["bench", *argv])


def test_quick_bench_writes_json_with_the_expected_keys(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    argv = ["--quick", "--runs", "1", "--warmup", "0", "--images", "skimage-chelsea.png",
            "--crop", "64", "--batch", "1", "--device", "cpu", "--threads", "1", "--json", str(out)]
    assert _bench(argv, monkeypatch) == 0
    table = capsys.readouterr().out
    assert "ratios (of medians)" in table and "taco_encode_cold/elic_encode" in table
    result = json.loads(out.read_text())
    assert result["mode"] == "quick" and result["device_type"] == "cpu"
    assert isinstance(result["threads"], int) and result["device"]
    # the same words as taco evaluate's JSON: the CPU's model and the threads it ran with
    assert result["device"] == device_description("cpu") and result["device"].endswith(", 1 thread)")
    assert result["images"] == [{"name": "skimage-chelsea.png", "height": 64, "width": 64,
                                 "padded_height": 64, "padded_width": 64}]
    assert SYSTEMS <= set(result["systems"])
    taco, elic, anchor = (result["systems"][k] for k in ("taco", "elic", "compressai-elic"))
    for stages, keys in (
        (taco, {"text_cold", "text_cached", "g_a", "hyper", "entropy_coding", "encode_cold",
                "encode_cached", "encode_cold_sequential", "decode"}),
        (elic, {"g_a", "hyper", "entropy_coding", "encode", "entropy_decoding", "g_s", "decode"}),
        (anchor, {"g_a", "hyper", "entropy_coding", "encode", "entropy_decoding", "g_s", "decode"}),
    ):
        assert keys <= set(stages)
        for stat in stages.values():
            assert set(stat) == {"median", "p90", "n"} and stat["n"] == 1
            assert 0 <= stat["median"] <= stat["p90"]
    assert RATIOS <= set(result["ratios"])
    assert all(v is not None and v > 0 for k, v in result["ratios"].items() if k in RATIOS)
    assert result["batch"]["images"] == 2 and result["batch"]["compress_batch_images_per_s"] > 0


@pytest.mark.parametrize("argv", [
    ["--runs", "0"], ["--runs", "-1"], ["--warmup", "-1"], ["--threads", "0"], ["--batch", "-1"],
    ["--crop", "-1"], ["--runs", "two"],
    ["--batch", "100000000000"],  # was taken: 8 GB and growing allocating 2 x batch images
    ["--memory", "100000x100000"], ["--memory", "0x0"], ["--memory", "100x64"], ["--memory", "4k"],
])
def test_a_count_out_of_range_is_refused_before_any_work(argv, monkeypatch, capsys):
    """Each used to run (``--runs 0``: a table of "-"; ``--threads 0``: torch's own threads) or
    fail with a traceback (``--memory 0x0``: the probe's, in a child process)."""
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))
    with pytest.raises(SystemExit) as caught:
        _bench(["--quick", "--device", "cpu", *argv], monkeypatch)
    assert caught.value.code == 2
    assert f"argument {argv[0]}: " in capsys.readouterr().err


def test_the_json_is_written_as_taco_evaluate_writes_its_own(tmp_path, monkeypatch, capsys):
    """Atomically, strict JSON: a ratio that is not a number is null (it was NaN, not JSON)."""
    result = {"mode": "quick", "device": "test cpu", "threads": 1, "torch": "x", "compressai": "y",
              "images": [], "config": {"runs": 1, "warmup": 0}, "systems": {},
              "ratios": {"taco_decode/elic_decode": float("nan")}}
    monkeypatch.setattr(latency, "run_bench", lambda *a, **k: result)
    out = tmp_path / "new" / "bench.json"
    assert _bench(["--quick", "--device", "cpu", "--json", str(out)], monkeypatch) == 0
    text = out.read_text()
    assert json.loads(text)["ratios"] == {"taco_decode/elic_decode": None} and "NaN" not in text
    assert [p.name for p in out.parent.iterdir()] == ["bench.json"]  # no temporary left


def test_summary_median_and_p90():
    s = summary([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s == {"median": 3.0, "p90": pytest.approx(4.6), "n": 5}


def test_ratios_and_table_from_synthetic_results():
    def st(ms):
        return {"median": ms, "p90": ms, "n": 1}

    systems = {
        "taco": {"encode_cold": st(110.0), "encode_cached": st(101.0),
                 "encode_cold_sequential": st(130.0), "decode": st(200.0)},
        "elic": {"encode": st(100.0), "decode": st(200.0), "hyper": st(5.0),
                 "entropy_coding": st(20.0), "entropy_decoding": st(25.0)},
        "compressai-elic": {"encode": st(150.0), "decode": st(250.0), "hyper": st(10.0),
                            "entropy_coding": st(40.0), "entropy_decoding": st(50.0)},
    }
    r = headline_ratios(systems)
    assert r["taco_encode_cold/elic_encode"] == pytest.approx(1.10)
    assert r["taco_encode_cached/elic_encode"] == pytest.approx(1.01)
    assert r["taco_encode_cold_sequential/elic_encode"] == pytest.approx(130 / 100)
    assert r["taco_decode/elic_decode"] == pytest.approx(1.0)
    assert r["elic_codec/compressai_elic_codec"] == pytest.approx(300 / 400)
    assert r["elic_entropy_path/compressai_elic_entropy_path"] == pytest.approx(50 / 100)
    assert all(v is not None for v in r.values())  # no ratio that no run fills
    result = {"mode": "quick", "device": "test cpu", "threads": 2, "torch": "x", "compressai": "y",
              "images": [{"name": "a.png", "width": 64, "height": 64}],
              "config": {"runs": 1, "warmup": 0}, "systems": systems, "ratios": r}
    table = format_table(result)
    assert "110.0 / 110.0" in table and "1.100" in table


def test_quick_defaults_can_be_overridden():
    cfg = BenchConfig.quick_defaults(runs=7, crop=None)
    assert (cfg.quick, cfg.runs, cfg.crop, cfg.taco_model) == (True, 7, 128, "taco-tiny")


@pytest.mark.slow
def test_full_quick_bench(tmp_path, monkeypatch):
    out = tmp_path / "bench.json"
    assert _bench(["--quick", "--device", "cpu", "--threads", "1", "--json", str(out)],
                  monkeypatch) == 0
    result = json.loads(out.read_text())
    assert result["systems"]["taco"]["encode_cold"]["n"] == 3 * 2  # 3 runs x 2 images
    assert RATIOS <= set(result["ratios_cpu_time"])


@pytest.mark.slow
def test_memory_probe(tmp_path, monkeypatch):
    out = tmp_path / "mem.json"
    assert _bench(["--quick", "--device", "cpu", "--memory", "128x192", "--json", str(out)],
                  monkeypatch) == 0
    probes = json.loads(out.read_text())["memory"]
    assert [p["model"] for p in probes] == ["taco-tiny", "elic-tiny"]
    for probe in probes:
        for part in ("encode", "decode"):
            assert probe[part]["rss_peak_mib"] >= probe[part]["rss_before_mib"] > 0


def test_memory_probe_refuses_unpadded_sizes():
    with pytest.raises(ValueError, match="multiples of 64"):
        peak_memory("elic-tiny", 100, 64)


def test_an_image_that_is_neither_a_file_nor_a_sample_is_named(tmp_path, monkeypatch, capsys):
    assert _bench(["--quick", "--images", str(tmp_path / "nope.png"), "--device", "cpu"], monkeypatch) == 2
    err = capsys.readouterr().err
    assert f"cannot read image '{tmp_path / 'nope.png'}': no such file, and not a sample" in err
    assert "assets/samples" not in err


def test_a_latent_codec_that_codes_itself_in_one_call_is_timed_as_one_stage(one_call_codec):
    """It used to pass fast_codec's check and fail on codec.latent_codec["hyper"]."""
    model = create_model("elic-tiny", seed=0).eval()
    model.latent_codec = one_call_codec(model.latent_codec)
    rec = Recorder()
    rec.recording = True
    with torch.no_grad():
        _run_elic(rec, model, torch.rand(1, 3, 64, 64), torch.device("cpu"))
    stages = set(rec.wall["elic"])
    assert "latent_coding" in stages and not stages & {"hyper", "entropy_coding"}
    assert {"g_a", "encode", "entropy_decoding", "g_s", "decode"} <= stages
    result = {"mode": "quick", "device": "test cpu", "threads": 1, "torch": "x", "compressai": "y",
              "images": [{"name": "a.png", "width": 64, "height": 64}],
              "config": {"runs": 1, "warmup": 0}, "systems": Recorder.summaries(rec.wall),
              "ratios": headline_ratios(Recorder.summaries(rec.wall))}
    assert "latent coding (a one-call codec)" in format_table(result)


def test_batch_throughput_times_cached_captions():
    """Its warm-up caches each caption as coding reads it (alone, taco.text.base), so no timed
    run encodes text; it used to cache them as one batch, which a single caption does not reuse."""
    model = create_model("taco-tiny", seed=0).eval()
    encoder = bench_text_encoder(model)
    calls: list[list[str]] = []
    original = encoder._encode

    def counting(captions):
        calls.append(list(captions))
        return original(captions)

    encoder._encode = counting  # type: ignore[method-assign]
    inputs = [("a", torch.rand(1, 3, 64, 64), "a cat"), ("b", torch.rand(1, 3, 64, 64), "a dog")]
    cfg = BenchConfig.quick_defaults(runs=1, warmup=0, batch=1)
    assert batch_throughput(model, encoder, inputs, cfg, torch.device("cpu"))["images"] == 2
    assert calls == [["a cat"], ["a dog"]]


def test_the_latency_script_is_taco_bench_with_its_error_handling():
    """benchmarks/latency.py had its own argument parser around cmd_bench, so a bad option was a
    CLIError traceback where ``taco bench`` prints one line: it now runs ``taco bench`` itself."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "latency.py"
    run = subprocess.run([sys.executable, str(script), "--taco-model", "nosuch"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("taco bench: error: --taco-model 'nosuch'") and "Traceback" not in run.stderr


def test_context_widths_are_read_from_a_compressai_layout_codec_before_the_config():
    import taco
    from taco.bench.systems import context_widths

    model = taco.create_model("elic-tiny", layout="compressai")
    widths = tuple(model.config.ctx_hidden)
    assert widths != (224, 128)
    model.config = None  # the latent codec alone says them
    assert context_widths(model) == widths
