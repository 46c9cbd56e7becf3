"""Review R8-A. (1) ``taco train --resume RUN`` of a warm-started run was refused when the model
it started from (init_from) was gone, though a resume goes on from the state's own weights:
init_from is neither looked up nor loaded then, and config.yaml keeps it as the record of where
the run started. (2) The CLI compared a given init_from with config.yaml and the trainer with
the state's config, so a command could pass one and be refused by the other: both compare with
the state's, and the CLI names --init-from when the flag gave it."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from taco.cli import main as taco_main

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def _warm(tmp_path: Path, tiny, capsys) -> tuple[Path, Path]:
    """(a 1-step run from scratch, a 1-step run warm-started from it)."""
    a, warm = tmp_path / "a", tmp_path / "warm"
    assert taco_main(["train", "--set", *tiny(a, **ELIC), "--max-steps", "1"]) == 0
    assert taco_main(["train", "--set", *tiny(warm, **ELIC), "--init-from", str(a),
                      "--max-steps", "1"]) == 0
    capsys.readouterr()
    return a, warm


def test_resume_when_init_from_is_gone(tmp_path, tiny, capsys):
    a, warm = _warm(tmp_path, tiny, capsys)
    shutil.move(a, tmp_path / "a_gone")
    assert taco_main(["train", "--resume", str(warm), "--max-steps", "2"]) == 0
    assert "resuming at step 1" in capsys.readouterr().err
    assert yaml.safe_load((warm / "config.yaml").read_text())["init_from"] == str(a)


def test_given_init_from_compared_with_the_state(tmp_path, tiny, capsys):
    a, warm = _warm(tmp_path, tiny, capsys)
    other = tmp_path / "other"
    shutil.copytree(a, other)
    config = warm / "config.yaml"
    config.write_text(config.read_text().replace(f"init_from: {a}\n", f"init_from: {other}\n"))
    # config.yaml says other, the state a: --init-from other is refused before torch, by name
    assert taco_main(["train", "--resume", str(warm), "--init-from", str(other),
                      "--max-steps", "2"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"taco train: error: --init-from {other} starts a new run from other "
                           f"weights, and --resume continues {warm} from its own (it was started "
                           f"from {a}): drop --init-from")
    # the state's own passes, and so does a plain resume (the state's source, not config.yaml's)
    assert taco_main(["train", "--resume", str(warm), "--init-from", str(a),
                      "--max-steps", "2"]) == 0
    assert taco_main(["train", "--resume", str(warm), "--max-steps", "3"]) == 0
