"""A training config file (taco.train.config.read_config_file) that is not valid TOML is refused
as such, not as a number too long to read."""

from __future__ import annotations

import pytest

from taco.train.config import ConfigError, read_config_file


def test_a_toml_syntax_error_is_not_called_a_huge_number(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("a = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert "not valid TOML" in str(caught.value) and "4,300 digits" not in str(caught.value)
