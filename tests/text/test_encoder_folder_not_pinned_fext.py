"""``taco.text.model_text_encoder``'s docstring said "the width check below and the model's
fingerprint still catch a wrong CLIP" (review EXT2): the fingerprint covers the compression
model's config and weights, not a text encoder folder's weights (only the packaged MiniLM is
pinned), so a text encoder of the same width with other weights is read unnoticed. The docstring
and docs/models.md say so now; this pins the behaviour they describe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import taco
from taco.models.checkpoint import model_fingerprint
from taco.text import model_text_encoder

WIDTH = 24


def test_the_docstring_does_not_say_the_fingerprint_catches_a_wrong_encoder():
    doc = " ".join((model_text_encoder.__doc__ or "").split())
    assert "fingerprint still catch" not in doc
    assert "not a text encoder folder's" in doc and "only the packaged MiniLM's files are pinned" in doc
    docs = Path(__file__).resolve().parents[2] / "docs" / "models.md"
    if docs.is_file():  # a source tree
        assert "Nothing pins such a folder's weights" in docs.read_text(encoding="utf-8")


def test_a_same_width_folder_with_other_weights_goes_unnoticed(tmp_path, make_bert):
    pytest.importorskip("transformers")
    folder = make_bert(tmp_path / "bert", WIDTH, seed=0)
    model = taco.create_model("taco-tiny", text_encoder={"name": "minilm", "path": str(folder)})
    fingerprint = model_fingerprint(model)
    before = model_text_encoder(model, shared=False).encode(["a cat on a sofa"]).tokens
    shutil.rmtree(folder)
    make_bert(folder, WIDTH, seed=1)  # changed in place: same width, other weights
    after = model_text_encoder(model, shared=False).encode(["a cat on a sofa"]).tokens
    assert model_fingerprint(model) == fingerprint  # nothing of the folder's weights is in it
    assert not bool((before == after).all())  # and the encoder read is the new one
