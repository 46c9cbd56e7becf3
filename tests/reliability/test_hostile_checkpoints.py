"""Hostile checkpoints (the 2026-12 audit of model files): weights, quantiles, headers, configs,
metadata, the authors' pickles, text-encoder folders and training states made by someone else.

Each is refused with a typed error naming the file (the CLI: status 2, one line, no traceback)
before anything costs minutes or gigabytes, and nothing that loads today is refused: every
registered architecture and the built-ins pass the new bounds.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import taco
from taco.models import (
    CheckpointError,
    create_model,
    describe_model,
    load_checkpoint,
)
from taco.models.config import ModelConfig
from taco.models.registry import MODEL_CONFIGS, PRETRAINED
from taco.samples import SAMPLES_DIR

SAMPLE = SAMPLES_DIR / "skimage-chelsea.png"


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "x.png"
    Image.open(SAMPLE).convert("RGB").resize((64, 48)).save(path)
    return path


def rewrite(tiny_checkpoint, path: Path, edit=None, header=None, taco_text=None) -> Path:  # noqa: ANN001
    """``tiny_checkpoint`` written at ``path`` with its tensors edited, its header replaced or
    the header's raw text replaced."""
    _, state, original = tiny_checkpoint
    state = {k: v.clone() for k, v in state.items()}
    if edit is not None:
        edit(state)
    text = taco_text if taco_text is not None else json.dumps(header if header is not None else original)
    save_file(state, str(path), metadata={"taco": text})
    return path



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
def test_non_finite_weights_are_refused_at_load(tmp_path, tiny_checkpoint, photo, cli, prefix, value):
    """NaN in g_s decoded every image black (exit 0); in g_a or h_s it ended in a traceback."""
    bad = rewrite(tiny_checkpoint, tmp_path / "bad.safetensors", edit=fill(prefix, value))
    with pytest.raises(CheckpointError, match="NaN or infinite") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value) and prefix in str(err.value)
    status, out = cli("compress", str(photo), "-m", str(bad), "-o", str(tmp_path / "x.taco"))
    assert status == 2 and str(bad) in out and not (tmp_path / "x.taco").exists()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_non_finite_finds_every_nan_and_infinity_and_only_those(dtype):
    """non_finite sums each tensor first (a quick pass); a sum that overflows from finite
    values is not taken for an infinity."""
    from taco.models.checkpoint import non_finite

    huge = torch.finfo(dtype).max
    tensors = {"fine": torch.ones(5, dtype=dtype), "overflowing": torch.full((4,), huge, dtype=dtype),
               "nan": torch.tensor([1.0, float("nan")], dtype=dtype),
               "inf": torch.tensor([float("inf"), 0.0], dtype=dtype),
               "both": torch.tensor([float("inf"), float("-inf")], dtype=dtype),
               "ints": torch.arange(3)}
    assert bool(tensors["overflowing"].sum().isinf())
    assert non_finite(tensors) == ["nan", "inf", "both"]


def test_absurd_finite_weights_are_the_models_error(tmp_path, tiny_checkpoint, photo, cli):
    """g_a x 1e6 loads (finite), and its latents are beyond the coder: a CheckpointError naming
    the model, not rANS's ValueError and a traceback."""
    bad = rewrite(tiny_checkpoint, tmp_path / "huge.safetensors", edit=scale("g_a.", 1e6),
                  header={**tiny_checkpoint[2], "model_id": "huge-g-a"})
    model = load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="model 'huge-g-a' cannot code this image: .* the model's weights"):
        taco.compress(Image.open(photo), None, model)
    status, out = cli("compress", str(photo), "-m", str(bad), "-o", str(tmp_path / "x.taco"))
    assert status == 2 and "huge-g-a" in out and not (tmp_path / "x.taco").exists()


# --------------------------------------------------------------------------- M2: quantiles


@pytest.mark.parametrize("q", [(-1e6, 0.0, 1e6), (-3e4, 0.0, 3e4), (-2049.0, 0.0, 2048.0),
                               (1.0, 0.0, -1.0), (0.0, 5.0, 1.0), (1e5 - 1, 1e5, 1e5 + 1)])
