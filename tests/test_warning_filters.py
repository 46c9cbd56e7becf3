"""Loading a model leaves the process's warning filters as the caller set them (review DEP, s40):
taco.models.elic put a global "ignore" of torch's ``torch.jit.script`` FutureWarning at the front
of warnings.filters when first imported, so a service importing taco lost its own deprecation
warning (``python -W error::FutureWarning`` no longer caught its TorchScript calls). No import
taco makes of CompressAI calls torch.jit.script (taco.compressai_loader defers the modules that
do), so the filter is gone."""

import subprocess
import sys

SCRIPT = """
import taco
taco.load(taco.DEFAULT_MODEL)
import taco.codec, taco.evaluation, taco.metrics, taco.models.elic, taco.pipeline, taco.train
import torch
def f(x: torch.Tensor) -> torch.Tensor:
    return x + 1
try:
    torch.jit.script(f)
except FutureWarning as e:
    print("raised:", e)
else:
    print("not raised")
"""


def test_loading_a_model_keeps_the_callers_jit_warning():
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-W", "error::DeprecationWarning",
                           "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("raised: `torch.jit.script` is deprecated"), done.stdout
