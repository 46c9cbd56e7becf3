"""create_model / save_checkpoint / load: self-describing safetensors, clear errors."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from compressai.entropy_models import EntropyBottleneck
from safetensors.torch import save_file

import taco
import taco.models.registry as registry
from taco.errors import TacoValueError
from taco.models import (
    MODEL_CONFIGS,
    CheckpointError,
    ModelConfig,
    create_model,
    load,
    load_builtin,
    load_checkpoint,
    model_fingerprint,
    save_checkpoint,
)
from taco.models.architecture import build_model, build_on_meta
from taco.models.config import ARCHITECTURES, BUILTIN_ARCHITECTURES, TEXTLESS_ARCHITECTURES
from taco.models.registry import PRETRAINED, describe_model, pretrained_file, trained_lambda


def test_create_model_is_seeded_and_overridable():
    a, b = create_model("elic-tiny", seed=3), create_model("elic-tiny", seed=3)
    assert model_fingerprint(a) == model_fingerprint(b)
    assert model_fingerprint(a) != model_fingerprint(create_model("elic-tiny", seed=4))
    m = create_model("taco-tiny", use_mask=True)
    assert m.g_a.adapter.ca1.use_mask and m.model_id == "taco-tiny+custom"
    same = create_model("taco-tiny", layout="reference")  # what --init-from repeats: no change
    assert same.model_id == "taco-tiny"
    with pytest.raises(ValueError, match="unknown model 'nope'; models: elic, "):
        create_model("nope")
    with pytest.raises(ValueError, match="load it with taco.load.*did you mean 'taco-minilm-small'"):
        create_model("taco-minilm-small-q4")  # a trained model, not an architecture


def test_create_model_checks_its_seed_before_building():
    """A seed that is no integer was torch's RuntimeError ('manual_seed expected a long'), 2**64
    its 'Overflow when unpacking long long' and a NumPy integer 'an integer is required'."""
    import numpy as np

    assert model_fingerprint(create_model("elic-tiny", seed=np.int64(3))) == model_fingerprint(
        create_model("elic-tiny", seed=3))
    assert create_model("elic-tiny", seed=2**64 - 1).model_id == "elic-tiny"
    for seed, kind in (("1", "str"), (1.0, "float"), (True, "bool")):
        with pytest.raises(TypeError, match=f"^create_model: seed must be an integer, not {kind}$"):
            create_model("elic-tiny", seed=seed)
    for seed in (-1, 2**64):  # torch reads -1 as 2**64 - 1: the same weights under another seed
        with pytest.raises(TacoValueError, match=rf"^create_model: seed must be from 0 to {2**64 - 1} "
                                                 rf"\(2\*\*64 - 1\), got {seed}$"):
            create_model("elic-tiny", seed=seed)


def test_config_validation():
    with pytest.raises(ValueError, match="sum to M"):
        ModelConfig(M=10, groups=[4, 4])
    with pytest.raises(ValueError, match="architecture"):
        ModelConfig(architecture="hific")
    assert ModelConfig(architecture="elic").text_encoder is None
    with pytest.raises(ValueError, match="'taco' is text-guided: it needs text_encoder"):
        ModelConfig(architecture="taco", text_encoder=None)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_each_architecture_builds_its_own_class(arch):
    """build_model has a branch for every name in ARCHITECTURES, and the class it builds reads
    text (``uses_text``) exactly when the config module says so (TEXTLESS_ARCHITECTURES: what
    training presets and text options go by, without torch)."""
    model = build_on_meta(ModelConfig(architecture=arch, N=16, M=32, groups=[16, 16],
                                      ctx_hidden=[16, 16], text_encoder={"name": "minilm"}))
    assert model.config.architecture == arch
    assert model.uses_text == (arch not in TEXTLESS_ARCHITECTURES)
    assert (model.config.text_encoder is None) == (not model.uses_text)


def test_build_model_refuses_an_unknown_architecture(monkeypatch):
    """A config changed after its checks (ModelConfig refuses the name) builds nothing, rather
    than a TACO."""
    monkeypatch.delenv("TACO_PLUGINS", raising=False)
    config = ModelConfig(architecture="elic", N=16, M=32, groups=[16, 16], ctx_hidden=[16, 16])
    config.architecture = "hific"
    with pytest.raises(ValueError, match=re.escape(
            f"unknown architecture 'hific' (known: {', '.join(ARCHITECTURES)}): a registered "
            "backbone? import its module (or name it in TACO_PLUGINS)")):
        build_model(config)


def test_checkpoint_round_trip(tmp_path, sample_image):
    model = create_model("taco-tiny", seed=5, gamma_init=0.2)
    path = save_checkpoint(model, tmp_path / "m.safetensors", metadata={"lambda": 0.004})
    loaded = load(path)
    assert loaded.metadata["lambda"] == 0.004
    assert loaded.config == model.config
    assert model_fingerprint(loaded) == model_fingerprint(model)
    crop = sample_image.crop((0, 0, 96, 80))
    data = taco.compress(crop, "a cat", model)
    assert taco.compress(crop, "a cat", loaded) == data
    assert taco.decompress(data, loaded).size == (96, 80)
    assert not list(tmp_path.glob(".*tmp*")), "atomic write left a temporary file"


def test_loading_never_gives_random_weights_silently():
    with pytest.raises(CheckpointError, match="without trained weights"):
        load("taco")
    with pytest.raises(CheckpointError, match="no/such/file.safetensors: no such checkpoint file"):
        load("no/such/file.safetensors")


def test_bad_checkpoints(tmp_path):
    not_st = tmp_path / "x.safetensors"
    not_st.write_bytes(b"hello")
    with pytest.raises(CheckpointError, match="a text file, not a checkpoint"):
        load_checkpoint(not_st)

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="without a taco header"):
        load_checkpoint(plain)

    model = create_model("elic-tiny")
    good = save_checkpoint(model, tmp_path / "good.safetensors")
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(good), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    state = load_file(str(good))

    # missing tensors
    partial = dict(state)
    partial.pop(next(k for k in partial if k.startswith("g_s.")))
    save_file(partial, str(tmp_path / "partial.safetensors"), metadata={"taco": json.dumps(header)})
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(tmp_path / "partial.safetensors")

    # weights of another architecture under this header
    other = dict(header, config=MODEL_CONFIGS["taco-tiny"].to_dict())
    save_file(state, str(tmp_path / "other.safetensors"), metadata={"taco": json.dumps(other)})
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(tmp_path / "other.safetensors")

    # future version
    future = dict(header, version=99)
    save_file(state, str(tmp_path / "future.safetensors"), metadata={"taco": json.dumps(future)})
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path / "future.safetensors")


def test_lazy_top_level_api():
    assert callable(taco.compress) and callable(taco.decompress) and callable(taco.load)
    assert issubclass(taco.TacoFormatError, ValueError)
    with pytest.raises(AttributeError):
        taco.nope  # noqa: B018


def test_half_precision_storage(tmp_path, sample_image):
    model = create_model("elic-tiny", seed=2)
    full = save_checkpoint(model, tmp_path / "full.safetensors")
    half = save_checkpoint(model, tmp_path / "half.safetensors", half=True)
    assert half.stat().st_size < full.stat().st_size  # int32 entropy tables stay as they are
    a, b = load(half), load(half)
    assert all(p.dtype == torch.float32 for p in a.parameters())
    crop = sample_image.crop((0, 0, 64, 64))
    data = taco.compress(crop, None, a)
    assert data == taco.compress(crop, None, b)
    assert taco.decompress(data, b).size == (64, 64)


def test_compact_tables_round_trip_and_tamper_check(tmp_path, sample_image):
    model = create_model("elic-tiny", seed=2)
    full = save_checkpoint(model, tmp_path / "full.safetensors")
    small = save_checkpoint(model, tmp_path / "small.safetensors", compact_tables=True)
    # the Gaussian conditional's CDF table (64 x 3133 int32, 0.8 MB) is most of a tiny model
    assert full.stat().st_size - small.stat().st_size > 800_000
    a, b = load(full), load(small)
    assert model_fingerprint(a) == model_fingerprint(b)  # identical tables after the rebuild
    crop = sample_image.crop((0, 0, 64, 64))
    assert taco.compress(crop, None, a) == taco.compress(crop, None, b)

    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(small), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    header["gaussian_tables_sha256"] = "0" * 64
    save_file(load_file(str(small)), str(tmp_path / "bad.safetensors"),
              metadata={"taco": json.dumps(header)})
    with pytest.raises(CheckpointError, match="rebuilt on this machine differ"):
        load(tmp_path / "bad.safetensors")


# --------------------------------------------------------------------------- untrusted checkpoints


def _rewrite(src, dst, *, config=None, edit=None):  # noqa: ANN001, ANN202
    """A copy of checkpoint ``src`` at ``dst`` with its header's config updated by ``config`` and
    its tensors changed by ``edit(state)`` (in place)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(src), framework="pt") as f:
        header = json.loads(f.metadata()["taco"])
    header["config"].update(config or {})
    state = load_file(str(src))
    if edit is not None:
        edit(state)
    save_file(state, str(dst), metadata={"taco": json.dumps(header)})
    return dst


