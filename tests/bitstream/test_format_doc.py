"""docs/format.md against the code: its model-code and mode tables are the code's, and its
fingerprint recipe, followed with hashlib, json and safetensors only, gives the built-ins'
fingerprints."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from taco.bitstream import BUILTIN_MODEL_IDS
from taco.bitstream.container import MODES

FORMAT_MD = Path(__file__).resolve().parents[2] / "docs" / "format.md"
ASSETS = Path(__file__).resolve().parents[2] / "taco" / "assets" / "models"


def doc_table(heading: str) -> list[tuple[int, str]]:
    """The (number, `name`) rows of the first table after ``### heading`` in docs/format.md."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
    return [(int(n), name) for n, name in re.findall(r"^\| (\d+) \| `([^`]+)` \|$", section, re.M)]


def test_the_doc_lists_every_model_code():
    assert doc_table("Model codes") == [(i + 1, m) for i, m in enumerate(BUILTIN_MODEL_IDS)]


def test_the_doc_lists_every_mode():
    assert doc_table("Image modes") == list(enumerate(MODES))


#: ModelConfig fields added after the first release and the value that leaves them out.
LEGACY_DEFAULTS = {"text_injection": "adapter", "injector_at": "both", "layout": "compressai",
                   "qualities": None}


def fingerprint_from_the_doc(path: Path) -> bytes:
    """docs/format.md, "The fingerprint", step by step, from the checkpoint file alone."""
    with safe_open(str(path), "np") as f:
        header = json.loads(f.metadata()["taco"])
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    config = dict(header["config"])
    for name, value in LEGACY_DEFAULTS.items():
        if config.get(name, value) == value:
            config.pop(name, None)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
    if "gaussian_tables_sha256" in header:  # a compact checkpoint: the tables are rebuilt at load
        from compressai.entropy_models import GaussianConditional

        for key in [k for k in tensors if k.endswith("gaussian_conditional.scale_table")]:
            gc = GaussianConditional(None)
            gc.update_scale_table(torch.from_numpy(tensors[key]), force=True)
            prefix = key.removesuffix("scale_table")
            for table in ("_quantized_cdf", "_offset", "_cdf_length"):
                tensors[prefix + table] = getattr(gc, table).numpy()
    h = hashlib.sha256(digest.hexdigest().encode("ascii"))
    for name in sorted(tensors):
        values = tensors[name]
        assert values.dtype.kind == "f" or values.dtype == np.int32, (name, values.dtype)
        h.update(name.encode("utf-8"))
        h.update(np.ascontiguousarray(values, dtype="<f4" if values.dtype.kind == "f" else "<i4").tobytes())
    return h.digest()[:8]


@pytest.mark.parametrize("name", ["elic-small-q4", "taco-minilm-small-q3"])
def test_the_fingerprint_recipe_gives_the_builtins_fingerprints(name):
    import taco
    from taco.models import model_fingerprint

    got = fingerprint_from_the_doc(ASSETS / f"{name}.safetensors")
    assert got == model_fingerprint(taco.load(name))
    golden = Path(__file__).resolve().parents[1] / "data" / "builtin" / f"{name}.taco"
    assert got == taco.info(golden).header.fingerprint  # the files in the wild say the same
