"""The first GPU slice's minutes go to training (issue 14). scripts/gpu_slice.sh's benchmark: by
default plain vs fast at the built-in and the paper size, at most BENCH_TIMEOUT (90 s) in all,
compilation only when asked (run with a stand-in Python that records what it is asked and sleeps
as told). The recipes' validation: one crop really coded, every few checkpoints. The script's
header gives docs/models.md's CPU rehearsal command (a benchmark a 2-core CPU finishes)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_slice.sh"

STUB = """#!/usr/bin/env bash
echo "$*" >> "$STUB_LOG"
case "$1" in benchmarks/*) exec sleep "$STUB_SLEEP";; esac
exit 0
"""


def _slice(tmp_path: Path, sleep: float = 0, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str], float]:
    """Run the script up to its training (TRAIN_TIME=0) -> (result, benchmark calls, seconds)."""
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    log = tmp_path / "calls"
    run_env = {**os.environ, "PY": str(stub), "STUB_LOG": str(log), "STUB_SLEEP": str(sleep),
               "OUT": str(tmp_path / "out"), "RUN": str(tmp_path / "slice" / "run"),
               "TRAIN_TIME": "0", **env}  # fmt: skip
    t0 = time.perf_counter()
    result = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=run_env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    took = time.perf_counter() - t0
    calls = [c for c in log.read_text().splitlines() if c.startswith("benchmarks/")]
    return result, calls, took


def _arg(call: str, flag: str) -> str:
    words = call.split()
    return " ".join(words[words.index(flag) + 1 :]).split(" --")[0]


def test_the_default_benchmark_is_plain_against_fast_at_both_sizes(tmp_path):
    result, calls, _ = _slice(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(calls) == 2, calls
    small, paper = calls
    assert _arg(small, "--models") == "taco-minilm-vr" and _arg(paper, "--models") == "taco-minilm"
    assert _arg(small, "--variants") == _arg(paper, "--variants") == "plain fast"
    assert _arg(small, "--steps") == "10" and _arg(paper, "--steps") == "4"
    assert "done (no training: TRAIN_TIME=0)" in result.stdout


def test_compilation_is_benchmarked_only_when_asked(tmp_path):
    result, calls, _ = _slice(tmp_path, BENCH_VARIANTS="plain fast fast-compile")
    assert result.returncode == 0 and all("fast-compile" in c for c in calls) and len(calls) == 2


def test_the_benchmark_stops_at_its_timeout_in_all(tmp_path):
    """A built-in size that never ends is stopped at 2/3 of BENCH_TIMEOUT; the paper size, with
    under 15 s left, is skipped: the training starts by BENCH_TIMEOUT."""
    result, calls, took = _slice(tmp_path, sleep=600, BENCH_TIMEOUT="6")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [_arg(c, "--models") for c in calls] == ["taco-minilm-vr"]
    assert "benchmark (built-in size) stopped: 124" in result.stdout
    assert "no time left for the paper size" in result.stdout
    assert 4 <= took < 6 + 10


def test_no_benchmark_with_bench_0(tmp_path):
    result, calls, _ = _slice(tmp_path, BENCH="0")
    assert result.returncode == 0 and calls == []


def test_the_recipes_validate_cheaply_and_after_a_checkpoint():
    """Real coding runs the latent codec in float64 on the CPU, also on the GPU machine: the
    recipes code one crop, at every third checkpoint (and at the end, after the checkpoint)."""
    from taco.train import load_config

    for name in ("taco-minilm-vr", "elic-vr"):
        cfg = load_config(ROOT / "configs" / f"{name}.yaml")
        assert cfg.val.compress_images == 1 and cfg.val.images == 4, name
        assert cfg.val.interval == 3 * cfg.ckpt_interval, name
        assert cfg.val.interval % cfg.log_interval == 0, name  # a val step is a log step


def _command(lines: list[str]) -> str:
    return " ".join(" ".join(lines).replace("\\", " ").split())


def test_the_headers_rehearsal_is_the_documented_one():
    header = SCRIPT.read_text().splitlines()
    start = next(i for i, line in enumerate(header) if line.startswith("#   OUT=/tmp/out"))
    end = next(i for i in range(start, len(header)) if "bash scripts/gpu_slice.sh" in header[i])
    script_cmd = _command([line.removeprefix("#") for line in header[start : end + 1]])
    docs = (ROOT / "docs" / "models.md").read_text()
    block = re.search(r"^(OUT=/tmp/out PY=.*?bash scripts/gpu_slice\.sh)$", docs, re.M | re.S)
    assert block, "docs/models.md has no CPU rehearsal command"
    assert script_cmd == _command(block.group(1).splitlines())
    assert "BENCH_TIMEOUT=150" in script_cmd and 'BENCH_PAPER="--crop 64' in script_cmd
