"""Hostile checkpoints (the 2026-12 audit of model files): weights, quantiles, headers, configs,
metadata, the authors' pickles, text-encoder folders and training states made by someone else.

Each is refused with a typed error naming the file (the CLI: status 2, one line, no traceback)
before anything costs minutes or gigabytes, and nothing that loads today is refused: every
registered architecture and the built-ins pass the new bounds.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

import taco
from taco.cli import main
from taco.models import (
    CheckpointError,
    create_model,
    describe_model,
    load_checkpoint,
    save_checkpoint,
)
from taco.models.config import ModelConfig
from taco.models.registry import MODEL_CONFIGS, PRETRAINED

SAMPLE = Path(taco.__file__).resolve().parent / "assets" / "samples" / "skimage-chelsea.png"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """An elic-tiny checkpoint (seed 0): (file, its tensors, its taco header)."""
    path = tmp_path_factory.mktemp("hostile") / "elic-tiny.safetensors"
    save_checkpoint(create_model("elic-tiny", seed=0), path)
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    return path, state, header


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "x.png"
    Image.open(SAMPLE).convert("RGB").resize((64, 48)).save(path)
    return path


def rewrite(tiny, path: Path, edit=None, header=None, taco_text=None) -> Path:  # noqa: ANN001
    """``tiny``'s checkpoint at ``path`` with its tensors edited, its header replaced or the
    header's raw text replaced."""
    _, state, original = tiny
    state = {k: v.clone() for k, v in state.items()}
    if edit is not None:
        edit(state)
    text = taco_text if taco_text is not None else json.dumps(header if header is not None else original)
    save_file(state, str(path), metadata={"taco": text})
    return path


def cli(capsys, *argv: str) -> tuple[int, str]:
    """Run the CLI: (status, stderr), an error being one line without a traceback."""
    with warnings.catch_warnings(record=True):
        status = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status == 2:
        errors = [line for line in err.splitlines() if ": error: " in line]
        assert len(errors) == 1 and errors[0].startswith(f"taco {argv[0]}: error: "), err
    return status, err


def fill(prefix: str, value: float):  # noqa: ANN201
    def edit(state):  # noqa: ANN001, ANN202
        for k, v in state.items():
            if k.startswith(prefix) and v.is_floating_point():
                state[k] = torch.full_like(v, value)
    return edit


def scale(prefix: str, factor: float):  # noqa: ANN201
    def edit(state):  # noqa: ANN001, ANN202
        for k, v in state.items():
            if k.startswith(prefix) and v.is_floating_point():
                state[k] = v * factor
    return edit


QUANTILES = "latent_codec.entropy_bottleneck.quantiles"


def quantiles(lower: float, median: float, upper: float):  # noqa: ANN201
    def edit(state):  # noqa: ANN001, ANN202
        q = state[QUANTILES].clone()
        q[:, 0, 0], q[:, 0, 1], q[:, 0, 2] = lower, median, upper
        state[QUANTILES] = q
    return edit


# --------------------------------------------------------------------------- M1: weights' values


@pytest.mark.parametrize(("prefix", "value"), [("g_s.", float("nan")), ("g_a.", float("nan")),
                                               ("latent_codec.h_s.", float("inf")),
                                               (QUANTILES, float("-inf"))])
def test_non_finite_weights_are_refused_at_load(tmp_path, tiny, photo, capsys, prefix, value):
    """NaN in g_s decoded every image black (exit 0); in g_a or h_s it ended in a traceback."""
    bad = rewrite(tiny, tmp_path / "bad.safetensors", edit=fill(prefix, value))
    with pytest.raises(CheckpointError, match="NaN or infinite") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value) and prefix in str(err.value)
    status, out = cli(capsys, "compress", str(photo), "-m", str(bad), "-o", str(tmp_path / "x.taco"))
    assert status == 2 and str(bad) in out and not (tmp_path / "x.taco").exists()


def test_absurd_finite_weights_are_the_models_error(tmp_path, tiny, photo, capsys):
    """g_a x 1e6 loads (finite), and its latents are beyond the coder: a CheckpointError naming
    the model, not rANS's ValueError and a traceback."""
    bad = rewrite(tiny, tmp_path / "huge.safetensors", edit=scale("g_a.", 1e6),
                  header={**tiny[2], "model_id": "huge-g-a"})
    model = load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="model 'huge-g-a' cannot code this image: .* the model's weights"):
        taco.compress(Image.open(photo), None, model)
    status, out = cli(capsys, "compress", str(photo), "-m", str(bad), "-o", str(tmp_path / "x.taco"))
    assert status == 2 and "huge-g-a" in out and not (tmp_path / "x.taco").exists()


# --------------------------------------------------------------------------- M2: quantiles


@pytest.mark.parametrize("q", [(-1e6, 0.0, 1e6), (-3e4, 0.0, 3e4), (-2049.0, 0.0, 2048.0),
                               (1.0, 0.0, -1.0), (0.0, 5.0, 1.0), (1e5 - 1, 1e5, 1e5 + 1)])
