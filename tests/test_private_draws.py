"""taco.load and the text encoders keep their throwaway initialisation off torch's process-wide
generator with taco.draws.private_draws, not fork_rng: fork_rng's restore undid what other
threads drew meanwhile (a user's thread seeded with manual_seed(0) got other numbers from its
6,203rd draw while three threads loaded a model)."""

from __future__ import annotations

import threading
import time

import torch

import taco
from taco.draws import private_draws


def test_a_seeded_thread_keeps_its_stream_while_others_load_models():
    """The seeded thread draws until every loader has built a whole model after the seed (a
    trained one read by taco.load, a tiny one drawn by create_model), then once more: each
    build's draws fall inside its stream, whatever the timing."""
    taco.load("elic-small-q4")  # files read and cached once: the threads below only build
    builds = [lambda: taco.load("elic-small-q4"), lambda: taco.create_model("elic-tiny")] * 2
    done, errors = [0] * len(builds), []
    go, stop = threading.Event(), threading.Event()

    def load(i: int) -> None:
        try:
            go.wait(60)
            while not stop.is_set():
                builds[i]()
                done[i] += 1
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    loaders = [threading.Thread(target=load, args=(i,)) for i in range(len(builds))]
    for t in loaders:
        t.start()
    deadline = time.monotonic() + 300
    try:
        torch.manual_seed(0)
        go.set()
        got = []
        while min(done) == 0 and not errors and time.monotonic() < deadline:
            got.append(torch.rand(8))
        got.append(torch.rand(8))  # after the last build's draws (or restore) too
    finally:
        stop.set()
        for t in loaders:
            t.join(60)
    assert not any(t.is_alive() for t in loaders) and errors == []
    assert min(done) > 0, "a loader never finished a build"
    torch.manual_seed(0)
    assert torch.equal(torch.cat(got), torch.rand(8 * len(got)))


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
