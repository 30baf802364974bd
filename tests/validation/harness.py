"""Drive tripwire's own link code (``Theatre.cross`` / ``Theatre.move`` on SimPy resources)
with a Poisson stream of single-load formations, for the queueing-theory checks. Each load
draws its own service and transit times from its formation's named streams, as in a run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.conftest import link, mini
from tripwire.model import compile_plan
from tripwire.model.theatre import NEW_PATH, Deliveries, FormationLog, Theatre
from tripwire.scenario import Scenario


def tandem_plan(links: list[dict[str, Any]]) -> Any:
    """A plan whose network is origin -> n1 -> ... -> lt, one link per entry of ``links``
    (each a dict of channels, service_hours, transit_hours)."""
    nodes = ["origin"] + [f"n{k}" for k in range(1, len(links))] + ["lt"]
    data = mini()
    data["network"]["nodes"].update({n: {"kind": "staging"} for n in nodes[1:-1]})
    data["network"]["links"] = [
        link(f"l{k}", nodes[k], nodes[k + 1], **spec) for k, spec in enumerate(links)
    ] + data["network"]["links"][1:]
    return compile_plan(Scenario.model_validate(data))


@dataclass
class Stream:
    arrivals: np.ndarray  # hours
    waits: np.ndarray  # wait for a channel on the first link, per formation in arrival order
    in_system: np.ndarray  # arrival at the last node minus arrival at the first
    theatre: Theatre


def poisson_stream(plan: Any, rate: float, n: int, seed: int) -> Stream:
    """``n`` formations of one load (100 troops) arriving as a Poisson process of ``rate``
    per hour at the origin, each moved to ``lt`` by the model's own movement code; run
    until every queue is empty."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / rate, n))
    # the attack at time 0: every move is after it (no movement control on these links)
    th = Theatre(plan, math.inf, 0.0, np.random.SeedSequence(seed), audit=True)
    env = th.env
    modes = frozenset({"rail", "road", "sea", "air"})
    sinks = [Deliveries(env, 100.0, 0.0) for _ in range(n)]

    def one(k: int):  # type: ignore[no-untyped-def]
        yield env.timeout(arrivals[k] - env.now)
        log = FormationLog(f"f{k}", 100.0, 0.0)  # its own draws: move:f<k>:all:<link>
        yield from th.move(log, "all", 100.0, 0.0, "origin", "lt", modes, list(NEW_PATH), sinks[k])

    for k in range(n):
        env.process(one(k))
    env.run()
    done = np.array([s.last() for s in sinks])
    for idx in range(len(plan.links)):  # close the queue-length integrals
        th._queue(idx, 0)
    # single-load formations on a FIFO link are dispatched in arrival order, so the k-th
    # recorded wait is the k-th arrival's
    waits = np.array(th.stats[0].waits)
    assert waits.size == n
    return Stream(arrivals, waits, done - arrivals, th)


def erlang_c_wait(rate: float, mean_service: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = rate * mean_service
    if a >= c:
        return math.inf
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait * mean_service / (c - a)
