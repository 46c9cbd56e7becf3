"""What taco says to someone plugging in a backbone (docs/models.md, "Adding a backbone"): a
checkpoint or ``.taco`` file of a backbone read without its module names TACO_PLUGINS rather
than calling the file invalid, and a backbone's own setting given as a keyword of its own points
to ``options=``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import taco
from taco.errors import TacoValueError
from taco.models import ELIC, create_model, register_architecture, save_checkpoint


class SmallBackbone(ELIC):
    """ELIC at a tiny width under an architecture name of its own, with a setting of its own."""

    def __init__(self, N: int, M: int, extra_layers: int = 0) -> None:
        super().__init__(N=N, M=M, groups=[M // 2, M - M // 2], ctx_hidden=[16, 16])
        self.extra_layers = extra_layers


@pytest.fixture()
def backbone(registry_restored):
    """``gone-backbone-tiny``, registered in process; the tables go back after the test."""
    register_architecture("gone-backbone", SmallBackbone,
                          configs={"gone-backbone-tiny": {"N": 16, "M": 32}})
    return "gone-backbone-tiny"


def unregister(name: str, architecture: str) -> None:
    """As a process without the backbone's module sees taco: no such architecture or name."""
    from taco.models import architecture as arch_module, config, registry

    config.ARCHITECTURES.remove(architecture)
    config.TEXTLESS_ARCHITECTURES.remove(architecture)
    del arch_module.BUILDERS[architecture]
    del registry.MODEL_CONFIGS[name]


def run_taco(*args: object, **env: str) -> subprocess.CompletedProcess[str]:
    stock = {k: v for k, v in os.environ.items() if k != "TACO_PLUGINS"}
    return subprocess.run([sys.executable, "-m", "taco", *map(str, args)], env={**stock, **env},
                          capture_output=True, text=True, timeout=300)


def test_a_backbone_file_read_without_its_module_names_taco_plugins(backbone, tmp_path, sample_image,
                                                                     monkeypatch):
    from taco.codec import compress_image

    model = create_model(backbone)
    path = save_checkpoint(model, tmp_path / "mine.safetensors")
    coded = tmp_path / "photo.taco"
    coded.write_bytes(compress_image(sample_image.crop((0, 0, 64, 64)), None, model).data)
    unregister(backbone, "gone-backbone")
    monkeypatch.delenv("TACO_PLUGINS", raising=False)

    expected = ("unknown architecture 'gone-backbone' (known: taco, elic): a registered backbone? "
                "import its module (or name it in TACO_PLUGINS); see docs/models.md, \"Adding a backbone\", in taco's "
                "source tree (a checkout or the sdist)")
    with pytest.raises(taco.models.UnknownArchitectureError) as refused:  # a CheckpointError
        taco.load(path)
    assert str(refused.value) == f"{path}: {expected}"

    for args in (("models", path), ("decompress", coded, "--model", path, "-o", tmp_path / "out.png")):
        out = run_taco(*args)
        assert out.returncode == 2, out.stderr
        assert out.stderr.splitlines() == [f"taco {args[0]}: error: {path}: {expected}"]
    assert not (tmp_path / "out.png").exists()

    named = run_taco("models", path, TACO_PLUGINS="json")  # a module that registers no backbone
    assert named.returncode == 2
    assert "TACO_PLUGINS=json registers none of that name: name its module there" in named.stderr
    assert "invalid model config" not in named.stderr


def test_a_backbone_setting_given_as_a_keyword_points_to_options(backbone):
    with pytest.raises(TacoValueError) as refused:  # no checkpoint is read: not a CheckpointError
        create_model(backbone, extra_layers=3)
    assert str(refused.value) == ("unknown model config fields: ['extra_layers'] "
                                  "(a backbone's own settings go in options={'extra_layers': ...})")
    model = create_model(backbone, options={"extra_layers": 3})
    assert isinstance(model, SmallBackbone) and model.extra_layers == 3
    assert model.config.options == {"extra_layers": 3}
    # taco's own architectures take no options: no hint there, the fields they know
    with pytest.raises(TacoValueError) as builtin:
        create_model("elic-tiny", extra_layers=3)
    assert str(builtin.value).startswith("unknown model config fields: ['extra_layers']; known: M, N, ")
    assert "options={" not in str(builtin.value)
