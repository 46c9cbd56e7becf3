"""Evaluation leaves its process group with :func:`taco.distributed.leaving_process_group`: a run
of ``taco evaluate`` no longer imports the training package (it did, for that one function), and
:mod:`taco.distributed` still imports no torch."""

from __future__ import annotations

import subprocess
import sys

RUN = """
import sys
from taco.evaluation.evaluate import EvalConfig, EvaluationError, run_evaluation
try:
    run_evaluation(EvalConfig(datasets=["samples"], output=sys.argv[1]))
except EvaluationError:
    pass
print(sorted(m for m in sys.modules if m == "taco.train" or m.startswith("taco.train.")))
"""


def test_a_run_imports_no_training_code(tmp_path):
    out = subprocess.run([sys.executable, "-c", RUN, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_shared_module_imports_no_torch():
    code = ("import sys, taco.distributed as d; d.leaving_process_group; d.shutdown_distributed; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
