"""A caption-embeddings file whose tokens are not of the shape its encoder gives -- another
token count m (the adapter takes any, so a run trained to the end on it) or width d -- is a
ConfigError naming the file when ``taco train`` starts (exit 2, one line)."""

from __future__ import annotations

import pytest
import torch

from taco.cli import main as taco_main
from taco.text.base import DEFAULT_MAX_TOKENS
from taco.text.clip import TINY_DIM
from taco.train.caption_embeddings import CaptionTable


@pytest.fixture(scope="module")
def made(tmp_path_factory, tiny):
    """The sample photos' captions embedded with clip-tiny, as ``--embed-captions`` writes them."""
    folder = tmp_path_factory.mktemp("emb")
    emb = folder / "emb.safetensors"
    assert taco_main(["train", "--set", *tiny(folder / "unused"), "--embed-captions", str(emb)]) == 0
    return CaptionTable.load(emb)


@pytest.mark.parametrize("m,d", [(1, TINY_DIM), (5000, TINY_DIM), (DEFAULT_MAX_TOKENS, TINY_DIM - 1)])
def test_a_table_of_another_token_shape_is_refused(tmp_path, tiny, capsys, made, m, d):
    assert tuple(made.tokens.shape[1:]) == (DEFAULT_MAX_TOKENS, TINY_DIM)
    k = len(made)
    tokens = torch.zeros(k, m, d)
    n, w = min(m, DEFAULT_MAX_TOKENS), min(d, TINY_DIM)
    tokens[:, :n, :w] = made.tokens[:, :n, :w].float()
    mask = torch.zeros(k, m, dtype=torch.bool)
    mask[:, :n] = made.mask[:, :n]
    emb = CaptionTable(made.captions, tokens, mask, made.encoder).save(tmp_path / "emb.safetensors")
    out = tmp_path / "run"
    argv = ["train", "--set", *tiny(out, max_steps=1, text_embeddings=emb)]
    assert taco_main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"text_embeddings {emb}: tokens of ({m}, {d}) (m, d) per caption, but the text encoder " \
           f"{{'name': 'clip-tiny'}} gives ({DEFAULT_MAX_TOKENS}, {TINY_DIM})" in lines[0], lines[0]
    assert not (out / "model.safetensors").exists()
