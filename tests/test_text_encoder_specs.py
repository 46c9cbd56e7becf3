"""taco.text_specs.text_encoder_spec_problem: a model config's text_encoder entry checked (its
name, path, max_tokens and seed)."""

from __future__ import annotations

import pytest

from taco.text_specs import text_encoder_spec_problem


@pytest.mark.parametrize("path", ["", b""])
def test_an_empty_encoder_path_is_refused(path):
    problem = text_encoder_spec_problem({"name": "minilm", "path": path})
    assert problem is not None
    assert "path must be a folder's path or a hub id" in problem


@pytest.mark.parametrize(("max_tokens", "ok"), [(1, False), (2, True), (0, False)])
def test_max_tokens_is_at_least_two(max_tokens, ok):
    problem = text_encoder_spec_problem({"name": "clip-tiny", "max_tokens": max_tokens})
    assert (problem is None) is ok, problem
    if not ok:
        assert "max_tokens must be an integer >= 2" in problem


@pytest.mark.parametrize("spec", [{"name": 3}, {"name": None}, {"path": "x"}, ["clip"], "clip"])
def test_an_entry_without_a_name_says_so(spec):
    problem = text_encoder_spec_problem(spec)
    assert problem is not None
    assert problem.startswith("text_encoder must be a JSON object with a name, not ")


@pytest.mark.parametrize(("seed", "ok"), [(-1, True), (-(2**63), True), (2**64 - 1, True),
                                          (-(2**63) - 1, False), (2**64, False)])
def test_a_negative_seed_is_taken(seed, ok):
    problem = text_encoder_spec_problem({"name": "clip-tiny", "seed": seed})
    assert (problem is None) is ok, problem
