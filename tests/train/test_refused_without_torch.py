"""``taco train`` refuses a config that no model or device fits before torch loads (a third of
a second, where torch alone takes seconds): ``model_overrides`` that building the model refuses
(an unknown field, a value out of range, a text encoder taco has not) and a ``device`` that is
none, from ``--set`` or a config file, are said by :meth:`taco.train.config.TrainConfig.validate`
(the torch-free :func:`~taco.train.config.model_config` and :func:`taco.devices.device_problem`);
they were said by taco.train.model_setup and resolve_device, in the trainer, after torch loaded.
As tests/test_startup.py's ``test_simple_mistakes_refused_without_torch``, through the ``probe``
fixture (tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: What a refusal may not import.
HEAVY = ("torch", "compressai", "transformers", "scipy", "matplotlib")

DEVICE_CDUA = ("device 'cdua': not a device taco runs on; give one of auto, cpu, cuda, cuda:N, mps "
               "(did you mean 'cuda'?)")


@pytest.mark.parametrize(("setting", "said"), [
    ("model_overrides.residul=paper",
     "model 'taco': unknown model config fields: ['residul'] (did you mean 'residual'?); known: "),
    ("model_overrides.N=0", "model 'taco': N must be an integer 1..65536, got 0"),
    ("model_overrides.text_encoder.name=minlm",
     "model 'taco': unknown text encoder 'minlm' (did you mean 'minilm'?); known: clip, clip-tiny, minilm"),
    ("device=cdua", DEVICE_CDUA),
    ("device=cuda:128", "device 'cuda:128': torch numbers a machine's devices 0 to 127"),
])
def test_a_set_no_model_or_device_takes_is_refused_without_torch(probe, tmp_path: Path, setting: str,
                                                                  said: str) -> None:
    r = probe(tmp_path, "train", "--set", setting, "-o", "run", "--max-steps", "1")
    assert r["code"] == 2 and r["stderr"].startswith(f"taco train: error: {said}"), r["stderr"]
    assert len(r["stderr"].strip().splitlines()) == 1, r["stderr"]
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco train --set {setting} imports {sorted(heavy)}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.json"]  # no run folder


def test_a_config_files_device_is_refused_without_torch_naming_the_file(probe, tmp_path: Path) -> None:
    config = tmp_path / "cfg" / "run.yaml"
    config.parent.mkdir()
    config.write_text("device: cdua\nmax_steps: 1\n", encoding="utf-8")
    r = probe(tmp_path, "train", str(config), "-o", "run")
    assert r["code"] == 2 and r["stderr"].strip() == f"taco train: error: {config}: {DEVICE_CDUA}"
    heavy = set(HEAVY) & set(r["modules"])
    assert not heavy, f"taco train with device: cdua imports {sorted(heavy)}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "probe.json"]
