"""Compile a scenario once into the flat structures every replication reuses.

Nothing here is random: the list of formations, the routing tables and the stream names
are fixed by the scenario, so every replication (and every posture that shares an element,
such as the high-readiness pool) draws from streams with the same names: common random
numbers by construction.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tripwire.distributions import Distribution
from tripwire.network import HEAVY_MODES, Edge, Router
from tripwire.scenario import Link, Scenario

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Formation:
    """One formation that moves as a whole (a named unit copy or a slice of the pool)."""

    key: str  # stream name, stable across postures
    name: str
    troops: float
    items: float  # equipment items to move by heavy lift
    origin: str
    destination: str | None  # country, or None: allocated by priority fill (forces.allocate)
    readiness: Distribution
    readiness_scale: float  # multiplies a draw to give hours (24 for days)
    lift: str
    troops_modes: frozenset[str] | None = None  # troops travel apart by these modes
    weight: float = 1.0  # combat power per troop of its type (1 without a combat block)


@dataclass(frozen=True)
class Plan:
    """A scenario compiled for simulation."""

    scenario: Scenario
    links: tuple[Link, ...]
    router: Router
    formations: tuple[Formation, ...]
    country_nodes: dict[str, str]
    planning_hours: tuple[float, ...]  # per formation: static hours to its planning target
    link_means: tuple[tuple[float, float], ...]  # per link: (full-load service, mean transit)


def stream(child: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A named sub-stream of a replication's seed.

    The same replication seed and the same name give the same numbers in any scenario,
    which is what makes comparisons between postures paired (common random numbers).
    """
    key = zlib.crc32(name.encode("utf-8"))
    seq = np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, key))
    return np.random.Generator(np.random.PCG64(seq))


def compile_plan(s: Scenario) -> Plan:
    """Build the formations list and the router of a validated scenario."""
    items = s.equipment_items_per_troop
    formations: list[Formation] = []
    for u in s.units:
        for k in range(u.count):
            formations.append(
                Formation(
                    key=f"unit:{u.name}#{k}",
                    name=u.name if u.count == 1 else f"{u.name} #{k + 1}",
                    troops=u.troops,
                    items=u.troops * getattr(items, u.type),
                    origin=u.origin,
                    destination=u.destination,
                    readiness=u.readiness_hours,
                    readiness_scale=1.0,
                    lift=u.lift,
                    troops_modes=frozenset(u.troops_modes) if u.troops_modes else None,
                    weight=s.combat.weight(u.type) if s.combat is not None else 1.0,
                )
            )
    if s.pool is not None:
        p = s.pool
        planned = _planned_destinations(p.destinations) if s.allocation == "fixed" else None
        for tier in p.tiers:
            tier_troops = p.total_troops * p.theatre_share * tier.share
            n = math.ceil(tier_troops / p.formation_troops - 1e-9)
            for k in range(n):
                troops = min(p.formation_troops, tier_troops - k * p.formation_troops)
                formations.append(
                    Formation(
                        key=f"pool:{tier.name}#{k}",
                        name=f"{tier.name} formation {k + 1}",
                        troops=troops,
                        items=troops * getattr(items, p.type),
                        origin=p.origin,
                        destination=next(planned) if planned is not None else None,
                        readiness=tier.readiness_days,
                        readiness_scale=HOURS_PER_DAY,
                        lift=p.lift,
                        troops_modes=frozenset(p.troops_modes) if p.troops_modes else None,
                        weight=s.combat.weight(p.type) if s.combat is not None else 1.0,
                    )
                )
    links = tuple(s.network.links)
    router = Router(
        [
            Edge(i, lk.from_, lk.to, lk.mode, lk.expected_hours, lk.corridor)
            for i, lk in enumerate(links)
        ]
    )
    nodes = {c: spec.node for c, spec in s.countries.items()}
    planning = []
    for f in formations:
        # planned arrival: to its own destination, or to the first-priority country
        target = nodes[f.destination or s.allocation_priority[0]]
        dist = router.table(target, HEAVY_MODES, True)[1]
        planning.append(dist.get(f.origin, math.inf))
    means = tuple((lk.full_load_service_hours, lk.transit_hours.mean) for lk in links)
    return Plan(s, links, router, tuple(formations), nodes, tuple(planning), means)


def _planned_destinations(shares: Mapping[Any, float] | None) -> Iterator[str]:
    """Smooth weighted round-robin: the k-th formation goes where the count lags its share
    most, so any prefix of the pool is split as close to the shares as whole formations allow."""
    assert shares is not None
    count = dict.fromkeys(shares, 0)
    k = 0
    while True:
        k += 1
        c = max(shares, key=lambda x: (shares[x] * k - count[x], -list(shares).index(x)))
        count[c] += 1
        yield c
