"""Hostile config files for ``taco train CONFIG``: each is refused in one error line, exit 2,
without a traceback and without the memory a "billion laughs" would take."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from taco.cli import main as taco_main
from taco.train.config import ConfigError, apply_overrides, read_config_file

#: 10 levels of 10 aliases: 10**10 strings once expanded, in about 500 bytes.
LAUGHS = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
)


def _train_error(path, capsys) -> str:
    """``taco train PATH`` in-process: asserts exit 2 and a one-line error, which it returns."""
    assert taco_main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_yaml_aliases_are_refused_before_they_expand(tmp_path, capsys):
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS)
    assert len(LAUGHS) < 600
    # read first, so that code which loads aliases fails here instead of expanding them below
    with pytest.raises(ConfigError, match=r"laughs.yaml:1:5: YAML anchors and aliases"):
        read_config_file(path)
    start = time.perf_counter()
    err = _train_error(path, capsys)
    assert time.perf_counter() - start < 30  # the expansion never finished (GBs in a minute)
    assert f"{path}:1:5: YAML anchors and aliases (&name, *name) are not allowed" in err
    # an alias further down is named by its line and column, like a syntax error; a .json file
    # is read as JSON, where * is no value
    (tmp_path / "alias.yaml").write_text('{"data": {"root": "/a"},\n "val": {"root": *x}}\n')
    assert "alias.yaml:2:18: YAML anchors and aliases" in _train_error(tmp_path / "alias.yaml", capsys)
    (tmp_path / "alias.json").write_text('{"data": {"root": "/a"},\n "val": {"root": *x}}\n')
    assert "alias.json:2:18: not valid JSON: Expecting value\n" in _train_error(tmp_path / "alias.json", capsys)


def test_an_alias_in_an_override_is_refused_as_in_a_file():
    """``--set 'lr_milestones=[&a 1, *a]'`` fell back to the string given, then failed as no
    list[int]; a text key's value is still the text given."""
    with pytest.raises(ConfigError, match=r"^override 'lr_milestones': YAML anchors and aliases "
                                          r"\(&name, \*name\) are not allowed in a config"):
        apply_overrides({}, ["lr_milestones=[&a 1, *a]"])
    assert apply_overrides({}, ["out_dir=[&a 1, *a]"]) == {"out_dir": "[&a 1, *a]"}


def test_a_config_that_is_not_utf8_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"data:\n  root: \xff\xfe\n")
    assert f"{path}: not UTF-8 text (byte 14: invalid start byte)" in _train_error(path, capsys)


def test_a_config_over_the_size_bound_is_refused_unparsed(tmp_path, capsys, monkeypatch):
    """A 300 MB YAML file was parsed for minutes in 1.4 GB of memory before its first error; a
    file over CONFIG_MAX_BYTES is refused after reading one byte past it."""
    from taco.train import config as config_module

    limit = config_module.CONFIG_MAX_BYTES
    shipped = sorted(Path(__file__).resolve().parents[2].glob("configs/**/*.yaml"))
    assert shipped and max(p.stat().st_size for p in shipped) < 3000
    path = tmp_path / "big.yaml"
    path.write_text("lr: 0.0001\n" + "#" * limit)
    monkeypatch.setattr(config_module.yaml, "load", lambda *a, **k: pytest.fail("parsed"))
    assert f"{path}: over {limit:,} bytes, more than a config holds" in _train_error(path, capsys)
    path.write_text("lr: 0.0001\n" + "#" * (limit - 20))  # at the bound: read
    monkeypatch.undo()
    assert read_config_file(path) == {"lr": 0.0001}


@pytest.mark.parametrize("name, text", [
    ("deep.yaml", "lr: " + "[" * 100_000),
    ("deep.json", '{"lr": ' + "[" * 100_000),
    ("deep.toml", "lr = " + "[" * 100_000),
])
def test_a_config_nested_too_deeply_is_one_line(tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    kind = name.split(".")[1].upper()
    assert f"{path}: not valid {kind}: nested too deeply" in _train_error(path, capsys)


def test_an_override_nested_too_deeply_is_refused():
    with pytest.raises(ConfigError, match="override 'lr': nested too deeply"):
        apply_overrides({}, ["lr=" + "[" * 100_000])


def test_a_folder_given_as_the_config_says_where_photos_go(tmp_path, capsys):
    """``taco train PHOTOS`` said only 'cannot read config (Is a directory)'."""
    photos = tmp_path / "my photos"
    photos.mkdir()
    err = _train_error(photos, capsys)
    assert err.endswith(f"cannot read config (Is a directory); a folder of training photos is "
                        f"data.root: taco train --set data.root='{photos}'\n")


@pytest.mark.parametrize("name", ["my photos", "-photos", "- photos", "photos #2", "true"])
def test_the_data_root_a_folder_given_as_the_config_is_told_works_pasted(tmp_path, monkeypatch, capsys, name):
    """The ``--set data.root=...`` suggested for a folder given as the config was shell-quoted
    alone: ``data.root='photos #2'`` pasted is the folder ``photos`` (a YAML comment), ``true`` a
    bool, ``- photos`` a list; such a value is JSON-quoted now, ``-photos`` is ``./-photos``."""
    import re
    import shlex

    from taco.cli import build_parser
    from taco.train.config import load_config

    monkeypatch.chdir(tmp_path)
    Path(name).mkdir()
    err = _train_error(f"./{name}", capsys)
    words = shlex.split(re.search(r"is data.root: taco (train --set .*)$", err).group(1))
    root = load_config(None, build_parser(words).parse_args(words).overrides).data.root
    assert isinstance(root, str) and Path(root) == Path(name), err
