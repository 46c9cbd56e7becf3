"""A dataset root that is a file or a device, not a folder: ``coco30k:/dev/zero`` said
"/dev/zero/dataset_coco.json not found" (coco40k: its annotations file), and a folder spec of
/dev/zero "no such folder". Each says "not a folder" now, before any file in it is looked for.
A spec of 5,000 characters was echoed whole (or raised "file name too long" with it): it is
cut as shown_path cuts a path that may be a file's contents."""

from __future__ import annotations

import os

import pytest

from taco.data import check_image_folder
from taco.evaluation.datasets import DatasetError, check_dataset
from taco.messages import SHOWN_PATH_LIMIT


@pytest.mark.parametrize("kind, needs", [("coco30k", "dataset_coco.json"),
                                         ("coco40k", "annotations/captions_val2014.json")])
def test_a_coco_root_that_is_a_file_is_not_a_folder(tmp_path, kind, needs):
    root = tmp_path / "coco.zip"
    root.write_bytes(b"PK")
    with pytest.raises(DatasetError) as info:
        check_dataset(f"{kind}:{root}")
    assert str(info.value) == (f"{root}: not a folder ({kind}:ROOT names the folder of MS-COCO's "
                               f"val2014/ and {needs})")
    with pytest.raises(DatasetError, match=r"dataset_coco\.json not found"):  # a missing root: as before
        check_dataset(f"coco30k:{tmp_path / 'nothing'}")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_not_a_folder():
    with pytest.raises(DatasetError, match=r"^/dev/null: not a folder \(coco30k:ROOT"):
        check_dataset("coco30k:/dev/null", coco30k_protocol="official")
    with pytest.raises(DatasetError, match=r"^/dev/null: not a folder$"):
        check_dataset("kodak:/dev/null")


@pytest.mark.parametrize("kind", ["kodak", "coco30k"])
def test_a_very_long_spec_is_cut(kind):
    with pytest.raises(DatasetError) as info:
        check_dataset(f"{kind}:" + "a" * 5000)
    message = str(info.value)
    assert "characters)" in message and len(message) < SHOWN_PATH_LIMIT + 200, message


def test_check_image_folder_names_what_is_there(tmp_path):
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    with pytest.raises(NotADirectoryError, match=r"dangling: not a folder$"):
        check_image_folder(tmp_path / "dangling")
    (tmp_path / "IMG.PNG").write_bytes(b"x")  # suffixes in any case
    with pytest.raises(NotADirectoryError, match="an image file, not a folder of images"):
        check_image_folder(tmp_path / "IMG.PNG")
