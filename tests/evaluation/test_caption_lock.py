"""Two ``taco caption`` runs on one folder (Review CC-F #2): both captioned every image and wrote
two lines per image into captions.jsonl. A run now holds the captions file's folder
(taco.locks.FolderLock, "taco caption") while it captions: a second one is refused in one line,
and a run planned before another finished leaves out what that one captioned."""

from __future__ import annotations

import os

import pytest

import taco.cli
from taco.captions_file import read_caption_records
from taco.evaluation import caption
from taco.evaluation.caption import caption_folder, plan_captions, run_caption_plan
from taco.locks import LOCK_FILE, FolderInUse, hold_folder


def _names(path):
    return [r.file for r in read_caption_records(path)]


def test_a_folder_being_captioned_is_refused(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    with hold_folder(folder, "taco caption"):
        with pytest.raises(FolderInUse, match=f"is in use by another taco caption \\(pid {os.getpid()}\\)"):
            caption_folder(folder, stub_captioner(), progress=False)
        assert not (folder / "captions.jsonl").exists()
    report = caption_folder(folder, stub_captioner(), progress=False)  # free: it runs
    assert report.written == 4 and len(_names(folder / "captions.jsonl")) == 4
    assert LOCK_FILE not in {p.name for p in folder.iterdir()}  # and lets the folder go


def test_a_run_planned_before_another_finished_writes_each_image_once(stub_captioner, folder_factory,
                                                                      tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    first = plan_captions(folder)
    second = plan_captions(folder)  # planned, its captioner loading, when the first runs
    assert run_caption_plan(first, stub_captioner(), progress=False).written == 4
    report = run_caption_plan(second, stub_captioner(), progress=False)
    assert (report.written, report.already) == (0, 4)
    names = _names(folder / "captions.jsonl")
    assert len(names) == len(set(names)) == 4


def test_taco_caption_on_a_folder_in_use_is_one_line(stub_captioner, folder_factory, tmp_path,
                                                     monkeypatch, capsys):
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    folder = folder_factory(tmp_path / "photos", captions=False)
    with hold_folder(folder, "taco caption"):
        status = taco.cli.main(["caption", str(folder), "--quiet"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"taco caption: error: {folder} is in use by another taco caption (pid {os.getpid()})"]
    assert status == 2
    assert not (folder / "captions.jsonl").exists()


def test_taco_caption_is_refused_before_its_captioner_loads(stub_captioner, folder_factory, tmp_path,
                                                            monkeypatch, capsys):
    """Review R7-D #4: the lock was taken in run_caption_plan, after the captioner had loaded
    (minutes for BLIP-2); taco caption now holds the folder first."""
    def not_loaded(*args, **kwargs):
        raise AssertionError("the captioner was loaded")

    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(caption, "Captioner", not_loaded)
    folder = folder_factory(tmp_path / "photos", captions=False)
    with hold_folder(folder, "taco caption"):
        status = taco.cli.main(["caption", str(folder), "--quiet"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"taco caption: error: {folder} is in use by another taco caption (pid {os.getpid()})"]
    assert status == 2


def test_a_run_uses_the_lock_its_caller_holds(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    with hold_folder(folder, "taco caption") as lock:
        report = run_caption_plan(plan_captions(folder), stub_captioner(), progress=False, lock=lock)
        assert report.written == 4 and lock.held  # not refused by itself; left to the caller
        assert (folder / LOCK_FILE).exists()
    assert not (folder / LOCK_FILE).exists()
    with hold_folder(tmp_path, "taco caption") as elsewhere, pytest.raises(ValueError, match="not on"):
        run_caption_plan(plan_captions(folder), stub_captioner(), progress=False, lock=elsewhere)
