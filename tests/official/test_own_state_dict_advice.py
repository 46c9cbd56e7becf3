"""Review R5b #2: the advice for a taco model's own ``torch.save``d state dict said
``taco.create_model(NAME, ...)`` + ``model.load_state_dict(torch.load(FILE))``, which failed for
a built-in's state (``layout='compressai'``: a long key error) and for a train.py-style
``{'epoch', 'state_dict': {'module.' + k: v}}`` (missing keys), which the import unwraps itself.
It now names the layout the keys show, ``taco.load(NAME)`` for a fine-tune of a built-in, and a
``load_state_dict`` argument that reads the file as it is: the advice printed is run here."""

from __future__ import annotations

import re

import pytest
import torch

import taco
from taco.official import import_checkpoint

FORMS = {
    "bare.pth": lambda sd: sd,
    "module.pth": lambda sd: {"module." + k: v for k, v in sd.items()},
    "train.pth.tar": lambda sd: {"epoch": 3, "state_dict": {"module." + k: v for k, v in sd.items()}},
    "wrapped.pth": lambda sd: {"state_dict": sd},
}


def _advice(path) -> tuple[str, str]:
    """(the create_model call, the load_state_dict argument) the import's refusal gives."""
    with pytest.raises(taco.CheckpointError, match="a taco model's own state dict") as err:
        import_checkpoint(path)
    text = str(err.value)
    assert "taco.load(NAME)" in text
    create = re.search(r"model = (taco\.create_model\(NAME[^)]*\))", text).group(1)
    loaded = re.search(r"model\.load_state_dict\((.*)\) and taco\.save_checkpoint", text).group(1)
    return create, loaded


@pytest.mark.parametrize("layout", ["reference", "compressai"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_advice_printed_loads_the_state(tmp_path, layout, form):
    source = taco.create_model("elic-tiny", layout=layout, seed=1).eval()
    path = tmp_path / form
    torch.save(FORMS[form](source.state_dict()), path)
    create, loaded = _advice(path)
    assert ("layout='compressai'" in create) == (layout == "compressai")
    assert str(path) in loaded or form == "bare.pth" and loaded == f"torch.load({str(path)!r})"
    create = create.replace("NAME", "'elic-tiny'").replace(", ...", "")
    model = eval(create, {"taco": taco})  # the advice, as printed
    model.load_state_dict(eval(loaded, {"torch": torch}))
    for k, v in source.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
