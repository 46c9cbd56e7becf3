"""F_DC5 (3): ``taco caption`` on a full disk after some batches were written exited 2 with
only the error line, though some images were captioned (README: 2 = nothing written, 3 = done
in part). A full disk or quota (ENOSPC, EDQUOT) after some lines now says how many of the images
were captioned and to run again, exit status 3; another error, or nothing written, stays 2."""

from __future__ import annotations

import errno
import json
import os

import pytest

from taco.evaluation import caption


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_after_some_batches_is_a_partial_stop(eval_main, stub_captioner, monkeypatch, fail_writes_to,
                                                          folder_factory, tmp_path, capsys, code):
    folder = folder_factory(tmp_path / "photos", captions=False)
    total = len(list(folder.glob("*.png")))
    assert total >= 3
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    fail_writes_to(folder / "captions.jsonl", after_writes=2, error=code)
    assert eval_main(["caption", str(folder), "--quiet", "--device", "cpu", "--batch-size", "1"]) == 3
    reason = os.strerror(code)
    assert capsys.readouterr().err.splitlines() == [
        f"taco caption: error: captioned 2 of {total} images to {folder / 'captions.jsonl'}, then "
        f"{folder / 'captions.jsonl'}: {reason[:1].lower()}{reason[1:]}: free some space and run "
        "the same command again to do the rest"]
    lines = (folder / "captions.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["captions"] for line in lines)
    monkeypatch.undo()
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    assert eval_main(["caption", str(folder), "--quiet", "--device", "cpu"]) == 0  # the rest
    assert len((folder / "captions.jsonl").read_text().splitlines()) == total


def test_another_error_after_some_batches_stays_an_error(eval_main, stub_captioner, monkeypatch, fail_writes_to,
                                                         folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos", captions=False)
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    fail_writes_to(folder / "captions.jsonl", after_writes=2, error=errno.EIO)
    assert eval_main(["caption", str(folder), "--quiet", "--device", "cpu", "--batch-size", "1"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco caption: error: {folder / 'captions.jsonl'}: input/output error"]