class RealBuild(Exception):  # noqa: N818 - not an error of the code under test
    """Raised instead of building a model for real (allocating it) in the tests below."""


@pytest.fixture
def watched(monkeypatch):
    """Calls of build_model on real tensors (refused: RealBuild) and of checkpoint_tensors."""
    from taco.models import checkpoint

    calls = {"real builds": [], "tensors read": []}
    build, read = checkpoint.build_model, checkpoint.checkpoint_tensors

    def build_model(config):  # noqa: ANN001, ANN202
        if not torch.empty(0).is_meta:  # the default device is meta while checking shapes
            calls["real builds"].append(config.N)
            raise RealBuild(f"a real model of N={config.N} was built")
        return build(config)

    def checkpoint_tensors(path):  # noqa: ANN001, ANN202
        calls["tensors read"].append(path)
        return read(path)

    monkeypatch.setattr(checkpoint, "build_model", build_model)
    monkeypatch.setattr(checkpoint, "checkpoint_tensors", checkpoint_tensors)
    return calls


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return save_checkpoint(create_model("elic-tiny", seed=0),
                           tmp_path_factory.mktemp("tiny") / "elic-tiny.safetensors")


def test_huge_sizes_in_the_header_are_refused_before_anything_is_built(tmp_path, tiny_file, watched):
    """N = 20000 makes g_a's 5x5 convolutions 40 GB each: the file's tensors are compared with
    a model built on the meta device first, and no real model (nor tensor) is ever made."""
    bad = _rewrite(tiny_file, tmp_path / "huge.safetensors", config={"N": 20000})
    with pytest.raises(CheckpointError, match=r"shapes do not match.*20000\] in the model") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)
    assert watched == {"real builds": [], "tensors read": []}


