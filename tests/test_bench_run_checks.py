"""run_bench checks its config as ``taco bench`` does, before any work, by the same check: a
model that is no architecture was a bare KeyError, a TACO model that takes no text a bare
ValueError after the models were built, and a thread count torch cannot take an OverflowError
(review U)."""

from __future__ import annotations

import pytest

from taco.bench import latency
from taco.bench.latency import BenchConfig, run_bench
from taco.devices import MAX_THREADS
from taco.errors import TacoValueError


@pytest.mark.parametrize(("over", "said"), [
    ({"elic_model": "nosuch"}, "--elic-model 'nosuch': not an architecture name"),
    ({"taco_model": "elic-tiny"}, "--taco-model 'elic-tiny': takes no text"),
    ({"threads": MAX_THREADS + 1}, f"threads must be 1 to {MAX_THREADS}"),
    ({"threads": -1}, f"threads must be 1 to {MAX_THREADS}"),
    ({"threads": 0}, f"threads must be 1 to {MAX_THREADS}"),  # passed as no count: review X
])
def test_run_bench_refuses_a_config_before_any_work(over, said, monkeypatch):
    monkeypatch.setattr(latency, "load_inputs", lambda *a, **k: pytest.fail("the bench ran"))
    with pytest.raises(TacoValueError, match=said):
        run_bench(BenchConfig.quick_defaults(**over))
