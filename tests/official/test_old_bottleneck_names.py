"""An authors' checkpoint saved with an older CompressAI names its entropy bottleneck's
parameters ``_matrix0``, ``_bias0``, ``_factor0`` (before CompressAI's ParameterList rename to
``matrices.0`` ...); CompressAI's load_state_dict, so the authors' loader, reads them, and so
does taco's import: it was 'unexpected (their names) ... entropy_bottleneck._bias0'."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from taco.official.checkpoint import import_checkpoint, official_key_to_taco

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"
_LISTS = re.compile(r"entropy_bottleneck\.(matrices|biases|factors)\.(\d+)$")
_OLD = {"matrices": "_matrix", "biases": "_bias", "factors": "_factor"}


def test_old_bottleneck_names_import_as_the_current_ones(tmp_path):
    checkpoint = torch.load(GOLDEN, weights_only=True)
    renamed = {_LISTS.sub(lambda m: f"entropy_bottleneck.{_OLD[m.group(1)]}{m.group(2)}", k): v
               for k, v in checkpoint["state_dict"].items()}
    assert sum("entropy_bottleneck._matrix" in k for k in renamed) > 0
    old = tmp_path / "old-names.pth.tar"
    torch.save({**checkpoint, "state_dict": renamed}, old)
    ours = import_checkpoint(old, text_encoder="clip-tiny").state_dict()
    want = import_checkpoint(GOLDEN, text_encoder="clip-tiny").state_dict()
    assert ours.keys() == want.keys()
    assert all(torch.equal(ours[k], want[k]) for k in want)


def test_each_old_name_maps():
    for old, new in (("_matrix3", "matrices.3"), ("_bias0", "biases.0"), ("_factor12", "factors.12")):
        assert (official_key_to_taco(f"entropy_bottleneck.{old}")
                == f"latent_codec.entropy_bottleneck.{new}")
    assert official_key_to_taco("entropy_bottleneck._offset") == "latent_codec.entropy_bottleneck._offset"
