"""Output paths of taco compress, decompress, bench and demo, and taco train's out_dir.

1. A quoted ``~`` (``--output='~/o/'``, ``--json '~/b.json'``: the shell leaves it) made a
   folder literally named ``~`` in the current one; every path a command is given now expands a
   leading ``~`` (``taco.cli.common.path_arg``), inputs too, as evaluate's already did.
2. ``-f`` with an output that is a link into a folder that takes no new files was refused only
   at the write, after the coding, naming the link's folder: now before any work, naming the
   file the link points to.
3. An output that is a link to a missing file, without ``-f``, was coded, then refused as
   "exists (written meanwhile, by another process?)": now refused before any work as a link to a
   missing file, and ``-f`` writes through it.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import taco.atomic
from taco.cli import build_parser, main
from taco.cli.common import CLIError


@pytest.fixture
def home(home: Path) -> Path:
    """conftest's home of its own, with a photo a.png in the current folder beside it."""
    Image.new("RGB", (32, 32), (120, 60, 30)).save(Path.cwd() / "a.png")
    return home


def parsed(argv: list[str]):
    return build_parser(argv).parse_args(argv)


@pytest.mark.parametrize(("argv", "dest", "under_home"), [
    (["compress", "a.png", "--output=~/o/"], "output", "o/"),
    (["decompress", "x.taco", "--output=~/o/"], "output", "o/"),
    (["bench", "--json", "~/b.json"], "output", "b.json"),
    (["demo", "-o", "~/d"], "output", "d"),
    (["compress", "~/a.png"], "images", "a.png"),
    (["compress", "a.png", "--captions", "~/c.jsonl"], "captions", "c.jsonl"),
])
def test_every_path_expands_a_leading_tilde(home, argv, dest, under_home) -> None:
    value = getattr(parsed(argv), dest)
    value = value[0] if isinstance(value, list) else value
    assert value == str(home) + "/" + under_home


def test_compress_and_decompress_write_under_home(home) -> None:
    assert main(["compress", "a.png", "-m", "elic-tiny", "--output=~/o/"]) == 0
    assert (home / "o" / "a.taco").is_file()
    assert main(["decompress", "~/o/a.taco", "--output=~/o/"]) == 0
    assert (home / "o" / "a.decoded.png").is_file()  # beside its source there
    assert not Path("~").exists()


def test_bench_json_under_home_is_checked_there(home, capsys) -> None:
    (home / "b.json").write_text("{}")  # refused before the bench runs: it names the expanded path
    assert main(["bench", "--quick", "--images", "a.png", "--json", "~/b.json"]) == 2
    err = capsys.readouterr().err
    assert str(home / "b.json") in err and "exists" in err, err
    assert not Path("~").exists()


def test_a_forced_link_into_a_folder_taking_no_files_is_refused_first(home, monkeypatch, capsys) -> None:
    other = home / "ro"
    other.mkdir()
    Path("o2").mkdir()
    Path("o2/a.taco").symlink_to(other / "real.taco")
    real_check = taco.atomic.folder_write_error
    monkeypatch.setattr(taco.atomic, "folder_write_error", lambda folder: (
        OSError(errno.EPERM, os.strerror(errno.EPERM)) if Path(folder) == other else real_check(folder)))
    assert main(["compress", "a.png", "--caption", "x", "-m", "elic-tiny", "-o", "o2/", "-f"]) == 2
    err = capsys.readouterr().err  # exit 2 before the coding (it was 3, after it, at the write)
    assert err.strip() == (f"taco compress: error: o2/a.taco links to {other / 'real.taco'}, whose "
                           "folder takes no new files: operation not permitted"), err


def test_a_forced_link_into_a_missing_folder_is_refused_first(home, capsys) -> None:
    Path("x.taco").symlink_to(home / "nowhere" / "x.taco")
    assert main(["compress", "a.png", "--caption", "x", "-m", "elic-tiny", "-o", "x.taco", "-f"]) == 2
    err = capsys.readouterr().err
    assert f"x.taco links to {home / 'nowhere' / 'x.taco'}, in a folder that does not exist" in err, err


