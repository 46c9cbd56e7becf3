"""A local captioner folder without its image processor's settings (neither
preprocessor_config.json nor processor_config.json) says which files are missing and how to
save them, instead of transformers' hub hint cut before the file's name."""

from __future__ import annotations

import shutil

import pytest

import taco.cli
from taco.evaluation.caption import PROCESSOR_FILES, Captioner, CaptionerUnavailable


def test_a_captioner_folder_without_its_processor_settings_names_them(tiny_captioner_dir, tmp_path):
    folder = tmp_path / "noproc"
    shutil.copytree(tiny_captioner_dir, folder)
    for name in PROCESSOR_FILES:
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(CaptionerUnavailable) as info:
        Captioner(str(folder), allow_download=False)
    text = str(info.value)
    assert "no image processor settings in it (neither preprocessor_config.json nor " \
           "processor_config.json)" in text
    assert f"processor.save_pretrained({str(folder)!r})" in text
    assert "huggingface.co" not in text


def test_taco_caption_says_it_in_one_line(tiny_captioner_dir, folder_factory, tmp_path, monkeypatch,
                                          capsys):
    folder = tmp_path / "noproc"
    shutil.copytree(tiny_captioner_dir, folder)
    for name in PROCESSOR_FILES:
        (folder / name).unlink(missing_ok=True)
    photos = folder_factory(tmp_path / "photos", captions=False)
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    assert taco.cli.main(["caption", str(photos), "-m", str(folder), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "neither preprocessor_config.json nor processor_config.json" in err[0], err
    assert not (photos / "captions.jsonl").exists()
