"""taco demo never writes its own files through a link (docs/reliability.md).

``taco demo`` writes ``skimage-chelsea.taco``, ``.decoded.png`` and ``.side-by-side.png`` by
names of its own into its folder (``taco-demo/`` by default, each run replacing them): with
``taco-demo/skimage-chelsea.taco -> ~/.bashrc`` it exited 0 having replaced the victim with the
.taco file. A file of the demo's that is a symbolic link, dangling or not, is now refused in one
line naming it and its target (exit 2), with --force too, before the model loads.
"""

from __future__ import annotations

import os

import pytest

import taco.demo
from taco.cli import main
from taco.demo import DEFAULT_OUTPUT, demo_files, linked_demo_file, run_demo


def _no_work(monkeypatch) -> None:
    def work(*args, **kwargs):
        raise AssertionError("the demo started its work")

    monkeypatch.setattr(taco.demo, "run_demo", work)


@pytest.mark.parametrize("name", ["skimage-chelsea.taco", "skimage-chelsea.decoded.png",
                                  "skimage-chelsea.side-by-side.png"])
@pytest.mark.parametrize("dangling", [False, True])
def test_the_default_folder_refuses_a_link_among_its_files(tmp_path, monkeypatch, capsys, name, dangling):
    _no_work(monkeypatch)
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "bashrc"
    if not dangling:
        victim.write_text("SECRET\n")
        victim.chmod(0o600)
    (tmp_path / DEFAULT_OUTPUT).mkdir()
    os.symlink(victim, DEFAULT_OUTPUT / name)
    assert main(["demo", "-m", "elic-tiny"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco demo: error: {DEFAULT_OUTPUT / name} is a symbolic link (to {victim}): the demo writes its own "
        f"files in {DEFAULT_OUTPUT}, never through a link; remove the link (or put a copy of what it links "
        "to in its place), or give another -o FOLDER")
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text() == "SECRET\n"


def test_a_named_folder_refuses_a_link_with_force_too(tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"")
    os.symlink(victim, out / "skimage-chelsea.decoded.png")
    assert main(["demo", "-m", "elic-tiny", "-o", str(out), "--force"]) == 2
    assert "skimage-chelsea.decoded.png is a symbolic link (to " in capsys.readouterr().err
    assert victim.read_bytes() == b""


def test_run_demo_refuses_a_link_before_any_work(tmp_path, monkeypatch):
    """The library too: :func:`taco.demo.run_demo` refuses before it loads the image or model."""
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(tmp_path / "made", demo_files(out)[0])

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr("taco.resolve.resolve_model", no_model)
    with pytest.raises(ValueError, match=r"skimage-chelsea\.taco is a symbolic link \(to "):
        run_demo("elic-tiny", out_dir=out)
    assert not (tmp_path / "made").exists()
    assert linked_demo_file(demo_files(tmp_path / "empty")) is None
