"""LPIPS computed first under a caller's ``torch.inference_mode()`` (a notebook measuring a
picture) cached a network of inference tensors, and every later LPIPS with a gradient (training's
LPIPS loss, ``taco.train.train`` with k_p > 0) failed with "Inference tensors cannot be saved for
backward". In a fresh process, as the cache is per process."""

import subprocess
import sys

SCRIPT = """
import torch
from taco.metrics import lpips

x = torch.rand(1, 3, 64, 64)
with torch.inference_mode():
    lpips(x, x)
y = torch.rand(1, 3, 64, 64, requires_grad=True)
lpips(x, y).sum().backward()
print(bool(y.grad.abs().sum() > 0))
"""


def test_lpips_after_inference_mode_still_has_a_gradient():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "True"