def test_huge_sizes_cost_no_memory(tmp_path, tiny_file):
    """The same in a fresh process, by peak RSS: N = 1024 (a real model of 1 GiB, which loading
    built and initialised before) is refused with < 64 MiB of growth."""
    import subprocess
    import sys

    bad = _rewrite(tiny_file, tmp_path / "big.safetensors", config={"N": 1024})
    code = (
        "import resource, taco\n"
        "from taco.models import CheckpointError, load_checkpoint\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"try:\n    load_checkpoint({str(bad)!r})\nexcept CheckpointError as e:\n    print(e)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True).stdout.splitlines()
    assert "shapes do not match" in out[0]
    assert int(out[-1]) < 64, f"peak RSS grew by {out[-1]} MiB"


def test_a_tensor_of_the_wrong_shape_or_dtype_is_refused_by_name(tmp_path, tiny_file, watched):
    def reshape(state):  # noqa: ANN001, ANN202
        state["g_s.1.weight"] = state["g_s.1.weight"].transpose(0, 1).contiguous()

    def retype(state):  # noqa: ANN001, ANN202
        state["g_a.stage1.0.bias"] = state["g_a.stage1.0.bias"].int()

    wrong = _rewrite(tiny_file, tmp_path / "reshaped.safetensors", edit=reshape)
    with pytest.raises(CheckpointError, match=r"g_s\.1\.weight is \[16, 32, 5, 5\] in the file, \[32, 16, 5, 5\] in the model"):
        load_checkpoint(wrong)
    retyped = _rewrite(tiny_file, tmp_path / "retyped.safetensors", edit=retype)
    with pytest.raises(CheckpointError, match=r"g_a\.stage1\.0\.bias is I32 in the file, torch\.float32"):
        load_checkpoint(retyped)
    assert watched == {"real builds": [], "tensors read": []}  # refused from the headers alone


