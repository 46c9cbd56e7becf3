"""``taco bench``'s CompressAI anchor is ``Elic2022Official`` at *all* of the ELIC model's widths,
the channel-context ones (``ctx_hidden``) included (review IO #2: CompressAI fixes them at 224/128,
so below paper size the anchor was a far larger model than the one it was compared with)."""

from __future__ import annotations

import json

import pytest

from taco import cli
from taco.bench.systems import compressai_elic, context_widths
from taco.models import create_model


def _params(module, part=""):
    return sum(p.numel() for k, p in module.named_parameters() if part in k)


@pytest.mark.parametrize("name", ["elic-tiny", "elic-small"])
def test_the_anchor_has_the_parameters_of_the_model_in_compressai_s_layout(name):
    model = create_model(name)  # the authors' layout: the channel context is the same
    same_layout = create_model(name, layout="compressai")
    anchor = compressai_elic(model)
    assert context_widths(model) == context_widths(same_layout) == tuple(model.config.ctx_hidden)
    assert _params(anchor) == _params(same_layout)
    assert _params(anchor, "channel_context") == _params(model, "channel_context")
    assert compressai_elic(same_layout).state_dict().keys() == anchor.state_dict().keys()


def test_the_bench_json_names_the_anchor_s_context_widths(tmp_path, monkeypatch):
    if "taco.bench.cli" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "taco.bench.cli"))
    out = tmp_path / "bench.json"
    argv = ["bench", "--quick", "--runs", "1", "--warmup", "0", "--images", "skimage-chelsea.png",
            "--crop", "64", "--device", "cpu", "--threads", "1", "--json", str(out)]
    assert cli.main(argv) == 0
    label = json.loads(out.read_text())["models"]["compressai-elic"]
    assert "groups=[8, 8, 16]" in label and "channel context widths [16, 16]" in label
