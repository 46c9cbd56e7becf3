"""One way to say a note and one way to name some of many things.

Notes: every command says ``taco CMD: note: TEXT`` through :func:`taco.cli.common.note` (it was
written out at five places, some flushed, some not); the library's long jobs say theirs in their
command's voice (``taco evaluate: note:``, ``taco train: note:``), and what the library warns of
is a :class:`~taco.errors.TacoWarning` the CLI shows as ``taco CMD: warning: ...`` (evaluate
printed ``skipping CODEC: ...`` bare). Lists: :func:`taco.messages.some` says ``a, b, c and N
more`` for every message that was writing it out (seven times, two of them ``(and N more)``).
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
import torch

import taco.cli
from taco.messages import note, some
from taco.models import CheckpointError
from taco.models.checkpoint import check_finite


def test_some_names_the_first_few_and_counts_the_rest():
    assert some([]) == ""
    assert some(["a"]) == "a"
    assert some(["a", "b", "c"]) == "a, b, c"
    assert some(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
    assert some(["a", "b", "c"], 1) == "a and 2 more"
    assert some([Path("x.png"), Path("y.png")], 1) == "x.png and 1 more"  # any items, as str()
    assert some(list(range(1_003)), 2) == "0, 1 and 1,001 more"  # as count() groups thousands


def test_sentences_are_joined_by_semicolons_and_the_rest_is_one_more():
    """Items that hold commas: ``and N more`` after ``x, y`` would read as part of the last one."""
    wrong = ["a is [1] in the file, [2] in the model", "b is [3] in the file, [4] in the model",
             "c is [5] in the file, [6] in the model"]
    assert some(wrong, 2, sep="; ") == ("a is [1] in the file, [2] in the model; "
                                        "b is [3] in the file, [4] in the model; and 1 more")
    assert some(wrong[:2], 2, sep="; ") == "; ".join(wrong[:2])


def test_a_checkpoints_broken_tensors_are_named_as_every_list_is():
    state = {f"t{i}": torch.tensor([float("nan")]) for i in range(5)}
    with pytest.raises(CheckpointError, match=r"^tensors t0, t1, t2 and 2 more hold NaN"):
        check_finite(state)
    with pytest.raises(CheckpointError, match=r"^tensor t0 holds NaN"):
        check_finite({"t0": state["t0"]})


class _Stderr(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))
        super().flush()


def test_a_note_is_one_flushed_line_on_stderr(monkeypatch, capsys):
    err = _Stderr()
    monkeypatch.setattr(sys, "stderr", err)
    note("decompress", "'elic-tiny' has no trained weights")
    line = "taco decompress: note: 'elic-tiny' has no trained weights\n"
    assert err.getvalue() == line and err.flushed_at == [len(line)]  # before the work it is about
    assert capsys.readouterr().out == ""


def test_a_codec_evaluate_cannot_run_is_its_warning(tmp_path, monkeypatch, capsys):
    """``--classic bpg`` without bpgenc: the library warns (a caller can filter it), and the CLI
    says it as its other warnings, where it was a bare ``skipping bpg: ...`` line."""
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    monkeypatch.setenv("PATH", str(tmp_path))  # no bpgenc, bpgdec
    photos = tmp_path / "photos"  # a dataset that opens (an empty one is refused first)
    photos.mkdir()
    shutil.copy(Path(taco.__file__).parent / "assets" / "samples" / "skimage-chelsea.png", photos)
    assert taco.cli.main(["evaluate", str(photos), "--classic", "bpg", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "taco evaluate: warning: skipping bpg: BPG: bpgenc, bpgdec not on PATH" in err, err
    assert err[-1] == ("taco evaluate: error: nothing to evaluate: none of the --classic codecs is "
                       "available here"), err
    assert not any(line.startswith("skipping") for line in err), err