def _cdf_length_one(state):  # noqa: ANN001, ANN202 - made taco.compress die with SIGFPE
    state["latent_codec.gaussian_conditional._cdf_length"].fill_(1)


def _falling_cdf(state):  # noqa: ANN001, ANN202
    cdf = state["latent_codec.entropy_bottleneck._quantized_cdf"]
    cdf[3, 1], cdf[3, 2] = cdf[3, 2].item(), cdf[3, 1].item()


def _cdf_not_ending_at_one(state):  # noqa: ANN001, ANN202
    state["latent_codec.gaussian_conditional._quantized_cdf"][0, 1:] = 7


def _rows_missing(state):  # noqa: ANN001, ANN202
    for b in ("_quantized_cdf", "_offset", "_cdf_length"):
        key = f"latent_codec.entropy_bottleneck.{b}"
        state[key] = state[key][:-1].clone()


@pytest.mark.parametrize("damage", [_cdf_length_one, _falling_cdf, _cdf_not_ending_at_one, _rows_missing])
def test_damaged_entropy_tables_are_refused_at_load(tmp_path, tiny_file, damage):
    bad = _rewrite(tiny_file, tmp_path / "damaged.safetensors", edit=damage)
    with pytest.raises(CheckpointError, match="entropy-coder tables .* are malformed") as err:
        load_checkpoint(bad)
    assert str(bad) in str(err.value)


@pytest.mark.parametrize("scales", [torch.full((64,), 1e4), torch.full((257,), 1.0),
                                    torch.tensor([1.0, float("nan")]), torch.tensor([-1.0, 1.0])])
def test_compact_tables_from_a_hostile_scale_table_are_not_built(tmp_path, scales):
    """A compact checkpoint's Gaussian tables are rebuilt from its scale table before the digest
    can check them: unbounded, scales 100x too large took 15 s and 390 MB (then RuntimeError)."""
    small = save_checkpoint(create_model("elic-tiny", seed=0), tmp_path / "small.safetensors",
                            compact_tables=True)

    def edit(state):  # noqa: ANN001, ANN202
        state["latent_codec.gaussian_conditional.scale_table"] = scales

    bad = _rewrite(small, tmp_path / "bad.safetensors", edit=edit)
    with pytest.raises(CheckpointError, match="is not a scale table"):
        load_checkpoint(bad)


def test_model_config_widths_are_bounded():
    """Widths are integers 1..MAX_WIDTH: a header's N = 10^9 is refused before anything is built
    (the meta build's entropy bottleneck would allocate 244 bytes per channel)."""
    from taco.models.config import MAX_WIDTH

    for bad in ({"N": 0}, {"N": MAX_WIDTH + 1}, {"N": 10**9}, {"M": 2.5}, {"N": True},
                {"heads": -1}, {"groups": "16"}, {"groups": [8, 8, 0, 16]}, {"ctx_hidden": [16]}):
        (name,) = bad
        with pytest.raises(ValueError, match=f"^{name} must be .*integers? 1..{MAX_WIDTH}"):
            ModelConfig.from_dict({**MODEL_CONFIGS["elic-tiny"].to_dict(), **bad})


def _variants():  # noqa: ANN202 - every registered architecture in both entropy layouts
    for name, config in MODEL_CONFIGS.items():
        for layout in ("compressai", "reference"):
            if layout == "reference" or config.qualities is None:
                yield name, layout


@pytest.mark.parametrize(("name", "layout"), list(_variants()))
def test_every_architecture_builds_on_meta_as_for_real(name, layout):
    """The meta build has the real build's state (names, shapes, dtypes) at tiny widths, with
    no memory but CompressAI's entropy bottleneck's (legacy constructors), and leaves the global
    RNG alone; the widest config allowed costs < 17 MB. For taco's own architectures, every
    tensor but CompressAI's entropy bottleneck's is on the meta device."""
    from taco.models.architecture import build_model, build_on_meta
    from taco.models.config import MAX_WIDTH

    tiny = {k: MODEL_CONFIGS["elic-tiny"].to_dict()[k] for k in ("N", "M", "groups", "ctx_hidden")}
    config = ModelConfig.from_dict({**MODEL_CONFIGS[name].to_dict(), "layout": layout, **tiny})
    rng = torch.get_rng_state()
    meta = build_on_meta(config).state_dict()
    assert torch.equal(torch.get_rng_state(), rng)
    real = build_model(config).state_dict()
    assert {k: (v.shape, v.dtype) for k, v in meta.items()} == {k: (v.shape, v.dtype) for k, v in real.items()}
    if config.architecture in BUILTIN_ARCHITECTURES:
        # on the CPU: the bottleneck's parameters, bounds and empty tables (CompressAI's legacy
        # constructors); a backbone's layers that are not meta-safe (GDN) are built for real
        assert all(v.is_meta or ".entropy_bottleneck." in k or v.numel() <= 1 for k, v in meta.items())
    if name in ("taco", "elic"):
        wide = ModelConfig.from_dict({**config.to_dict(), "N": MAX_WIDTH})
        state = build_on_meta(wide).state_dict()
        assert sum(v.numel() * v.element_size() for v in state.values() if not v.is_meta) < 17e6


