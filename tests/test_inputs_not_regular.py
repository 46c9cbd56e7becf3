"""A sidecar caption IMAGE.txt that is a link to a device (``ln -s /dev/zero img2.txt``) was said
to be "1 link to nothing" by taco compress's left-out note: every link that was not to a regular
file counted as a link to nothing. Only a link to nothing is one now; an input's name on a pipe,
a device or a socket (or a link to one) is "not a regular file", and a sidecar is not named
there at all (the caption note says it is ignored), as a pipe IMAGE.txt was not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from taco.cli.inputs import expand_inputs

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                                reason="needs pipes and /dev/zero")


def _note(tmp_path, capsys):
    files, _ = expand_inputs([str(tmp_path)], {".png"}, note_left_out="compress")
    return [f.name for f in files], capsys.readouterr().err.strip()


def test_a_sidecar_linked_to_a_device_is_no_link_to_nothing(tmp_path, capsys):
    (tmp_path / "img0.png").write_bytes(b"png")
    (tmp_path / "img0.txt").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "img1.txt")
    assert _note(tmp_path, capsys) == (["img0.png"], "")


def test_an_input_on_a_device_or_pipe_is_not_a_regular_file(tmp_path, capsys):
    (tmp_path / "img0.png").write_bytes(b"png")
    (tmp_path / "dev.png").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "gone.png").symlink_to(tmp_path / "nowhere.png")
    names, err = _note(tmp_path, capsys)
    assert names == ["img0.png"]
    assert err == (f"taco compress: note: left out 1 link to nothing ({tmp_path / 'gone.png'}) and 2 inputs "
                   f"that are not regular files ({tmp_path / 'dev.png'}, {tmp_path / 'pipe.png'})")


def test_one_input_on_a_device(tmp_path, capsys):
    (tmp_path / "img0.png").write_bytes(b"png")
    (tmp_path / "dev.png").symlink_to("/dev/zero")
    assert _note(tmp_path, capsys)[1] == (f"taco compress: note: left out 1 input that is not a regular file "
                                          f"({tmp_path / 'dev.png'})")
