"""What the help and report lines say matches what the commands do: defaults shown (evaluate
--seed/--threads, plot --metrics/--reference), --device's torchrun words only where torchrun
runs the command, demo's device (always the CPU) and --caption, evaluate refusing an
--anchor that --no-plot would ignore, and import-captions' line in taco --help naming the
layouts it reads."""

from __future__ import annotations

import pytest

from taco.cli import main
from taco.cli.demo import demo_lines


def test_evaluate_says_its_seed_and_threads_defaults(cli_help) -> None:
    text = " ".join(cli_help("evaluate").split())
    assert "seed of the shuffled captions and the bootstraps (default: 0)" in text
    assert "1 is fastest on a busy machine; default: torch's own choice)" in text
    assert "coco30k (comma-separated; default: auto)" in text


def test_plot_lists_its_metrics_and_reference_default(cli_help) -> None:
    from taco.evaluation.plot import PANELS

    text = " ".join(cli_help("plot").split())
    assert f"panels, comma-separated, of {', '.join(PANELS)} (default: all)" in text
    assert "coco30k (comma-separated; default: auto)" in text


@pytest.mark.parametrize(("command", "torchrun"), [("train", True), ("evaluate", True),
                                                   ("caption", False), ("bench", False)])
def test_device_mentions_torchrun_only_where_it_runs(command, torchrun, cli_help) -> None:
    text = " ".join(cli_help(command).split())
    assert "this process's GPU when torch sees one" in text
    assert ("under torchrun each rank's own" in text) == torchrun


def test_import_captions_line_names_one_object_and_json_lines(cli_help) -> None:
    """taco --help said import-captions reads 'lists of objects', though since b10e504 it reads
    one object alone and JSON Lines too, as its own --help says."""
    listed = " ".join(cli_help("").split())
    assert ("import-captions caption JSON (the authors', COCO's, lists of objects or one alone, "
            "JSON Lines) -> captions.jsonl") in listed
    assert "a list, one alone, or JSON Lines" in " ".join(cli_help("import-captions").split())


def test_demo_says_its_caption_is_for_the_sample_too(cli_help) -> None:
    text = " ".join(cli_help("demo").split())
    assert "--caption CAPTION caption, for the sample or --image (default: the sample's own;" in text


def test_demo_says_it_ran_on_the_cpu() -> None:
    result = {"files": ["d/cat.taco"], "model": "m", "trained": True, "image": "cat.png",
              "size": "4x3", "source_bytes": 9, "source_format": "PNG", "reads_text": True,
              "caption": "a cat", "taco_bytes": 5, "bpp": 0.1, "psnr_db": 30.0, "lpips_alex": 0.2,
              "encode_ms": 1, "decode_ms": 2, "text_encoder_load_ms": 3, "classic": {}}
    time = next(line for line in demo_lines(result) if line.startswith("time "))
    assert time == "time       encode 1 ms, decode 2 ms (CPU; text encoder load 3 ms)"


def test_evaluate_refuses_anchor_with_no_plot(capsys) -> None:
    assert main(["evaluate", "samples", "--no-plot", "--anchor", "WebP"]) == 2
    assert capsys.readouterr().err.strip() == (
        "taco evaluate: error: --anchor names the BD-rate table's anchor, which --no-plot does not "
        "write: give one or the other (taco plot --anchor draws the table later)")
