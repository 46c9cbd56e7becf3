"""taco compress's report wording, as helpers: the per-image line and the end of a batch."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

from taco.cli.common import Failures
from taco.cli.compress import Totals, end_of_batch, image_line
from taco.codec import CompressResult


def _res(nbytes: int, quality: int) -> CompressResult:
    return CompressResult(b"\0" * nbytes, height=10, width=20, header_bytes=24, quality=quality)


def test_image_line_says_orientation_and_budget_only_when_there():
    res = _res(50, 3)
    assert (image_line("[2/3] ", Path("a.png"), Path("a.taco"), res, 1, None, 12.3)
            == "[2/3] a.png -> a.taco: 20x10, 50 bytes, 2.0000 bpp, 12 ms")
    assert (image_line("", Path("a.png"), Path("a.taco"), res, 6, 60, 7.0)
            == "a.png -> a.taco: 20x10 (EXIF orientation 6 applied), quality 3 (budget 60 bytes), "
               "50 bytes, 2.0000 bpp, 7 ms")


def test_end_of_batch_names_the_qualities_chosen_weights_and_metadata(capsys):
    totals = Totals(with_metadata=2)
    totals.add(_res(50, 2), Path("a.png"))
    totals.add(_res(150, 4), Path("b.png"))
    resolved = SimpleNamespace(checkpoint=Path("my ck.safetensors"), model=SimpleNamespace(model_id="elic-tiny"))
    end_of_batch(argparse.Namespace(model="my ck.safetensors"), resolved, totals, Failures("compress"),
                 print, quality=None, sized=True, many=True, seconds=1.5)
    out, err = capsys.readouterr()
    assert out == ("compressed 2 images with elic-tiny (my ck.safetensors; decode with --model "
                   "'my ck.safetensors') at qualities 2..4: 200 bytes, 4.0000 bpp overall, 1.50 s\n")
    assert err == ("taco compress: note: 2 images' metadata (EXIF, XMP, IPTC or PNG text: date, "
                   "camera, GPS, author, copyright) is not kept in .taco files\n")


def test_end_of_batch_at_one_quality_and_nothing_written(capsys):
    resolved = SimpleNamespace(checkpoint=None, model=SimpleNamespace(model_id="elic-tiny"))
    end_of_batch(argparse.Namespace(model=None), resolved, Totals(), Failures("compress"), print,
                 quality=3, sized=False, many=True, seconds=0.25)
    assert capsys.readouterr().out == "compressed 0 images with elic-tiny at quality 3: 0 bytes, 0.25 s\n"
    end_of_batch(argparse.Namespace(model=None), resolved, Totals(), Failures("compress"), print,
                 quality=3, sized=False, many=False, seconds=0.25)
    assert capsys.readouterr().out == ""


def test_end_of_batch_shows_the_checkpoint_s_name_as_every_message_does(capsys):
    """``--model "$(printf 'ck\\e[2J\\nx.safetensors')"`` printed the name raw in the summary,
    twice: an escape code that cleared the screen and a line break in the middle of the line. It
    is shown escaped, and the way to decode said in words: pasted, the escaped name would name
    another file."""
    checkpoint = "ck\x1b[2J\nx.safetensors"
    totals = Totals()
    totals.add(_res(50, 0), Path("a.png"))
    resolved = SimpleNamespace(checkpoint=Path(checkpoint), model=SimpleNamespace(model_id="taco-minilm-tiny"))
    end_of_batch(argparse.Namespace(model=checkpoint), resolved, totals, Failures("compress"), print,
                 quality=None, sized=False, many=False, seconds=0.5)
    assert capsys.readouterr().out == (
        "compressed 1 image with taco-minilm-tiny (ck\\x1b[2J\\nx.safetensors; decode with --model "
        "naming this file): 50 bytes, 2.0000 bpp overall, 0.50 s\n")


def test_end_of_batch_names_a_checkpoint_starting_with_a_dash_as_a_shell_reads_it(capsys):
    """``decode with --model -ck.safetensors``, pasted, read the name as options."""
    resolved = SimpleNamespace(checkpoint=Path("-ck.safetensors"), model=SimpleNamespace(model_id="elic-tiny"))
    totals = Totals()
    totals.add(_res(50, 0), Path("a.png"))
    end_of_batch(argparse.Namespace(model="-ck.safetensors"), resolved, totals, Failures("compress"), print,
                 quality=None, sized=False, many=False, seconds=0.5)
    assert capsys.readouterr().out == (
        "compressed 1 image with elic-tiny (-ck.safetensors; decode with --model ./-ck.safetensors): "
        "50 bytes, 2.0000 bpp overall, 0.50 s\n")


def test_the_kept_over_the_limit_note_writes_the_limit_as_the_option_takes_it(monkeypatch):
    """The --skip-existing note said 'over the --max-bytes 1,000 limit', a number the option
    refuses ("not an integer: '1,000'") when copied: it is written as given now."""
    import re

    import taco.cli.compress
    from taco.cli.common import positive_int
    from taco.cli.compress import kept_settings_note

    header = SimpleNamespace(model_id="elic-vr", fingerprint=b"f", quality=7, width=640, height=480)
    monkeypatch.setattr(taco.cli.compress, "read_taco",
                        lambda path: SimpleNamespace(header=header, total_bytes=12_345))
    limit = argparse.Namespace(max_bytes=1000, target_bpp=None)
    text = kept_settings_note([Path("a.taco"), Path("b.taco")], "elic-vr", None, limit=limit)
    assert text == ("2 outputs kept by --skip-existing are over the --max-bytes 1000 limit "
                    "(a.taco: 12,345 bytes): --force codes them again")
    given = re.search(r"--max-bytes (\S+) limit", text or "")
    assert given is not None and positive_int(given.group(1)) == 1000


def test_the_kept_outputs_note_says_it_of_one_output(monkeypatch):
    """'1 output kept by --skip-existing was made with another model ...: --force codes them
    again': one output is 'it'."""
    import taco.cli.compress
    from taco.cli.compress import kept_settings_note

    header = SimpleNamespace(model_id="elic-vr", fingerprint=b"f", quality=7, width=640, height=480)
    monkeypatch.setattr(taco.cli.compress, "read_taco",
                        lambda path: SimpleNamespace(header=header, total_bytes=12_345))
    limit = argparse.Namespace(max_bytes=1000, target_bpp=None)
    assert kept_settings_note([Path("a.taco")], "elic-tiny", None, limit=limit) == (
        "1 output kept by --skip-existing was made with another model or quality (a.taco: elic-vr -q 7; "
        "this run: elic-tiny), and 1 is over the --max-bytes 1000 limit (a.taco: 12,345 bytes): "
        "--force codes it again")
    assert kept_settings_note([Path("a.taco"), Path("b.taco")], "elic-vr", None, limit=limit).endswith(
        "--force codes them again")
