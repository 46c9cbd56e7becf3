"""A quoted ``-o '~/x'`` of taco evaluate, plot, caption and import-captions reaches taco with
its ``~``; taco made a folder literally named ``~`` in the current one (evaluate, caption,
import-captions) or refused a stem's folder as missing (plot), while DATASET, ``-m`` and taco
train's out_dir expand it. Now every path of these commands does (Review EN-C #1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from taco.evaluation import evaluate, plot


def no_tilde_folder() -> bool:
    return not Path("~").exists()


def test_evaluate_output_under_home(taco_main, folder_factory, home, monkeypatch) -> None:
    folder_factory(home / "ds")
    seen = []
    monkeypatch.setattr(evaluate, "run_evaluation", lambda cfg: seen.append(cfg) or [])
    assert taco_main(["evaluate", "folder:~/ds", "-o", "~/evt", "--classic", "jpeg",
                      "--qualities", "jpeg=50", "--fid", "off", "--cmmd-clip", "off", "--no-plot"]) == 0
    assert seen[0].output == home / "evt"
    assert no_tilde_folder()


def test_plot_output_under_home(taco_main, home, monkeypatch) -> None:
    (home / "figs").mkdir()
    (home / "r.json").write_text("{}")
    seen = []
    monkeypatch.setattr(plot, "plot_results", lambda results, output, **kw: seen.append(output) or [])
    assert taco_main(["plot", str(home / "r.json"), "-o", "~/figs/rd"]) == 0
    assert seen == [str(home / "figs" / "rd")]


def test_caption_folder_and_output_under_home(taco_main, folder_factory, home, capsys) -> None:
    photos = folder_factory(home / "photos")  # every image captioned: nothing to do, no captioner
    assert taco_main(["caption", "~/photos"]) == 0
    assert "nothing to caption" in capsys.readouterr().out
    shutil.copy(photos / "captions.jsonl", home / "caps.jsonl")
    assert taco_main(["caption", "~/photos", "-o", "~/caps.jsonl"]) == 0
    assert "caps.jsonl: nothing to caption" in capsys.readouterr().out
    assert no_tilde_folder()


def test_import_captions_output_under_home(taco_main, home) -> None:
    source = home / "kodak_ofa.json"
    source.write_text(json.dumps({"kodim01.png": "a door"}))
    assert taco_main(["import-captions", str(source), "-o", "~/kodak/"]) == 0
    assert (home / "kodak" / "captions.jsonl").is_file()
    assert no_tilde_folder()
