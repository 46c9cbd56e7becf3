"""taco train takes -o for its run's folder, as every other command takes -o for its output
(it had only --out-dir); docs/training.md lists it. There is no -m (docs/training.md says why:
elsewhere -m names weights, here the model key names an architecture; weights are --init-from)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taco.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "configs" / "smoke.yaml"


@pytest.mark.parametrize("flag", ["-o", "--out-dir"])
def test_o_is_the_out_dir(tmp_path, capsys, flag):
    assert main(["train", str(SMOKE), flag, str(tmp_path / "mine"), "--print-config"]) == 0
    assert f"out_dir: {tmp_path / 'mine'}" in capsys.readouterr().out.splitlines()


def test_help_and_docs_list_it(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "-o DIR, --out-dir DIR" in capsys.readouterr().out
    docs = " ".join((ROOT / "docs" / "training.md").read_text(encoding="utf-8").split())
    assert "Shortcuts: `-o`/`--out-dir`" in docs and "There is no `-m`" in docs
