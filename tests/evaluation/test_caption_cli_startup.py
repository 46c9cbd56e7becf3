"""``taco caption FOLDER`` checks the folder and its captions file before it imports torch (a
mistyped folder was 3.5 s and 650 MB for one line), refuses a folder without images (torch-free
too), and is done without loading a captioner when every image has captions already.

Each command runs in a fresh interpreter that reports ``sys.modules`` afterwards, as in
tests/test_startup.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.evaluation import caption
from taco.evaluation.caption_plan import NoImagesError, plan_captions

ROOT = Path(__file__).resolve().parents[2]


NO_TORCH = ("torch", "compressai", "transformers", "scipy", "numpy", "matplotlib", "PIL")


def test_a_missing_folder_is_one_line_without_torch(probe, tmp_path):
    r = probe(tmp_path, "caption", str(tmp_path / "phtos"), "--quiet")
    assert r["code"] == 2
    assert r["stderr"].splitlines() == [f"taco caption: error: {tmp_path / 'phtos'}: no such folder"]
    heavy = set(NO_TORCH) & set(r["modules"])
    assert not heavy, f"taco caption MISSING imports {sorted(heavy)}"


def test_a_folder_without_images_is_one_line_without_torch(probe, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    r = probe(tmp_path, "caption", str(tmp_path / "photos"), "--quiet")
    assert r["code"] == 2
    lines = r["stderr"].splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"taco caption: error: no images in {tmp_path / 'photos'} ")
    assert not set(NO_TORCH) & set(r["modules"])
    assert not (tmp_path / "photos" / "captions.jsonl").exists()


def test_a_malformed_captions_file_is_one_line_without_torch(probe, folder_factory, tmp_path):
    folder = folder_factory(tmp_path / "photos", captions=False)
    (folder / "captions.jsonl").write_text('{"images": "x.png"}\n', encoding="utf-8")
    r = probe(tmp_path, "caption", str(folder), "--quiet")
    assert r["code"] == 2
    lines = r["stderr"].splitlines()
    assert len(lines) == 1 and "captions.jsonl:1: expected" in lines[0], lines
    assert not set(NO_TORCH) & set(r["modules"])


def test_the_plan_module_imports_no_torch():
    code = "import sys, taco.evaluation.caption_plan; print(sorted(set(sys.modules) & set(sys.argv[1:])))"
    r = subprocess.run([sys.executable, "-c", code, *NO_TORCH], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


@pytest.mark.parametrize("contents", [{}, {"notes.txt": b"hi", "photo.png.bak": b"x",
                                           ".hidden.png": b"x", "a.taco": b"x", "a.decoded.png": b"x"}])
def test_a_folder_without_images_is_an_error_and_writes_nothing(main_without_captioner, tmp_path, capsys, contents):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no images in {folder} (looked for " in err[0] and ".png" in err[0], err
    assert not (folder / "captions.jsonl").exists()
    with pytest.raises(NoImagesError, match="no images in"):
        plan_captions(folder)
    with pytest.raises(ValueError, match="no images in"):  # NoImagesError is a ValueError
        caption.caption_folder(folder, None, progress=False)  # type: ignore[arg-type]


def test_a_folder_whose_images_all_have_captions_is_done(main_without_captioner, folder_factory, tmp_path, capsys):
    folder = folder_factory(tmp_path / "photos")
    before = (folder / "captions.jsonl").read_bytes()
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"{folder / 'captions.jsonl'}: nothing to caption, all 4 images "
                                "already had captions"]
    assert err == "" and (folder / "captions.jsonl").read_bytes() == before
    # the arguments are still checked as far as they can be without loading anything
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu", "-m", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a local model folder (no such folder)" in err[0], err


def test_one_image_with_a_sidecar_caption_is_done(main_without_captioner, tmp_path, capsys, folder_factory):
    folder = folder_factory(tmp_path / "photos", captions=False)
    for p in sorted(folder.glob("*.png"))[1:]:
        p.unlink()
    (folder / "skimage-astronaut.txt").write_text("an astronaut", encoding="utf-8")
    assert main_without_captioner(["caption", str(folder), "--quiet", "--device", "cpu"]) == 0
    assert "nothing to caption, the 1 image already had captions" in capsys.readouterr().out
    assert not (folder / "captions.jsonl").exists()


def test_nothing_to_do_loads_no_captioner(probe, folder_factory, tmp_path):
    """Only the device check imports torch; transformers (the captioner) stays unloaded."""
    folder = folder_factory(tmp_path / "photos")
    r = probe(tmp_path, "caption", str(folder), "--quiet", "--device", "cpu", "-m", "no/such-captioner")
    assert r["code"] == 0, r["stderr"]
    assert "nothing to caption, all 4 images already had captions" in r["stdout"]
    assert "transformers" not in r["modules"]
