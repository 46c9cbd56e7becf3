"""A config file with a syntax error: ``taco train CONFIG`` says where in one line,
``PATH:LINE:COL: not valid KIND: PROBLEM``, not PyYAML's several lines of marks and snippets;
and a ``--set`` value that YAML cuts at a comment or cannot read as the list or mapping it
starts as is refused saying how to give it."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from taco.cli import main as taco_main
from taco.errors import TacoWarning
from taco.train.config import ConfigError, apply_overrides, load_config, read_config_file


@pytest.mark.parametrize(("name", "text", "where", "problem"), [
    ("bad.yaml", "lr: [1,\n 2\nx: : :\n", "3:2",
     "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence at 1:5)\n"),
    ("bad.json", '{"lr": [1,\n 2\n', "3:1", "not valid JSON: Expecting ',' delimiter\n"),
    ("tab.json", '{\n\t"lr": 1e-4,\n\t"data": {"root": x}\n}', "3:19", "not valid JSON: Expecting value\n"),
    # YAML reads these, but as no mapping: JSON's error is said
    ("list.json", '["lr", 1,]\n', "1:10", "not valid JSON: Expecting value\n"),
    ("word.json", "lr\n", "1:1", "not valid JSON: Expecting value\n"),
    # an unclosed quote is found at the end of the file; the context says where it opened
    ("quote.yaml", 'lmbda: "a\n', "2:1",
     "not valid YAML: found unexpected end of stream (while scanning a quoted scalar at 1:8)\n"),
    # no context: the problem alone
    ("tag.yaml", "lr: !!python/object:os.system x\n", "1:5",
     "not valid YAML: could not determine a constructor for the tag"),
    ("bad.toml", "lr = [1,\n 2\nx = = =\n", "3:1", "not valid TOML: Unclosed array"),
])
def test_a_syntax_error_is_one_line_naming_line_and_column(tmp_path, capsys, name, text, where, problem):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"taco train: error: {path}:{where}: {problem}"), err


def test_a_json_config_is_read_as_json(tmp_path, capsys):
    """A tab-indented .json config (``jq --tab``, ``json.dumps(indent="\\t")``) was refused as
    YAML ("found character '\\t' that cannot start any token"), and an escaped surrogate pair,
    json.dumps' default for an emoji, was read as two lone surrogates ("ph\\ud83d\\udcf7: no such
    folder")."""
    photos = tmp_path / "ph\N{CAMERA}"
    photos.mkdir()
    values = {"model": "taco-tiny", "lr": 1e-4, "lr_milestones": [1, 2],
              "data": {"root": str(photos), "exclude": ["*.png"]}, "out_dir": str(tmp_path / "r")}
    path = tmp_path / "tab.json"
    for indent in ("\t", 2, None):
        path.write_text(json.dumps(values, indent=indent), encoding="utf-8")
        assert "\\ud83d\\udcf7" in path.read_text(encoding="utf-8")
        assert read_config_file(path) == values
        config = load_config(path)
        assert (config.data.root, config.lr, config.data.exclude) == (str(photos), 1e-4, ["*.png"])
    assert taco_main(["train", str(path), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert yaml.safe_load(out)["data"]["root"] == str(photos)
    assert err == ""  # valid JSON: no word of YAML


@pytest.mark.parametrize(("text", "where", "problem"), [
    ('{"model": "taco-tiny", "data": {"root": "ds"},}\n', "1:47", "Expecting property name enclosed in double quotes"),
    ('# my run\n{"model": "taco-tiny",\n # the photos\n "data": {"root": "ds"}}\n', "1:1", "Expecting value"),
    ("{'model': 'taco-tiny', 'data': {'root': 'ds'}}\n", "1:2", "Expecting property name enclosed in double quotes"),
])
def test_a_hand_edited_json_config_is_read_as_yaml_with_a_warning(tmp_path, capsys, text, where, problem):
    """Before e3144c4 a .json config was read as the YAML it is, so a hand-edited one with a
    trailing comma, ``#`` comments or single quotes loaded; then it was refused ('tc.json:1:47:
    not valid JSON: Expecting property name enclosed in double quotes'). Where JSON fails and YAML
    reads a mapping, that mapping is the config, with a warning saying where JSON stopped."""
    path = tmp_path / "tc.json"
    path.write_text(text, encoding="utf-8")
    warned = f"{path}:{where}: not valid JSON ({problem}): read as YAML, which takes a trailing comma"
    with pytest.warns(TacoWarning, match=f"^{re.escape(warned)}"):
        assert read_config_file(path) == {"model": "taco-tiny", "data": {"root": "ds"}}
    with pytest.warns(TacoWarning, match=f"^{re.escape(warned)}"):
        assert load_config(path).data.root == "ds"
    assert taco_main(["train", str(path), "--print-config"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith(f"taco train: warning: {warned}") and err.count("\n") == 1, err
    assert yaml.safe_load(out)["data"]["root"] == "ds"


def test_an_error_without_a_mark_is_its_first_line(tmp_path, capsys):
    """PyYAML's reader error (a control character) has a position but no line: its first line."""
    path = tmp_path / "ctl.yaml"
    path.write_text("lr: \x01\n", encoding="utf-8")
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"taco train: error: {path}: not valid YAML: unacceptable character #x0001: "
                   "special characters are not allowed\n")


@pytest.mark.parametrize(("item", "cut", "how"), [
    ("data.root=photos #2", "'photos'", """--set 'data.root="photos #2"'"""),
    ("out_dir=my runs #1", "'my runs'",
     """--set 'out_dir="my runs #1"' (or -o, which takes the folder as written)"""),
    ("out_dir=#1", "None", """--set 'out_dir="#1"' (or -o, which takes the folder as written)"""),
    ("lr_milestones=[1, 2]  # two", r"\[1, 2\]", "drop the comment, or quote the text that holds the #"),
])
def test_a_set_value_cut_at_a_comment_is_refused(capsys, item, cut, how):
    """``--set 'data.root=photos #2'`` trained on the folder 'photos': YAML ends the value at
    ' #'."""
    key = item.partition("=")[0]
    with pytest.raises(ConfigError, match=f"^override '{key}': '#' starts a YAML comment there "
                                          f"\\(character \\d+\\), which cuts the value to {cut}; "):
        apply_overrides({}, [item])
    assert taco_main(["train", "--set", item, "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(f"{how}\n"), err
    if how.startswith("--set "):  # the quoted value given is the text
        quoted = how.split("'")[1]
        value = apply_overrides({}, [quoted])
        for part in key.split("."):
            value = value[part]
        assert value == item.partition("=")[2]


def test_a_hash_that_is_no_comment_is_kept():
    assert apply_overrides({}, ['out_dir="my runs #1"', "data.root=a#b", "val.root='c #d'"]) == {
        "out_dir": "my runs #1", "data": {"root": "a#b"}, "val": {"root": "c #d"}}
    assert apply_overrides({}, ["data.root=photos\t#2"]) == {"data": {"root": "photos\t#2"}}


@pytest.mark.parametrize(("item", "message"), [
    ("data.exclude=[*.png]", "* starts a YAML alias; quote a pattern starting with *: ['*.png']"),
    ("data.exclude=[a*, *.jpg , b]", "quote a pattern starting with *: [a*, '*.jpg' , b]"),
    ("model_overrides={text_encoder: *x}", "quote a pattern starting with *: {text_encoder: '*x'}"),
    ("lr_milestones=[1, 2", "not valid YAML: expected ',' or ']', but got '<stream end>' (character 6)"),
    ("lr_milestones=[1 #, 2]", "(character 9); '#' after a space starts a YAML comment: quote the text "
                               "that holds it"),
])
def test_a_set_list_or_mapping_that_is_no_yaml_says_why(capsys, item, message):
    """``--set 'data.exclude=[*.png]'`` was the text '[*.png]', then "must be list[str], got
    '[*.png]'"."""
    with pytest.raises(ConfigError) as e:
        load_config(None, [item])
    assert str(e.value).startswith(f"override '{item.partition('=')[0]}': ")
    assert str(e.value).endswith(message)
    assert taco_main(["train", "--set", item, "--print-config"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_text_key_that_is_no_yaml_is_the_text_given():
    assert load_config(None, ["data.root=[2024] photos", "out_dir={draft"]).out_dir == "{draft"
    assert load_config(None, ["data.root=[2024] photos"]).data.root == "[2024] photos"
    assert load_config(None, ["data.exclude=['*.png']"]).data.exclude == ["*.png"]
