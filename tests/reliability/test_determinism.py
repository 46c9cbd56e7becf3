"""Cross-configuration determinism (issue 7, item 3).

A file encoded under one CPU configuration (thread count, oneDNN on/off, memory layout) must
decode to bit-identical latents under every other, and encoding must give the same bytes. Each
configuration runs in its own process (thread count and oneDNN are process-wide) through
``determinism_probe.py``. Pixels come out of the float32 synthesis transform g_s and may differ
by one grey level in a few pixels: that bound is asserted too (docs/reliability.md).

``elic-tiny-spread`` has its scales spread over the scale table like a trained model's: with the
float32 entropy-parameter path it decodes to different latents under 1 and 2 threads.
``elic-tiny-chunked`` is that model on a 1024x768 photo: a format-3 stream of two rANS chunks,
its float64 convolutions in bands and its synthesis in tiles (lowered limits, as on a big photo).
The GPU test runs only where CUDA is available (none in this project's CI); benchmarks/gpu_checks.sh
runs it with the format-3 cases when a GPU is available.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

PROBE = Path(__file__).resolve().parent / "determinism_probe.py"


def probe(out: Path, *args: str, decode_from: Path | None = None, cases: str) -> dict:
    cmd = [sys.executable, str(PROBE), "--out", str(out), "--cases", cases, *args]
    if decode_from is not None:
        cmd += ["--decode-from", str(decode_from)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare(encoder: Path, decoder: Path, cases: list[str]) -> dict[str, dict[str, float]]:
    """``decoder`` decoded ``encoder``'s files; the reference is ``encoder`` decoding its own."""
    report = {}
    for case in cases:
        tag = Path(case).stem  # the probe's file names: a checkpoint's path is its file's stem
        ref_y = np.load(encoder / f"{tag}.self.yhat.npy")
        got_y = np.load(decoder / f"{tag}.yhat.npy")
        ref_p = np.load(encoder / f"{tag}.self.pixels.npy").astype(int)
        got_p = np.load(decoder / f"{tag}.pixels.npy").astype(int)
        report[case] = {
            "same_bytes": (encoder / f"{tag}.taco").read_bytes() == (decoder / f"{tag}.taco").read_bytes(),
            "latents_differing": int((ref_y != got_y).sum()),
            "pixels_differing": int((ref_p != got_p).sum()),
            "max_pixel_difference": int(np.abs(ref_p - got_p).max()),
        }
    return report


def assert_deterministic(report: dict[str, dict[str, float]], same_bytes: bool = True) -> None:
    """Every file decodes to the encoder's own latents, pixels within one grey level.

    ``same_bytes``: the two configurations also *encode* the same bytes. True across CPU thread
    counts and oneDNN settings; not across devices, where g_a itself computes y differently
    (cuDNN vs CPU kernels, TF32) and a few latents round the other way: both files are valid
    and each decodes identically everywhere, which is what the decoder guarantees.
    """
    for case, r in report.items():
        if same_bytes:
            assert r["same_bytes"], (case, r)
        assert r["latents_differing"] == 0, (case, r)
        assert r["max_pixel_difference"] <= 1, (case, r)


CI_CASES = ["elic-tiny", "taco-tiny", "elic-tiny-spread", "elic-tiny-chunked"]


@pytest.mark.timeout(900)
def test_two_threads_to_one_thread(tmp_path):
    a, b = tmp_path / "2-threads", tmp_path / "1-thread"
    probe(a, "--threads", "2", cases=",".join(CI_CASES))
    probe(b, "--threads", "1", decode_from=a, cases=",".join(CI_CASES))
    assert_deterministic(compare(a, b, CI_CASES))


GPU_CHECKS = PROBE.parents[2] / "benchmarks" / "gpu_checks.sh"