def test_hostile_quantiles_are_refused_at_load(tmp_path, tiny_checkpoint, q):
    """Unchecked, ``update(force=True)`` (``--init-from``, import) took 43 s at ±3e4 and ran
    > 400 s in 2.9 GB at ±1e6; a span over 2^12, disorder or a far median is refused now."""
    bad = rewrite(tiny_checkpoint, tmp_path / "q.safetensors", edit=quantiles(*q))
    with pytest.raises(CheckpointError, match="quantiles are not a trained entropy model's") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)


def test_init_from_goes_through_the_quantile_check(tmp_path, tiny_checkpoint):
    """``init_from`` loads with load_checkpoint and then rebuilds the tables: a hostile file is
    refused in well under a second instead of running for minutes."""
    from taco.train.model_setup import init_from_checkpoint

    bad = rewrite(tiny_checkpoint, tmp_path / "q.safetensors", edit=quantiles(-1e6, 0.0, 1e6))
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="quantiles"):
        init_from_checkpoint(create_model("elic-tiny", seed=1), bad)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("name", sorted(MODEL_CONFIGS))
def test_quantile_bound_holds_every_real_model(name):
    """A fresh bottleneck spans 20: 2^12 leaves over 100x. One case per registered name, so a
    new backbone's runs alone with ``-k NAME`` (docs/models.md, "Adding a backbone"); 0.3-2.6 s
    each on a 2-core CPU (paper size the most), so none is ``slow``."""
    from taco.models.checkpoint import check_quantiles

    check_quantiles(create_model(name, seed=0))


def test_quantile_bound_holds_every_builtin(tmp_path, tiny_checkpoint):
    """The built-ins span ~24: 2^12 leaves over 100x; a span at the bound loads."""
    from taco.models.checkpoint import MAX_QUANTILE_SPAN, check_quantiles

    for name in sorted(PRETRAINED):
        check_quantiles(taco.load(name))
    half = MAX_QUANTILE_SPAN / 2
    load_checkpoint(rewrite(tiny_checkpoint, tmp_path / "edge.safetensors", edit=quantiles(-half, 0.0, half)))


# --------------------------------------------------------------------------- M3: groups


def test_a_config_of_many_groups_is_refused_before_it_is_built(tmp_path, tiny_checkpoint):
    """M = 65,536 in 65,536 groups of one took 4 min and 4 GB to build on the meta device."""
    from taco.models.config import MAX_GROUPS

    config = {**tiny_checkpoint[2]["config"], "M": 1 << 16, "groups": [1] * (1 << 16)}
    bad = rewrite(tiny_checkpoint, tmp_path / "groups.safetensors", header={**tiny_checkpoint[2], "config": config})
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=f"groups must list 1..{MAX_GROUPS} channel groups"):
        load_checkpoint(bad)
    assert time.perf_counter() - start < 5
    ModelConfig(architecture="elic", N=16, M=MAX_GROUPS, groups=[1] * MAX_GROUPS)  # the bound itself
    assert all(len(c.groups) <= MAX_GROUPS for c in MODEL_CONFIGS.values())


@pytest.mark.parametrize("qualities", [[True, 2], [10**400], "abc", [0.001, "0.002"], {"a": 1}, 3])
def test_a_headers_odd_qualities_are_a_checkpoint_error(tmp_path, tiny_checkpoint, qualities):
    """``"qualities": [true, 2]`` loaded as λ 1 and 2, ``"0.002"`` as a λ, a 401-digit λ ended in
    a raw OverflowError and ``3`` in a TypeError."""
    config = {**tiny_checkpoint[2]["config"], "qualities": qualities}
    bad = rewrite(tiny_checkpoint, tmp_path / "q.safetensors", header={**tiny_checkpoint[2], "config": config})
    with pytest.raises(CheckpointError, match="qualities must") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)


# --------------------------------------------------------------------------- M4, M5, L5: headers


