"""A new output folder is made by the first file written into it, not when the outputs are
planned: `taco compress a.png -o nd/ -m nomodel`, `taco decompress notataco.json -o nd/`,
`taco demo --image nothere.png` and a batch interrupted before its first write each left an
empty folder behind (review A). Whether it can be made is still checked before the work."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

import taco.codec
from taco.cli import main

CODE = ["--caption", "", "-m", "elic-tiny"]


def test_refusals_before_any_write_leave_no_folder(photos, tmp_path, capsys):
    out = tmp_path / "nd" / "sub"
    assert main(["compress", str(photos / "a.png"), "-o", f"{out}/", "-m", "nomodel"]) == 2
    (tmp_path / "notataco.json").write_text("{}")
    assert main(["decompress", str(tmp_path / "notataco.json"), "-o", f"{out}/"]) == 2
    assert main(["demo", "--image", str(tmp_path / "nothere.png"), "-m", "elic-tiny", "-o", str(out)]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("taco demo: error: cannot read image")
    assert not (tmp_path / "nd").exists()


def test_a_batch_interrupted_before_its_first_write_leaves_no_folder(photos, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(taco.codec, "compress_image", interrupted)
    out = tmp_path / "o2"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 130
    assert "interrupted after 0 of 3 images" in capsys.readouterr().err
    assert not out.exists()


def test_the_folder_is_made_with_the_first_output(photos, tmp_path):
    out = tmp_path / "new" / "sub"
    assert main(["compress", str(photos), *CODE, "-o", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.taco", "b.taco", "c.taco"]


def test_a_folder_that_cannot_be_made_is_still_refused_before_the_work(photos, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(taco.codec, "compress_image", lambda *a, **k: pytest.fail("the work started"))
    (tmp_path / "file").write_bytes(b"x")
    out = tmp_path / "file" / "sub"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: cannot create the output folder {out}: {tmp_path / 'file'} is not a folder")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert main(["compress", str(photos), *CODE, "-o", str(tmp_path / "link")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco compress: error: cannot create the output folder {tmp_path / 'link'}: it is a link to nothing")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # as on a read-only mount,
    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)  # where root cannot write either
    out = tmp_path / "ro" / "sub"
    assert main(["compress", str(photos), *CODE, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco compress: error: cannot create the output folder {out}: read-only file system")
    assert not (tmp_path / "ro").exists()


def test_a_folder_the_system_will_not_make_is_refused_before_the_work(photos, tmp_path, monkeypatch,
                                                                    capsys):
    """Asking whether the folder above takes files can say yes where making one fails (root
    under /proc, some FUSE mounts): each image was coded, then failed at its write (review K).
    A folder is made and removed there to be sure."""
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.parent == tmp_path:  # the system makes no folder here
            raise OSError(errno.ENOENT, "No such file or directory", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with monkeypatch.context() as patch:
        patch.setattr(taco.codec, "analysis_with_text_overlap", lambda *a, **k: pytest.fail("coded"))
        assert main(["compress", str(photos / "a.png"), "-o", f"{tmp_path / 'nd' / 'sub'}/", *CODE]) == 2
    assert "cannot create the output folder" in capsys.readouterr().err
    assert not (tmp_path / "nd").exists()
    monkeypatch.setattr(Path, "mkdir", real_mkdir)
    assert main(["compress", str(photos / "a.png"), "-o", f"{tmp_path / 'ok' / 'sub'}/", *CODE]) == 0
    assert sorted(p.name for p in (tmp_path / "ok" / "sub").iterdir()) == ["a.taco"]


def test_the_probe_leaves_the_output_folder_to_others(tmp_path) -> None:
    """check_folder's probe made and removed the output folder itself, which could pull it from
    under another run just writing into it (review R): it probes with a folder of its own."""
    from taco.cli.files import check_folder

    out = tmp_path / "out"
    made = []
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        made.append(self)
        return real_mkdir(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", mkdir)
        check_folder(out, create=True)
    assert made and out not in made
    assert list(tmp_path.iterdir()) == []
