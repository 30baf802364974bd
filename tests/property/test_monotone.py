"""Monotone responses under common random numbers.

Two levels, because queueing networks allow overtaking:

* **Exact, per replication** (hypothesis): a pipeline of capacity-limited FIFO links to one
  country, identical formations. Sorted departure times of a FIFO multi-server queue are
  monotone in arrival times, service and number of servers (Kiefer & Wolfowitz), so more
  capacity, more warning, a faster decision or more troops in place can never make the
  country's time-to-reinforce later.
* **Statistical, shipped scenarios** (fixed seeds): in the full theatre, formations bound
  for different countries share links, so one formation's head start can put it ahead of
  another in a queue, and congestion routing (one link ahead) can send an earlier formation
  into a longer queue further on; a single country can then be later in some replications.
  The tests bound that share (20 %) and check that the paired mean is never later
  (docs/model.md).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SCENARIOS, SHIPPED, link, mini
from tripwire.loader import load_scenario
from tripwire.model import compile_plan, simulate
from tripwire.runner import replication_seed
from tripwire.scenario import Scenario
from tripwire.summary import AREAS

SETTINGS = settings(
    max_examples=int(os.environ.get("TRIPWIRE_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def ttrs(data: dict[str, Any], reps: Iterable[int]) -> list[dict[str, float]]:
    """Time-to-reinforce per area (inf when censored) for each replication."""
    plan = compile_plan(Scenario.model_validate(data))
    rows = [simulate(plan, replication_seed(7, r)) for r in reps]
    return [
        {a: math.inf if row[f"censored_{a}"] else row[f"ttr_{a}_h"] for a in AREAS} for row in rows
    ]


# --- exact: single-destination pipelines -------------------------------------------------


@st.composite
def pipelines(draw: Any) -> dict[str, Any]:
    """origin -> n1 -> ... -> lt, random capacities and times; k identical formations
    with random readiness; some troops in place; uncertain warning and decision."""
    hops = draw(st.integers(1, 3))
    nodes = ["origin", *[f"n{i}" for i in range(1, hops)], "lt"]
    links = [
        link(
            f"l{i}",
            a,
            b,
            channels=draw(st.integers(1, 4)),
            service_hours=draw(st.floats(0.5, 6)),
            transit_hours=draw(st.floats(0, 30)),
        )
        for i, (a, b) in enumerate(zip(nodes, nodes[1:]))
    ]
    k = draw(st.integers(1, 6))
    size = draw(st.sampled_from([300, 500, 1000]))
    units = [
        {
            "name": f"F{j}",
            "troops": size,
            "type": "armoured",
            "origin": "origin",
            "destination": "lithuania",
            "readiness_hours": draw(st.floats(0, 100)),
        }
        for j in range(k)
    ]
    d = mini(
        units=units,
        warning={
            "days": {"uniform": {"low": 0, "high": 5}},
            "decision_delay_hours": {"uniform": {"low": 0, "high": 72}},
        },
    )
    d["network"]["nodes"].update({n: {"kind": "staging"} for n in nodes[1:-1]})
    d["network"]["links"] = links + d["network"]["links"][1:]
    d["countries"]["lithuania"]["required_troops"] = size * draw(st.integers(1, k))
    d["countries"]["lithuania"]["reception_capacity_units"] = draw(st.sampled_from([None, 1, 2]))
    d["in_place"] = [
        {
            "name": "P",
            "country": "lithuania",
            "kind": "permanent",
            "troops": draw(st.floats(0, size)),
        }
    ]
    return d


def _lt(d: dict[str, Any], r: int) -> float:
    return ttrs(d, [r])[0]["lithuania"]


@SETTINGS
@given(pipelines(), st.data(), st.integers(0, 1000))
def test_pipeline_more_capacity_never_delays(d, data, r):
    i = data.draw(st.integers(0, len(d["network"]["links"]) - 3))
    more = {
        **d,
        "network": {
            **d["network"],
            "links": [
                {**lk, "channels": lk["channels"] + data.draw(st.integers(1, 3))} if k == i else lk
                for k, lk in enumerate(d["network"]["links"])
            ],
        },
    }
    assert _lt(more, r) <= _lt(d, r) + 1e-9


@SETTINGS
@given(pipelines(), st.floats(0.1, 5), st.integers(0, 1000))
def test_pipeline_more_warning_never_delays(d, extra, r):
    w = d["warning"]["days"]["uniform"]
    more = {
        **d,
        "warning": {
            **d["warning"],
            "days": {"uniform": {"low": w["low"] + extra, "high": w["high"] + extra}},
        },
    }
    assert _lt(more, r) <= _lt(d, r) + 1e-9


@SETTINGS
@given(pipelines(), st.floats(1, 72), st.integers(0, 1000))
def test_pipeline_faster_decision_never_delays(d, faster, r):
    slow = {
        **d,
        "warning": {
            **d["warning"],
            "decision_delay_hours": {"uniform": {"low": faster, "high": 72 + faster}},
        },
    }
    assert _lt(d, r) <= _lt(slow, r) + 1e-9


@SETTINGS
@given(pipelines(), st.floats(1, 2000), st.integers(0, 1000))
def test_pipeline_more_troops_in_place_never_delays(d, extra, r):
    more = {**d, "in_place": [{**d["in_place"][0], "troops": d["in_place"][0]["troops"] + extra}]}
    assert _lt(more, r) <= _lt(d, r) + 1e-9


@SETTINGS
@given(pipelines(), st.integers(0, 1000))
def test_pipeline_unlimited_capacity_has_zero_wait(d, r):
    d = {
        **d,
        "network": {
            **d["network"],
            "links": [{**lk, "channels": None} for lk in d["network"]["links"]],
        },
    }
    row = simulate(compile_plan(Scenario.model_validate(d)), replication_seed(1, r))
    waits = [row[f"route_l{i}_wait_h_max"] for i in range(len(d["network"]["links"]) - 2)]
    assert all(w == 0 for w in waits)


# --- statistical: the shipped theatre -------------------------------------------------------


@cache
def shipped(name: str) -> dict[str, Any]:
    return load_scenario(SCENARIOS / f"{name}.yaml").scenario.model_dump(by_alias=True)


REPS = range(100)
CHANGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "capacity": lambda d: {
        **d,
        "network": {
            **d["network"],
            "links": [
                {**lk, "channels": lk["channels"] * 2 if lk["channels"] else None}
                for lk in d["network"]["links"]
            ],
        },
    },
    "warning": lambda d: {
        **d,
        "warning": {**d["warning"], "days": {"triangular": {"low": 2, "mode": 5, "high": 16}}},
    },
    "decision": lambda d: {
        **d,
        "warning": {
            **d["warning"],
            "decision_delay_hours": {"lognormal": {"median": 24, "sigma": 0.8}},
        },
    },
    "troops": lambda d: {
        **d,
        "in_place": [{**f, "troops": f["troops"] + 1000} for f in d["in_place"]],
    },
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("name", ["rotational", "brigade", "permanent"])
def test_shipped_theatre_is_not_later_on_average(name, change):
    before = ttrs(shipped(name), REPS)
    after = ttrs(CHANGES[change](shipped(name)), REPS)
    for area in AREAS:
        diffs = [
            a[area] - b[area]
            for a, b in zip(after, before)
            if math.isfinite(a[area]) and math.isfinite(b[area])
        ]
        assert sum(diffs) <= 1e-6, (area, sum(diffs) / len(diffs))
        later = sum(x > 1e-9 for x in diffs)
        # calibrated to the record, the network is congested, and congestion routing looks
        # one link ahead: a formation that leaves earlier can meet a longer queue further on
        # (measured: up to 17 % of replications for one area, docs/model.md)
        assert later <= 0.20 * len(diffs), (area, later)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.sampled_from(SHIPPED), st.integers(0, 10_000))
def test_same_seed_same_result(name, r):
    d = shipped(name)
    a = simulate(compile_plan(Scenario.model_validate(d)), replication_seed(3, r))
    b = simulate(compile_plan(Scenario.model_validate(d)), replication_seed(3, r))
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)
