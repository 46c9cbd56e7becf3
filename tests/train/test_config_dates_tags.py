"""Config values that are not plain data: a bare YAML date was a ``datetime.date`` and a
``!!binary`` value bytes, which crashed ``taco train`` with a TypeError (not JSON serializable)
in apply_overrides' deep copy; and a 900 kB value was echoed whole in its error."""

from __future__ import annotations

import datetime

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, apply_overrides, load_config, read_config_file


def _print_config(args, capsys) -> tuple[int, str, str]:
    rc = taco_main(["train", *args, "--print-config"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return rc, out, err


def test_a_yaml_date_is_the_text_written(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("out_dir: 2024-06-01\ndata:\n  root: 2001-12-14 21:59:43.10 -5\n")
    values = read_config_file(path)
    assert values == {"out_dir": "2024-06-01", "data": {"root": "2001-12-14 21:59:43.10 -5"}}
    assert load_config(path).out_dir == "2024-06-01"
    rc, out, _ = _print_config([str(path)], capsys)
    assert rc == 0 and "out_dir: '2024-06-01'" in out
    rc, out, _ = _print_config(["--set", "out_dir=2024-06-01"], capsys)
    assert rc == 0 and "out_dir: '2024-06-01'" in out


def test_a_run_whose_config_has_a_bare_date_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("out_dir: run\nval:\n  root: 2024-06-01\n")
    rc, out, err = _print_config(["--resume", "run"], capsys)
    assert rc == 0, err
    assert "root: '2024-06-01'" in out


@pytest.mark.parametrize("text, tag, where", [
    ("model: !!binary AAAA\n", "binary", "1:8"),
    ("data:\n  root: !!timestamp 2024-06-01\n", "timestamp", "2:9"),
    ("out_dir: !!set {a, b}\n", "set", "1:10"),
])
def test_binary_timestamp_and_set_tags_are_refused_by_line(tmp_path, capsys, text, tag, where):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"c.yaml:{where}: YAML tag !!{tag} is not allowed"):
        read_config_file(path)
    rc, _, err = _print_config([str(path)], capsys)
    assert rc == 2 and err.count("\n") == 1 and f"!!{tag}" in err


def test_a_toml_date_is_its_text_and_a_date_time_is_refused(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("out_dir = 2024-06-01\n")
    assert read_config_file(path) == {"out_dir": "2024-06-01"}
    rc, out, _ = _print_config([str(path)], capsys)
    assert rc == 0 and "out_dir: '2024-06-01'" in out
    path.write_text("[data]\nroot = 2024-06-01T10:00:00\n")
    with pytest.raises(ConfigError, match=r'c.toml: data.root: a TOML date/time; quote it '
                                          r'\("2024-06-01T10:00:00"\)'):
        read_config_file(path)
    path.write_text("out_dir = [07:32:00]\n")
    rc, _, err = _print_config([str(path)], capsys)
    assert rc == 2 and "out_dir: a TOML date/time; quote it" in err


def test_other_values_are_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"^data.root: a date value"):
        apply_overrides({"data": {"root": datetime.date(2024, 6, 1)}}, [])
    with pytest.raises(ConfigError, match=r"^model: a bytes value"):
        apply_overrides({"model": b"\0"}, ["out_dir=x"])


def test_a_huge_value_is_shortened_in_its_error(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(f'model: "{"x" * 900_000}"\n')
    rc, _, err = _print_config([str(path)], capsys)
    assert rc == 2 and "unknown model 'xxx" in err and "...; models:" in err
    assert len(err) < 2000, len(err)
    with pytest.raises(ConfigError) as e:
        apply_overrides({}, ["y" * 10_000])
    assert len(str(e.value)) < 400
    with pytest.raises(ConfigError) as e:
        load_config(overrides=[f"lr_milestones=[{','.join(['1'] * 5000)}, 0]"])
    assert len(str(e.value)) < 400


def test_a_refused_tag_in_set_is_refused_as_in_a_file():
    """``--set out_dir=!!binary aGk=`` became the folder '!!binary aGk=' (the tag refused, the
    text kept), where the same value in a config file is refused."""
    with pytest.raises(ConfigError, match=r"^override 'out_dir': YAML tag !!binary is not allowed in a "
                                          r"config; write the value as plain text$"):
        load_config(None, ["out_dir=!!binary aGk="])


def test_any_other_tag_in_set_is_refused_as_in_a_file():
    """``--set 'out_dir=!foo x'`` became the folder '!foo x', where a config file refuses the tag."""
    with pytest.raises(ConfigError, match=r"^override 'out_dir': not valid YAML: could not determine "
                                          r"a constructor for the tag '!foo'$"):
        load_config(None, ["out_dir=!foo x"])
    assert load_config(None, ["out_dir=*star*"]).out_dir == "*star*"  # an alias: the text given


def test_a_list_type_is_named_with_its_items_and_a_preset_typo_gets_a_hint():
    with pytest.raises(ConfigError, match=r"^lr_milestones must be list\[int\], got \['2024-01-01'\]$"):
        load_config(None, ["lr_milestones=[2024-01-01]"])
    with pytest.raises(ConfigError, match=r"got 'tacoo' \(did you mean 'taco'\?\)$"):
        load_config(None, ["preset=tacoo"])