@pytest.mark.parametrize(("text", "words"), [
    ("[" * 100_000, "nested too deeply"),
    ('{"format": "taco-checkpoint", "version": ' + "9" * 5000 + "}", "a number with too many digits"),
    ('{"format": "taco-checkpoint", "version": "1"}', "version '1' is not supported"),
    ('{"format": "taco-checkpoint", "version": true}', "version True is not supported"),
])
def test_hostile_header_json_is_one_checkpoint_error(tmp_path, tiny_checkpoint, cli, text, words):
    bad = rewrite(tiny_checkpoint, tmp_path / "h.safetensors", taco_text=text)
    with pytest.raises(CheckpointError, match=words) as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)
    status, out = cli("models", str(bad))
    assert status == 2 and str(bad) in out


@pytest.mark.parametrize("metadata", [[1, 2, 3], "text", 7])
def test_metadata_must_be_an_object(tmp_path, tiny_checkpoint, cli, metadata):
    """``"metadata": [1, 2, 3]`` loaded, and ``taco models FILE`` ended in an AttributeError."""
    bad = rewrite(tiny_checkpoint, tmp_path / "m.safetensors", header={**tiny_checkpoint[2], "metadata": metadata})
    with pytest.raises(CheckpointError, match="its metadata is not a JSON object"):
        load_checkpoint(bad)
    status, out = cli("models", str(bad))
    assert status == 2 and str(bad) in out


@pytest.mark.parametrize("record", [
    {"lambda": "abc"}, {"lambda": [1]}, {"lmbda": float("nan")}, {"lambda": 10**400},
    {"lambda": 0.0016, "trained_steps_total": "x", "trained_steps": "y", "epochs": "z",
     "device": ["a"], "wall_time_s": None, "train_data": {"root": {"x": 1}, "images": "many"}},
])
def test_odd_training_records_are_shown_as_absent(tmp_path, tiny_checkpoint, cli, record):
    """A λ of "abc" crashed ``taco models FILE`` (format code 'g' for str), one of 401 digits
    too (OverflowError: no float holds it); odd steps too."""
    bad = rewrite(tiny_checkpoint, tmp_path / "r.safetensors", header={**tiny_checkpoint[2], "metadata": record})
    info = describe_model(bad)
    lmbda = record.get("lambda")
    assert info["lmbda"] == (lmbda if isinstance(lmbda, float) else None)
    assert set(info["training"]) <= {"train_data"}
    for argv in (["models", str(bad)], ["models", "--json", str(bad)]):
        status, _ = cli(*argv)
        assert status == 0


# --------------------------------------------------------------------------- M6, L1, L2: imports


def _tiny_official_state() -> dict[str, torch.Tensor]:
    from taco.official.checkpoint import read_official_state_dict

    path = Path(__file__).resolve().parents[1] / "data" / "official" / "taco-tiny.pth.tar"
    return read_official_state_dict(path)[0]


class _Evil:
    """A pickle that would run a shell command when unpickled (it never is: weights_only)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_carrying_code_is_refused_without_torchs_advice(tmp_path):
    """torch 2.6+ says "Trying to load unsupported GLOBAL posix.system whose module posix is
    blocked" after advising ``weights_only=False``; that advice was passed on to the user."""
    from taco.official.checkpoint import import_checkpoint

    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pth.tar"
    torch.save({"state_dict": {"a": torch.zeros(1)}, "x": _Evil(marker)}, evil)
    with pytest.raises(CheckpointError, match=r"refused: it holds (posix|nt)\.system; taco never "
                       "unpickles code") as err:
        import_checkpoint(evil, "clip-tiny")
    assert str(evil) in str(err.value) and "weights_only" not in str(err.value)
    assert not marker.exists()


