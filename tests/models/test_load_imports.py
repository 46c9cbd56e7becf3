"""Loading a model gives its meta-device skeleton CPU memory without torch's Python meta kernels:
``nn.Module.to_empty`` (``torch.empty_like`` of a meta tensor) imported sympy, 0.35-0.47 s and
~35 MiB of every ``taco compress``/``decompress``/``demo`` run."""

from __future__ import annotations

import subprocess
import sys

import torch

from taco.models import create_model, save_checkpoint
from taco.models.architecture import build_on_meta
from taco.models.checkpoint import filled_whole


def test_loading_a_builtin_or_a_checkpoint_file_imports_no_sympy(tmp_path):
    path = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "elic-tiny.safetensors")
    code = (
        "import sys, taco\n"
        "taco.load(taco.DEFAULT_MODEL)\n"
        "taco.load(sys.argv[1])\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert out.split() == ["False"]


def test_a_filled_skeleton_holds_what_to_empty_gave():
    """Parameters stay parameters (with their requires_grad), buffers stay buffers, each of the
    skeleton's shape and dtype, on the CPU."""
    config = create_model("elic-tiny").config
    filled = filled_whole(build_on_meta(config))
    assert filled is not None
    emptied = build_on_meta(config).to_empty(device="cpu")

    def held(model):  # noqa: ANN001, ANN202
        return ({n: (type(p), p.requires_grad, p.shape, p.dtype, p.device) for n, p in model.named_parameters()},
                {n: (type(b), b.shape, b.dtype, b.device) for n, b in model.named_buffers()},
                list(model.state_dict()))

    assert held(filled) == held(emptied)
    assert all(type(p) is torch.nn.Parameter for p in filled.parameters())
