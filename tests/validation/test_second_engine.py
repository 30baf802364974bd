"""Verification with a second engine: the same capacity-limited route simulated by ciw (a
different discrete-event library) gives the same time-in-system distribution.

Route: origin --link 1 (2 channels, exponential service mean 1 h, transit uniform 2-4 h)-->
hub --link 2 (1 channel, exponential service mean 0.5 h, transit 1 h)--> destination, with
Poisson arrivals of single-load formations (0.9 per hour). In ciw each link is a queue with
its channels as servers followed by an infinite-server node for the transit.

Re-run: ``python -m pytest -m validation tests/validation/test_second_engine.py -s``
"""

from __future__ import annotations

import ciw
import numpy as np
import pytest
from scipy import stats

from .harness import poisson_stream, tandem_plan

pytestmark = [pytest.mark.validation, pytest.mark.slow]

RATE, RUNS, ARRIVALS, WARMUP, THIN = 0.9, 10, 3000, 300, 15


def ciw_times(servers_1: int, seed: int) -> np.ndarray:
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE), None, None, None],
        service_distributions=[
            ciw.dists.Exponential(rate=1.0),
            ciw.dists.Uniform(lower=2.0, upper=4.0),
            ciw.dists.Exponential(rate=2.0),
            ciw.dists.Deterministic(value=1.0),
        ],
        routing=[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0] * 4],
        number_of_servers=[servers_1, float("inf"), 1, float("inf")],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(net)
    sim.simulate_until_max_customers(ARRIVALS, method="Finish")
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for r in sim.get_all_records():
        first[r.id_number] = min(first.get(r.id_number, np.inf), r.arrival_date)
        last[r.id_number] = max(last.get(r.id_number, 0.0), r.exit_date)
    ids = sorted(first)
    return np.array([last[i] - first[i] for i in ids])


def tripwire_times(seed: int) -> np.ndarray:
    plan = tandem_plan(
        [
            dict(
                channels=2,
                service_hours={"exponential": {"mean": 1.0}},
                transit_hours={"uniform": {"low": 2.0, "high": 4.0}},
            ),
            dict(channels=1, service_hours={"exponential": {"mean": 0.5}}, transit_hours=1.0),
        ]
    )
    return poisson_stream(plan, RATE, ARRIVALS, seed).in_system


def sample(times: np.ndarray) -> np.ndarray:
    """Steady state, thinned so that the kept customers are nearly independent."""
    return times[WARMUP::THIN]


def test_ciw_and_tripwire_agree_on_time_in_system():
    a = np.concatenate([sample(tripwire_times(seed=s)) for s in range(RUNS)])
    b = np.concatenate([sample(ciw_times(2, seed=s)) for s in range(RUNS)])
    ks = stats.ks_2samp(a, b)
    print(
        f"time in system: tripwire mean {a.mean():.2f} h (n={a.size}), ciw {b.mean():.2f} h "
        f"(n={b.size}); KS D={ks.statistic:.3f}, p={ks.pvalue:.3f}"
    )
    assert ks.pvalue > 0.01
    # power: the same test tells a one-channel first link apart at once
    c = np.concatenate([sample(ciw_times(1, seed=s)) for s in range(RUNS)])
    wrong = stats.ks_2samp(a, c)
    print(f"control, ciw with 1 channel: mean {c.mean():.2f} h, KS p={wrong.pvalue:.2g}")
    assert wrong.pvalue < 1e-6