def test_both_wordings_of_a_refused_global():
    from taco.text.weights import torch_load_problem

    old = RuntimeError("Weights only load failed. Re-running `torch.load` with `weights_only` set to "
                       "`False` will likely succeed ...\nUnsupported global: GLOBAL posix.system was "
                       "not an allowed global by default.")
    new = RuntimeError("Weights only load failed. In PyTorch 2.6, we changed the default value of "
                       "the `weights_only` argument ...\n\n\nTrying to load unsupported GLOBAL "
                       "posix.system whose module posix is blocked.\n\nCheck the documentation")
    vague = RuntimeError("Weights only load failed. Re-running `torch.load` with `weights_only` set "
                         "to `False` will likely succeed, but it can result in arbitrary code execution.")
    for exc in (old, new):
        assert torch_load_problem(exc) == ("refused: it holds posix.system; taco never unpickles "
                                           "code (it reads tensors and plain containers only)")
    assert "weights_only" not in torch_load_problem(vague)
    assert torch_load_problem(vague).startswith("refused:")


def test_a_text_encoder_pickle_carrying_code_is_refused(tmp_path):
    from taco.text.base import TextEncoderUnavailable
    from taco.text.weights import load_network

    marker = tmp_path / "PWNED"
    torch.save({"weight": _Evil(marker)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(TextEncoderUnavailable, match=r"refused: it holds (posix|nt)\.system") as err:
        load_network(lambda: torch.nn.Linear(2, 2), tmp_path, lambda k: k, "a test network")
    assert "weights_only" not in str(err.value) and "pytorch_model.bin" in str(err.value)
    assert not marker.exists()


def _official_edits() -> dict[str, tuple]:
    def put(key, value):  # noqa: ANN001, ANN202
        return lambda s: s.__setitem__(key, value)

    def stride0(s):  # noqa: ANN001, ANN202
        for k, v in s.items():
            if v.is_floating_point() and v.numel() > 1:
                s[k] = torch.zeros(1).expand(v.shape)

    def nan(s):  # noqa: ANN001, ANN202
        for k, v in s.items():
            if v.is_floating_point() and "quantiles" not in k:
                s[k] = torch.full_like(v, float("nan"))

    def quant(s):  # noqa: ANN001, ANN202
        q = s["entropy_bottleneck.quantiles"].clone()
        q[:, :, 0], q[:, :, 2] = -1e6, 1e6
        s["entropy_bottleneck.quantiles"] = q

    return {
        "1-D where 4-D is expected": (put("h_a.reduction.0.weight", torch.zeros(8)), "h_a.reduction.0.weight is \\[8\\]"),
        "zero rows": (put("h_a.reduction.0.weight", torch.zeros(0, 16, 3, 3)), "no empty dimension"),
        "1-D context": (put("local_context.0.weight", torch.zeros(8)), "local_context.0.weight is"),
        "zero-stride views": (stride0, "is a view of"),
        "NaN weights": (nan, "NaN or infinite"),
        "quantiles at ±1e6": (quant, "quantiles are not a trained"),
        "complex weights": (lambda s: s.__setitem__("h_a.reduction.0.weight", s["h_a.reduction.0.weight"]
                                                   .to(torch.complex64)), "complex64"),
    }


@pytest.mark.parametrize("name", list(_official_edits()))
def test_malformed_official_checkpoints_are_one_error(tmp_path, cli, name):
    from taco.official.checkpoint import import_checkpoint

    edit, words = _official_edits()[name]
    state = _tiny_official_state()
    edit(state)
    path = tmp_path / "bad.pth.tar"
    torch.save({"state_dict": state}, path)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=words) as err:
        import_checkpoint(path, "clip-tiny")
    assert str(path) in str(err.value) and time.perf_counter() - start < 30
    status, out = cli("import-checkpoint", str(path), "--text-encoder", "clip-tiny",
                      "-o", str(tmp_path / "out.safetensors"))
    assert status == 2 and not (tmp_path / "out.safetensors").exists()


def test_tensors_sharing_one_storage_cannot_declare_a_bigger_model(tmp_path):
    """Views of one stored tensor pass the per-tensor check, but not the file-size bound."""
    from taco.official.checkpoint import read_official_state_dict

    big = torch.zeros(1 << 18)  # 1 MiB, stored once, viewed 16 times
    path = tmp_path / "shared.pth.tar"
    torch.save({"state_dict": {f"t{i}": big[:] for i in range(16)}}, path)
    with pytest.raises(CheckpointError, match="more than the .*-byte file stores"):
        read_official_state_dict(path)


# --------------------------------------------------------------------------- L4: text encoders


@pytest.mark.parametrize(("config", "words"), [
    ({"hidden_size": 10**30}, "hidden_size must be an integer in"),
    ({"hidden_size": -5}, "hidden_size must be an integer in"),
    ({"text_config": {"hidden_size": "512"}}, "hidden_size must be an integer in"),
    ("[" * 100_000, "nested too deeply"),
    ([1, 2], "not a JSON object"),
])
def test_text_encoder_width_from_a_hostile_config(tmp_path, config, words):
    """A hidden_size of 10^30 ended in a C++ backtrace building the adapter."""
    from taco.text import text_encoder_dim

    (tmp_path / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    with pytest.raises(ValueError, match=words) as err:
        text_encoder_dim("minilm", path=str(tmp_path))
    assert "config.json" in str(err.value)


def test_a_text_encoder_index_naming_another_folder_is_refused(tmp_path):
    from taco.text.base import TextEncoderUnavailable
    from taco.text.weights import load_network

    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"weight": "../../../../etc/passwd"}}))
    with pytest.raises(TextEncoderUnavailable, match="not a file in the index's folder"):
        load_network(lambda: torch.nn.Linear(2, 2), tmp_path, lambda k: k, "a test network")


