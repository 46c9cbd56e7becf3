"""``taco caption`` finds out that it cannot write its captions file before it loads a captioner
(a missing or wrong folder for ``-o``, a read-only folder: one line naming it, in taco's
``FILE: reason`` form), and a write that fails while captioning (a file size limit, a full
disk) names the file."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

import taco.cli
from taco.evaluation import caption
from taco.evaluation.caption_plan import check_writable, plan_captions


def _caption(main, capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["caption", *args, "--quiet", "--device", "cpu"])
    return code, capsys.readouterr().err.splitlines()


def test_a_missing_or_wrong_folder_for_the_output_is_one_line(main_without_captioner, folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos", captions=False)
    (tmp_path / "afile").write_text("a file")
    (folder / "taken.jsonl").mkdir()
    for output, line in (
        (f"{folder}/sub/c.jsonl", f"{folder / 'sub'}: no such folder (create it first)"),
        (f"{folder}/../afile/c.jsonl", f"{folder / '../afile'}: not a folder (the captions file's folder)"),
        ("taken.jsonl", f"{folder / 'taken.jsonl'}: is a folder, not a captions file"),
    ):
        assert _caption(main_without_captioner, capsys, str(folder), "-o", output) == (2, [f"taco caption: error: {line}"])
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".png")) == ["taken.jsonl"]
    with pytest.raises(FileNotFoundError) as e:
        plan_captions(folder, output=f"{folder}/sub/c.jsonl")
    assert e.value.filename == str(folder / "sub")


def test_an_output_with_a_folder_part_is_that_path_as_evaluate_reads_it(main_without_captioner, folder_factory,
                                                                        tmp_path, monkeypatch, capsys):
    """``taco caption imgs2 -o imgs2/sub/blip.jsonl`` once looked for ``imgs2/imgs2/sub``: -o was
    always joined to FOLDER, while ``taco evaluate --captions`` reads a name with a folder part
    as a path of its own. A bare name is still a file inside FOLDER."""
    monkeypatch.chdir(tmp_path)
    folder = folder_factory(tmp_path / "imgs2")
    (folder / "sub").mkdir()
    (folder / "sub" / "blip.jsonl").write_bytes((folder / "captions.jsonl").read_bytes())
    assert main_without_captioner(["caption", "imgs2", "-o", "imgs2/sub/blip.jsonl", "--quiet"]) == 0
    assert "imgs2/sub/blip.jsonl: nothing to caption" in capsys.readouterr().out
    assert plan_captions("imgs2", output="./imgs2/sub/blip.jsonl").path == Path("imgs2/sub/blip.jsonl")
    assert plan_captions("imgs2", output="blip.jsonl").path == Path("imgs2/blip.jsonl")
    assert plan_captions(folder, output=folder / "sub" / "blip.jsonl").path == folder / "sub" / "blip.jsonl"
    assert not (folder / "imgs2").exists()


def _read_only(monkeypatch, folder):
    """``folder`` as a read-only file system makes it: os.access says no, and so does a file
    tried there (root can write anywhere chmod allows, so the test says it for the system)."""
    real_access, real_temporary = os.access, tempfile.TemporaryFile

    def access(path, mode, *args, **kwargs):
        return False if os.fspath(path) == os.fspath(folder) else real_access(path, mode, *args, **kwargs)

    def temporary(*args, dir=None, **kwargs):
        if dir is not None and os.fspath(dir) == os.fspath(folder):
            raise OSError(errno.EROFS, "Read-only file system", os.fspath(folder))
        return real_temporary(*args, dir=dir, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(tempfile, "TemporaryFile", temporary)


def test_a_read_only_folder_is_one_line_before_the_captioner_loads(main_without_captioner, monkeypatch, folder_factory,
                                                                   tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos", captions=False)
    _read_only(monkeypatch, folder)
    assert _caption(main_without_captioner, capsys, str(folder)) == (
        2, [f"taco caption: error: {folder / 'captions.jsonl'}: read-only file system"])
    assert not (folder / "captions.jsonl").exists()


def test_a_read_only_folder_with_nothing_to_caption_is_done(main_without_captioner, monkeypatch, folder_factory,
                                                            tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos")  # every image in its captions.jsonl
    _read_only(monkeypatch, folder)
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 0
    assert "nothing to caption, all 4 images already had captions" in capsys.readouterr().out


def test_access_saying_no_where_a_file_can_be_made_is_not_an_error(stub_captioner, monkeypatch, folder_factory, tmp_path):
    """os.access answers for the permission bits; root, or an ACL, may write anyway."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if os.fspath(p) == os.fspath(folder)
                        else real_access(p, mode, *a, **k))
    report = caption.caption_folder(folder, stub_captioner(), progress=False)
    assert report.written == 4 and len((folder / "captions.jsonl").read_text().splitlines()) == 4


def test_an_existing_captions_file_is_checked_without_a_byte_written(folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos")
    before = (folder / "captions.jsonl").read_bytes()
    check_writable(folder / "captions.jsonl")
    check_writable(folder / "new.jsonl")
    assert (folder / "captions.jsonl").read_bytes() == before and not (folder / "new.jsonl").exists()


def test_a_write_that_fails_while_captioning_names_the_file(stub_captioner, monkeypatch, folder_factory, tmp_path, capsys):
    """A write past ``ulimit -f`` fails with EFBIG and no file name ('[Errno 27] File too large')."""
    folder = folder_factory(tmp_path / "photos", captions=False)
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setattr(caption, "Captioner", stub_captioner)

    def fsync(fd):
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(os, "fsync", fsync)
    assert _caption(taco.cli.main, capsys, str(folder)) == (
        2, [f"taco caption: error: {folder / 'captions.jsonl'}: file too large"])
    with pytest.raises(OSError) as e:
        caption.caption_folder(folder, stub_captioner(), progress=False, output="other.jsonl")
    assert (e.value.errno, e.value.filename) == (errno.EFBIG, str(folder / "other.jsonl"))


def test_an_output_under_home_is_that_path(tmp_path, monkeypatch):
    """taco caption FOLDER -o ~/x.jsonl writes x.jsonl in the home folder, as taco evaluate
    --captions ~/x.jsonl reads it; a bare name is inside FOLDER."""
    from taco.evaluation.caption_plan import captions_output

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert captions_output(tmp_path / "photos", "~/x.jsonl") == tmp_path / "home" / "x.jsonl"
    assert captions_output(tmp_path / "photos", "x.jsonl") == tmp_path / "photos" / "x.jsonl"