def test_a_layer_that_is_not_meta_safe_is_built_for_real(monkeypatch):
    """A new backbone's layers need not be meta-safe: GDN (CompressAI) mixes meta and CPU tensors
    when built on meta, so that build is done for real, with the same state and RNG left alone."""
    from compressai.layers import GDN

    from taco.models import architecture

    plain = architecture.build_model

    def with_gdn(config):  # noqa: ANN001, ANN202
        model = plain(config)
        model.extra = GDN(8)
        return model

    monkeypatch.setattr(architecture, "build_model", with_gdn)
    config = MODEL_CONFIGS["elic-tiny"]
    rng = torch.get_rng_state()
    built = architecture.build_on_meta(config)
    assert torch.equal(torch.get_rng_state(), rng)
    assert any(k.startswith("extra.") for k in built.state_dict())
    assert {k: v.shape for k, v in built.state_dict().items()} == {k: v.shape for k, v in with_gdn(config).state_dict().items()}


def test_meta_builds_run_no_python_meta_kernels():
    """torch's Python meta kernels import sympy on their first call (0.4-0.7 s of every CLI
    run's first load): building every architecture on meta, in a fresh process, must not."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from taco.models.architecture import build_on_meta\nfrom taco.models.config import ModelConfig\n"
        "from taco.models.registry import MODEL_CONFIGS\n"
        "for config in MODEL_CONFIGS.values():\n"
        "    for layout in ('compressai', 'reference')[config.qualities is not None:]:\n"
        "        build_on_meta(ModelConfig.from_dict({**config.to_dict(), 'layout': layout}))\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True).stdout
    assert out.split() == ["False"]


#: taco.models.model_fingerprint of each built-in as loaded before load_checkpoint checked shapes
#: and tables (commit 3b7fadb): loading must still give the very same weights and tables.
BUILTIN_FINGERPRINTS = {
    "elic-small-q3": "1eb8dc41b328e370", "elic-small-q4": "9b2c3816941fccc5",
    "taco-minilm-small-q3": "b597a0870b38c578", "taco-minilm-small-q4": "bac73911571da2eb",
}


def test_builtins_load_bit_identically():
    from taco.models import PRETRAINED

    assert set(BUILTIN_FINGERPRINTS) == set(PRETRAINED)
    for name, fingerprint in BUILTIN_FINGERPRINTS.items():
        assert model_fingerprint(load(name)).hex() == fingerprint, name


@pytest.mark.parametrize("options", [{}, {"half": True, "compact_tables": True},
                                     {"max_shard_bytes": 1_000_000, "half": True, "compact_tables": True}])
@pytest.mark.parametrize("name", ["elic-small", "taco-tgic-tiny"])
def test_checkpoints_load_bit_identically(tmp_path, name, options):
    """Every layout a checkpoint can have loads to exactly the state it was saved from (fp16
    weights to their fp16 values), whatever random state loading starts from."""
    layout = "compressai" if name == "taco-tgic-tiny" else "reference"
    model = create_model(name, seed=7, layout=layout)
    path = save_checkpoint(model, tmp_path / "m.safetensors", **options)
    torch.manual_seed(123)
    loaded = load(path)
    saved = model.state_dict()
    for key, value in loaded.state_dict().items():
        want = saved[key]
        if options.get("half") and want.is_floating_point() and "entropy_bottleneck" not in key \
                and key in dict(model.named_parameters()):
            want = want.half().float()
        assert value.dtype == want.dtype and torch.equal(value, want), key


def test_parameter_counts_are_the_meta_builds():
    """``PARAMETERS`` (what ``taco models`` shows without torch) is every name's real count."""
    from taco.models.architecture import build_on_meta
    from taco.models.registry import MODEL_CONFIGS, PARAMETERS, checkpoint_config, list_models

    assert set(PARAMETERS) == set(list_models())
    for name in list_models():
        config = MODEL_CONFIGS[name] if name in MODEL_CONFIGS else checkpoint_config(name)
        count = sum(p.numel() for p in build_on_meta(config).parameters())
        assert PARAMETERS[name] == count, f"PARAMETERS[{name!r}] is {PARAMETERS[name]}, the model has {count}"


