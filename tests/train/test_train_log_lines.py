"""What ``taco train`` writes to a log (``nohup taco train ... > log``, a scheduler's output file):
a reader of ``tail -f log`` must tell a running job from a hung one. The caption encoding of a
run with ``data_on_device`` (an hour for COCO's 414,000 captions on a CPU) was silent: the first
line came once the set-up was done."""

from __future__ import annotations

import io
import re
import sys

import pytest

from taco.progress import bar_shown
from taco.text import get_text_encoder
from taco.train import load_config, train
from taco.train.caption_embeddings import CaptionTable


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_caption_encoding_is_said_before_it_starts(tmp_path, tiny, capsys):
    train(load_config(None, tiny(tmp_path / "run", max_steps=1, k_j=0, data_on_device="true")))
    lines = capsys.readouterr().err.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("train: preset "))
    encoded = re.search(r"text clip-tiny \(([\d,]+) captions encoded once\)", lines[summary])
    assert encoded, lines[summary]
    said = [line for line in lines[:summary] if line.startswith("train: ")]
    assert said == ["train: decoding 4 images onto cpu (data_on_device) ...",
                    f"train: encoding {encoded[1]} captions with clip-tiny ..."], lines


def test_the_caption_table_draws_a_bar_of_captions_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal that draws bars (not TERM=dumb's)
    monkeypatch.setattr(sys, "stderr", Terminal())
    captions = [f"a photo of thing {i}" for i in range(5)]
    said: list[str] = []
    table = CaptionTable.encode(captions, get_text_encoder("clip-tiny"), {"name": "clip-tiny"}, "cpu",
                                batch_size=2, progress=True, say=said.append)
    assert len(table) == 5 and said == ["encoding 5 captions with clip-tiny ..."]
    drawn = sys.stderr.getvalue()
    assert "captions: 100%" in drawn and "5/5" in drawn and "caption/s" in drawn, drawn
    assert not bar_shown()  # closed


@pytest.mark.parametrize("progress", [True, False])
def test_no_bar_where_stderr_is_a_log_or_none_is_asked(monkeypatch, progress):
    monkeypatch.setattr(sys, "stderr", Terminal() if not progress else io.StringIO())
    CaptionTable.encode(["a cat", "a cup"], get_text_encoder("clip-tiny"), {"name": "clip-tiny"}, "cpu",
                        progress=progress)
    assert sys.stderr.getvalue() == ""


ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


@pytest.mark.parametrize("stderr", [io.StringIO, Terminal])
def test_progress_false_leaves_out_the_bar_not_the_step_lines(tmp_path, tiny, monkeypatch, stderr):
    """``progress: false`` (configs/taco-minilm-vr.yaml, elic-vr.yaml) took the step lines out of a
    log too: ``nohup taco train CONFIG > log`` said nothing between the summary and the end."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys, "stderr", stderr())
    train(load_config(None, tiny(tmp_path / "run", max_steps=2, progress="false", **ELIC)))
    err = sys.stderr.getvalue()
    steps = [line.split(":")[0] for line in err.splitlines() if line.startswith("step ")]
    assert steps == ["step 1/2", "step 2/2"] and "\r" not in err, err
