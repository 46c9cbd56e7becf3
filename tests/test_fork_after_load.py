"""A child forked after the parent loaded a model (gunicorn --preload, a fork pool) used to wait
for ever in its first coding call: GNU OpenMP's thread team does not survive a fork. taco's fork
hook gives the child one torch thread, as torch's DataLoader workers have."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")

CHILD = """
import os, sys, time
import taco
from taco.samples import SAMPLES_DIR
model = taco.load("elic-small-q3")
image = str(sorted(SAMPLES_DIR.glob("*.png"))[0])
expected = taco.compress(image, None, model)
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        os._exit(0 if taco.compress(image, None, model) == expected else 3)
    pids.append(pid)
deadline, codes = time.monotonic() + 90, []
for pid in pids:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            codes.append(os.waitstatus_to_exitcode(status))
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            codes.append("hung")
            break
        time.sleep(0.05)
print(codes)
"""


def test_children_forked_after_a_load_code_the_same_bytes_without_hanging() -> None:
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[0,", "0]"]
