"""taco.load and the text encoders keep their throwaway initialisation off torch's process-wide
generator with taco.draws.private_draws, not fork_rng: fork_rng's restore undid what other
threads drew meanwhile (a user's thread seeded with manual_seed(0) got other numbers from its
6,203rd draw while three threads loaded a model)."""

from __future__ import annotations

import threading

import torch

import taco
from taco.draws import private_draws


def test_a_seeded_thread_keeps_its_stream_while_others_load_models():
    taco.load("elic-small-q4")  # files read and cached once: the threads below only build
    torch.manual_seed(0)
    expected = torch.rand(20_000)
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            taco.load("elic-small-q4")

    loaders = [threading.Thread(target=load) for _ in range(3)]
    for t in loaders:
        t.start()
    try:
        torch.manual_seed(0)
        got = torch.cat([torch.rand(1) for _ in range(20_000)])
    finally:
        stop.set()
        for t in loaders:
            t.join(60)
    assert torch.equal(got, expected)


def test_a_load_leaves_the_global_generator_as_it_was():
    torch.manual_seed(5)
    before = torch.get_rng_state().clone()
    taco.load("elic-small-q4")
    assert torch.equal(torch.get_rng_state(), before)


def test_private_draws_take_the_given_generator_and_leave_the_global_one():
    before = torch.get_rng_state().clone()
    with private_draws(torch.Generator().manual_seed(3)):
        a = torch.rand(4)
        b = torch.nn.init.normal_(torch.empty(4))
    g = torch.Generator().manual_seed(3)
    assert torch.equal(a, torch.rand(4, generator=g))
    assert torch.equal(b, torch.empty(4).normal_(generator=g))
    assert torch.equal(torch.get_rng_state(), before)
