"""Config files as Windows makes them: a UTF-8 byte-order mark (PowerShell 5.1's ``Out-File
-Encoding utf8``, old Notepad), CRLF line ends, an upper-case suffix (``up.YAML``)."""
from __future__ import annotations

import codecs

import pytest

from taco.train.config import ConfigError, read_config_file

TOML = 'model = "taco-tiny"\r\nmax_steps = 2\r\n'
YAML = "model: taco-tiny\r\nmax_steps: 2\r\n"


@pytest.mark.parametrize("name, text", [("c.toml", TOML), ("c.yaml", YAML), ("c.json", '{"model": "taco-tiny", "max_steps": 2}')])
def test_a_byte_order_mark_is_read_past(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert read_config_file(path) == {"model": "taco-tiny", "max_steps": 2}


@pytest.mark.parametrize("name, text", [("up.YAML", YAML), ("up.Yml", YAML), ("up.TOML", TOML)])
def test_the_suffix_is_case_blind(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert read_config_file(path) == {"model": "taco-tiny", "max_steps": 2}


def test_other_suffixes_and_bytes_are_still_refused(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(YAML)
    with pytest.raises(ConfigError, match="config files are .yaml, .yml, .json or .toml"):
        read_config_file(path)
    bad = tmp_path / "c.toml"
    bad.write_bytes(codecs.BOM_UTF8 + b"a = 1\n\xff")
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 9:"):  # counted from the file's start
        read_config_file(bad)
