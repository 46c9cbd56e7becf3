"""The scale table y is coded with is the same on every CPU (taco.models.entropy.portable_scale_table):
CompressAI's get_scale_table takes float32 torch.exp, whose last bit follows MKL's vector path
(MKL_ENABLE_INSTRUCTIONS=AVX2 made entry 28 of the 64 3.4496045, not 3.4496043), and
torch.linspace, whose last bits follow torch's CPU path (ATEN_CPU_CAPABILITY=default), so seed-0
models and set_scale_levels gave other tables, fingerprints and bytes on other machines."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.models import create_model
from taco.models.entropy import portable_scale_table

ROOT = Path(__file__).resolve().parents[2]

#: What the tables hash to (float32 bytes): the 64-level one is CompressAI's on AVX2/AVX-512 x86
#: with MKL's own choice of path, the table of the built-ins and of every created model.
SHA256 = {64: "c8bdaad683932b580eaf8e0cfb2934d4872c4033cb5955af5d75056c85e98e06",
          256: "05da43b56d5dff7536e8a524d98b64db8aae58ba31273e08a1fa804093aa4333"}

TABLES = """
import hashlib, sys, torch
from taco.models import create_model
torch.set_num_threads(1)
m = create_model("elic-tiny", seed=0)
t64 = m.latent_codec.gaussian_conditional.scale_table.numpy().tobytes()
m.set_scale_levels(256)
t256 = m.latent_codec.gaussian_conditional.scale_table.numpy().tobytes()
print(hashlib.sha256(t64).hexdigest(), hashlib.sha256(t256).hexdigest())
"""


def sha(levels: int) -> str:
    return hashlib.sha256(portable_scale_table(levels).numpy().tobytes()).hexdigest()


def test_the_tables_are_pinned():
    assert {levels: sha(levels) for levels in SHA256} == SHA256
    assert portable_scale_table(64)[28].item() == pytest.approx(3.4496043, abs=1e-7)
    model = create_model("elic-tiny", seed=0)
    assert hashlib.sha256(model.latent_codec.gaussian_conditional.scale_table.numpy().tobytes()
                          ).hexdigest() == SHA256[64]


@pytest.mark.parametrize("env", [{"MKL_ENABLE_INSTRUCTIONS": "AVX2"}, {"ATEN_CPU_CAPABILITY": "default"}])
def test_other_cpu_paths_build_the_same_tables(env):
    out = subprocess.run([sys.executable, "-c", TABLES], env={**os.environ, **env}, cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True).stdout.split()
    assert out == [SHA256[64], SHA256[256]]


def test_the_golden_bytes_under_mkls_avx2_path():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_codec.py", "-k", "golden_bytes"],
                          env={**os.environ, "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:]
