"""A backbone added from outside taco (docs/models.md, "Adding a backbone"): the worked example,
examples/mean_scale_backbone.py, registered with ``taco.models.register_architecture`` and
loaded by the CLI through ``TACO_PLUGINS``, trains, codes, decodes and is described by the
stock ``taco`` command; the tests that run over every registered name hold for it too."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taco.samples import SAMPLES_DIR as SAMPLES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PLUGIN = "mean_scale_backbone"


def plugin_env(**extra: str) -> dict[str, str]:
    """The environment of a ``taco`` that loads the example backbone (on PYTHONPATH)."""
    path = os.pathsep.join(p for p in (str(EXAMPLES), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "TACO_PLUGINS": PLUGIN, **extra}


def taco(*args: object, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``taco ARGS`` in a new process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "taco", *map(str, args)], env=env or plugin_env(),
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_example_backbone_trains_codes_and_is_described_through_the_cli(tmp_path):
    """train 2 steps -> compress a sample photo with the checkpoint -> decompress -> info,
    models and evaluate; without TACO_PLUGINS the stock CLI does not know the name."""
    run = tmp_path / "run"
    recipe = {"model": "mean-scale-tiny", "data.root": SAMPLES, "crop": 64, "batch_size": 2,
              "workers": 0, "k_p": 0, "k_j": 0, "max_steps": 2, "progress": "false", "out_dir": run}
    trained = taco("train", "--set", *(f"{k}={v}" for k, v in recipe.items()))
    assert trained.returncode == 0, trained.stderr
    assert "preset elic, as model mean-scale-tiny reads no text" in trained.stderr + trained.stdout

    photo, coded, decoded = SAMPLES / "skimage-chelsea.png", tmp_path / "c.taco", tmp_path / "c.png"
    assert taco("compress", photo, "-m", run, "-o", coded).returncode == 0
    out = taco("decompress", coded, "-m", run, "-o", decoded)
    assert out.returncode == 0, out.stderr
    from PIL import Image

    assert Image.open(decoded).size == Image.open(photo).size
    info = taco("info", coded)
    assert info.returncode == 0 and "mean-scale-tiny" in info.stdout, info.stdout + info.stderr

    described = taco("models", run)
    assert described.returncode == 0 and "mean-scale" in described.stdout, described.stderr
    listed = taco("models")
    assert "mean-scale-tiny" in listed.stdout, listed.stderr

    evaluated = taco("evaluate", "-m", run, "samples", "--limit", "1", "--crop", "64", "--fid", "off",
                     "--cmmd-clip", "off", "--no-plot", "-o", tmp_path / "eval", "--quiet")
    assert evaluated.returncode == 0, evaluated.stderr
    assert list((tmp_path / "eval").rglob("*.csv"))

    stock = {k: v for k, v in plugin_env().items() if k != "TACO_PLUGINS"}
    refused = taco("decompress", coded, "-m", run, "-o", tmp_path / "d.png", env=stock)
    assert refused.returncode != 0 and "unknown architecture 'mean-scale'" in refused.stderr


@pytest.mark.slow
def test_the_tests_over_every_registered_name_pass_for_the_example():
    """The registry-wide tests docs/models.md says a backbone passes without change, run with the
    example registered first (pytest -p imports it before collecting)."""
    tests = ["tests/models/test_registry.py", "tests/models/test_architecture.py",
             "tests/test_decoding.py", "tests/models/test_analysis_stripes.py",
             "tests/reliability/test_hostile_checkpoints.py",
             "tests/models/test_every_architecture_codes.py"]
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rp", "-p", PLUGIN, "-p", "no:cacheprovider",
                          "-k", "mean-scale", *tests], env=plugin_env(), cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-4000:]
    passed = int(re.search(r"(\d+) passed", out.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 6, out.stdout[-2000:]
    # each test docs/models.md names ran a case of the example's (a loop over the registry
    # inside one test is deselected by -k)
    for name in ("test_every_architecture_builds_on_meta_as_for_real", "test_each_architecture_builds_its_own_class",
                 "test_taco_models_says_whose_entropy_model_each_architecture_has",
                 "test_the_synthesis_halo_covers_what_one_latent_reaches", "test_stripes_are_exact_in_float64",
                 "test_quantile_bound_holds_every_real_model", "test_every_registered_model_codes_through_a_file"):
        assert re.search(rf"PASSED \S+::{name}\[mean-scale", out.stdout), (name, out.stdout[-2000:])


@pytest.fixture()
def imported_example(registry_restored, monkeypatch):
    """The example imported as docs/models.md says a user does: its folder on the path, then
    ``import mean_scale_backbone`` (which registers "mean-scale" and "mean-scale-tiny")."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)  # a fresh import: it registers again
    yield importlib.import_module(PLUGIN)
    sys.modules.pop(PLUGIN, None)


