"""``taco caption`` on a full disk: an append that fails after some of its bytes (ENOSPC from
``os.write``), or at its fsync, or interrupted, takes its bytes back, so the captions file is
left byte for byte as it was (no half line that every reader then refuses) and a file the append
made is not left empty; the error names the file. A full disk or quota (ENOSPC, EDQUOT) after
some lines were written says how many of the images were captioned and to run again, exit
status 3 (README: 3 = done in part); another error, or nothing written, stays 2."""

from __future__ import annotations

import errno
import json
import os

import pytest

from taco.evaluation import caption
from taco.evaluation.caption_plan import plan_captions


def _with_two_captions(folder):
    names = sorted(p.name for p in folder.glob("*.png"))[:2]
    text = "".join(json.dumps({"image": n, "captions": [f"caption of {n}"]}) + "\n" for n in names)
    (folder / "captions.jsonl").write_text(text)
    return (folder / "captions.jsonl").read_bytes()


@pytest.mark.parametrize("after", [0, 1, 37, 90])
def test_a_full_disk_in_the_middle_of_a_line_leaves_the_file_as_it_was(stub_captioner, monkeypatch, fail_writes_to, folder_factory,
                                                                      tmp_path, after):
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder)
    seen = fail_writes_to(folder / "captions.jsonl", after_bytes=after)
    with pytest.raises(OSError) as e:
        caption.caption_folder(folder, stub_captioner(), progress=False)  # one append, two lines
    assert (e.value.errno, e.value.filename) == (errno.ENOSPC, str(folder / "captions.jsonl"))
    assert seen["calls"] >= 1 and seen["bytes"] == after  # the bytes were written, then taken back
    assert (folder / "captions.jsonl").read_bytes() == before
    monkeypatch.undo()
    assert plan_captions(folder).already == 2  # read as it was: no half line refused
    report = caption.caption_folder(folder, stub_captioner(), progress=False)
    assert report.written == 2 and len((folder / "captions.jsonl").read_text().splitlines()) == 4


def test_the_batches_written_before_stay(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path):
    """One line per batch: the first is kept whole, the second taken back."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder)
    seen = fail_writes_to(folder / "captions.jsonl", after_bytes=100)
    with pytest.raises(caption.CaptionStopped, match="no space left") as e:  # after a batch: in part
        caption.caption_folder(folder, stub_captioner(), progress=False, batch_size=1)
    assert e.value.written == 1 and e.value.errno == errno.ENOSPC
    after = (folder / "captions.jsonl").read_bytes()
    first = after.removeprefix(before)
    assert after.startswith(before) and first.count(b"\n") == 1 and first.endswith(b"\n")
    assert json.loads(first)["captions"] == ["a stub caption"] and seen["bytes"] == 100 > len(first)


def test_the_line_owed_its_newline_is_taken_back_too(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path):
    """A last line that is a whole record without its newline: the append begins with one."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder).removesuffix(b"\n")
    (folder / "captions.jsonl").write_bytes(before)
    fail_writes_to(folder / "captions.jsonl", after_bytes=1)  # the newline alone
    with pytest.raises(OSError, match="No space left"):
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert (folder / "captions.jsonl").read_bytes() == before


@pytest.mark.parametrize("after", [0, 25])
def test_a_captions_file_the_append_made_is_removed(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path, after):
    """No room for one line: no captions file (an empty one was left, for every command to read)."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    fail_writes_to(folder / "captions.jsonl", after_bytes=after)
    with pytest.raises(OSError) as e:
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert e.value.filename == str(folder / "captions.jsonl")
    assert not os.path.lexists(folder / "captions.jsonl")


def test_a_failed_fsync_or_an_interrupt_takes_the_bytes_back(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder)

    def fsync(fd):
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fsync)
        with pytest.raises(OSError) as e:
            caption.caption_folder(folder, stub_captioner(), progress=False)
    assert (e.value.errno, e.value.filename) == (errno.EIO, str(folder / "captions.jsonl"))
    assert (folder / "captions.jsonl").read_bytes() == before
    fail_writes_to(folder / "captions.jsonl", after_bytes=50, error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert (folder / "captions.jsonl").read_bytes() == before


def test_taco_caption_on_a_full_disk_is_one_line_and_keeps_the_file(eval_main, stub_captioner, monkeypatch, fail_writes_to,
                                                                    folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder)
    monkeypatch.setattr(caption, "Captioner", stub_captioner)
    fail_writes_to(folder / "captions.jsonl", after_bytes=40)
    assert eval_main(["caption", str(folder), "--quiet", "--device", "cpu"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"taco caption: error: {folder / 'captions.jsonl'}: no space left on device"]
    assert (folder / "captions.jsonl").read_bytes() == before


def test_a_whole_append_is_written_as_before(stub_captioner, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    before = _with_two_captions(folder)
    caption.caption_folder(folder, stub_captioner(), progress=False)
    after = (folder / "captions.jsonl").read_bytes()
    assert after.startswith(before) and after.endswith(b"\n") and after.count(b"\n") == 4
    assert [json.loads(line)["captions"] for line in after.splitlines()[2:]] == [["a stub caption"]] * 2


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


def test_an_empty_captions_file_there_before_is_kept(stub_captioner, monkeypatch, fail_writes_to, folder_factory, tmp_path):
    """The append did not make it (it was there, empty): a failed append cuts it back to empty
    and leaves it, as it was."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "captions.jsonl").write_bytes(b"")
    fail_writes_to(folder / "captions.jsonl", after_bytes=10)
    with pytest.raises(OSError) as e:
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert e.value.errno == errno.ENOSPC
    assert (folder / "captions.jsonl").is_file() and (folder / "captions.jsonl").read_bytes() == b""


def test_a_file_the_append_made_is_removed_only_while_empty(stub_captioner, monkeypatch, fail_writes_to, folder_factory,
                                                             tmp_path):
    """The bytes could not be taken back (ftruncate failing too): the file holds something, so it
    is not removed (only a file still empty is: nothing in it can be anyone's)."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    fail_writes_to(folder / "captions.jsonl", after_bytes=10)

    def ftruncate(fd, size):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    with pytest.raises(OSError):
        caption.caption_folder(folder, stub_captioner(), progress=False)
    assert (folder / "captions.jsonl").is_file() and len((folder / "captions.jsonl").read_bytes()) == 10
