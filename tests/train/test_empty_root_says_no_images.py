"""An empty data.root (or val.root) is said as a folder without images, before any word on
captions: `taco caption` on an empty folder would not help."""

import pytest

from taco.data import EmptyDatasetError, no_images_message
from taco.train.config import load_config
from taco.train.trainer import training_data


@pytest.mark.parametrize("model", ["taco-minilm-tiny", "elic-tiny"])
def test_empty_data_root_says_no_image_files(tmp_path, model):
    cfg = load_config(None, [f"model={model}", f"data.root={tmp_path}", "crop=64", "k_j=0"])
    with pytest.raises(EmptyDatasetError, match="no images to use under .*: no image files there") as e:
        training_data(cfg, validation=False)
    assert "caption" not in str(e.value)
    # the trainer's words (a model that reads captions) and the dataset's (elic) are one helper's
    assert str(e.value) == no_images_message(tmp_path)


def test_empty_val_root_says_no_image_files(tmp_path):
    from PIL import Image

    train = tmp_path / "train"
    train.mkdir()
    Image.new("RGB", (64, 64)).save(train / "a.png")
    (train / "a.txt").write_text("a photo\n")
    val = tmp_path / "val"
    val.mkdir()
    cfg = load_config(None, ["model=taco-minilm-tiny", f"data.root={train}", "crop=64",
                             f"val.root={val}", "val.crop=64"])
    with pytest.raises(EmptyDatasetError) as e:
        training_data(cfg, validation=True)
    assert str(e.value) == "val.root: " + no_images_message(val)  # as other val.root refusals


def test_folder_of_images_without_captions_still_says_captions(tmp_path):
    from PIL import Image

    from taco.train.config import ConfigError

    Image.new("RGB", (64, 64)).save(tmp_path / "a.png")
    cfg = load_config(None, ["model=taco-minilm-tiny", f"data.root={tmp_path}", "crop=64"])
    with pytest.raises(ConfigError, match="no captions in"):
        training_data(cfg, validation=False)