def test_probe_takes_every_case_gpu_checks_names(load_script, tmp_path):
    """benchmarks/gpu_checks.sh's default CASES, F32_CASES and GPU_CASES (built-in trained models
    beside the probe's own cases) pass the probe's --cases check, as does an existing checkpoint
    file; a mistyped name and a checkpoint that is not there do not. (Since c9677c0 the check
    took the probe's own cases only: every determinism step of gpu_checks.sh exited 2.)"""
    import re

    defaults = dict(re.findall(r"^(\w*CASES)=\$\{\w+:-([^}]*)\}", GPU_CHECKS.read_text(), re.M))
    assert set(defaults) == {"CASES", "F32_CASES", "GPU_CASES"}, defaults
    probe_module = load_script("tests/reliability/determinism_probe.py")
    for names in defaults.values():
        assert probe_module.unknown_cases(names.split(",")) == [], names
    checkpoint = tmp_path / "checkpoint.safetensors"
    checkpoint.write_bytes(b"")
    sharded = tmp_path / "big.safetensors.index.json"
    sharded.write_bytes(b"")
    missing = str(tmp_path / "missing.safetensors")
    assert probe_module.unknown_cases([str(checkpoint), str(sharded), "elic-small-q4"]) == []
    assert probe_module.unknown_cases(["elic-small-q5", missing, "elic-tiny"]) == ["elic-small-q5", missing]
    r = subprocess.run([sys.executable, str(PROBE), "--out", str(tmp_path / "out"), "--cases",
                        f"elic-tiny,{missing}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"--cases: unknown {missing};" in r.stderr and "elic-small-q4" in r.stderr, r.stderr


@pytest.mark.timeout(300)
def test_probe_codes_a_built_in_model_and_a_checkpoint(tiny_checkpoint, tmp_path):
    """A built-in trained model and a checkpoint file code the photo at 768x512, their files
    named by the name and by the checkpoint file's stem (what :func:`compare` reads)."""
    path = tiny_checkpoint[0]
    report = probe(tmp_path, cases=f"elic-small-q4,{path}")
    assert set(report["timings"]) == {"elic-small-q4", path.stem}
    for tag in ("elic-small-q4", path.stem):
        assert (tmp_path / f"{tag}.taco").stat().st_size > 0
        assert np.load(tmp_path / f"{tag}.self.pixels.npy").shape == (512, 768, 3)
        assert np.load(tmp_path / f"{tag}.self.yhat.npy").ndim == 4

CONFIGS = {
    "2 threads, oneDNN": ("--threads", "2", "--mkldnn", "1"),
    "1 thread, oneDNN": ("--threads", "1", "--mkldnn", "1"),
    "1 thread, no oneDNN": ("--threads", "1", "--mkldnn", "0"),
    "2 threads, no oneDNN": ("--threads", "2", "--mkldnn", "0"),
    "2 threads, channels_last": ("--threads", "2", "--channels-last", "1"),
}
SLOW_CASES = [*CI_CASES, "elic-small-spread"]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_every_configuration_decodes_every_other(tmp_path):
    dirs = {name: tmp_path / f"enc{i}" for i, name in enumerate(CONFIGS)}
    for name, args in CONFIGS.items():
        probe(dirs[name], *args, cases=",".join(SLOW_CASES))
    for enc in CONFIGS:
        for dec, args in CONFIGS.items():
            if enc != dec:
                out = tmp_path / f"{dirs[enc].name}-by-{dirs[dec].name}"
                probe(out, *args, decode_from=dirs[enc], cases=",".join(SLOW_CASES))
                assert_deterministic(compare(dirs[enc], out, SLOW_CASES))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.timeout(1800)
def test_cpu_to_gpu_and_back(tmp_path):
    """Encode on the CPU, decode on the GPU, and the reverse. The entropy-parameter path runs in
    float64 on the CPU either way, so the latents are identical; g_s runs on the GPU in float32.

    Run on an H100 (2026-11-25, benchmarks/gpu_checks.sh): it first failed on ``same_bytes``
    for elic-tiny (the GPU's g_a rounds a few latents the other way), with 0 latents differing
    and at most 1 grey level in both directions; see docs/reliability.md."""
    cpu, gpu = tmp_path / "cpu", tmp_path / "gpu"
    probe(cpu, cases=",".join(SLOW_CASES))
    probe(gpu, "--device", "cuda", decode_from=cpu, cases=",".join(SLOW_CASES))
    back = tmp_path / "cpu-decodes-gpu"
    probe(back, decode_from=gpu, cases=",".join(SLOW_CASES))
    assert_deterministic(compare(cpu, gpu, SLOW_CASES), same_bytes=False)
    assert_deterministic(compare(gpu, back, SLOW_CASES), same_bytes=False)
