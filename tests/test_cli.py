"""The CLI end to end on real photos (tiny models so it stays fast)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "taco" / "assets" / "samples"
CHELSEA = SAMPLES / "skimage-chelsea.png"


@pytest.fixture()
def photos(tmp_path):
    """Two small photos with a captions.jsonl, like shared/data/photos/val."""
    d = tmp_path / "photos"
    d.mkdir()
    recs = []
    for name in ("skimage-chelsea.png", "skimage-coffee.png"):
        Image.open(SAMPLES / name).resize((96, 64)).save(d / name)
        recs.append({"image": name, "captions": [f"caption of {name}"]})
    (d / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    return d


def test_compress_info_decompress_single(tmp_path, capsys):
    out = tmp_path / "cat.taco"
    assert main(["compress", str(CHELSEA), "--caption", "a cat", "-m", "taco-tiny", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "bpp" in text and "compressed 1 image(s)" in text
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["width"], info["height"], info["model_id"]) == (451, 300, "taco-tiny")
    assert info["bytes"] == out.stat().st_size
    # no --model: the file names its model; no caption needed
    assert main(["decompress", str(out)]) == 0
    decoded = tmp_path / "cat.decoded.png"
    with Image.open(decoded) as im:
        assert im.size == (451, 300)


def test_folder_with_captions_jsonl_and_summary(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compress", str(photos), "-m", "elic-tiny", "-o", str(out)]) == 0
    assert "compressed 2 image(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["skimage-chelsea.taco", "skimage-coffee.taco"]
    dec = tmp_path / "dec"
    assert main(["decompress", str(out), "-o", str(dec)]) == 0
    assert sorted(p.name for p in dec.iterdir()) == ["skimage-chelsea.png", "skimage-coffee.png"]


def test_caption_sources(photos, tmp_path):
    img = photos / "skimage-chelsea.png"
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(img, lone / "a.png")
    # no caption anywhere -> clear error, nothing written
    assert main(["compress", str(lone / "a.png"), "-m", "taco-tiny"]) == 2
    assert not (lone / "a.taco").exists()
    # sidecar .txt
    (lone / "a.txt").write_text("a cat on a sofa\n")
    assert main(["compress", str(lone / "a.png"), "-m", "taco-tiny"]) == 0
    # explicit --captions file
    caps = tmp_path / "caps.jsonl"
    caps.write_text(json.dumps({"image": "a.png", "captions": ["x"]}) + "\n")
    assert main(["compress", str(lone / "a.png"), "--captions", str(caps), "-m", "taco-tiny",
                 "-o", str(tmp_path / "b.taco")]) == 0
    # explicit empty caption
    assert main(["compress", str(lone / "a.png"), "--caption", "", "-m", "taco-tiny",
                 "-o", str(tmp_path / "c.taco")]) == 0


def test_missing_caption_error_message(tmp_path, capsys):
    shutil.copy(CHELSEA, tmp_path / "x.png")
    assert main(["compress", str(tmp_path / "x.png"), "-m", "taco-tiny"]) == 2
    err = capsys.readouterr().err
    assert "no caption" in err and "--caption" in err


def test_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "x.taco"
    args = ["compress", str(CHELSEA), "--caption", "", "-m", "elic-tiny", "-o", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    assert main(["compress", str(bad), "--caption", "", "-m", "elic-tiny"]) == 2
    assert "cannot read image" in capsys.readouterr().err
    junk = tmp_path / "junk.taco"
    junk.write_bytes(b"TACO\x02\x01garbage")
    assert main(["decompress", str(junk), "-m", "elic-tiny"]) == 2
    assert "truncated" in capsys.readouterr().err
    assert main(["info", str(junk)]) == 2
    assert main(["compress", str(tmp_path / "missing.png"), "--caption", ""]) == 2


def test_decoded_pixels_match_library(tmp_path):
    import taco

    out = tmp_path / "x.taco"
    assert main(["compress", str(CHELSEA), "--caption", "a cat", "-m", "taco-tiny", "-o", str(out)]) == 0
    model = taco.create_model("taco-tiny", seed=0)
    lib = taco.decompress(out.read_bytes(), model)
    assert main(["decompress", str(out), "-o", str(tmp_path / "x.png")]) == 0
    assert np.array_equal(np.asarray(lib), np.asarray(Image.open(tmp_path / "x.png")))


def test_help_texts():
    for cmd in ("compress", "decompress", "info", "demo"):
        r = subprocess.run([sys.executable, "-m", "taco.cli", cmd, "--help"],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "usage: taco" in r.stdout


@pytest.mark.slow
def test_demo_runs_offline_and_writes_outputs(tmp_path, capsys):
    assert main(["demo", "-m", "taco-minilm-tiny", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for word in ("bpp", "PSNR", "LPIPS", "encode", "decode"):
        assert word in out
    assert (tmp_path / "skimage-chelsea.side-by-side.png").is_file()
    assert (tmp_path / "skimage-chelsea.decoded.png").is_file()


def test_quality_of_a_variable_rate_model(tmp_path, capsys):
    """taco compress -q N: the quality goes into the file, taco decompress needs nothing else;
    a single-rate model refuses -q, a variable-rate one refuses a quality it does not have."""
    from taco.models import create_model, save_checkpoint

    ckpt = save_checkpoint(create_model("elic-tiny", qualities=[0.0004, 0.0016, 0.009]),
                           tmp_path / "vr.safetensors")
    image = tmp_path / "cat.png"
    Image.open(CHELSEA).resize((96, 64)).save(image)
    sizes = {}
    for q in (None, 1, 3):
        out = tmp_path / f"q{q}.taco"
        args = ["compress", str(image), "--caption", "", "-m", str(ckpt), "-o", str(out), "--quiet"]
        assert main(args + (["-q", str(q)] if q else [])) == 0
        assert f"at quality {q or 2}:" in capsys.readouterr().out  # default: the middle one
        assert main(["info", str(out), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["quality"] == (q or 2)
        assert main(["decompress", str(out), "-m", str(ckpt), "--quiet"]) == 0
        sizes[q] = out.stat().st_size
    assert sizes[1] < sizes[None] < sizes[3]
    assert main(["compress", str(image), "--caption", "", "-m", str(ckpt), "-q", "4",
                 "-o", str(tmp_path / "x.taco")]) == 2
    assert "quality must be an integer 1..3" in capsys.readouterr().err
    assert main(["compress", str(image), "--caption", "", "-m", "elic-tiny", "-q", "2",
                 "-o", str(tmp_path / "y.taco")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and "single rate" in errors[0]
