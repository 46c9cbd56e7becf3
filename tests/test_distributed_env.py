"""torchrun's variables in the environment, checked (Review EN-A): a RANK left over from a
torchrun job made a single process code only every other image and exit 0; a value that is not
a number was int()'s traceback; WORLD_SIZE > 1 without MASTER_ADDR torch's rendezvous traceback;
taco train with RANK=1 the sampler's 'Invalid rank 1'. Each is now one DistEnvError line."""

from __future__ import annotations

import sys
import types

import pytest

from taco.cli import main
from taco.distributed import DistEnv, DistEnvError, dist_env_from_environ
from taco.errors import TacoError
from taco.evaluation.evaluate import EvalConfig, run_evaluation
from taco.samples import SAMPLES_DIR as SAMPLES

TORCHRUN_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
SMOKE = SAMPLES.parents[2] / "configs" / "smoke.yaml"


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("values, expected", [
    ({}, DistEnv()),
    ({"RANK": "0", "LOCAL_RANK": "0"}, DistEnv()),
    ({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1"}, DistEnv()),
    ({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "4", "MASTER_ADDR": "127.0.0.1",
      "MASTER_PORT": "29500"}, DistEnv(rank=3, local_rank=1, world_size=4)),
])
def test_what_torchrun_sets_is_read(monkeypatch, values, expected):
    set_env(monkeypatch, **values)
    assert dist_env_from_environ() == expected


MASTER = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}


@pytest.mark.parametrize("values, words", [
    ({"RANK": "1"}, ["RANK='1'", "WORLD_SIZE unset", "left over from a torchrun job",
                     "unset RANK"]),
    ({"RANK": "1", "WORLD_SIZE": "1"}, ["RANK='1'", "WORLD_SIZE=1", "left over"]),
    ({"LOCAL_RANK": "2"}, ["LOCAL_RANK='2'", "left over", "unset LOCAL_RANK"]),
    ({"RANK": ""}, ["RANK=''", "not a whole number"]),
    ({"RANK": "abc"}, ["RANK='abc'", "not a whole number"]),
    ({"LOCAL_RANK": "-1"}, ["LOCAL_RANK='-1'", "not a whole number"]),
    ({"RANK": " 1"}, ["RANK=' 1'", "not a whole number"]),
    ({"WORLD_SIZE": "two"}, ["WORLD_SIZE='two'", "not a whole number"]),
    ({"WORLD_SIZE": "0"}, ["WORLD_SIZE='0'", "1 or more"]),
    ({"RANK": "2", "WORLD_SIZE": "2", **MASTER}, ["RANK='2'", "not below WORLD_SIZE='2'",
                                                  "0 to 1"]),
    ({"RANK": "0", "LOCAL_RANK": "5", "WORLD_SIZE": "2", **MASTER}, ["LOCAL_RANK='5'"]),
    ({"RANK": "0", "WORLD_SIZE": "2"}, ["WORLD_SIZE='2'", "MASTER_ADDR and MASTER_PORT unset",
                                        "torchrun"]),
    ({"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "h"}, ["MASTER_PORT unset"]),
    ({"WORLD_SIZE": "2", **MASTER}, ["RANK unset"]),
])
def test_what_torchrun_would_not_set_is_one_error(monkeypatch, values, words):
    set_env(monkeypatch, **values)
    with pytest.raises(DistEnvError) as caught:
        dist_env_from_environ()
    assert isinstance(caught.value, TacoError) and isinstance(caught.value, ValueError)
    text = str(caught.value)
    assert "\n" not in text
    for word in words:
        assert word in text


@pytest.mark.parametrize("name", ["WORLD_SIZE", "RANK", "LOCAL_RANK"])
def test_a_number_of_more_digits_than_int_reads_is_one_short_error(monkeypatch, name):
    """int() reads at most 4,300 digits from a text: 5,000 ones were its ValueError's traceback."""
    set_env(monkeypatch, **{name: "1" * 5000})
    with pytest.raises(DistEnvError) as caught:
        dist_env_from_environ()
    assert str(caught.value) == (f"{name} in the environment is a number of 5,000 digits "
                                 "('1111111111'...), far above any rank or number of processes "
                                 "(torchrun sets RANK, LOCAL_RANK and WORLD_SIZE); fix or unset it")


def test_run_evaluation_refuses_a_leftover_rank_before_writing(monkeypatch, tmp_path):
    set_env(monkeypatch, RANK="1")
    out = tmp_path / "out"
    with pytest.raises(DistEnvError, match="RANK='1'"):
        run_evaluation(EvalConfig(datasets=[f"folder:{SAMPLES}"], classic=["jpeg"],
                                  qualities={"jpeg": [50]}, output=out, fid="off", plot=False))
    assert not out.exists()


@pytest.mark.parametrize("values, word", [
    ({"RANK": "1"}, "left over from a torchrun job"),
    ({"RANK": "abc"}, "RANK='abc' in the environment is not a whole number"),
    ({"RANK": "0", "WORLD_SIZE": "2"}, "MASTER_ADDR and MASTER_PORT unset"),
    ({"WORLD_SIZE": "1" * 5000}, "WORLD_SIZE in the environment is a number of 5,000 digits"),
])
def test_evaluate_says_it_in_one_line(monkeypatch, tmp_path, capsys, values, word):
    set_env(monkeypatch, **values)
    out = tmp_path / "out"
    assert main(["evaluate", f"folder:{SAMPLES}", "-o", str(out), "--classic", "jpeg",
                 "--qualities", "jpeg=50", "--fid", "off", "--cmmd-clip", "off", "--no-plot",
                 "--quiet"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("taco evaluate: error: ") and word in errors[0]
    assert not out.exists()


@pytest.mark.parametrize("values, word", [
    ({"RANK": "1"}, "left over from a torchrun job"),
    ({"RANK": "0", "WORLD_SIZE": "2"}, "MASTER_ADDR and MASTER_PORT unset"),
])
def test_train_says_it_in_one_line(monkeypatch, tmp_path, capsys, values, word):
    set_env(monkeypatch, **values)
    out = tmp_path / "run"
    assert main(["train", str(SMOKE), "--set", f"data.root={SAMPLES}", f"val.root={SAMPLES}",
                 "--max-steps", "4", "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("taco train: error: ") and word in err[0]
    assert not out.exists()


def _set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in TORCHRUN_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("value", ["\u00b2", "\u0661"])  # superscript two; Arabic-Indic one
def test_a_non_ascii_digit_is_not_a_whole_number(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    # str.isdigit() is true for both (and int() reads the second): only ASCII digits are torchrun's
    _set_env(monkeypatch, RANK=value)
    with pytest.raises(DistEnvError, match="not a whole number"):
        dist_env_from_environ()


def test_a_joined_process_group_needs_no_master_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # a caller that joined a process group itself: no torchrun rendezvous, no MASTER_ADDR needed
    joined = types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: True)
    monkeypatch.setitem(sys.modules, "torch.distributed", joined)
    _set_env(monkeypatch, RANK="1", WORLD_SIZE="2")
    assert dist_env_from_environ() == DistEnv(rank=1, world_size=2)
    # not joined (available, not initialised): refused as before
    monkeypatch.setitem(sys.modules, "torch.distributed",
                        types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: False))
    with pytest.raises(DistEnvError, match="MASTER_ADDR and MASTER_PORT unset"):
        dist_env_from_environ()


def test_an_empty_master_address_is_as_good_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # MASTER_ADDR= (set, empty) gives torch's rendezvous nowhere to meet, as unset does
    _set_env(monkeypatch, RANK="1", WORLD_SIZE="2", MASTER_ADDR="", MASTER_PORT="29500")
    with pytest.raises(DistEnvError, match="MASTER_ADDR unset"):
        dist_env_from_environ()