def test_loading_draws_none_of_the_callers_random_numbers():
    """load builds the architecture (random init) before reading the weights over it: under
    fork_rng, so a caller's seeded draws are the same with or without a load in between."""
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load("elic-small-q3")
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_taco_models_says_whose_entropy_model_each_architecture_has(arch, capsys):
    """``taco models NAME`` names the layout of the name's own architecture: the authors' TACO
    checkpoints import into ``taco``, their ELIC ones into ``elic``; a backbone added since is
    not said to take anyone's checkpoints."""
    from taco.cli import main
    from taco.cli.models import entropy_model_name

    name = next(n for n, c in MODEL_CONFIGS.items() if c.architecture == arch and c.layout == "reference")
    assert main(["models", name]) == 0
    out = capsys.readouterr().out
    if arch in BUILTIN_ARCHITECTURES:
        assert f"their {arch.upper()} checkpoints import" in out
    else:
        assert entropy_model_name(arch, "reference") in out and "checkpoints import" not in out
    assert "authors" not in entropy_model_name("hyperprior", "reference")


def test_load_takes_a_device_as_the_rest_of_the_api_does(elic_checkpoint):
    """``taco.load(path, device=...)`` resolves the device as compress, evaluate and train do
    (``auto`` is the CPU without a GPU; a device taco does not run on is DeviceUnavailable,
    before the file is read); ``map_location``, its former name, still works with a warning."""
    from taco.devices import DeviceUnavailable

    auto = "cuda" if torch.cuda.is_available() else "cpu"
    for device, want in (("cpu", "cpu"), (torch.device("cpu"), "cpu"), ("auto", auto)):
        model = taco.load(elic_checkpoint, device=device)
        assert {p.device.type for p in model.parameters()} == {want}
    with pytest.raises(DeviceUnavailable, match="'tpu': not a device taco runs on"):
        taco.load("no/such/file.safetensors", device="tpu")
    with pytest.warns(DeprecationWarning, match=r"map_location=\.\.\.\) is deprecated: give device="):
        model = taco.load(elic_checkpoint, map_location="cpu")
    assert model_fingerprint(model) == model_fingerprint(taco.load(elic_checkpoint))
    with pytest.raises(TypeError, match="give device= only"):
        taco.load(elic_checkpoint, "auto", map_location="cpu")


def test_architecture_config_is_the_entry_with_its_overrides_checked():
    """The one merge of a registered architecture and overrides that create_model and training
    use: the entry itself without overrides, a changed field with, ModelConfig's own errors."""
    from taco.models.registry import architecture_config

    assert architecture_config("taco-tiny") == MODEL_CONFIGS["taco-tiny"]
    masked = architecture_config("taco-tiny", use_mask=True, heads=1)
    assert (masked.use_mask, masked.heads, masked.N) == (True, 1, MODEL_CONFIGS["taco-tiny"].N)
    assert not MODEL_CONFIGS["taco-tiny"].use_mask  # the registry entry is left as it was
    assert create_model("taco-tiny", use_mask=True, heads=1).config == masked
    with pytest.raises(ValueError, match="N must be an integer"):
        architecture_config("taco-tiny", N=0)
    with pytest.raises(TacoValueError, match=r"unknown model config fields: \['nope'\]"):
        architecture_config("taco-tiny", nope=1)  # no checkpoint read: not a CheckpointError
    with pytest.raises(KeyError):
        architecture_config("no-such-architecture")