def test_hostile_quantiles_are_refused_at_load(tmp_path, tiny, q):
    """Unchecked, ``update(force=True)`` (``--init-from``, import) took 43 s at ±3e4 and ran
    > 400 s in 2.9 GB at ±1e6; a span over 2^12, disorder or a far median is refused now."""
    bad = rewrite(tiny, tmp_path / "q.safetensors", edit=quantiles(*q))
    with pytest.raises(CheckpointError, match="quantiles are not a trained entropy model's") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)


def test_init_from_goes_through_the_quantile_check(tmp_path, tiny):
    """``init_from`` loads with load_checkpoint and then rebuilds the tables: a hostile file is
    refused in well under a second instead of running for minutes."""
    from taco.train.model_setup import init_from_checkpoint

    bad = rewrite(tiny, tmp_path / "q.safetensors", edit=quantiles(-1e6, 0.0, 1e6))
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="quantiles"):
        init_from_checkpoint(create_model("elic-tiny", seed=1), bad)
    assert time.perf_counter() - start < 10


def test_quantile_bound_holds_every_real_model(tmp_path, tiny):
    """The built-ins span ~24, a fresh bottleneck 20: 2^12 leaves over 100x; a span at the bound
    loads."""
    from taco.models.checkpoint import MAX_QUANTILE_SPAN, check_quantiles

    for name in sorted(PRETRAINED):
        check_quantiles(taco.load(name))
    for name in sorted(MODEL_CONFIGS):
        check_quantiles(create_model(name, seed=0))
    half = MAX_QUANTILE_SPAN / 2
    load_checkpoint(rewrite(tiny, tmp_path / "edge.safetensors", edit=quantiles(-half, 0.0, half)))


# --------------------------------------------------------------------------- M3: groups


def test_a_config_of_many_groups_is_refused_before_it_is_built(tmp_path, tiny):
    """M = 65,536 in 65,536 groups of one took 4 min and 4 GB to build on the meta device."""
    from taco.models.config import MAX_GROUPS

    config = {**tiny[2]["config"], "M": 1 << 16, "groups": [1] * (1 << 16)}
    bad = rewrite(tiny, tmp_path / "groups.safetensors", header={**tiny[2], "config": config})
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=f"groups must list 1..{MAX_GROUPS} channel groups"):
        load_checkpoint(bad)
    assert time.perf_counter() - start < 5
    ModelConfig(architecture="elic", N=16, M=MAX_GROUPS, groups=[1] * MAX_GROUPS)  # the bound itself
    assert all(len(c.groups) <= MAX_GROUPS for c in MODEL_CONFIGS.values())


# --------------------------------------------------------------------------- M4, M5, L5: headers


@pytest.mark.parametrize(("text", "words"), [
    ("[" * 100_000, "nested too deeply"),
    ('{"format": "taco-checkpoint", "version": ' + "9" * 5000 + "}", "a number with too many digits"),
    ('{"format": "taco-checkpoint", "version": "1"}', "version '1' is not supported"),
    ('{"format": "taco-checkpoint", "version": true}', "version True is not supported"),
])
def test_hostile_header_json_is_one_checkpoint_error(tmp_path, tiny, capsys, text, words):
    bad = rewrite(tiny, tmp_path / "h.safetensors", taco_text=text)
    with pytest.raises(CheckpointError, match=words) as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)
    status, out = cli(capsys, "models", str(bad))
    assert status == 2 and str(bad) in out


@pytest.mark.parametrize("metadata", [[1, 2, 3], "text", 7])
def test_metadata_must_be_an_object(tmp_path, tiny, capsys, metadata):
    """``"metadata": [1, 2, 3]`` loaded, and ``taco models FILE`` ended in an AttributeError."""
    bad = rewrite(tiny, tmp_path / "m.safetensors", header={**tiny[2], "metadata": metadata})
    with pytest.raises(CheckpointError, match="its metadata is not a JSON object"):
        load_checkpoint(bad)
    status, out = cli(capsys, "models", str(bad))
    assert status == 2 and str(bad) in out


@pytest.mark.parametrize("record", [
    {"lambda": "abc"}, {"lambda": [1]}, {"lmbda": float("nan")},
    {"lambda": 0.0016, "trained_steps_total": "x", "trained_steps": "y", "epochs": "z",
     "device": ["a"], "wall_time_s": None, "train_data": {"root": {"x": 1}, "images": "many"}},
])
def test_odd_training_records_are_shown_as_absent(tmp_path, tiny, capsys, record):
    """A λ of "abc" crashed ``taco models FILE`` (format code 'g' for str); odd steps too."""
    bad = rewrite(tiny, tmp_path / "r.safetensors", header={**tiny[2], "metadata": record})
    info = describe_model(bad)
    lmbda = record.get("lambda")
    assert info["lmbda"] == (lmbda if isinstance(lmbda, float) else None)
    assert set(info["training"]) <= {"train_data"}
    for argv in (["models", str(bad)], ["models", "--json", str(bad)]):
        status, _ = cli(capsys, *argv)
        assert status == 0


