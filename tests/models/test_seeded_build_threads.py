"""create_model(seed=...) draws from its own generator: threads neither change its weights nor
have their random state changed by it (it seeded torch's process-wide generator, shared by all
threads, and restored it afterwards)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import taco
from taco import codec
from taco.models import create_model, model_fingerprint
from taco.models.architecture import build_model
from taco.models.registry import architecture_config, build_seeded


@pytest.mark.parametrize("name,seed", [("elic-tiny", 0), ("taco-tiny", 0), ("elic-tiny", 7)])
def test_weights_are_those_torch_manual_seed_gave(name, seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        old = build_model(architecture_config(name)).state_dict()
    new = build_seeded(architecture_config(name), seed).state_dict()
    assert old.keys() == new.keys()
    assert all(torch.equal(old[k], new[k]) for k in old)


def test_the_build_draws_nothing_from_the_global_generator():
    torch.manual_seed(123)
    before = torch.get_rng_state().clone()
    build_seeded(architecture_config("taco-tiny"), 0)  # no fork_rng around it to hide draws
    assert torch.equal(before, torch.get_rng_state())


def test_threads_build_the_serial_weights_and_leave_the_global_rng():
    serial = model_fingerprint(create_model("elic-tiny"))
    torch.manual_seed(123)
    before = torch.get_rng_state().clone()
    with ThreadPoolExecutor(8) as ex:
        prints = list(ex.map(lambda _: model_fingerprint(create_model("elic-tiny")), range(8)))
    assert prints == [serial] * 8
    assert torch.equal(before, torch.get_rng_state())


def test_another_thread_drawing_changes_neither_the_weights_nor_its_own_draws():
    serial = model_fingerprint(create_model("elic-tiny"))
    torch.manual_seed(5)
    expected = [torch.rand(64) for _ in range(200)]
    torch.manual_seed(5)
    drawn: list[torch.Tensor] = []
    start = threading.Event()

    def draw() -> None:
        start.wait()
        drawn.extend(torch.rand(64) for _ in range(200))

    thread = threading.Thread(target=draw)
    thread.start()
    start.set()
    built = [model_fingerprint(create_model("elic-tiny")) for _ in range(3)]
    thread.join()
    assert built == [serial] * 3
    assert all(torch.equal(a, b) for a, b in zip(expected, drawn, strict=True))


def test_threads_decoding_a_seed_0_file_without_a_model_share_one_build(monkeypatch):
    data = taco.compress(np.zeros((64, 64, 3), np.uint8), "", create_model("elic-tiny"))
    builds = []
    resolve = codec.resolve_model

    def counted(*args, **kwargs):
        builds.append(args)
        return resolve(*args, **kwargs)

    monkeypatch.setattr(codec, "resolve_model", counted)
    codec.clear_named_models()
    try:
        with ThreadPoolExecutor(4) as ex:
            images = list(ex.map(lambda _: np.asarray(taco.decompress(data)), range(4)))
    finally:
        codec.clear_named_models()
    assert all(np.array_equal(images[0], im) for im in images)
    assert len(builds) == 1


def test_a_builders_other_draws_are_seeded_too(monkeypatch):
    """A backbone's builder may draw through torch.distributions (gamma, Dirichlet, binomial) or
    hand nn.init torch's default generator: those draws are the seed's too (they came from the
    unseeded global generator: another model at every call)."""
    import taco.models.architecture as architecture

    def builder(config):
        gamma = torch.distributions.Gamma(torch.ones(4), torch.ones(4)).sample()
        dirichlet = torch.distributions.Dirichlet(torch.ones(4)).sample()
        binomial = torch.distributions.Binomial(5, torch.full((4,), 0.5)).sample()
        init = torch.nn.init.uniform_(torch.empty(4), generator=torch.default_generator)
        return torch.cat([gamma, dirichlet, binomial, init])

    monkeypatch.setattr(architecture, "build_model", builder)
    first = build_seeded(architecture_config("elic-tiny"), 0)
    torch.rand(10)  # the global generator moves on between the builds
    assert torch.equal(first, build_seeded(architecture_config("elic-tiny"), 0))
