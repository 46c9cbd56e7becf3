"""Damaged model folders given as the captioner or as CMMD's CLIP (copied by hand, cloned without
``git lfs``, cut short): one line saying what is wrong, never a traceback, never an empty caption
written; and a CLIP folder given as the captioner says it is a CLIP."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

import taco.cli
from taco.errors import TacoWarning
from taco.evaluation.caption import (
    Captioner,
    CaptionerUnavailable,
    EmptyCaptionsError,
    caption_folder,
    plan_captions,
)
from taco.evaluation.measure import SetMetrics

LFS_POINTER = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:a63082132ba4f97a80bea76823f544493bffa8082296d62d71581a4feff1576f\n"
               "size 605247071\n")


def damaged(source: Path, where: Path, how: str) -> Path:
    """A copy of the model folder ``source`` with its weights cut short or an LFS pointer."""
    shutil.copytree(source, where)
    weights = where / "model.safetensors"
    if how == "truncated":
        weights.write_bytes(weights.read_bytes()[:5000])
    else:
        weights.write_text(LFS_POINTER)
    return where


@pytest.mark.parametrize("how", ["truncated", "lfs"])
def test_a_damaged_captioner_is_one_error(tiny_captioner_dir, tmp_path, how):
    folder = damaged(tiny_captioner_dir, tmp_path / how, how)
    with pytest.raises(CaptionerUnavailable, match="cannot be loaded") as info:
        Captioner(folder)
    assert "\n" not in str(info.value)
    if how == "lfs":
        assert "model.safetensors is a text file, not a checkpoint: a Git LFS pointer" in str(info.value)


def test_taco_caption_with_a_truncated_captioner_is_one_line(tiny_captioner_dir, folder_factory, tmp_path,
                                                             monkeypatch, capsys):
    model = damaged(tiny_captioner_dir, tmp_path / "model", "truncated")
    photos = folder_factory(tmp_path / "photos", captions=False)
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    assert taco.cli.main(["caption", str(photos), "-m", str(model), "--quiet"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be loaded" in err[0], err
    assert not (photos / "captions.jsonl").exists()


def test_a_captioner_without_its_tokenizer_files_is_refused(tiny_captioner_dir, tmp_path):
    folder = tmp_path / "notok"
    shutil.copytree(tiny_captioner_dir, folder)
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(CaptionerUnavailable, match="has no tokenizer vocabulary") as info:
        Captioner(folder)
    assert "tokenizer.json" in str(info.value) and "empty captions" in str(info.value)


def test_a_clip_folder_is_not_a_captioner(clip_folder):
    with pytest.raises(CaptionerUnavailable) as info:
        Captioner(clip_folder)
    assert str(info.value) == (f"{str(clip_folder)!r} holds a clip model, not a captioner (BLIP, BLIP-2, GIT, "
                               "vision-encoder-decoder or another image-text-to-text model)")


class BlankCaptioner:
    """Empty captions for the images named in ``blank``, a caption for the others."""

    name = "blank"

    def __init__(self, blank: set[str]) -> None:
        self.blank = blank

    def __call__(self, images: list) -> list[str]:
        return ["" if Path(im.filename).name in self.blank else "a caption" for im in images]


def test_an_empty_caption_is_never_written(folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    names = sorted(p.name for p in folder.glob("*.png"))
    with pytest.warns(TacoWarning, match="gave an empty caption; not written"):
        report = caption_folder(folder, BlankCaptioner({names[0]}), progress=False)
    assert report.blank == [names[0]] and report.written == len(names) - 1
    lines = [json.loads(x) for x in (folder / "captions.jsonl").read_text().splitlines()]
    assert sorted(r["image"] for r in lines) == names[1:]
    # a rerun captions the image again
    assert [p.name for p in plan_captions(folder).todo] == [names[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert caption_folder(folder, BlankCaptioner(set()), progress=False).written == 1


def test_only_empty_captions_is_an_error(folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    names = {p.name for p in folder.glob("*.png")}
    with pytest.warns(TacoWarning), pytest.raises(EmptyCaptionsError, match=f"all {len(names)} images"):
        caption_folder(folder, BlankCaptioner(names), progress=False)
    assert not (folder / "captions.jsonl").exists()


def test_a_blank_record_is_captioned_again(folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    names = sorted(p.name for p in folder.glob("*.png"))
    (folder / "captions.jsonl").write_text(
        json.dumps({"image": names[0], "captions": [""], "captioner": "x"}) + "\n"
        + json.dumps({"image": names[1], "captions": ["kept"], "captioner": "x"}) + "\n")
    plan = plan_captions(folder)
    assert sorted(p.name for p in plan.todo) == [names[0], *names[2:]] and plan.already == 1


@pytest.mark.parametrize("how", ["truncated", "lfs"])
def test_a_damaged_cmmd_clip_switches_cmmd_off(clip_folder, tmp_path, how):
    folder = damaged(clip_folder, tmp_path / how, how)
    sets = SetMetrics(n_images=2, fid="off", cmmd_clip=str(folder))
    assert sets.clip is None and "cannot be loaded" in sets.cmmd_reason and "\n" not in sets.cmmd_reason
    if how == "lfs":
        assert "model.safetensors is a text file, not a checkpoint: a Git LFS pointer" in sets.cmmd_reason
    assert sets.describe()["cmmd"]["computed"] is False


def test_a_cmmd_clip_without_config_or_of_another_kind(clip_folder, tiny_captioner_dir, tmp_path):
    folder = tmp_path / "noconfig"
    shutil.copytree(clip_folder, folder)
    (folder / "config.json").unlink()
    assert SetMetrics(n_images=2, fid="off", cmmd_clip=str(folder)).cmmd_reason.endswith("no config.json in it")
    reason = SetMetrics(n_images=2, fid="off", cmmd_clip=str(tiny_captioner_dir)).cmmd_reason
    assert reason.endswith("it holds a blip model, not a CLIP")


def test_a_whole_tiny_clip_loads_for_cmmd(clip_folder):
    """Its projection (16 wide) is read from the CLIP config, not the vision config's 512."""
    sets = SetMetrics(n_images=2, fid="off", cmmd_clip=str(clip_folder))
    assert sets.clip is not None and sets.cmmd_reason == ""
