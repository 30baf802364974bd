"""Verification against queueing theory: tripwire's links (SimPy resources, FIFO
channels) reproduce the M/M/c mean wait of Erlang C, and Little's law holds on every link.

Re-run: ``python -m pytest -m validation tests/validation/test_queueing.py -s``
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.conftest import SCENARIOS
from tripwire.loader import load_scenario
from tripwire.model import compile_plan
from tripwire.model.theatre import play
from tripwire.runner import replication_seed

from .harness import erlang_c_wait, poisson_stream, tandem_plan

pytestmark = pytest.mark.validation

REPS, ARRIVALS, WARMUP = 20, 4000, 0.1


@pytest.mark.slow
@pytest.mark.parametrize(("c", "rho"), [(1, 0.7), (2, 0.8), (4, 0.6)])
def test_link_matches_erlang_c(c, rho):
    """Mean wait of an M/M/c link within the 99% CI of 20 independent replications
    (4,000 arrivals each, the first 10% dropped as warm-up)."""
    rate = rho * c  # service mean 1 h
    plan = tandem_plan([dict(channels=c, service_hours={"exponential": {"mean": 1.0}})])
    means = []
    for r in range(REPS):
        s = poisson_stream(plan, rate, ARRIVALS, seed=1000 * c + r)
        means.append(s.waits[int(WARMUP * ARRIVALS) :].mean())
    m, se = float(np.mean(means)), float(np.std(means, ddof=1) / math.sqrt(REPS))
    half = stats.t.ppf(0.995, REPS - 1) * se
    expected = erlang_c_wait(rate, 1.0, c)
    print(f"M/M/{c} rho={rho}: simulated {m:.3f} +- {half:.3f} h, Erlang C {expected:.3f} h")
    assert abs(m - expected) <= half, (m, half, expected)


def test_littles_law_on_one_link_exactly():
    """Time-average number waiting = arrival rate x mean wait, as an identity of the
    sample path: integral of the queue length = sum of the loads' waits."""
    plan = tandem_plan([dict(channels=2, service_hours={"exponential": {"mean": 1.0}})])
    s = poisson_stream(plan, 1.6, 2000, seed=5)
    st = s.theatre.stats[0]
    horizon = s.theatre.env.now
    queue_len = st.backlog_area / horizon
    lam_w = (st.loads / horizon) * (st.load_wait / st.loads)
    assert st.backlog_area > 1000  # a real queue, not an empty one
    assert queue_len == pytest.approx(lam_w, rel=1e-9)
    assert st.load_wait == pytest.approx(float(np.sum(s.waits)), rel=1e-9)


@pytest.mark.parametrize("scenario", ["brigade", "suwalki_cut"])
def test_littles_law_on_every_link_of_the_theatre(scenario):
    """On every link of the shipped theatre (the corridor cut included: withdrawn loads
    count their wait up to the cut), run until every queue is empty."""
    s = load_scenario(SCENARIOS / f"{scenario}.yaml").scenario
    plan = compile_plan(s)
    checked = 0
    for rep in range(4):
        r = play(plan, replication_seed(20261123, rep), audit=True)
        th = r.theatre
        th.env.run()  # drain every queue past the horizon
        for idx, st in enumerate(th.stats):
            th._queue(idx, 0)  # close the integral
            assert th.backlog[idx] == 0
            assert st.backlog_area == pytest.approx(
                st.load_wait + st.withdrawn_wait, rel=1e-9, abs=1e-6
            ), plan.links[idx].id
            checked += st.backlog_area > 0
    assert checked >= 4  # queues did form