def test_a_link_to_a_missing_file_is_refused_first_and_forced_through(home, capsys) -> None:
    target = home / "target.taco"
    Path("dang.taco").symlink_to(target)
    assert main(["compress", "a.png", "--caption", "x", "-m", "elic-tiny", "-o", "dang.taco"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"taco compress: error: dang.taco links to {target}, a missing file; "
                           "pass --force to write it through the link"), err
    assert "meanwhile" not in err and not target.exists()
    assert main(["compress", "a.png", "--caption", "x", "-m", "elic-tiny", "-o", "dang.taco", "-f"]) == 0
    assert Path("dang.taco").is_symlink() and target.is_file()


def test_skip_existing_refuses_a_link_to_a_missing_file_first(home, capsys) -> None:
    """--skip-existing coded the image, then left the link with 'exists (written meanwhile, by
    another process?)': there is no output there to keep."""
    target = home / "target.taco"
    Path("dang.taco").symlink_to(target)
    assert main(["compress", "a.png", "-m", "elic-tiny", "-o", "dang.taco", "--skip-existing"]) == 2
    err = capsys.readouterr().err
    assert f"dang.taco links to {target}, a missing file; pass --force" in err and "meanwhile" not in err, err


def test_a_link_to_a_missing_file_in_a_missing_folder_says_so_without_force(home, capsys) -> None:
    Path("x.taco").symlink_to(home / "nowhere" / "x.taco")
    assert main(["compress", "a.png", "-m", "elic-tiny", "-o", "x.taco"]) == 2
    assert "in a folder that does not exist" in capsys.readouterr().err


CAN_NOT = "cannot create the output folder"


# taco evaluate's and taco plot's: tests/evaluation/test_eval_plot_output_paths.py

def test_train_refuses_an_out_dir_through_a_file_before_torch_loads(tmp_path):
    (tmp_path / "afile").write_text("x")
    code = ("import sys\nfrom taco.cli import main\nrc = main(['train', '--set', 'out_dir=afile/run'])\n"
            "print('torch' in sys.modules)\nsys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"taco train: error: {CAN_NOT} afile/run: {tmp_path / 'afile'} is not a folder"], done.stderr
    assert done.stdout.strip() == "False"
    assert not (tmp_path / "afile.taco-lock").exists()


def test_train_out_dir_given_as_option_is_checked_too(tmp_path, capsys):
    from taco.cli import main

    (tmp_path / "afile").write_text("x")
    assert main(["train", "-o", str(tmp_path / "afile" / "run")]) == 2
    assert f"{CAN_NOT} {tmp_path / 'afile' / 'run'}: " in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_closed_or_terminal_says_which():
    from taco.cli.files import closed_or_terminal

    assert closed_or_terminal(None) == "closed"
    assert closed_or_terminal(_Tty()) == "a terminal"
    assert closed_or_terminal(io.StringIO()) is None


def test_standard_output_on_a_terminal_is_refused(monkeypatch, tmp_path):
    from taco.cli.files import plan_outputs

    monkeypatch.setattr("sys.stdout", _Tty())
    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    with pytest.raises(CLIError, match="standard output is a terminal: redirect it"):
        plan_outputs([src], "-", to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)


def test_one_file_into_a_missing_folder_is_refused(tmp_path):
    from taco.cli.files import plan_outputs

    src = tmp_path / "a.png"
    src.write_bytes(b"x")
    out = tmp_path / "nosuch" / "a.taco"
    with pytest.raises(CLIError, match="does not exist"):
        plan_outputs([src], str(out), to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)
    assert not out.parent.exists()


def test_standard_output_takes_one_input_not_two(tmp_path):
    from taco.cli.files import plan_outputs

    sources = [tmp_path / "a.png", tmp_path / "b.png"]
    for s in sources:
        s.write_bytes(b"x")
    with pytest.raises(CLIError, match=r"-o - \(standard output\) takes one input; got 2"):
        plan_outputs(sources, "-", to_folder=False, suffix=".taco", beside_suffix=".taco", force=False)
