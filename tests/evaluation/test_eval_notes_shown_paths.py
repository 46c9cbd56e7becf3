"""``taco evaluate``'s notes are every command's notes (:func:`taco.messages.note`): one flushed
line on stderr, a file name in it shown as :func:`taco.messages.shown_path` shows it. evaluate
wrote its own ``taco evaluate: note: TEXT``, unflushed and with a checkpoint's name as it was
(a name holding a line feed or an escape code broke the line or drove the terminal)."""

from __future__ import annotations

import sys

import taco.evaluation.evaluate as evaluate
from taco.distributed import DistEnv
from taco.evaluation.evaluate import EvalConfig, ModelInfo
from taco.messages import note


class _Model:
    qualities = ()


def test_a_note_is_one_flushed_line_with_its_names_shown(monkeypatch, capsys):
    flushed = []
    monkeypatch.setattr(sys.stderr, "flush", lambda: flushed.append(True), raising=False)
    note("evaluate", "runs/a\nb\x1b[2J/checkpoint.safetensors: left out")
    assert capsys.readouterr().err == "taco evaluate: note: runs/a\\nb\\x1b[2J/checkpoint.safetensors: left out\n"
    assert flushed


def test_evaluates_notes_show_a_checkpoints_name_as_every_note_does(monkeypatch, capsys):
    shadowed = "elic-tiny\n\x1b[2J/checkpoint.safetensors"
    info = ModelInfo(spec="elic-tiny", model_id="elic-tiny", trained=False, fingerprint="0" * 16,
                     shadowed=shadowed)
    monkeypatch.setattr(evaluate, "load_model", lambda spec, device: (_Model(), info))
    evaluate._load_models(EvalConfig(datasets=[], models=["elic-tiny"]), "cpu", DistEnv())
    err = capsys.readouterr().err.splitlines()
    assert err == ["taco evaluate: note: 'elic-tiny' has no trained weights; using its seed-0 random "
                   "initialisation (its quality numbers are meaningless); ./elic-tiny holds a checkpoint "
                   "(elic-tiny\\n\\x1b[2J/checkpoint.safetensors), but 'elic-tiny' is the built-in "
                   "name: give ./elic-tiny to use that checkpoint"], err
