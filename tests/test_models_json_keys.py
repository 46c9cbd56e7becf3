"""``taco models --json`` lines had different keys for trained and untrained models (a built-in's
sha256 and file only on its own line, a checkpoint's training record only on its), so a script
reading them as a table found columns missing (review SC 5): every line has the same keys, null
where one does not apply."""

from __future__ import annotations

import json

from taco.cli import main


def test_every_line_has_the_same_keys(tmp_path, capsys):
    from taco.models import create_model, save_checkpoint

    ckpt = save_checkpoint(create_model("elic-tiny"), tmp_path / "mine.safetensors")
    assert main(["models", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["models", "--json", "elic-tiny", str(ckpt)]) == 0
    lines += [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    keys = {tuple(line) for line in lines}
    assert len(keys) == 1, keys
    assert {"sha256", "training", "file"} <= set(next(iter(keys)))
    assert any(line["trained"] for line in lines) and not all(line["trained"] for line in lines)
    untrained = next(line for line in lines if line["name"] == "elic-tiny")
    assert untrained["sha256"] is None and untrained["training"] is None and untrained["file"] is None


def test_models_json_lines_carry_every_key_some_model_has(capsys) -> None:
    """Keys that only some models have (a built-in's, a checkpoint's, a shadowing file's) are on
    an untrained architecture's line too, as null."""
    import json

    from taco.cli import main

    assert main(["models", "--json", "elic-tiny"]) == 0
    (line,) = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    only_some = ("file", "file_bytes", "sha256", "trained_on", "description", "model_id", "training",
                 "shadowed_checkpoint")
    assert all(k in line and line[k] is None for k in only_some), line
