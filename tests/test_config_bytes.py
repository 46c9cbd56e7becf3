"""``taco train CONFIG`` with a null byte in a path key, and a config saved as UTF-16 (review
ENC, session 38): ``out_dir: "runs/a\\0b"`` was a ``ValueError: embedded null byte`` traceback
from the run's lock (``data.root`` with one was a clean line only because its folder is looked
up first); every path key holding one is now a ConfigError naming the key, before torch loads and
before anything is made, ``--print-config`` included (it refuses the other invalid values too). A
config saved by PowerShell 5's ``>`` (UTF-16 LE with a byte-order mark) is said to be UTF-16."""

from __future__ import annotations

import subprocess
import sys

import pytest

from taco.cli import main as taco_main
from taco.jsonfiles import UTF16_TEXT
from taco.train.config import ALL_PATH_KEYS, ConfigError, load_config


def _yaml(key: str, value: str) -> str:
    section, _, name = key.rpartition(".")
    quoted = '"' + value.replace("\0", "\\0") + '"'
    return f"{section}:\n  {name}: {quoted}\n" if section else f"{key}: {quoted}\n"


@pytest.mark.parametrize("key", ALL_PATH_KEYS)
def test_a_null_byte_in_any_path_key_is_refused_naming_it(tmp_path, key):
    path = tmp_path / "cfg.yaml"
    path.write_text(_yaml(key, "runs/a\0b"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert str(info.value) == (f"{path}: {key}: the path holds a null byte (character 7), which no file "
                               "name can")


def test_taco_train_refuses_it_in_one_line_before_torch_and_makes_nothing(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(_yaml("out_dir", "runs/a\0b"), encoding="utf-8")
    code = ("import sys, taco.cli\n"
            "rc = taco.cli.main(sys.argv[1:])\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "sys.exit(rc)\n")
    for extra in ([], ["--print-config"]):
        run = subprocess.run([sys.executable, "-c", code, "train", str(path), *extra], cwd=tmp_path,
                             capture_output=True, text=True)
        assert run.returncode == 2, run.stderr
        assert run.stderr == (f"taco train: error: {path}: out_dir: the path holds a null byte "
                              "(character 7), which no file name can\n")
        assert run.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml"]  # no runs/ made


def test_a_set_override_with_a_null_byte_is_refused():
    with pytest.raises(ConfigError, match=r"^data\.root: the path holds a null byte \(character 4\)"):
        load_config(None, ["data.root=sam\0ples"])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_config_is_said_to_be_utf16(tmp_path, capsys, encoding):
    path = tmp_path / "cfg.yaml"
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    path.write_bytes(bom + "lr: 0.0001\n".encode(encoding))
    assert taco_main(["train", str(path), "--print-config"]) == 2
    out, err = capsys.readouterr()
    assert err == f"taco train: error: {path}: {UTF16_TEXT}\n" and out == ""


def test_other_bytes_that_are_not_utf8_keep_their_wording(tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_bytes(b"\xfflr: 1\n")
    assert taco_main(["train", str(path)]) == 2
    assert f"{path}: not UTF-8 text (byte 0: invalid start byte)" in capsys.readouterr().err
