"""Start-up: what each command imports (issue 15), and that CompressAI stays CompressAI.

Each command runs in a fresh interpreter through a small wrapper that reports ``sys.modules``
afterwards. ``--help``, ``--version``, every subcommand's ``--help`` and ``info`` must import no
torch at all; ``decompress`` must not pay for torch_geometric, torch._dynamo, torchvision,
transformers or scipy.stats (see taco/compressai_loader.py).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import taco
from taco.cli import COMMAND_MODULE_OF, COMMAND_MODULES, INPUT_ERRORS, build_parser
from taco.resolve import DEFAULT_MODEL
from taco.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"


NO_TORCH = ("torch", "compressai", "transformers", "scipy", "numpy", "matplotlib", "PIL")
NOT_FOR_DECODING = ("torch_geometric", "torch._dynamo", "torchvision", "transformers", "lpips",
                    "matplotlib", "pytorch_msssim")


def subcommands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .taco file of the default built-in model (its tables load without scipy), which
    ``taco decompress`` finds by the name in the file."""
    from taco.cli import main

    path = tmp_path_factory.mktemp("startup") / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "", "-m", DEFAULT_MODEL, "--quiet",
                 "-o", str(path)]) == 0
    return path


def test_every_command_registered() -> None:
    assert {"compress", "decompress", "info", "demo", "train", "evaluate", "bench"} <= set(
        subcommands())


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_top_level_imports_no_torch(probe, tmp_path: Path, args: list[str]) -> None:
    r = probe(tmp_path, *args)
    assert r["code"] == 0 and "taco" in r["stdout"]
    assert not set(NO_TORCH) & set(r["modules"])


def test_every_subcommand_help_imports_no_torch(probe, tmp_path: Path) -> None:
    # one interpreter per subcommand: a module imported by one --help would hide another's
    for command in subcommands():
        r = probe(tmp_path, command, "--help")
        assert r["code"] == 0 and f"usage: taco {command}" in r["stdout"], command
        heavy = set(NO_TORCH) & set(r["modules"])
        assert not heavy, f"taco {command} --help imports {sorted(heavy)}"


def test_info_imports_no_torch(probe, tmp_path: Path, small_file: Path) -> None:
    r = probe(tmp_path, "info", str(small_file))
    assert r["code"] == 0 and "bpp" in r["stdout"]
    assert not set(NO_TORCH) & set(r["modules"])


