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
from taco.models import PRETRAINED

FORMAT_MD = Path(__file__).resolve().parents[2] / "docs" / "format.md"
ASSETS = Path(__file__).resolve().parents[2] / "taco" / "assets" / "models"


def doc_table(heading: str) -> list[tuple[int, str]]:
    """The (number, `name`) rows of the first table after ``### heading`` in docs/format.md."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
    return [(int(n), name) for n, name in re.findall(r"^\| (\d+) \| `([^`]+)` \|", section, re.M)]


def test_the_doc_lists_every_model_code():
    assert doc_table("Model codes") == [(i + 1, m) for i, m in enumerate(BUILTIN_MODEL_IDS)]


def test_the_doc_lists_every_mode():
    assert doc_table("Image modes") == list(enumerate(MODES))


#: ModelConfig fields added after the first release and the value that leaves them out.
LEGACY_DEFAULTS = {"text_injection": "adapter", "injector_at": "both", "layout": "compressai",
                   "qualities": None, "options": {}}


def digest_from_the_doc(config: dict) -> str:
    """docs/format.md, "The fingerprint", step 1: the config's canonical JSON, its SHA-256."""
    config = {k: v for k, v in config.items() if k not in LEGACY_DEFAULTS or v != LEGACY_DEFAULTS[k]}
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def fingerprint_from_the_doc(path: Path) -> bytes:
    """docs/format.md, "The fingerprint", step by step, from the checkpoint file alone."""
    with safe_open(str(path), "np") as f:
        header = json.loads(f.metadata()["taco"])
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    digest = digest_from_the_doc(header["config"])
    if "gaussian_tables_sha256" in header:  # a compact checkpoint: the tables are rebuilt at load
        from compressai.entropy_models import GaussianConditional

        for key in [k for k in tensors if k.endswith("gaussian_conditional.scale_table")]:
            gc = GaussianConditional(None)
            gc.update_scale_table(torch.from_numpy(tensors[key]), force=True)
            prefix = key.removesuffix("scale_table")
            for table in ("_quantized_cdf", "_offset", "_cdf_length"):
                tensors[prefix + table] = getattr(gc, table).numpy()
    h = hashlib.sha256(digest.encode("ascii"))
    for name in sorted(tensors):
        values = tensors[name]
        assert values.dtype.kind == "f" or values.dtype == np.int32, (name, values.dtype)
        h.update(name.encode("utf-8"))
        h.update(np.ascontiguousarray(values, dtype="<f4" if values.dtype.kind == "f" else "<i4").tobytes())
    return h.digest()[:8]


# the built-ins that ship, whichever they are (the registry's names: no torch to list them)
@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_the_fingerprint_recipe_gives_the_builtins_fingerprints(name):
    import taco
    from taco.models import model_fingerprint

    got = fingerprint_from_the_doc(ASSETS / PRETRAINED[name].file)
    assert got == model_fingerprint(taco.load(name))
    # its goldens (tests/data/builtin: NAME.taco, or NAME-qN.taco per quality of a variable-rate one)
    goldens = [f for f in sorted((Path(__file__).resolve().parents[1] / "data" / "builtin").glob("*.taco"))
               if taco.info(f).header.model_id == name]
    assert goldens, name
    for golden in goldens:  # the files in the wild say the same
        assert got == taco.info(golden).header.fingerprint, golden


def test_the_doc_leaves_out_the_fields_the_code_leaves_out():
    """The fields the doc leaves out, at the values it names, are those a config written before
    they existed has (``ModelConfig.from_dict({})``), and the digest leaves out just those: the
    doc once missed ``options``, and its recipe gave every seed-0 model another fingerprint."""
    from taco.models import ModelConfig

    text = " ".join(FORMAT_MD.read_text(encoding="utf-8").split())
    names, values = re.search(r"except that (.*?) are left out while they equal (.*?) \(", text).groups()
    said = re.findall(r"`([^`]+)`", names), [json.loads(v) for v in re.findall(r"`([^`]+)`", values)]
    assert said == (list(LEGACY_DEFAULTS), list(LEGACY_DEFAULTS.values()))
    old = ModelConfig.from_dict({})  # every added field at its old meaning
    assert {k: getattr(old, k) for k in LEGACY_DEFAULTS} == LEGACY_DEFAULTS
    for config in (old, ModelConfig(), ModelConfig(qualities=[0.01])):
        assert digest_from_the_doc(config.to_dict()) == config.digest()


def test_the_fingerprint_recipe_gives_a_fresh_checkpoints_fingerprint(tmp_path):
    """A seed-0 model saved now (the reference layout, no compact tables), not only the
    shipped built-ins."""
    import taco
    from taco.models import create_model, model_fingerprint, save_checkpoint

    path = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "elic-tiny.safetensors")
    assert fingerprint_from_the_doc(path) == model_fingerprint(taco.load(str(path)))


def test_the_model_code_table_gives_each_models_sizes():
    """Review FS #5: N, M and the channel groups a decoder needs to cut the chunks, as the
    models' configs (a trained built-in's from its file's header; a former built-in's,
    :data:`taco.models.RETIRED`, from the header it shipped with: tests/data/legacy) say."""
    from taco.models import MODEL_CONFIGS, PRETRAINED, ModelConfig
    from taco.models.header import header_config, read_checkpoint_header

    legacy = json.loads((Path(__file__).resolve().parents[1] / "data" / "legacy" / "headers.json")
                        .read_text(encoding="utf-8"))

    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split("\n### Model codes\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| \d+ \| `([^`]+)` \| (\d+) \| (\d+) \| ([\d, ]+) \|$", section, re.M)
    assert [name for name, *_ in rows] == [m for m in BUILTIN_MODEL_IDS if m != "custom"]
    for name, n, m, groups in rows:
        if name in PRETRAINED:
            path = ASSETS / PRETRAINED[name].file
            config = header_config(read_checkpoint_header(path), path)
        elif name not in MODEL_CONFIGS:  # a former built-in (issue 14: retired at the swap)
            config = ModelConfig.from_dict(legacy[name]["config"])
        else:
            config = MODEL_CONFIGS[name]
        assert (int(n), int(m), [int(g) for g in groups.split(", ")]) == (config.N, config.M, list(config.groups))
