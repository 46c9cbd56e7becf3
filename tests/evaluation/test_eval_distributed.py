"""torchrun sharding: two ranks give the same CSV as one process (slow: starts 2 processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import taco.cli as c
c.COMMAND_MODULES = ("taco.evaluation.cli",)
sys.exit(c.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_torchrun_shards_merge_to_the_single_process_result(tiny_folder, tmp_path):
    script = tmp_path / "taco_entry.py"
    script.write_text(SCRIPT)
    args = [str(tiny_folder), "-m", "elic-tiny", "--classic", "jpeg", "--qualities", "jpeg=40",
            "--fid", "off", "--cmmd-clip", "off", "--no-plot", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, str(script), "evaluate", *args, "-o", str(tmp_path / "one")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), "evaluate", *args, "-o", str(tmp_path / "two")],
        env=env, capture_output=True, text=True, timeout=300)
    assert multi.returncode == 0, multi.stderr
    one, two = tmp_path / "one" / "photos", tmp_path / "two" / "photos"
    csvs = sorted(p.name for p in one.glob("*.csv"))
    assert csvs == sorted(p.name for p in two.glob("*.csv")) and len(csvs) == 2  # shards merged away
    for name in csvs:
        assert (one / name).read_text() == (two / name).read_text()
