"""Count options of ``taco evaluate``, ``taco plot`` and ``taco caption`` are checked by argparse
(taco.cli.common.positive_int / non_negative_int): a bad count exits 2 with one line naming the
option, before any model or captioner loads. They were plain ``int``: ``taco caption --limit -1``
left out the last image (``[:limit]``), ``--batch-size 0`` failed only after the captioner had
loaded, ``--threads 0`` was silently the default, a negative ``--bootstrap`` or ``--seed`` failed
after the whole run."""

from __future__ import annotations

import pytest

import taco.cli
from taco.evaluation import caption, evaluate, plot
from taco.evaluation.caption import caption_folder


@pytest.fixture
def taco_main(monkeypatch):
    """``taco.cli.main`` with only the evaluation commands, and nothing behind them to load."""
    monkeypatch.setattr(taco.cli, "COMMAND_MODULES", ("taco.evaluation.cli",))
    for module, name in ((caption, "Captioner"), (evaluate, "run_evaluation"), (plot, "plot_results")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("loaded before the count was checked"))
    return taco.cli.main


AT_LEAST_1 = [("caption", "--limit", "-1"), ("caption", "--limit", "0"), ("caption", "--batch-size", "0"),
              ("caption", "--max-new-tokens", "0"), ("evaluate", "--limit", "0"),
              ("evaluate", "--threads", "0")]
AT_LEAST_0 = [("evaluate", "--bootstrap", "-1"), ("evaluate", "--crop", "-256"),
              ("evaluate", "--fid-min-images", "-5"), ("evaluate", "--seed", "-1"),
              ("plot", "--bootstrap", "-3"), ("plot", "--seed", "-1")]


@pytest.mark.parametrize("command, option, value", AT_LEAST_1 + AT_LEAST_0)
def test_a_bad_count_exits_2_naming_the_option_before_anything_loads(taco_main, tmp_path, capsys,
                                                                     command, option, value):
    positional = {"caption": str(tmp_path), "evaluate": "samples", "plot": str(tmp_path)}[command]
    with pytest.raises(SystemExit) as stop:
        taco_main([command, positional, option, value])
    assert stop.value.code == 2
    low = 1 if (command, option, value) in AT_LEAST_1 else 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"taco {command}: error: argument {option}: must be at least {low}, got {value}")


@pytest.mark.parametrize("option", ["--crop", "--bootstrap", "--fid-min-images", "--seed"])
def test_zero_keeps_its_meaning_where_it_has_one(option):
    """--crop 0: no crop; --bootstrap 0: no intervals; --fid-min-images 0: whole images always."""
    args = taco.cli.build_parser().parse_args(["evaluate", "samples", option, "0"])
    assert getattr(args, option[2:].replace("-", "_")) == 0


@pytest.mark.parametrize("keyword, value", [("limit", -1), ("limit", 0), ("batch_size", 0)])
def test_caption_folder_refuses_counts_below_one(tmp_path, keyword, value):
    with pytest.raises(ValueError, match=f"^{keyword} must be at least 1, got {value}$"):
        caption_folder(tmp_path, None, **{keyword: value})  # type: ignore[arg-type]