# --------------------------------------------------------------------------- L3: training states


@pytest.fixture(scope="module")
def train_state(tmp_path_factory):
    """A real training state of elic-tiny after one Adam step: (file, tensors, meta)."""
    from taco.train.state import (
        load_train_state,
        optimizer_to_tensors,
        python_numpy_rng_state,
        save_train_state,
    )

    model = create_model("elic-tiny", seed=0)
    params = [p for n, p in model.named_parameters() if "quantiles" not in n]
    optimizer = torch.optim.Adam(params, lr=1e-4)
    for p in params:
        p.grad = torch.ones_like(p)
    optimizer.step()
    names = {id(p): n for n, p in model.named_parameters()}
    saved, groups = optimizer_to_tensors(optimizer, names, "optim")
    tensors = {**{f"model/{k}": v for k, v in model.state_dict().items()}, **saved,
               "rng/torch": torch.get_rng_state()[None]}
    meta = {"progress": {"step": 1, "epoch": 0, "batch_in_epoch": 1, "wall_time_s": 0.5, "extra": {}},
            "steps_per_epoch": 4, "world_size": 1, "batch_size": 2, "optimizer": groups,
            "aux_optimizer": [], "rng": python_numpy_rng_state(), "config": {}, "stream_seed": 0,
            "init_from": None}
    path = save_train_state(tmp_path_factory.mktemp("state") / "train_state.safetensors", tensors, meta)
    load_train_state(path)  # the good one loads
    return path, tensors, json.loads(json.dumps({"format": "taco-train-state", "version": 1, **meta}))


