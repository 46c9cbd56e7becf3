"""``taco models`` shows a text-guided backbone's kind as the built-ins' (``TACO + MiniLM``):
its architecture and the text encoder it reads (``texty + tiny CLIP``), in the table and in the
model in full; it showed the bare architecture name, as for a text-free one."""

from __future__ import annotations

import argparse

import pytest

from taco.cli.models import cmd_models


@pytest.fixture()
def texty(register_texty):
    """``texty-tiny``: examples/mean_scale_backbone.py's model taking a caption it ignores,
    registered text-guided (clip-tiny), beside the example's text-free ``mean-scale-tiny``."""
    register_texty(16, 24)


def test_a_text_guided_backbone_shows_its_text_encoder(texty, capsys):
    assert cmd_models(argparse.Namespace(names=["texty-tiny", "mean-scale-tiny"], json=False)) == 0
    out = capsys.readouterr().out
    assert "model: texty + tiny CLIP\n" in out
    assert "model: mean-scale\n" in out  # a text-free backbone: its architecture alone

    assert cmd_models(argparse.Namespace(names=[], json=False)) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    assert " texty + tiny CLIP " in rows["texty-tiny"]
    assert " TACO + tiny CLIP " in rows["taco-tiny"] and " ELIC " in rows["elic-tiny"]
