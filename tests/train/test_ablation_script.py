"""scripts/ablation_text_injection.sh's reuse check (SKIP_TRAINED=1, its documented way to go on
from existing runs): the Python its ``finished`` function runs, on a real checkpoint that
``taco train`` wrote. It imported read_checkpoint_header from taco.models.checkpoint after
4a3e55c moved it to taco.models.header: the first reused checkpoint ended the script in an
ImportError."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from taco.cli import main as taco_main
from taco.samples import SAMPLES_DIR

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ablation_text_injection.sh"


def finished_check() -> str:
    """The heredoc of the script's ``finished`` function."""
    match = re.search(r"^finished\(\) \{\n.*?<<'EOF'\n(.*?)^EOF$", SCRIPT.read_text(encoding="utf-8"),
                      re.S | re.M)
    assert match, "no finished() heredoc in the script"
    return match.group(1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """One step of elic-tiny on the sample photos, through taco train."""
    out = tmp_path_factory.mktemp("elic") / "run"
    values = {"preset": "elic", "model": "elic-tiny", "data.root": SAMPLES_DIR, "crop": 64,
              "batch_size": 2, "workers": 0, "k_p": 0, "k_j": 0, "max_steps": 1,
              "progress": "false", "out_dir": out}  # fmt: skip
    assert taco_main(["train", "--set", *(f"{k}={v}" for k, v in values.items())]) == 0
    return out / "checkpoint.safetensors"


def run_check(path: Path, allow: str = "0") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-", str(path), allow], input=finished_check(), text=True,
                          capture_output=True, timeout=120)


def test_a_finished_run_is_reused(checkpoint):
    r = run_check(checkpoint)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == f"ablation: reusing {checkpoint} (1 steps)"


def test_a_run_stopped_before_its_max_steps_is_refused_unless_allowed(checkpoint, tmp_path):
    with safe_open(str(checkpoint), framework="pt") as f:
        meta = dict(f.metadata())
    header = json.loads(meta["taco"])
    header["metadata"]["config"]["max_steps"] = 5
    partial = tmp_path / "checkpoint.safetensors"
    save_file(load_file(str(checkpoint)), str(partial), {**meta, "taco": json.dumps(header)})
    r = run_check(partial)
    assert r.returncode == 1 and "stopped at step 1 of 5 (still training?)" in r.stderr, r.stderr
    r = run_check(partial, "1")
    assert r.returncode == 0 and "evaluated anyway (ALLOW_PARTIAL=1)" in r.stderr, r.stderr