def test_the_example_codes_a_photo_through_the_public_api(imported_example, sample_image):
    """Without the slow tests (CI's ``-m "not slow"``) the worked example is still coded and
    decoded: create_model of its tiny config, taco.compress of a crop of a sample photo to bytes,
    the bytes' header naming the model, taco.decompress back. The model is untrained (~6 dB
    against the photo), so the decoded pixels are held to its own forward pass (measured: equal)."""
    import torch

    import taco
    from taco.codec import pad_to_multiple
    from taco.images import image_to_tensor
    from taco.metrics import psnr

    model = taco.create_model("mean-scale-tiny")
    assert isinstance(model, imported_example.MeanScaleHyperprior)
    image = sample_image.crop((0, 0, 96, 64))
    data = taco.compress(image, None, model)
    assert isinstance(data, bytes) and taco.info(data).header.model_id == "mean-scale-tiny"
    decoded = taco.decompress(data, model)
    assert decoded.size == (96, 64) and decoded.mode == "RGB"
    with torch.no_grad():
        x_hat = model.eval()(pad_to_multiple(image_to_tensor(image)))["x_hat"][..., :64, :96]
    assert float(psnr(x_hat, image_to_tensor(decoded))) >= 40


def test_importing_the_example_goes_through_tacos_compressai_hook():
    """The example imports taco before compressai, so taco's import hook defers the CompressAI
    packages taco never uses: with compressai first (ruff's order) a fresh ``import
    mean_scale_backbone`` loaded torch_geometric (8-12 s) and printed a torch.jit FutureWarning."""
    out = subprocess.run([sys.executable, "-c", f"import sys, {PLUGIN}; print(sorted(m for m in "
                          "('torch_geometric', 'torchvision', 'compressai.datasets.image') if m in sys.modules))"],
                         env=plugin_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]" and "FutureWarning" not in out.stderr, out.stdout + out.stderr


def test_a_plugin_that_cannot_be_imported_is_one_clear_error():
    """A TACO_PLUGINS module that is not importable is named, with why, when a name is missed."""
    out = taco("models", "no-such-model", env=plugin_env(TACO_PLUGINS="no_such_plugin_module"))
    assert out.returncode != 0
    assert "TACO_PLUGINS: cannot import 'no_such_plugin_module': ModuleNotFoundError" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.fixture()
def example(registry_restored, load_script):
    """examples/mean_scale_backbone.py imported afresh: it registers "mean-scale" (and
    "mean-scale-tiny"); ``registry_restored`` takes them out after the test."""
    return load_script(f"examples/{PLUGIN}.py")


def test_a_registered_builder_takes_its_settings_from_options(example):
    """register_architecture with a builder function: the name is known to the config check,
    create_model, describe_model and training's preset rule at once; the config's ``options``
    reach the builder and are part of the digest (an empty one is not: taco's configs keep theirs)."""
    import taco
    from taco.models import MODEL_CONFIGS, ModelConfig, describe_model, register_architecture
    from taco.models.config import TEXTLESS_ARCHITECTURES

    built = []

    def build(config: ModelConfig) -> example.MeanScaleHyperprior:
        built.append(config.options)
        return example.MeanScaleHyperprior(N=config.N, M=config.M * config.options["widen"])

    register_architecture("wide-mean-scale", build, configs={"wide-mean-scale-tiny": {
        "N": 16, "M": 24, "options": {"widen": 2}}})
    assert "wide-mean-scale" in TEXTLESS_ARCHITECTURES  # the list other modules imported
    model = taco.create_model("wide-mean-scale-tiny")
    assert built == [{"widen": 2}] and model.M == 48 and model.model_id == "wide-mean-scale-tiny"
    assert describe_model("wide-mean-scale-tiny")["parameters"] == sum(p.numel() for p in model.parameters())
    config = MODEL_CONFIGS["wide-mean-scale-tiny"]
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert config.digest() != ModelConfig.from_dict({**config.to_dict(), "options": {"widen": 3}}).digest()
    elic = MODEL_CONFIGS["elic"]
    assert ModelConfig.from_dict({k: v for k, v in elic.to_dict().items() if k != "options"}).digest() == elic.digest()


def test_register_architecture_refuses_what_would_break_a_table(example):
    from taco.models import ModelConfig, register_architecture

    with pytest.raises(ValueError, match="architecture 'elic' is taco's own"):
        register_architecture("elic", example.MeanScaleHyperprior)
    with pytest.raises(ValueError, match="uses_text is False: register it with textless=True"):
        register_architecture("other", example.MeanScaleHyperprior, textless=False)
    with pytest.raises(ValueError, match="model name 'elic-tiny' is taken"):
        register_architecture("other", example.MeanScaleHyperprior, configs={"elic-tiny": {}})
    with pytest.raises(ValueError, match="architecture 'elic' takes no options"):
        ModelConfig(architecture="elic", options={"widen": 2})
    with pytest.raises(ValueError, match="options must hold JSON values"):
        ModelConfig(architecture="mean-scale", options={"f": float("nan")})