def _state_edits() -> dict[str, tuple]:
    def meta(**changes):  # noqa: ANN003, ANN202
        return lambda t, m: m.update(changes)

    def progress(**changes):  # noqa: ANN003, ANN202
        return lambda t, m: m["progress"].update(changes)

    def tensor(key, value):  # noqa: ANN001, ANN202
        return lambda t, m: t.__setitem__(key, value) if value is not None else t.pop(key)

    def moment(t, m):  # noqa: ANN001, ANN202
        key = next(k for k in t if k.startswith("optim/") and k.endswith("/exp_avg"))
        t[key] = torch.zeros(3)

    def unknown(t, m):  # noqa: ANN001, ANN202
        key = next(k for k in t if k.startswith("optim/") and k.endswith("/exp_avg"))
        t[key.replace("optim/", "optim/nonexistent.")] = t.pop(key)

    def nan(t, m):  # noqa: ANN001, ANN202
        key = next(k for k in t if k.startswith("model/g_a") and t[k].is_floating_point())
        t[key] = torch.full_like(t[key], float("nan"))

    return {
        "not JSON": ("{bad", "corrupt taco_train_state metadata"),
        "a list": ("[1]", "not a JSON object"),
        "nested too deeply": ("[" * 100_000, "nested too deeply"),
        "no progress": (lambda t, m: m.pop("progress"), "progress must hold"),
        "a step of text": (progress(step="x"), "progress must hold"),
        "a negative step": (progress(step=-5), "progress must hold"),
        "a wall time of 401 digits": (progress(wall_time_s=10**400), "wall_time_s must be"),
        "a world size of 0": (meta(world_size=0), "world_size must be"),
        "optimizer not a list": (meta(optimizer="x"), "optimizer must list"),
        "a bad Python RNG state": (lambda t, m: m["rng"].__setitem__("python", [3, [1, 2], None]),
                                   "rng holds no valid"),
        "no torch RNG state": (tensor("rng/torch", None), "no rng/torch"),
        "a torch RNG state of 7 bytes": (tensor("rng/torch", torch.zeros(1, 7, dtype=torch.uint8)),
                                         r"rng/torch is torch.uint8 \[1, 7\], not 1 RNG state of \d+ bytes"),
        "an Adam moment of the wrong shape": (moment, "its parameter's needs float"),
        "an Adam moment of an unknown parameter": (unknown, "is not a parameter its optimizer trains"),
        "NaN weights": (nan, "NaN or infinite"),
    }


@pytest.mark.parametrize("name", list(_state_edits()))
def test_hostile_training_states_are_train_state_errors(tmp_path, train_state, name):
    from taco.train.state import TrainStateError, load_train_state

    path, tensors, meta = train_state
    edit, words = _state_edits()[name]
    tensors = dict(tensors)
    meta = json.loads(json.dumps(meta))
    text = edit if isinstance(edit, str) else None
    if text is None:
        edit(tensors, meta)
    bad = tmp_path / "train_state.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(bad),
              metadata={"taco_train_state": text if text is not None else json.dumps(meta)})
    with pytest.raises(TrainStateError, match=words) as err:
        load_train_state(bad)
    assert str(bad) in str(err.value)


def test_optimizer_hyper_parameters_of_the_wrong_kind_are_refused(train_state):
    from taco.train.state import TrainStateError, load_train_state, optimizer_from_tensors

    path, _, _ = train_state
    tensors, meta = load_train_state(path)
    model = create_model("elic-tiny", seed=0)
    named = dict(model.named_parameters())
    params = [p for n, p in named.items() if "quantiles" not in n]
    optimizer_from_tensors(torch.optim.Adam(params, lr=1e-4), named, tensors, meta["optimizer"], "optim")
    for change in ({"lr": "x"}, {"betas": {"__tuple__": [0.9]}}, {"lr": float("nan")}):
        groups = [{**meta["optimizer"][0], **change}]
        with pytest.raises(TrainStateError, match="hyper-parameter"):
            optimizer_from_tensors(torch.optim.Adam(params, lr=1e-4), named, tensors, groups, "optim")


def test_an_optimizer_that_does_not_fit_names_the_state_file(tmp_path, train_state):
    """Resuming read the file's optimizer into the run's with errors that named only its prefix
    ("optim: hyper-parameter lr is 'x' ..."): which file, of a run's several, said nothing."""
    from taco.distributed import DistEnv
    from taco.train.checkpoints import read_state
    from taco.train.config import TrainConfig
    from taco.train.state import TrainStateError, load_train_state

    path, _, _ = train_state
    tensors, meta = load_train_state(path)
    meta["optimizer"][0]["lr"] = "x"
    bad = tmp_path / "train_state.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(bad),
              metadata={"taco_train_state": json.dumps({"format": "taco-train-state", "version": 1, **meta})})
    model = create_model("elic-tiny", seed=0)
    params = [p for n, p in model.named_parameters() if "quantiles" not in n]
    with pytest.raises(TrainStateError) as err:
        read_state(bad, TrainConfig(), model, {"optim": torch.optim.Adam(params, lr=1e-4)},
                   DistEnv(), 4, torch.device("cpu"), seed=0)
    assert str(err.value).startswith(f"{bad}: optim: hyper-parameter lr is 'x'")
