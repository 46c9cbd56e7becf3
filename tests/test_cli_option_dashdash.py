"""An option whose own value is ``--`` (``--model=--``, ``-o--``) is refused as an option given
no value is: ``taco compress: error: argument -m/--model: expected one argument`` (exit 2),
before torch loads. Python 3.11's argparse strips that ``--`` as if it ended the options,
leaving an empty list: ``taco compress img.png -o--`` was a TypeError traceback (exit 1),
``taco compress img.png --model=-- ...`` coded with the default model (exit 0), ``taco train
--set=--`` and ``taco bench --images=--`` went on with nothing. Python 3.13's argparse keeps
that ``--`` as the option's value: there it is the value (``--caption=--`` captions ``--``), not
refused (checked with a Python 3.13 found on this machine, if any)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taco.cli import build_parser
from taco.samples import SAMPLES_DIR

CHELSEA = SAMPLES_DIR / "skimage-chelsea.png"
NO_TORCH = ("torch", "compressai", "transformers", "numpy", "PIL")
#: Whether this Python's argparse drops an option's own value "--" (3.11, 3.12; 3.13 keeps it).
DROPS = sys.version_info < (3, 13)
ROOT = Path(__file__).resolve().parents[1]


def valued_options() -> list[tuple[str, str, str]]:
    """(command, option, expected) for every option of every command that takes a value, each
    of its spellings, read from the parsers."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, parser in sorted(sub.choices.items()):
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            one = action.nargs in (None, argparse.OPTIONAL)
            said = f"argument {'/'.join(action.option_strings)}: expected {'one' if one else 'at least one'} argument"
            found += [(command, option, said) for option in action.option_strings]
    return found


OPTIONS = valued_options()


def test_the_options_are_found() -> None:
    commands = {command for command, _, _ in OPTIONS}
    assert {"compress", "decompress", "train", "evaluate", "plot", "caption", "bench", "import-captions",
            "import-checkpoint", "demo"} <= commands
    assert ("compress", "-o", "argument -o/--output: expected one argument") in OPTIONS
    assert ("train", "--set", "argument --set: expected at least one argument") in OPTIONS
    assert len(OPTIONS) > 80


def refusal(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        build_parser(argv).parse_args(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and captured.err.rstrip("\n").endswith(errors[0]), captured.err
    return errors[0]


@pytest.mark.parametrize(("command", "option", "said"), OPTIONS,
                         ids=[f"{c} {o}" for c, o, _ in OPTIONS])
@pytest.mark.skipif(not DROPS, reason="this Python's argparse keeps an option's value '--'")
def test_an_options_own_value_dashdash_is_refused(command: str, option: str, said: str, capsys) -> None:
    joined = f"{option}=--" if option.startswith("--") else f"{option}--"
    assert refusal([command, joined], capsys) == f"taco {command}: error: {said}"
    assert refusal([command, "in.png", joined], capsys) == f"taco {command}: error: {said}"


def test_dashdash_still_ends_the_options(capsys) -> None:
    """A ``--`` of its own ends the options: the word after it is an input, and an option
    before it given no value is refused as before."""
    args = build_parser(["compress", "--", "-x.png"]).parse_args(["compress", "--", "-x.png"])
    assert args.images == ["-x.png"]
    said = refusal(["train", "--embed-captions", "--", "x.yaml"], capsys)
    assert said == "taco train: error: argument --embed-captions: expected one argument"
    args = build_parser(["compress"]).parse_args(["compress", "-o", "-", "in.png"])
    assert args.output == "-"


@pytest.mark.parametrize(("args", "said"), [
    (["compress", str(CHELSEA), "-o--"], "argument -o/--output: expected one argument"),
    (["compress", str(CHELSEA), "--model=--", "-o", "x.taco", "-f"], "argument -m/--model: expected one argument"),
    (["train", "--embed-captions=--"], "argument --embed-captions: expected one argument"),
    (["bench", "--quick", "--runs=--"], "argument --runs: expected one argument"),
    (["bench", "--images=--"], "argument --images: expected at least one argument"),
])
@pytest.mark.skipif(not DROPS, reason="this Python's argparse keeps an option's value '--'")
def test_refused_in_one_line_without_torch(probe, tmp_path: Path, args: list[str], said: str) -> None:
    r = probe(tmp_path, *args)
    assert r["code"] == 2, r["stderr"]
    assert r["stderr"].splitlines()[-1] == f"taco {args[0]}: error: {said}", r["stderr"]
    assert "Traceback" not in r["stderr"] and r["stdout"] == ""
    assert not set(NO_TORCH) & set(r["modules"]), sorted(set(NO_TORCH) & set(r["modules"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.json"]  # nothing written


KEEPS = """
import json, sys
from taco.cli import build_parser
out = {}
for w in json.loads(sys.argv[1]):
    try:
        out[" ".join(w)] = {k: v for k, v in vars(build_parser(w).parse_args(w)).items() if v == "--" or v == ["--"]}
    except SystemExit as e:
        out[" ".join(w)] = e.code
print(json.dumps(out))
"""


def _python(version: str) -> str | None:
    found = sorted(Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"), "versions").glob(f"{version}.*/bin/python"))
    return str(found[-1]) if found else None


@pytest.mark.parametrize("version", ["3.13", "3.12"])
def test_where_argparse_keeps_the_dashdash_it_is_the_value(version: str) -> None:
    """Python 3.13's argparse reads ``--caption=--`` as the caption ``--``: taco takes it (it was
    refused as a missing value on every Python); 3.12's drops it: refused there, as on 3.11."""
    python = _python(version)
    if python is None:
        pytest.skip(f"no Python {version} here")
    words = [["compress", "x.png", "--caption=--", "-o", "y.taco"], ["compress", "x.png", "-o--"],
             ["bench", "--images=--"], ["compress", "--", "-x.png"]]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([python, "-c", KEEPS, json.dumps(words)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    if version == "3.13":
        assert got == {"compress x.png --caption=-- -o y.taco": {"caption": "--"},
                       "compress x.png -o--": {"output": "--"}, "bench --images=--": {"images": ["--"]},
                       "compress -- -x.png": {}}
    else:
        assert got == {"compress x.png --caption=-- -o y.taco": 2, "compress x.png -o--": 2,
                       "bench --images=--": 2, "compress -- -x.png": {}}