def test_a_model_without_a_name_is_custom():
    """ELIC's model_id is "custom" until create_model or load names it: on a bare ELIC and on a
    backbone that skips ELIC.__init__ (docs/models.md "Adding a backbone"), as the .taco header
    and the codec's messages call such a model."""
    from compressai.models.base import CompressionModel

    from taco.models.elic import ELIC

    class Skips(ELIC):
        def __init__(self) -> None:
            CompressionModel.__init__(self)

    bare = ELIC(N=16, M=32, groups=[8, 8, 16], ctx_hidden=[16, 16])
    assert bare.model_id == Skips().model_id == "custom"
    bare.model_id = "mine"  # an instance's name is its own
    assert (bare.model_id, ELIC.model_id) == ("mine", "custom")
    assert create_model("elic-tiny").model_id == "elic-tiny"


@pytest.mark.parametrize("shift", [-1e6, 1e6])
def test_quantiles_far_from_0_either_way_are_refused(tmp_path, shift):
    model = create_model("elic-tiny", seed=0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, EntropyBottleneck):
                module.quantiles += shift
    path = save_checkpoint(model, tmp_path / "m.safetensors")
    with pytest.raises(CheckpointError, match=r"quantiles are not a trained entropy model's"):
        load(path)


def test_a_compact_scale_table_holding_0_is_refused_at_save(tmp_path):
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    changed = 0
    for module in model.modules():
        if hasattr(module, "scale_table") and module.scale_table.numel():
            table = module.scale_table.clone()
            table[0] = 0.0
            module.update_scale_table(table, force=True)
            changed += 1
    assert changed
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match=r"scale_table: a compact checkpoint's scale tables have"):
        save_checkpoint(model, path, compact_tables=True)
    assert not path.exists()


BUILTIN = "elic-small-q3"


@pytest.fixture(scope="module")
def tiny_checkpoint_model():
    model = create_model("elic-tiny", seed=0)
    model.update(force=True)
    return model


def test_load_builtin_refuses_a_corrupt_installed_file(tmp_path, monkeypatch):
    corrupt = tmp_path / PRETRAINED[BUILTIN].file
    shutil.copyfile(pretrained_file(BUILTIN), corrupt)
    data = bytearray(corrupt.read_bytes())
    data[-100] ^= 0x01  # one bit of a weight: the file still loads, its digest differs
    corrupt.write_bytes(bytes(data))
    monkeypatch.setattr(registry, "pretrained_file", lambda name: corrupt)
    with pytest.raises(CheckpointError, match="SHA-256 mismatch") as caught:
        load_builtin(BUILTIN)
    assert PRETRAINED[BUILTIN].sha256 in str(caught.value)
    assert "corrupt" in str(caught.value)


def test_describe_model_of_a_sharded_checkpoint_counts_every_shard(tmp_path, tiny_checkpoint_model):
    index = save_checkpoint(tiny_checkpoint_model, tmp_path / "m.safetensors", max_shard_bytes=1 << 20,
                            metadata={"train_data": {"root": "photos", "images": 10}})
    files = list(tmp_path.iterdir())
    assert len(files) > 2  # the index and at least two shards
    info = describe_model(index)
    assert info["file_bytes"] == sum(f.stat().st_size for f in files)
    assert info["training"]["train_data"] == {"root": "photos", "images": 10}


def test_describe_model_keeps_train_data_and_drops_it_of_another_type(tmp_path, tiny_checkpoint_model):
    kept = save_checkpoint(tiny_checkpoint_model, tmp_path / "kept.safetensors",
                           metadata={"train_data": {"root": "photos", "images": 10}, "device": "cpu"})
    assert describe_model(kept)["training"] == {"train_data": {"root": "photos", "images": 10},
                                                "device": "cpu"}
    dropped = save_checkpoint(tiny_checkpoint_model, tmp_path / "dropped.safetensors",
                              metadata={"train_data": "photos", "device": "cpu"})
    assert describe_model(dropped)["training"] == {"device": "cpu"}


def test_an_early_checkpoints_lmbda_is_read(tmp_path, tiny_checkpoint_model):
    assert trained_lambda({"lmbda": 0.013}) == 0.013
    assert trained_lambda({"lambda": 0.004, "lmbda": 0.013}) == 0.004
    path = save_checkpoint(tiny_checkpoint_model, tmp_path / "early.safetensors", metadata={"lmbda": 0.013})
    assert describe_model(path)["lmbda"] == 0.013
