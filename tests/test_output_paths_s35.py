"""Session 35, review C45: an output path through a regular file is refused by ``taco train`` in
the words ``taco compress`` (and demo, bench) use, up front, exit 2, before torch loads (``taco evaluate`` and
``taco plot``: tests/evaluation/test_eval_plot_output_paths_s35.py)."""

from __future__ import annotations

import subprocess
import sys

CAN_NOT = "cannot create the output folder"


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

