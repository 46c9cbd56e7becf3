"""Review ST2 #1 and #5 (session 36): whether a run validates is one property,
``ValConfig.enabled`` (off with ``val.root`` unset or ``val.images=0``), so ``val.images=0``
reads no ``val.root`` at all; an empty ``val.root`` is said with ``val.root:`` as the other
validation-set refusals are; the config's messages are built from the constants that define
them (lpips_input in evaluate's words)."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from taco.cli import main as taco_main
from taco.data import EmptyDatasetError, no_images_message
from taco.samples import SAMPLES_DIR as SAMPLES
from taco.train.config import (
    CROP_MULTIPLE,
    PRESET_MODELS,
    PRESETS,
    SMALL_IMAGES,
    ConfigError,
    ValConfig,
    load_config,
)
from taco.train.trainer import training_data


@pytest.mark.parametrize("root, images, enabled", [
    (None, 8, False), ("val", 0, False), (None, 0, False), ("val", 8, True), ("val", 1, True),
])
def test_enabled_is_root_set_and_images_not_zero(root, images, enabled):
    assert ValConfig(root=root, images=images).enabled is enabled


def _uncaptioned(folder):
    folder.mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (64, 64), (20, 90, 160)).save(folder / name)
    return folder


def test_val_images_zero_reads_no_val_root(tmp_path):
    nocap = _uncaptioned(tmp_path / "nocap")
    cfg = load_config(None, ["model=taco-minilm-tiny", "k_j=0", "crop=64", f"data.root={SAMPLES}",
                             f"val.root={nocap}", "val.images=0"])
    train_set, val_set = training_data(cfg, validation=True)
    assert val_set is None and len(train_set) > 0
    (tmp_path / "empty").mkdir()  # an empty one is not read either
    cfg = load_config(None, ["model=taco-minilm-tiny", "k_j=0", "crop=64", f"data.root={SAMPLES}",
                             f"val.root={tmp_path / 'empty'}", "val.images=0"])
    assert training_data(cfg, validation=True)[1] is None


def test_taco_train_with_val_images_zero_trains(tmp_path, capsys):
    nocap = _uncaptioned(tmp_path / "nocap")
    out = tmp_path / "run"
    rc = taco_main(["train", "--set", f"data.root={SAMPLES}", f"val.root={nocap}", "val.images=0",
                    "model=taco-minilm-tiny", "k_j=0", "crop=64", "batch_size=2", "workers=0",
                    "progress=false", "--max-steps", "1", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert (out / "checkpoint.safetensors").is_file()
    assert '"val"' not in (out / "log.jsonl").read_text()
    shutil.rmtree(out)


@pytest.mark.parametrize("model", ["taco-minilm-tiny", "elic-tiny"])
def test_empty_val_root_is_said_as_val_root(tmp_path, model):
    (tmp_path / "val").mkdir()
    cfg = load_config(None, [f"model={model}", "k_j=0", "crop=64", f"data.root={SAMPLES}",
                             f"val.root={tmp_path / 'val'}", "val.crop=64"])
    with pytest.raises(EmptyDatasetError) as e:
        training_data(cfg, validation=True)
    assert str(e.value) == "val.root: " + no_images_message(tmp_path / "val")


def test_lpips_input_is_refused_in_evaluates_words():
    from taco.metrics import check_lpips_input

    with pytest.raises(ValueError) as said:
        check_lpips_input("unscaled")
    with pytest.raises(ConfigError) as e:
        load_config(None, ["lpips_input=unscaled"])
    assert str(e.value) == str(said.value) and e.value.key == "lpips_input"


def test_config_messages_and_constants_follow_their_definitions():
    with pytest.raises(ConfigError, match=f"data.small_images must be one of {', '.join(SMALL_IMAGES)}, "
                                          "got 'pad'"):
        load_config(None, ["data.small_images=pad"])
    assert PRESETS == tuple(PRESET_MODELS)
    from taco.models import PAD_MULTIPLE

    assert CROP_MULTIPLE == PAD_MULTIPLE
    with pytest.raises(ConfigError, match=f"crop must be a multiple of {PAD_MULTIPLE} "):
        load_config(None, [f"crop={PAD_MULTIPLE + 1}"])
