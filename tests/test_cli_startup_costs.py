"""Start-up costs a command does not need: ``taco --version`` builds no command's parser,
``taco --help`` lists the commands from :data:`taco.cli.COMMAND_HELP` (the same text), an output
suffix is found without loading every Pillow plugin, and ``--quiet`` starts no progress thread."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from taco import __version__
from taco.cli import COMMAND_HELP, COMMAND_MODULES, build_parser
from taco.cli.progress_line import StageReporter

ROOT = Path(__file__).resolve().parents[1]


def test_version_imports_no_command_module(probe, tmp_path: Path) -> None:
    r = probe(tmp_path, "--version")
    assert r["code"] == 0 and r["stdout"] == f"taco {__version__}\n"
    assert not set(COMMAND_MODULES) & set(r["modules"])


def test_help_imports_no_command_module(probe, tmp_path: Path) -> None:
    r = probe(tmp_path, "--help")
    assert r["code"] == 0 and "import-checkpoint" in r["stdout"]
    assert not set(COMMAND_MODULES) & set(r["modules"])


def test_command_help_lists_the_commands_in_the_full_parsers_order() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")  # every module's register()
    assert [(a.dest, a.help) for a in sub._choices_actions] == list(COMMAND_HELP.items())


@pytest.mark.parametrize("command", ["info", "decompress"])
def test_info_and_decompress_import_no_captions_reader(probe, tmp_path: Path, command: str) -> None:
    r = probe(tmp_path, command, str(tmp_path / "missing.taco"))
    assert r["code"] == 2 and "missing.taco" in r["stderr"]
    assert "taco.cli.inputs" in r["modules"] and "taco.captions_file" not in r["modules"]


@pytest.mark.parametrize("command", ["compress", "train", "plot", "import-captions", "bench",
                                     "import-checkpoint"])
def test_each_module_adds_its_command_with_the_help_listed(monkeypatch, command: str) -> None:
    monkeypatch.setitem(COMMAND_HELP, command, "the one text")
    sub = next(a for a in build_parser([command])._actions if a.dest == "command")
    assert [a.help for a in sub._choices_actions if a.dest == command] == ["the one text"]


@pytest.mark.parametrize("columns", ["80", "200"])
def test_top_level_help_is_the_full_parsers(monkeypatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    full = build_parser().format_help()
    for first in ("--help", "-h", "--he"):
        assert build_parser([first]).format_help() == full


@pytest.mark.parametrize("argv", [["compres", "x.png"], ["imprt-checkpoint"], [""], []])
def test_a_mistyped_or_missing_command_is_refused_as_before(capsys, argv: list[str]) -> None:
    def refusal(parser) -> str:
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == 2
        return capsys.readouterr().err

    before = refusal(build_parser())
    assert refusal(build_parser(argv)) == before
    if argv and argv[0] == "compres":
        assert "(did you mean 'compress' or 'decompress'?)" in before


SUFFIXES = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".PNG", ".webp", ".tif", ".xyz"]

SAVE_FORMATS = """
import json, sys
from pathlib import Path
from taco.cli.files import save_format
common = {s: save_format(Path("out" + s)) for s in sys.argv[1:8]}
loaded = sorted(m for m in sys.modules if m.endswith("ImagePlugin"))
rest = {s: save_format(Path("out" + s)) for s in sys.argv[8:]}
from PIL import Image
every = Image.registered_extensions()
print(json.dumps({"found": {**common, **rest}, "loaded": loaded,
                  "before": {s: every.get(s.lower()) for s in sys.argv[1:]}}))
"""


def test_an_output_suffix_is_found_without_every_pillow_plugin() -> None:
    r = subprocess.run([sys.executable, "-c", SAVE_FORMATS, *SUFFIXES], capture_output=True, text=True,
                       cwd=ROOT, timeout=120, check=True)
    result = json.loads(r.stdout)
    assert result["found"] == result["before"]  # registered_extensions()'s, as before
    assert result["found"][".xyz"] is None and result["found"][".PNG"] == "PNG"
    assert len(result["loaded"]) <= 6 and "PIL.WebPImagePlugin" not in result["loaded"], result["loaded"]


def progress_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "taco-progress"]


def test_an_infinite_delay_starts_no_thread() -> None:
    stream = io.StringIO()
    with StageReporter("a.png", delay=float("inf"), stream=stream) as report:
        assert not progress_threads()
        report("analysis", 1, 2)
    assert stream.getvalue() == ""


def test_a_finite_delay_keeps_its_thread() -> None:
    with StageReporter("a.png", delay=0.0, stream=io.StringIO()):
        assert len(progress_threads()) == 1
    assert not progress_threads()