def test_a_codec_that_codes_itself_needs_its_own_forward(example):
    """Training calls the latent codec's forward: a one_stream codec without one (nn.Module's,
    which raises) is refused when the model is built, with the other missing methods."""
    from torch import nn

    from taco.models.fast_codec import check_latent_codec

    class NoForward(nn.Module):
        one_stream = True
        compress, decompress = example.MeanScaleCodec.compress, example.MeanScaleCodec.decompress
        num_symbols, gain_vectors = example.MeanScaleCodec.num_symbols, example.MeanScaleCodec.gain_vectors

    model = example.MeanScaleHyperprior(N=8, M=8)
    check_latent_codec(model)
    model.latent_codec = NoForward()
    with pytest.raises(TypeError, match=r"\(NoForward\) says it codes itself \(one_stream\) but has no forward"):
        check_latent_codec(model)


def test_options_a_backbone_does_not_take_are_one_line_on_every_path(tmp_path, example):
    """A checkpoint whose header gives the backbone options its class does not take (``bogus``)
    is refused in one line by ``taco compress`` and by ``taco models`` (which builds it on the
    meta device to count its parameters), never a traceback; options that would repeat the
    config's own fields (N, M, qualities) are refused when the config is made."""
    from taco.models import ModelConfig, save_checkpoint
    from taco.models.architecture import build_model

    with pytest.raises(ValueError, match="options must not give N, qualities"):
        ModelConfig(architecture="mean-scale", options={"N": 4, "qualities": [0.1]})
    hostile = ModelConfig(architecture="mean-scale", N=8, M=8, options={"bogus": 4})
    with pytest.raises(ValueError, match=r"architecture 'mean-scale' cannot be built with options "
                                         r"\{'bogus': 4\}: .*unexpected keyword argument 'bogus'"):
        build_model(hostile)
    model = example.MeanScaleHyperprior(N=8, M=8)
    model.config, model.model_id = hostile, "mean-scale-tiny"
    checkpoint = save_checkpoint(model, tmp_path / "opt.safetensors")

    described = taco("models", checkpoint)
    compressed = taco("compress", SAMPLES / "skimage-chelsea.png", "-m", checkpoint,
                      "-o", tmp_path / "c.taco")
    for out in (described, compressed):
        assert out.returncode == 2, out.stdout + out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "unexpected keyword argument 'bogus'" in out.stderr and str(checkpoint) in out.stderr


