"""The everyday command line's small promises: options that cannot go together, what a line
says of the input, who reports an unknown option."""

from __future__ import annotations

import argparse
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taco.cli import build_parser, main
from taco.demo import run_demo
from taco.images import load_image
from taco.samples import SAMPLES_DIR as SAMPLES

CHELSEA = SAMPLES / "skimage-chelsea.png"


def test_caption_and_captions_file_are_one_or_the_other(tmp_path, capsys):
    """--captions FILE is the only source of captions when given, so --caption beside it is
    refused by argparse (it was silently ignored) before any image is read."""
    shutil.copy(CHELSEA, tmp_path / "a.png")
    (tmp_path / "caps.jsonl").write_text('{"image": "a.png", "captions": ["a cat"]}\n')
    with pytest.raises(SystemExit) as exit_:
        main(["compress", str(tmp_path / "a.png"), "--caption", "x", "--captions",
              str(tmp_path / "caps.jsonl"), "-m", "taco-tiny"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: taco compress ")
    assert err.splitlines()[-1] == ("taco compress: error: argument --captions/--captions-file: not "
                                    "allowed with argument --caption")
    assert not (tmp_path / "a.taco").exists()


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_an_unknown_option_is_the_subcommands_error(command, capsys):
    """``taco demo -x`` shows demo's usage and names demo (it showed ``taco``'s usage and
    ``taco: error: ...``, which does not say whose options to look up); exit status 2."""
    parser = _subcommands()[command]
    needed = []  # what the command requires, so that the unknown option is its only error
    for a in parser._actions:
        if not a.option_strings and a.nargs not in ("?", "*"):
            needed.append("x")
        elif a.option_strings and a.required:
            needed += [a.option_strings[0], "x"]
    with pytest.raises(SystemExit) as exit_:
        main([command, *needed, "--no-such-option"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: taco {command} ")
    assert err.splitlines()[-1] == f"taco {command}: error: unrecognized arguments: --no-such-option"


def test_an_unknown_option_before_the_command_is_tacos_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--no-such-option", "demo"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "taco: error: unrecognized arguments: --no-such-option"


def test_demo_takes_f_for_force_as_compress_does():
    args = build_parser().parse_args(["demo", "-f"])
    assert args.force


def test_demo_names_the_images_own_format(tmp_path, capsys):
    """``taco demo --image photo.jpg`` said "... bytes as PNG" of a JPEG: the line names the
    file's format, and its size with thousands separators."""
    from PIL import Image

    photo = tmp_path / "cat.jpg"
    with Image.open(CHELSEA) as im:
        im.resize((64, 48)).convert("RGB").save(photo, quality=90)
    assert main(["demo", "--image", str(photo), "--caption", "a cat", "-m", "elic-tiny",
                 "-o", str(tmp_path / "out")]) == 0
    size = photo.stat().st_size
    assert f"image      cat.jpg (64x48, {size:,} bytes as JPEG)\n" in capsys.readouterr().out


def test_demo_of_a_taco_file_says_what_it_is_as_compress_does(tmp_path, capsys):
    """``taco demo --image cat.taco`` said "not an image file Pillow can identify"; it now says
    what compress says of one (and nothing is written)."""
    made = tmp_path / "cat.taco"
    made.write_bytes(b"not read")
    assert main(["demo", "--image", str(made), "-m", "elic-tiny", "-o", str(tmp_path / "out")]) == 2
    demo = capsys.readouterr().err
    assert main(["compress", str(made), "--caption", "", "-m", "elic-tiny"]) == 2
    compress = capsys.readouterr().err
    said = f"{made} is a .taco file, not an image: taco decompress decodes it\n"
    assert demo == f"taco demo: error: {said}" and compress == f"taco compress: error: {said}"
    assert not (tmp_path / "out").exists()


def test_an_empty_sidecar_is_named_as_empty(tmp_path, capsys):
    """An image beside an empty a.txt: the note said to give "a sidecar a.txt", which is there;
    it says the sidecar is empty instead (and, for several images, which are)."""
    for name in "ab":
        shutil.copy(CHELSEA, tmp_path / f"{name}.png")
    (tmp_path / "a.txt").write_text("\n")
    assert main(["compress", str(tmp_path / "a.png"), "-m", "taco-tiny", "--quiet"]) == 0
    note = capsys.readouterr().err.splitlines()[-1]
    assert note == (f"taco compress: note: {tmp_path / 'a.png'} has no caption, so it is coded "
                    "without one (a caption guides the encoder: its sidecar a.txt is empty; write "
                    "the caption there, or give --caption TEXT, --captions FILE.jsonl, or a "
                    "captions.jsonl beside it)")
    assert main(["compress", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-m", "taco-tiny",
                 "--quiet", "-o", str(tmp_path / "out")]) == 0
    note = capsys.readouterr().err.splitlines()[-1]
    assert note.endswith(f"sidecar IMAGE.txt files ({tmp_path / 'a.txt'} is empty), or a "
                         "captions.jsonl beside them)")


def test_the_untrained_weights_note_names_its_command(tmp_path, capsys):
    """The note on an architecture's seed-0 weights was a bare ``note: ...`` among ``taco
    compress: note: ...`` lines: it names its command as they do, in compress, demo and decompress."""
    shutil.copy(CHELSEA, tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "--caption", "", "-m", "elic-tiny", "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("taco compress: note: 'elic-tiny' has no trained weights"), err
    assert main(["demo", "--image", str(tmp_path / "a.png"), "-m", "elic-tiny", "-o", str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("taco demo: note: 'elic-tiny' has no trained weights"), err
    for given in ([], ["-m", "elic-tiny"]):  # the model the file names, or --model
        assert main(["decompress", str(tmp_path / "a.taco"), "-o", str(tmp_path / "a.out.png"),
                     "--force", *given]) == 0
        err = capsys.readouterr().err.splitlines()
        assert err[0].startswith("taco decompress: note: 'elic-tiny' has no trained weights"), err


PIPES = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")


def _piped(path: Path, data: bytes) -> Path:
    """A named pipe at ``path`` that gives ``data`` once to the first reader (as bash's
    ``<(cat FILE)`` gives /dev/fd/63)."""
    os.mkfifo(path)

    def feed() -> None:
        with open(path, "wb") as f:
            f.write(data)

    threading.Thread(target=feed, daemon=True).start()
    return path


@PIPES
def test_a_named_pipe_is_an_input_read_once(tmp_path, capsys):
    """``taco compress <(cat x.png)`` said "/dev/fd/63: no such file or folder" (a pipe is not a
    regular file), ``taco.compress`` on a pipe "file is empty (0 bytes)", and ``taco decompress
    <(cat x.taco)`` read the pipe twice (its header, then the file: empty). A pipe is read once,
    as a stream; without -o there is nothing to write beside it."""
    import taco

    made = tmp_path / "ref.taco"
    assert main(["compress", str(CHELSEA), "-m", "elic-tiny", "--caption", "", "-o", str(made), "--quiet"]) == 0
    ref = made.read_bytes()
    out = tmp_path / "x.taco"
    assert main(["compress", str(_piped(tmp_path / "in1", CHELSEA.read_bytes())), "-m", "elic-tiny",
                 "--caption", "", "-o", str(out), "--quiet"]) == 0
    assert out.read_bytes() == ref
    model = taco.create_model("elic-tiny", seed=0)
    assert taco.compress(str(_piped(tmp_path / "in2", CHELSEA.read_bytes())), None, model) == ref
    decoded = tmp_path / "x.png"
    assert main(["decompress", str(_piped(tmp_path / "in3", ref)), "-o", str(decoded), "--quiet"]) == 0
    assert main(["decompress", str(made), "-o", str(tmp_path / "ref.png"), "--quiet"]) == 0
    assert decoded.read_bytes() == (tmp_path / "ref.png").read_bytes()
    capsys.readouterr()
    pipe = _piped(tmp_path / "in4", ref)
    assert main(["decompress", str(pipe)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"taco decompress: error: {pipe} is not a regular file (a pipe or a device): there is no "
        "folder to write the output beside it; give -o FILE (or -o FOLDER/ for several)")
    with open(pipe, "rb") as f:  # let the feeding thread finish
        f.read()


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin")
def test_a_device_path_gets_no_output_beside_it(tmp_path, capsys, monkeypatch):
    """``taco compress /dev/stdin < x.png`` (a regular file behind the link) wrote
    /dev/stdin.taco: one line now. (``taco demo --image <(cat x.png)`` reads the pipe once and
    works: the tests below.)"""
    assert main(["compress", "/dev/stdin", "-m", "elic-tiny", "--caption", ""]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "taco compress: error: /dev/stdin is not a regular file (a pipe or a device): there is no "
        "folder to write the output beside it; give -o FILE (or -o FOLDER/ for several)")


# --------------------------------------------------------------------------- taco demo from a pipe
# It reads its image once: from a pipe (``--image <(cat x.png)``, ``/dev/stdin``) as from a file,
# the format and size it reports coming from that one read (taco.images.load_image).

@PIPES
def test_load_image_keeps_the_files_format_and_size(tmp_path):
    turned = tmp_path / "phone.jpg"  # stored sideways: load_image gives a turned copy, no .format
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(turned, exif=exif)
    image = load_image(turned)
    assert image.format is None and image.size == (4, 6)
    assert image.info["source_format"] == "JPEG"
    assert image.info["source_bytes"] == turned.stat().st_size
    piped = load_image(_piped(tmp_path / "pipe", CHELSEA.read_bytes()))
    assert piped.info["source_format"] == "PNG"
    assert piped.info["source_bytes"] == CHELSEA.stat().st_size


@PIPES
def test_run_demo_reads_a_pipe_as_the_file(tmp_path):
    pipe = _piped(tmp_path / "chelsea", CHELSEA.read_bytes())
    piped = run_demo("elic-tiny", str(pipe), "a cat", out_dir=tmp_path / "piped")
    from_file = run_demo("elic-tiny", str(CHELSEA), "a cat", out_dir=tmp_path / "file")
    assert piped["source_format"] == from_file["source_format"] == "PNG"
    assert piped["source_bytes"] == from_file["source_bytes"] == CHELSEA.stat().st_size
    assert Path(piped["files"][0]).read_bytes() == Path(from_file["files"][0]).read_bytes()


@PIPES
def test_taco_demo_takes_an_image_from_a_pipe(tmp_path, capsys):
    pipe = _piped(tmp_path / "in", CHELSEA.read_bytes())
    assert main(["demo", "--image", str(pipe), "-m", "elic-tiny", "--caption", "a cat",
                 "-o", str(tmp_path / "d")]) == 0
    size = CHELSEA.stat().st_size
    assert f"image      in (451x300, {size:,} bytes as PNG)" in capsys.readouterr().out.splitlines()
    assert (tmp_path / "d" / "in.taco").stat().st_size > 0
