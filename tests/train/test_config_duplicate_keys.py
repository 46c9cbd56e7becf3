"""A key given twice in a YAML config is refused in one line naming both lines, never the last
copy silently winning (a second ``data:`` block used to wipe ``data.root``)."""

from __future__ import annotations

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, read_config_file


def test_a_top_level_key_given_twice_is_refused(tmp_path, capsys):
    path = tmp_path / "twice.yaml"
    path.write_text("model: taco-tiny\nlmbda: 0.004\ndata:\n  root: /photos\nlmbda: 0.0016\n")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert str(caught.value) == f"{path}:5: key 'lmbda' given twice (first on line 2)"
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{path}:5: key 'lmbda' given twice (first on line 2)" in err


def test_a_second_section_or_a_nested_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "sections.yaml"
    path.write_text("data:\n  root: /photos\nsteps: 3\ndata:\n  batch_size: 2\n")
    with pytest.raises(ConfigError, match=r"sections.yaml:4: key 'data' given twice \(first on line 1\)$"):
        read_config_file(path)
    path.write_text("data:\n  root: /a\n  root: /b\n")
    with pytest.raises(ConfigError, match=r"sections.yaml:3: key 'root' given twice \(first on line 2\)$"):
        read_config_file(path)
    # .json is read as JSON, which would keep the last copy: refused there too, by line (tab
    # indentation too), or by name alone where the lines are not found (a key over YAML's 1,024)
    json = tmp_path / "twice.json"
    json.write_text('{"steps": 1,\n "steps": 2}\n')
    with pytest.raises(ConfigError, match=r"twice.json:2: key 'steps' given twice \(first on line 1\)$"):
        read_config_file(json)
    json.write_text('{\n\t"data": {\n\t\t"root": "/a",\n\t\t"root": "/b"\n\t}\n}\n')
    with pytest.raises(ConfigError, match=r"twice.json:4: key 'root' given twice \(first on line 3\)$"):
        read_config_file(json)
    long = "k" * 1100
    json.write_text(f'{{"{long}": 1, "{long}": 2}}')
    with pytest.raises(ConfigError, match=r"twice.json: key 'kkk[k.]* given twice$"):
        read_config_file(json)


def test_the_same_key_in_different_sections_is_fine(tmp_path):
    path = tmp_path / "fine.yaml"
    path.write_text("a:\n  root: /a\nb:\n  root: /b\n")
    assert read_config_file(path) == {"a": {"root": "/a"}, "b": {"root": "/b"}}


def test_an_override_with_a_key_twice_is_refused_by_name():
    """``--set 'model_overrides={a: 1, a: 2}'`` fell back to the string given, then failed as
    "model_overrides must be dict, got '{a: 1, a: 2}'"."""
    from taco.train.config import ConfigError, apply_overrides

    with pytest.raises(ConfigError, match=r"override 'model_overrides': key 'a' given twice"):
        apply_overrides({}, ["model_overrides={a: 1, a: 2}"])
