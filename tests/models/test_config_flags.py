"""ModelConfig's flags (``use_mask``, ``learn_gamma``) and ``gamma_init`` are checked by type: a
string "false" in a config or a checkpoint header would have meant true, and other wrong types
failed with torch's own words deep in the build."""

from __future__ import annotations

import pytest

from taco.errors import TacoValueError
from taco.models import ModelConfig


@pytest.mark.parametrize("name", ["use_mask", "learn_gamma"])
@pytest.mark.parametrize("value", ["false", "no", 0, 1, 2, [0], None])
def test_a_flag_must_be_a_bool(name, value):
    with pytest.raises(TacoValueError, match=rf"^{name} must be true or false, got "):
        ModelConfig(N=8, M=16, groups=[4, 4, 8],
                    **{name: value})


@pytest.mark.parametrize("value", ["0.5", float("nan"), float("inf"), True, None, [0.0]])
def test_gamma_init_must_be_a_finite_number(value):
    with pytest.raises(TacoValueError, match=r"^gamma_init must be a finite number, got "):
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=value)


@pytest.mark.parametrize("flags", [{"use_mask": True, "learn_gamma": False, "gamma_init": 0.5},
                                   {"use_mask": False, "learn_gamma": True, "gamma_init": 0}])
def test_good_values_pass(flags):
    cfg = ModelConfig(N=8, M=16, groups=[4, 4, 8], **flags)
    assert {k: getattr(cfg, k) for k in flags} == flags


def test_a_checkpoint_header_with_a_string_flag_is_refused_naming_it():
    from taco.models import CheckpointError

    with pytest.raises((TacoValueError, CheckpointError), match="use_mask must be true or false"):
        ModelConfig.from_dict({"N": 8, "M": 16, "groups": [4, 4, 8], "use_mask": "false"})
