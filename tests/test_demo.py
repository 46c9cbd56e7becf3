"""The demo's comparison with the classic codecs: each at the quality nearest the model's size."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from taco.demo import classic_at_same_size, sample_dir
from taco.images import image_to_tensor


def test_each_classic_codec_is_measured_at_the_nearest_size_it_makes():
    with Image.open(sample_dir() / "skimage-coffee.png") as photo:
        rgb = photo.convert("RGB").crop((0, 0, 160, 96))
    x = image_to_tensor(rgb)
    low, high = classic_at_same_size(rgb, x, 0.5), classic_at_same_size(rgb, x, 2.0)
    assert {"JPEG", "WebP"} <= set(low)
    for label in low:
        assert low[label]["bytes"] < high[label]["bytes"]
        assert low[label]["psnr_db"] < high[label]["psnr_db"]
        assert low[label]["bpp"] == 8 * low[label]["bytes"] / (160 * 96)
    # JPEG can make a file near 2 bpp at this size: it lands within a quality step of it
    assert abs(high["JPEG"]["bpp"] - 2.0) < 0.25


def test_demo_on_an_image_finds_its_caption_as_compress_does(tmp_path, capsys):
    """``taco demo --image X`` without --caption uses X's sidecar or captions.jsonl entry, and
    says so when there is none (it used to code with an empty caption, silently)."""
    import json

    from taco.cli import main

    photo = tmp_path / "cat.png"
    with Image.open(sample_dir() / "skimage-chelsea.png") as im:
        im.resize((64, 48)).save(photo)
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "cat.png", "captions": ["A cat."]}) + "\n")
    assert main(["demo", "--image", str(photo), "-m", "taco-tiny", "-o", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    assert "caption    'A cat.' (used by the encoder only)" in captured.out
    assert "has no caption" not in captured.err
    (tmp_path / "captions.jsonl").unlink()
    assert main(["demo", "--image", str(photo), "-m", "taco-tiny", "-o", str(tmp_path / "b")]) == 0
    captured = capsys.readouterr()
    assert "caption    '' (used by the encoder only)" in captured.out
    assert f"note: {photo} has no caption, so it is coded without one" in captured.err
    assert main(["demo", "--image", str(photo), "-m", "elic-tiny", "-o", str(tmp_path / "c")]) == 0
    assert "has no caption" not in capsys.readouterr().err  # ELIC reads no text


def test_demo_on_a_thumbnail_says_lpips_is_not_measured(tmp_path, capsys):
    """LPIPS's AlexNet takes 31 px a side at least: the demo of a smaller image still runs."""
    from taco.cli import main

    tiny = tmp_path / "tiny.png"  # one side under 31 px is enough (Review M: not "under 31 px a side")
    Image.new("RGB", (64, 7), (30, 200, 40)).save(tiny)
    assert main(["demo", "--image", str(tiny), "--caption", "green", "-m", "elic-tiny", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "LPIPS-Alex n/a (a side of the image is under 31 px)" in out and "PSNR" in out
    # ELIC reads no text: the demo does not claim the caption was used, nor a text encoder loaded
    assert "caption    none (elic-tiny reads no text)" in out and "text encoder" not in out


def test_demo_calls_any_checkpoint_trained_and_untrained_weights_untrained(tmp_path, capsys):
    """A checkpoint without ``trained_steps`` (one ``taco import-checkpoint`` wrote) is trained
    weights: only an architecture name gets the UNTRAINED label."""
    import taco
    from taco.cli import main

    photo = tmp_path / "cat.png"
    with Image.open(sample_dir() / "skimage-chelsea.png") as im:
        im.resize((64, 48)).save(photo)
    checkpoint = taco.save_checkpoint(taco.create_model("elic-tiny", seed=1), tmp_path / "imported.safetensors")
    assert "trained_steps" not in taco.load(checkpoint).metadata
    assert main(["demo", "--image", str(photo), "-m", str(checkpoint), "-o", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model      ") and "UNTRAINED" not in out
    assert main(["demo", "--image", str(photo), "-m", "elic-tiny", "-o", str(tmp_path / "b")]) == 0
    assert "elic-tiny  (UNTRAINED: random weights)" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform != "linux", reason="a name with a control character")
def test_demo_shows_the_image_s_name_as_every_message_does(tmp_path, capsys):
    """``taco demo --image "$(printf 'c\\rFORGED.png')"`` printed the name raw on its image,
    taco file and wrote lines: a carriage return that let the rest overwrite the line."""
    from taco.cli import main

    image = tmp_path / "c\rFORGED.png"
    Image.new("RGB", (48, 40), (30, 90, 160)).save(image)
    assert main(["demo", "--image", str(image), "--caption", "blue", "-m", "elic-tiny",
                 "-o", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    shown = tmp_path / "d" / "c\\rFORGED"
    assert "image      c\\rFORGED.png (48x40, " in out and f"taco file  {shown}.taco (" in out
    assert f"wrote      {shown}.taco, {shown}.decoded.png, {shown}.side-by-side.png\n" in out


def test_demo_keeps_existing_files_outside_its_own_folder(tmp_path, capsys, monkeypatch):
    """``taco demo --image mine.png -o .`` replaced a mine.taco of the user's without a word."""
    from PIL import Image

    from taco.cli import main
    from taco.demo import DEFAULT_OUTPUT

    image = tmp_path / "mine.png"
    Image.new("RGB", (48, 40), (30, 90, 160)).save(image)
    precious = tmp_path / "mine.taco"
    precious.write_bytes(b"precious")
    args = ["demo", "--image", str(image), "--caption", "blue", "-m", "elic-tiny", "-o", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "mine.taco exists" in err and "--force" in err
    assert precious.read_bytes() == b"precious" and not (tmp_path / "mine.decoded.png").exists()
    assert main([*args, "--force"]) == 0
    assert precious.read_bytes()[:4] == b"TACO" and (tmp_path / "mine.side-by-side.png").is_file()
    monkeypatch.chdir(tmp_path)  # the demo's own folder: each run replaces its files
    for _ in range(2):
        assert main(["demo", "--image", str(image), "--caption", "blue", "-m", "elic-tiny"]) == 0
    assert (tmp_path / DEFAULT_OUTPUT / "mine.taco").is_file()
    assert not [p for p in (tmp_path / DEFAULT_OUTPUT).iterdir() if p.name.startswith(".")]  # no temporaries


def test_the_demos_decoded_png_is_the_file_taco_decompress_writes(tmp_path):
    """One way to write a decoded PNG: the demo's is byte for byte what ``taco decompress`` writes
    for the demo's own .taco file (it used Pillow's default level 6, decompress level 1 + RLE)."""
    from taco.cli import main

    photo = tmp_path / "cat.png"
    with Image.open(sample_dir() / "skimage-chelsea.png") as im:
        im.resize((64, 48)).save(photo)
    assert main(["demo", "--image", str(photo), "--caption", "A cat.", "-m", "taco-tiny",
                 "-o", str(tmp_path / "demo")]) == 0
    taco_file, decoded = tmp_path / "demo" / "cat.taco", tmp_path / "demo" / "cat.decoded.png"
    again = tmp_path / "again.png"
    assert main(["decompress", str(taco_file), "-o", str(again)]) == 0
    assert decoded.read_bytes() == again.read_bytes()


class _Stop(Exception):
    """Raised by a stand-in where the test has seen what it needs (no model is run)."""


def test_demo_takes_a_samples_name_as_bench_does(tmp_path, capsys, monkeypatch):
    """``taco demo --image skimage-coffee.png`` said "file not found" where ``taco bench --images
    skimage-coffee.png`` takes the shipped sample: both take a file, else a sample's name (with
    its own caption), and a name that is neither lists the samples."""
    import taco.demo
    import taco.images
    from taco.cli import main
    from taco.samples import sample_caption, sample_names

    monkeypatch.chdir(tmp_path)
    seen: list[object] = []

    def run_demo(**kwargs):
        seen.append(kwargs)
        raise _Stop

    monkeypatch.setattr(taco.demo, "run_demo", run_demo)
    with pytest.raises(_Stop):
        main(["demo", "--image", "skimage-coffee.png", "-m", "taco-tiny", "-o", "d"])
    assert seen[0]["image"] == "skimage-coffee.png"  # type: ignore[index]
    assert seen[0]["caption"] == sample_caption("skimage-coffee.png")  # type: ignore[index]
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)

    def load_image(src, *args, **kwargs):
        seen.append(src)
        raise _Stop

    monkeypatch.setattr(taco.images, "load_image", load_image)
    with pytest.raises(_Stop):
        taco.demo.run_demo(model_name="taco-tiny", image="skimage-coffee.png", out_dir=tmp_path / "d")
    assert seen[-1] == sample_dir() / "skimage-coffee.png"
    Image.new("RGB", (8, 8)).save(tmp_path / "skimage-coffee.png")  # a file of that name wins
    assert taco.demo.image_path("skimage-coffee.png") == Path("skimage-coffee.png")
    assert main(["demo", "--image", "nope.png", "-o", "d"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"taco demo: error: cannot read image 'nope.png': no such file, and not a sample ({', '.join(sample_names())})")


def test_an_image_name_too_long_to_look_at_is_left_to_load_image():
    """A name the file system cannot look up (too long) is no sample: it goes to load_image,
    which says why it cannot read it, rather than an OSError out of the lookup."""
    import taco.demo

    name = "x" * 300 + ".png"
    assert taco.demo.image_path(name) == Path(name)
