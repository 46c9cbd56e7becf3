"""Mutation round 9 (session 35): tests for what today's new code let survive."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import taco
from taco.bitstream import unpack
from taco.resolve import decode_problems


@pytest.fixture(scope="module")
def wide():
    model = taco.create_model("elic-vr")
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return model, unpack(taco.compress(image, None, model)).header


def test_checked_keeps_each_weights_and_given_apart(wide) -> None:
    """``checked`` is keyed by (given, model, weights): a file of the same model with other
    weights is checked on its own, and so is the same file asked with another ``given``."""
    model, header = wide
    other = dataclasses.replace(header, fingerprint=bytes(len(header.fingerprint)))
    checked: dict = {}
    assert decode_problems(header, model, given=None, cli=True, max_pixels=None,
                           checked=checked) == (None, None)
    made_with, _ = decode_problems(other, model, given=None, cli=True, max_pixels=None, checked=checked)
    assert made_with is not None and "elic-vr" in made_with
    fresh = decode_problems(other, model, given="elic-vr", cli=True, max_pixels=None)
    assert fresh[0] is not None and fresh[0] != made_with  # the words differ with --model
    assert decode_problems(other, model, given="elic-vr", cli=True, max_pixels=None,
                           checked=checked) == fresh


class _Stdout:
    """A standard output that records its flushes, or fails each write with ``error``."""

    def __init__(self, error: OSError | None = None) -> None:
        self.error, self.text, self.flushed = error, "", ""

    def write(self, s: str) -> int:
        if self.error is not None:
            raise self.error
        self.text += s
        return len(s)

    def flush(self) -> None:
        self.flushed = self.text


def test_report_to_flushes_each_line(monkeypatch) -> None:
    from taco.cli.files import report_to

    out = _Stdout()
    monkeypatch.setattr("sys.stdout", out)
    report_to()("one line")
    assert out.flushed == "one line\n"  # on its way now, not at exit


def test_report_to_names_stdout_only_for_an_error_that_names_no_file(monkeypatch) -> None:
    import errno

    from taco.cli.files import report_to

    monkeypatch.setattr("sys.stdout", _Stdout(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError) as caught:
        report_to()("x")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == "<stdout>"
    named = OSError(errno.EIO, "Input/output error", "elsewhere.txt")
    monkeypatch.setattr("sys.stdout", _Stdout(named))
    with pytest.raises(OSError) as caught:
        report_to()("x")
    assert caught.value is named  # an error that names its own file is left as it is


def test_print_config_is_the_yaml_once_ending_in_one_newline(tmp_path, capsys) -> None:
    from pathlib import Path

    from taco.cli import main

    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    assert main(["train", str(smoke), "-o", str(tmp_path / "run"), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and not out.endswith("\n\n")  # as dump_config writes it, no blank line


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full here")
def test_decompress_counts_each_file_written_when_stdout_is_full(tmp_path, tiny_elic) -> None:
    """A batch whose report line cannot be printed stops after the file it wrote, and counts it."""
    import subprocess
    import sys

    image = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for name in ("a", "b"):
        (tmp_path / f"{name}.taco").write_bytes(taco.compress(image, None, tiny_elic))
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "taco", "decompress", str(tmp_path / "a.taco"),
                               str(tmp_path / "b.taco"), "-o", str(out)], stdin=subprocess.DEVNULL,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 3  # a.png written and kept: done in part
    last = done.stderr.splitlines()[-1]
    assert last.startswith("taco decompress: error: stopped after 1 of 2 files: "
                           "<stdout>: no space left on device"), last
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]


def test_models_json_lines_carry_every_key_some_model_has(capsys) -> None:
    """Keys that only some models have (a built-in's, a checkpoint's, a shadowing file's) are on
    an untrained architecture's line too, as null."""
    import json

    from taco.cli import main

    assert main(["models", "--json", "elic-tiny"]) == 0
    (line,) = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    only_some = ("file", "file_bytes", "sha256", "trained_on", "description", "model_id", "training",
                 "shadowed_checkpoint")
    assert all(k in line and line[k] is None for k in only_some), line


def test_a_dataset_s_header_check_says_the_cap_without_the_python_way(tmp_path) -> None:
    """``min_side`` reads each image's header at construction: an image whose header Pillow will
    not open (its bomb check) is read by load_image, over the cap: dropped as unreadable, its
    reason the size and the cap alone, as on load."""
    import struct
    import zlib

    from PIL import Image

    from taco.captions_file import CaptionRecord
    from taco.data import CaptionedImages

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 20000, 10000, 1, 0, 0, 0, 0)  # over Pillow's bomb check too
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                                        + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    Image.new("RGB", (64, 64)).save(tmp_path / "small.png")
    records = [CaptionRecord("huge.png", ("x",)), CaptionRecord("small.png", ("y",))]
    from taco.data import SkippedImageWarning

    with pytest.warns(SkippedImageWarning, match="huge.png: a 20000x10000 image"):
        dataset = CaptionedImages(tmp_path, records, min_side=16)
    assert dataset.unreadable == 1
    assert dataset.read_error == "a 20000x10000 image (200,000,000 pixels), over the cap of 100,000,000"


def test_read_reason_keeps_any_other_reason() -> None:
    from taco.data import read_reason
    from taco.images import ImageReadError

    assert read_reason(ImageReadError("a.png", "file is empty (0 bytes)")) == "file is empty (0 bytes)"
