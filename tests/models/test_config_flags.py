"""ModelConfig's flags (``use_mask``, ``learn_gamma``) and ``gamma_init`` are checked by type: a
string "false" in a config or a checkpoint header would have meant true, and other wrong types
failed with torch's own words deep in the build. 0 and 1 stay flags (checkpoints trained with
``use_mask: 0`` load), and an integer ``gamma_init`` builds (it made an integer tensor); one
past float32's range, which γ is a tensor of, is refused."""

from __future__ import annotations

import math
import re

import pytest

from taco.errors import TacoValueError
from taco.models import ModelConfig
from taco.models.config import FLOAT32_MAX


@pytest.mark.parametrize("name", ["use_mask", "learn_gamma"])
@pytest.mark.parametrize("value", ["false", "no", 2, -1, 1.0, [0], None])
def test_a_flag_must_be_a_bool(name, value):
    with pytest.raises(TacoValueError) as caught:
        ModelConfig(N=8, M=16, groups=[4, 4, 8],
                    **{name: value})
    # 0 and 1 are taken too (test_good_values_pass): the message says so, or a user who wrote 2 for
    # "on" would not know 1 was the other way to write it
    assert str(caught.value) == f"{name} must be true or false (or 1 or 0), got {value!r}"


@pytest.mark.parametrize("value", ["0.5", float("nan"), float("inf"), True, None, [0.0]])
def test_gamma_init_must_be_a_finite_number(value):
    with pytest.raises(TacoValueError, match=r"^gamma_init must be a finite number, got "):
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=value)


@pytest.mark.parametrize("flags", [{"use_mask": True, "learn_gamma": False, "gamma_init": 0.5},
                                   {"use_mask": False, "learn_gamma": True, "gamma_init": 0},
                                   {"use_mask": 0, "learn_gamma": 1, "gamma_init": 1}])
def test_good_values_pass(flags):
    cfg = ModelConfig(N=8, M=16, groups=[4, 4, 8], **flags)
    assert {k: getattr(cfg, k) for k in flags} == flags


def test_a_checkpoint_header_with_a_string_flag_is_refused_naming_it():
    from taco.models import CheckpointError

    with pytest.raises((TacoValueError, CheckpointError), match=r"use_mask must be true or false \(or 1 or 0\), got 'false'"):
        ModelConfig.from_dict({"N": 8, "M": 16, "groups": [4, 4, 8], "use_mask": "false"})


def test_a_yaml_text_number_is_refused_with_the_way_to_write_it():
    with pytest.raises(TacoValueError, match=r"got '1e-3' \(write 0\.001: YAML reads 1e-3 as text\)$"):
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init="1e-3")


@pytest.mark.parametrize("overrides", [{"gamma_init": 0}, {"gamma_init": 1, "learn_gamma": 0, "use_mask": 1}])
def test_integer_values_build_a_float_model(overrides):
    import torch

    import taco

    model = taco.create_model("taco-tiny", **overrides)
    gammas = [p for n, p in model.named_parameters() if n.endswith("gamma")]
    assert gammas and all(g.dtype == torch.float32 for g in gammas)
    assert all(g.requires_grad == bool(overrides.get("learn_gamma", True)) for g in gammas)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "true", "0.5x"])
def test_yaml_text_that_is_no_finite_number_gets_no_way_to_write_it(value):
    """Text that does not read as a finite number: refused without suggesting to write it (it
    would be refused again as a number)."""
    with pytest.raises(TacoValueError, match=r"^gamma_init must be a finite number, got '[^']*'$"):
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=value)


#: JSON's and YAML's ``1`` followed by 400 zeros: an int that ``float()`` cannot take
#: (``math.isfinite`` raised OverflowError on it, a traceback in taco train and taco models FILE).
HUGE = 10**400


@pytest.mark.parametrize("value", [HUGE, -HUGE, 10**5000], ids=["1e400", "-1e400", "1e5000"])
def test_an_int_past_a_float_s_range_is_refused_as_a_value_error(value):
    with pytest.raises(TacoValueError) as caught:
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=value)
    # its first 40 digits alone (1 and 39 zeros) would read as a number in range
    assert str(caught.value) == "gamma_init must be a finite number, got an integer too large for a float"


def test_an_int_within_float32_s_range_is_kept_as_it_is():
    """Kept an int, not made a float: the digest of a config is that of its JSON (1e+38 is not
    1 and 38 zeros)."""
    cfg = ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=10**38)
    assert type(cfg.gamma_init) is int and cfg.gamma_init == 10**38


#: The message's start for a gamma_init past float32's range; the value follows as a float.
PAST_FLOAT32 = "gamma_init must be within float32's range, ±3.4028234663852886e+38 (γ is a float32 tensor), got "


@pytest.mark.parametrize("value, shown", [(1e39, "1e+39"), (-1e39, "-1e+39"), (3.5e38, "3.5e+38"),
                                          (10**300, "1e+300"), (-(10**300), "-1e+300"),
                                          (math.nextafter(FLOAT32_MAX, math.inf), "3.402823466385289e+38")],
                         ids=["1e39", "-1e39", "3.5e38", "int 1e300", "int -1e300", "just past"])
def test_a_number_past_float32_s_range_is_refused(value, shown):
    """It passed the config and crashed building γ: torch.full's RuntimeError 'value cannot be
    converted to type float without overflow' from create_model, a traceback from taco train."""
    with pytest.raises(TacoValueError) as caught:
        ModelConfig(N=8, M=16, groups=[4, 4, 8], gamma_init=value)
    assert str(caught.value) == PAST_FLOAT32 + shown


def test_float32_s_largest_builds_and_the_constant_is_torch_s():
    import torch

    import taco

    assert FLOAT32_MAX == torch.finfo(torch.float32).max
    for value in (FLOAT32_MAX, -FLOAT32_MAX):
        model = taco.create_model("taco-tiny", gamma_init=value)
        gammas = [p for n, p in model.named_parameters() if n.endswith("gamma")]
        assert gammas and all(bool((g == value).all()) for g in gammas)
    with pytest.raises(TacoValueError, match="^" + re.escape(PAST_FLOAT32 + "1e+39") + "$"):
        taco.create_model("taco-tiny", gamma_init=1e39)


def test_taco_train_refuses_gamma_init_past_float32_in_one_line(probe, tmp_path, photos):
    r = probe(tmp_path, "train", "--set", f"data.root={photos.name}", "model=taco-tiny", "model_overrides.gamma_init=1.0e+39",
              "out_dir=out", "max_steps=1")
    assert r["code"] == 2, r["stderr"]
    assert r["stderr"].strip() == f"taco train: error: model 'taco-tiny': {PAST_FLOAT32}1e+39"
    assert not (tmp_path / "out").exists()


def test_taco_models_refuses_a_checkpoint_header_holding_one(probe, tmp_path, tiny_taco):
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from taco.models import save_checkpoint

    source = save_checkpoint(tiny_taco, tmp_path / "tiny.safetensors")
    with safe_open(str(source), framework="pt") as f:
        meta = dict(f.metadata())
    header = json.loads(meta["taco"])
    header["config"]["gamma_init"] = HUGE
    path = tmp_path / "model.safetensors"
    save_file(load_file(str(source)), str(path), {**meta, "taco": json.dumps(header)})
    r = probe(tmp_path, "models", str(path))
    assert r["code"] == 2, r["stderr"]
    assert r["stderr"].strip() == (
        f"taco models: error: {path}: invalid model config in the taco header "
        "(gamma_init must be a finite number, got an integer too large for a float)")
