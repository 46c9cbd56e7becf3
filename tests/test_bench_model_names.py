"""``taco bench --taco-model/--elic-model`` take architecture names (it times random weights): a
built-in trained model, a typo or the wrong kind is one line and exit 2, not a traceback from the
model registry or the memory probe's child process."""

from __future__ import annotations

import pytest

from taco.cli import main


@pytest.mark.parametrize(("argv", "said"), [
    (["--taco-model", "taco-minilm-small-q4"], "--taco-model 'taco-minilm-small-q4': not an architecture name"),
    (["--elic-model", "nonsense"], "--elic-model 'nonsense': not an architecture name"),
    (["--taco-model", "elic-tiny"], "--taco-model 'elic-tiny': takes no text; --taco-model takes a text-guided"),
    (["--elic-model", "taco-tiny"], "--elic-model 'taco-tiny': is text-guided; --elic-model takes one without text"),
    (["--memory", "64x64", "--taco-model", "elic-small-q4"], "--taco-model 'elic-small-q4': not an architecture name"),
])
def test_a_model_that_is_not_an_architecture_is_one_line(argv, said, capsys):
    assert main(["bench", "--quick", "--device", "cpu", *argv]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"taco bench: error: {said}"), lines