def test_library_info_imports_no_torch(small_file: Path) -> None:
    code = ("import sys, taco; f = taco.info(sys.argv[1]); "
            "print(f.header.model_id, round(f.bpp, 4), sorted(set(sys.modules) & set(sys.argv[2:])))")
    r = subprocess.run([sys.executable, "-c", code, str(small_file), *NO_TORCH], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0, r.stderr
    model_id, bpp, imported = r.stdout.split(maxsplit=2)
    assert model_id == DEFAULT_MODEL and 0 < float(bpp) < 24
    assert imported.strip() == "[]"


def test_errors_import_no_torch(probe, tmp_path: Path) -> None:
    r = probe(tmp_path, "info", str(tmp_path / "missing.taco"))
    assert r["code"] == 2 and "missing.taco" in r["stderr"]
    assert "Errno" not in r["stderr"] and "Traceback" not in r["stderr"]
    assert not set(NO_TORCH) & set(r["modules"])


#: What ``decompress -m TYPO`` may not import (it checks the output format with Pillow first,
#: which imports NumPy).
HEAVY = tuple(m for m in NO_TORCH if m not in ("numpy", "PIL"))
#: What checking a training config may not import (check_lambdas imported NumPy on every
#: call). Listing models reads the built-ins' headers without NumPy too
#: (tests/test_startup_models.py); ``-m TYPO`` imports it with Pillow.
NO_NUMPY = HEAVY + ("numpy",)


def test_models_imports_no_torch(probe, tmp_path: Path) -> None:
    """``taco models`` and ``taco models NAME`` read names, configs and checkpoint headers only."""
    for args in (["models"], ["models", DEFAULT_MODEL, "taco-minilm-vr"], ["models", "--json"]):
        r = probe(tmp_path, *args)
        assert r["code"] == 0 and DEFAULT_MODEL in r["stdout"], r["stderr"]
        heavy = set(HEAVY) & set(r["modules"])
        assert not heavy, f"taco {' '.join(args)} imports {sorted(heavy)}"


def test_train_config_checks_import_no_torch(probe, tmp_path: Path) -> None:
    """``taco train CONFIG --print-config`` and a config error (a mistyped key) are said before
    torch loads: 0.2 s and 38 MB, not 2.1 s and 660 MB (the loss constants came from
    taco.losses, the run's file names from taco.train.checkpoints, both torch)."""
    (tmp_path / "bad.yaml").write_text("lmbda: 0.004\nlamda: 1\n")
    smoke = str(ROOT / "configs" / "smoke.yaml")
    # a config that sets lmbda: its model's qualities are read (a variable-rate run notes the lmbda unused)
    # from the registry's names, without torch (it came from taco.train.model_setup)
    for args, code in ((["train", smoke, "--print-config"], 0),
                       (["train", str(ROOT / "configs" / "taco-photos.yaml"), "--print-config"], 0),
                       (["train", smoke, "--set", "lmbda=0.002", "--print-config"], 0),
                       (["train", smoke, "--set", "lmbda=0.002", "model=taco-minilm-vr",
                         "--print-config"], 0),
                       (["train", str(tmp_path / "bad.yaml")], 2)):
        r = probe(tmp_path, *args)
        assert r["code"] == code, r["stderr"]
        heavy = set(NO_NUMPY) & set(r["modules"])
        assert not heavy, f"taco {' '.join(args)} imports {sorted(heavy)}"
    assert "lamda" in r["stderr"] and len(r["stderr"].strip().splitlines()) == 1, r["stderr"]


def test_mistyped_model_refused_without_torch(probe, tmp_path: Path, small_file: Path) -> None:
    for args in (["compress", str(CHELSEA), "--caption", "", "-m", "taco-minilm-smal-q4", "-o",
                  str(tmp_path / "x.taco")],
                 ["decompress", str(small_file), "-m", "nosuch", "-o", str(tmp_path / "x.png")]):
        r = probe(tmp_path, *args)
        assert r["code"] == 2 and "is neither a checkpoint file nor a built-in model" in r["stderr"]
        heavy = set(HEAVY) & set(r["modules"])
        assert not heavy, f"taco {args[0]} -m TYPO imports {sorted(heavy)}"


@pytest.mark.parametrize(("args", "said"), [
    (["demo", "-m", "taco-minilm-smal-q4"], "is neither a checkpoint file nor a built-in model"),
    (["demo", "--image", "nope.png"], "cannot read image 'nope.png': no such file, and not a sample"),
    (["demo", "--image", "/"], "cannot read image '/': is a directory, not a file"),
    (["bench", "--images", "/"], "cannot read image '/': is a directory, not a file"),
    (["evaluate", "-", "--classic", "jpeg"], "-: taco evaluate does not read standard input"),
    (["train", "-", "--print-config"], "-: taco train does not read standard input"),
    (["evaluate", "nofolder"],
     f"nothing to evaluate: give --model and/or --classic (e.g. -m {DEFAULT_MODEL}, or --classic jpeg,webp)"),
    (["evaluate", ".", "-m", "nosuch"], "is neither a checkpoint file nor a built-in model"),
    (["bench", "--images", "nope.png"], "cannot read image 'nope.png': no such file, and not a sample"),
    (["train", "--init-from", "nope", "-o", "run", "--max-steps", "1"],
     "init_from: model 'nope' is neither a checkpoint file nor a built-in trained model"),
    # train checks its data folders (relative to the working directory) before torch loads too
    (["train", str(ROOT / "configs" / "smoke.yaml"), "-o", "run"],
     "taco/assets/samples: no such folder (in "),
    (["train", str(ROOT / "configs" / "smoke.yaml"), "-o", "run", "--set", f"data.root={SAMPLES_DIR}"],
     "val.root: taco/assets/samples: no such folder (in "),
    (["train", "--set", f"data.root={CHELSEA}", "-o", "run"],
     "an image file, not a folder of images; put the image in a folder of its own"),
    # bench checks --taco-model and --elic-model before torch loads too, as run_bench does
    (["bench", "--taco-model", "TYPO"], "--taco-model 'TYPO': not an architecture name"),
    (["bench", "--elic-model", "TYPO"], "--elic-model 'TYPO': not an architecture name"),
    (["bench", "--taco-model", DEFAULT_MODEL], f"--taco-model '{DEFAULT_MODEL}': not an architecture name"),
    (["bench", "--quick", "--elic-model", "elic"], "have different backbones"),
    # evaluate checks each dataset's folder (annotation file) before torch loads, as open_dataset does
    (["evaluate", "-m", "taco-tiny", "nofolder"], "nofolder: no such folder"),
    (["evaluate", "-m", "taco-tiny", "kodak:nofolder"], "nofolder: no such folder"),
    (["evaluate", "-m", "taco-tiny", "coco30k:nofolder"], "dataset_coco.json not found: coco30k:ROOT needs"),
    (["evaluate", "-m", "taco-tiny", "coco40k:nofolder"], "captions_val2014.json not found: coco40k:ROOT needs"),
    (["evaluate", "-m", "taco-tiny", "coco30k:nofolder", "--coco30k-protocol", "official"],
     "captions.jsonl not found: the official coco30k protocol"),
    # evaluate's names and rules of its own, said by the library too (after torch loaded: 4-6 s)
    (["evaluate", ".", "-m", "elic-tiny", "--classic", "jpg"],
     "--classic jpg: no such codec; the codecs are: jpeg, webp, avif, bpg, vtm (did you mean 'jpeg'"),
    (["evaluate", ".", "-m", "elic-tiny", "--caption-mode", "shufled"],
     "unknown caption mode 'shufled': use true, shuffled, empty, fixed:TEXT or best-lpips (did you mean 'shuffled'?)"),
    (["evaluate", ".", "-m", "elic-tiny", "--compare-caption-modes", "true,shufled"],
     "unknown caption mode 'shufled'"),
    (["evaluate", ".", "-m", "elic-tiny", "--coco30k-protocol", "official"],
     "--coco30k-protocol applies to coco30k:ROOT datasets only"),
    (["evaluate", ".", "-m", "elic-tiny", "--caption-mode", "fixed:x\x1b]0;p\x07\nFORGED"],
     "caption mode 'fixed:x\\x1b]0;p\\x07\\nFORGED': its text has a control character at character 2, U+001B: "
     "give a caption of printable text on one line"),
    (["evaluate", ".", "-m", "elic-tiny", "--compare-caption-modes", "true,fixed:a cat\u2028FORGED"],
     "its text has a line separator at character 6, U+2028"),
    # a device name that is none, as argparse refuses a bad argument (its usage above the line)
    (["evaluate", ".", "-m", "elic-tiny", "--device", "cdua"],
     "taco evaluate: error: argument --device: 'cdua': not a device taco runs on; give one of auto, cpu, "
     "cuda, cuda:N, mps (did you mean 'cuda'?)"),
    (["caption", ".", "--device", "cdua"], "taco caption: error: argument --device: 'cdua': not a device"),
    (["bench", "--device", "cdua"], "taco bench: error: argument --device: 'cdua': not a device"),
    (["train", "--device", "cuda:x"], "taco train: error: argument --device: 'cuda:x': not a device"),
    (["bench", "--device", "cuda:128"], "'cuda:128': torch numbers a machine's devices 0 to 127"),
])
def test_simple_mistakes_refused_without_torch(probe, tmp_path: Path, args: list[str], said: str) -> None:
    """A mistyped model, a missing input or nothing to do is said in a fraction of a second, as
    compress and decompress say theirs, not after torch has loaded (6-9 s, 650 MiB)."""
    r = probe(tmp_path, *args)
    assert r["code"] == 2 and said in r["stderr"], r["stderr"]
    # one line; argparse's refusals print the command's usage above it
    said_lines = [line for line in r["stderr"].strip().splitlines() if not line.startswith(("usage: ", " "))]
    assert len(said_lines) == 1 and said_lines[0].startswith(f"taco {args[0]}: error: "), r["stderr"]
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco {' '.join(args)} imports {sorted(heavy)}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.json"]  # nothing written


def test_decompress_imports_only_what_it_uses(probe, tmp_path: Path, small_file: Path) -> None:
    r = probe(tmp_path, "decompress", str(small_file), "-o", str(tmp_path / "out.png"))
    assert r["code"] == 0, r["stderr"]
    assert (tmp_path / "out.png").is_file()
    assert not set(NOT_FOR_DECODING) & set(r["modules"])
    assert r["ran"] == []  # CompressAI's datasets/registry/transforms roots and scipy.stats
    assert "warning" not in r["stderr"].lower()  # no torch.jit.script FutureWarning


def test_compress_without_text_imports_only_what_it_uses(probe, tmp_path: Path, elic_checkpoint: Path) -> None:
    """An ELIC checkpoint file with compact tables, as a built-in ships (tests/conftest.py)."""
    r = probe(tmp_path, "compress", str(CHELSEA), "--caption", "", "-m", str(elic_checkpoint),
              "-o", str(tmp_path / "x.taco"))
    assert r["code"] == 0, r["stderr"]
    assert not set(NOT_FOR_DECODING) & set(r["modules"])
    assert r["ran"] == []


def test_compress_with_the_default_model_imports_only_what_it_uses(probe, tmp_path: Path) -> None:
    """MiniLM, the default's text encoder, runs without transformers (taco/text/minilm.py)."""
    r = probe(tmp_path, "compress", str(CHELSEA), "--caption", "a cat", "-m", DEFAULT_MODEL,
              "-o", str(tmp_path / "x.taco"))
    assert r["code"] == 0, r["stderr"]
    assert not set(NOT_FOR_DECODING) & set(r["modules"])
    assert r["ran"] == []


def test_a_model_named_by_its_architecture_codes_without_scipy_stats(probe, tmp_path: Path) -> None:
    """``-m elic-tiny`` builds a model whose coder tables take their tail bound from the standard
    library, not ``scipy.stats`` (1 s): 3.5 s -> 2.4 s to compress; decoding its file too."""
    coded = tmp_path / "x.taco"
    r = probe(tmp_path, "compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(coded))
    assert r["code"] == 0, r["stderr"]
    assert r["ran"] == []
    r = probe(tmp_path, "decompress", str(coded), "-o", str(tmp_path / "x.png"))
    assert r["code"] == 0 and (tmp_path / "x.png").is_file(), r["stderr"]
    assert r["ran"] == []


def test_user_errors_resolve() -> None:
    """The names a batch skips an input for exist, are taco's errors, and live where it looks."""
    import importlib

    from taco.errors import TacoError

    for module, name in INPUT_ERRORS:
        cls = getattr(importlib.import_module(module), name)
        assert isinstance(cls, type) and issubclass(cls, TacoError), (module, name)


def test_command_modules_are_listed() -> None:
    assert "taco.bench.cli" in COMMAND_MODULES


def test_each_command_is_found_in_its_module() -> None:
    # COMMAND_MODULE_OF names, for each command, the one module a run of it imports
    registered = {}
    for module in COMMAND_MODULES:
        sub = next(a for a in build_parser([])._actions if a.dest == "command")
        sub.choices.clear()
        importlib.import_module(module).register(sub)
        registered.update(dict.fromkeys(sub.choices, module))
    assert registered == COMMAND_MODULE_OF


def test_the_parser_without_arguments_has_every_command(monkeypatch) -> None:
    # a program whose own first argument is a command name still gets them all
    monkeypatch.setattr(sys, "argv", ["prog", "info"])
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMAND_MODULE_OF)
    assert build_parser().parse_args(["compress", "x.png"]).command == "compress"


def test_a_command_imports_no_other_command(probe, tmp_path: Path, small_file: Path) -> None:
    r = probe(tmp_path, "info", str(small_file))
    assert r["code"] == 0
    assert set(COMMAND_MODULES) & set(r["modules"]) == {"taco.cli.info"}
    r = probe(tmp_path, "inf", str(small_file))  # a typo: the list of every command
    assert r["code"] == 2 and "import-checkpoint" in r["stderr"]


def test_dir_taco_shows_the_api() -> None:
    names = dir(taco)
    for name in ("compress", "decompress", "load", "create_model", "TacoFormatError", "__version__"):
        assert name in names


# --------------------------------------------------------------------------- the CompressAI hook

COMPRESSAI_CHECK = r"""
import sys, json, os
import taco  # installs the hook
import compressai.entropy_models as em
from compressai.latent_codecs import HyperpriorLatentCodec
from compressai.registry import MODULES, register_module
import compressai.registry.torch as registry_torch
from taco.compressai_loader import is_pending
out = {
    "eb_module": em.EntropyBottleneck.__module__,
    "eb_file": sys.modules[em.EntropyBottleneck.__module__].__file__,
    "registry_same": register_module is registry_torch.register_module and MODULES is registry_torch.MODULES,
    "hyperprior_registered": MODULES.get("HyperpriorLatentCodec") is HyperpriorLatentCodec,
    "heavy_before": [m for m in ("torch_geometric", "torch._dynamo", "torchvision") if m in sys.modules],
    "pending_before": [m for m in ("compressai.datasets", "compressai.registry", "compressai.transforms") if is_pending(sys.modules[m])],
}
import compressai
out["coder"] = compressai.get_entropy_coder()
from compressai.models import Elic2022Official
from compressai.models.sensetime import Elic2022Official as E2
out["models_same"] = Elic2022Official is E2
from compressai.datasets import ImageFolder
out["image_folder"] = ImageFolder.__module__
import scipy.stats
out["ppf"] = float(scipy.stats.norm.ppf(0.975))
print(json.dumps(out))
"""


def test_compressai_classes_are_compressais_own() -> None:
    r = subprocess.run([sys.executable, "-c", COMPRESSAI_CHECK], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["eb_module"] == "compressai.entropy_models.entropy_models"
    assert Path(out["eb_file"]).parts[-3:] == ("compressai", "entropy_models", "entropy_models.py")
    assert out["registry_same"] and out["hyperprior_registered"]
    assert out["heavy_before"] == []
    assert out["pending_before"] == ["compressai.datasets", "compressai.registry",
                                     "compressai.transforms"]
    # and the user's own use of CompressAI afterwards works as usual
    assert out["coder"] == "ans" and out["models_same"]
    assert out["image_folder"] == "compressai.datasets.image"
    assert abs(out["ppf"] - 1.959964) < 1e-6


NAMES = r"""
import json, sys, importlib
if sys.argv[1] == "hook":
    import taco  # noqa: F401
import compressai
names = {}
for pkg in ("compressai", "compressai.datasets", "compressai.losses", "compressai.registry",
            "compressai.transforms", "compressai.models", "compressai.entropy_models"):
    m = importlib.import_module(pkg)
    names[pkg] = sorted(n for n in dir(m) if not n.startswith("__"))
import compressai.registry as r
names["TRANSFORMS"] = sorted(r.TRANSFORMS)
names["MODELS"] = sorted(r.MODELS)
print(json.dumps(names))
"""


@pytest.mark.slow
def test_compressai_namespaces_identical_with_and_without_the_hook() -> None:
    """Once used, every deferred package holds exactly what a plain ``import compressai`` gives."""
    runs = {}
    for mode in ("plain", "hook"):
        r = subprocess.run([sys.executable, "-W", "ignore", "-c", NAMES, mode], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
        assert r.returncode == 0, r.stderr
        runs[mode] = json.loads(r.stdout.splitlines()[-1])
    assert runs["hook"] == runs["plain"]


def test_touching_taco_compress_prints_no_warning() -> None:
    r = subprocess.run([sys.executable, "-W", "always", "-c", "import taco; taco.compress"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       timeout=300)
    assert r.returncode == 0 and r.stderr == ""  # torch.jit.script's FutureWarning came via torch_geometric


@pytest.mark.parametrize("package", ["taco", "taco.train", "taco.evaluation"])
def test_lazy_exports_resolve(package: str) -> None:
    """Every name a lazy package exports loads (a renamed or moved name fails here)."""
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, (package, name)
    assert set(module.__all__) <= set(dir(module))


def test_python_dash_m_taco_is_the_command() -> None:
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "taco", "--version"], capture_output=True,
                       text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("taco ")