def test_a_broken_plugin_is_named_not_the_one_importing_before_it(tmp_path):
    """A plugin that registers a config while the next one in TACO_PLUGINS cannot be imported:
    the error names the broken one (registering must not import the next plugin inside it)."""
    (tmp_path / "plug_a.py").write_text(
        "from taco.models import ELIC, register_architecture\n"
        "register_architecture('a', ELIC, configs={'a-tiny': {'N': 16, 'M': 24}})\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    out = taco("models", "zzz", env=plugin_env(PYTHONPATH=path, TACO_PLUGINS="plug_a,no_such_b"))
    assert out.returncode != 0
    assert "TACO_PLUGINS: cannot import 'no_such_b': ModuleNotFoundError" in out.stderr, out.stderr
    assert "plug_a" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_refused_registration_leaves_the_tables_as_they_were(example):
    """One config ModelConfig refuses (N=0): the architecture, its builder and its other configs
    are not registered either."""
    from taco.models import MODEL_CONFIGS, register_architecture
    from taco.models.architecture import BUILDERS
    from taco.models.config import ARCHITECTURES, TEXTLESS_ARCHITECTURES

    before = (list(ARCHITECTURES), list(TEXTLESS_ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS))
    with pytest.raises(ValueError, match="N must be an integer"):
        register_architecture("half", example.MeanScaleHyperprior,
                              configs={"half-ok": {"N": 8, "M": 8}, "half-bad": {"N": 0}})
    assert (list(ARCHITECTURES), list(TEXTLESS_ARCHITECTURES), dict(BUILDERS), dict(MODEL_CONFIGS)) == before
    assert "half" not in ARCHITECTURES and "half-ok" not in dict(MODEL_CONFIGS)


def test_a_registered_configs_own_setting_points_to_options(example):
    """configs={"x": {"extra_layers": 1}} was a bare TypeError from ModelConfig(**...); it names
    the config and the options={...} form, and registers nothing."""
    from taco.models import MODEL_CONFIGS, register_architecture
    from taco.models.config import ARCHITECTURES

    with pytest.raises(ValueError) as err:
        register_architecture("layered", example.MeanScaleHyperprior,
                              configs={"layered-tiny": {"N": 8, "M": 8, "extra_layers": 1}})
    assert str(err.value) == ("config 'layered-tiny': unknown model config fields: ['extra_layers'] "
                              "(a backbone's own settings go in options={'extra_layers': ...})")
    assert "layered" not in ARCHITECTURES and "layered-tiny" not in dict(MODEL_CONFIGS)


def test_taco_models_shows_a_backbone_only_the_fields_it_reads(example, capsys):
    """``taco models NAME`` of a registered backbone gives its N and M and its options, not
    ELIC's ``groups`` or ``layout`` (its config carries them at ELIC's defaults, unread); taco's
    own architectures keep theirs. ``--json`` keeps the whole config."""
    import json

    from taco.cli import main
    from taco.models import ModelConfig, register_architecture

    def build(config: ModelConfig) -> example.MeanScaleHyperprior:
        return example.MeanScaleHyperprior(N=config.N, M=config.M * config.options["widen"])

    register_architecture("wide-mean-scale", build, configs={"wide-mean-scale-tiny": {
        "N": 16, "M": 24, "options": {"widen": 2}}})
    assert main(["models", "mean-scale-tiny", "wide-mean-scale-tiny", "elic-tiny"]) == 0
    backbone, wide, elic = capsys.readouterr().out.split("\n\n")
    assert "width: N=32, M=48\n" in backbone and "groups" not in backbone + wide, backbone
    assert "entropy model: mean-scale's own latent codec" in backbone and "layout" not in backbone
    assert "options: " not in backbone and "options: widen=2" in wide, wide
    assert "width: N=16, M=32, groups 8/8/16" in elic and "options" not in elic, elic
    assert main(["models", "--json", "mean-scale-tiny"]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["groups"] == [16, 16, 32, 64, 192]


def test_a_registered_config_its_builder_refuses_is_one_line(tmp_path):
    """A plugin's own config with options its class does not take: its registration is refused
    (8543fcf), and ``taco models NAME`` says so in one line (status 2) naming the plugin, the
    config, the architecture and the option, not with a traceback."""
    (tmp_path / "plug_bad.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXAMPLES)!r})\n"
        "from mean_scale_backbone import MeanScaleHyperprior\n"
        "from taco.models import register_architecture\n"
        "register_architecture('ms-bad', MeanScaleHyperprior,\n"
        "                      configs={'ms-bad-tiny': {'N': 16, 'M': 24, 'options': {'depth': 3}}})\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    out = taco("models", "ms-bad-tiny", env=plugin_env(PYTHONPATH=path, TACO_PLUGINS="plug_bad"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert ("cannot import 'plug_bad': TacoValueError: config 'ms-bad-tiny': architecture "
            "'ms-bad' cannot be built with options {'depth': 3}") in out.stderr, out.stderr


def test_a_bug_inside_a_builder_is_not_called_a_config_it_refuses(example):
    """A TypeError raised inside a backbone's own code (not by the arguments it is given) is
    said as a failed build; a ValueError stays a config the builder refuses."""
    from taco.models import describe_model, register_architecture
    from taco.models.config import PluginError

    def buggy(config):  # noqa: ANN001, ANN202
        return len(5)  # a bug in the backbone's code

    def strict(config):  # noqa: ANN001, ANN202
        raise ValueError("N must be a multiple of 32")

    register_architecture("ms-buggy", buggy, configs={"ms-buggy-tiny": {"N": 16, "M": 24}})
    register_architecture("ms-strict", strict, configs={"ms-strict-tiny": {"N": 16, "M": 24}})
    with pytest.raises(PluginError, match=r"'ms-buggy': building it failed \(TypeError: object of "):
        describe_model("ms-buggy-tiny")
    with pytest.raises(PluginError, match=r"'ms-strict': its builder refuses the config \(ValueError: N must"):
        describe_model("ms-strict-tiny")


def test_a_registered_backbone_beside_a_built_in_is_compared_by_n_and_m_only(example):
    """groups are compared only where both models are taco's own architectures: a registered
    backbone's are ELIC's defaults, unread, beside a built-in TACO of its N and M."""
    from taco.bench.config import check_models
    from taco.models import MODEL_CONFIGS, register_architecture

    register_architecture("ms-r9", example.MeanScaleHyperprior, textless=True,
                          configs={"ms-r9-tiny": {"N": 16, "M": 32}})
    assert list(MODEL_CONFIGS["ms-r9-tiny"].groups) != list(MODEL_CONFIGS["taco-tiny"].groups)
    check_models("taco-tiny", "ms-r9-tiny")  # N=16, M=32 both: the same backbone
