"""taco train's lines name its folder as every message names a file (taco.messages.shown_path):
a folder whose name holds a newline or a terminal escape is shown escaped, each line one line."""

from __future__ import annotations

from taco.train import load_config, train

ELIC = {"preset": "elic", "model": "elic-tiny", "k_j": 0}


def test_a_run_folders_odd_name_is_shown_escaped(tmp_path, tiny, capsys):
    out = tmp_path / "run\nx\x1b[31m"
    train(load_config(None, tiny(out, max_steps=2, **ELIC)), resume=out)  # nothing to resume: a note
    err = capsys.readouterr().err
    assert "\x1b" not in err
    lines = err.splitlines()
    note = [line for line in lines if line.startswith("train: note: nothing to resume")]
    assert len(note) == 1 and "run\\nx\\x1b[31m" in note[0], err
    done = [line for line in lines if line.startswith("done: ")]
    assert len(done) == 1 and done[0].endswith("run\\nx\\x1b[31m/checkpoint.safetensors"), err
