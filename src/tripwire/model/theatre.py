"""One replication of the theatre: SimPy where units contend for capacity, arithmetic elsewhere.

Simulation time starts when warning is received (t_sim = 0) and the attack starts at
t_sim = W, the sampled warning. Reported times are hours from attack start (t_sim - W).

Each transport link with finite capacity is a ``simpy.Resource`` with one slot per channel
(train path, berth, aircraft). A formation crossing a link is split into loads; each load
holds a channel for the link's service time, FIFO, then travels for the transit time. The
formation is across when its last load arrives. Reception in each country is a resource
too, and pre-positioned equipment sets are a ``simpy.Container`` per site.

Everything that is not contention (the in-place forces, the adversary clock, strength at
checkpoints) is computed from timestamps, which keeps the event count low.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from tripwire.model.forces import CountryDraw, allocate, draw_countries, in_place_steps
from tripwire.model.outcome import record
from tripwire.model.plan import Formation, Plan, stream
from tripwire.network import ALL_MODES, HEAVY_MODES, Edge
from tripwire.scenario import Link

INF = math.inf


def loads(link: Link, troops: float, items: float) -> int:
    """Loads a formation needs on ``link``: enough for its equipment and its people."""
    return max(
        math.ceil(items / link.items_per_load - 1e-9),
        math.ceil(troops / link.troops_per_load - 1e-9),
        1,
    )


@dataclass(slots=True)
class _Crossing:
    """Book-keeping of one formation crossing one capacity-limited link."""

    remaining: int  # loads not yet dispatched (the others have started: n - remaining)
    done: simpy.Event  # succeeds when the last load is dispatched
    t0: float  # when the loads joined the queue
    n: int  # loads in all
    first_start: float = INF
    last_end: float = 0.0


@dataclass(slots=True)
class LinkStats:
    """Use of one link. ``waits``: each crossing's wait for its first channel (reported).
    The rest is queueing book-keeping for the verification checks (Little's law), kept only
    when the theatre audits:
    ``load_wait`` sums every dispatched load's wait, ``withdrawn_wait`` the time waited by
    loads withdrawn at a corridor cut, ``backlog_area`` the integral of the number of loads
    waiting over time (up to ``backlog_since``)."""

    loads: int = 0
    troops: float = 0.0
    waits: list[float] = field(default_factory=list)
    load_wait: float = 0.0
    withdrawn_wait: float = 0.0
    backlog_area: float = 0.0
    backlog_since: float = 0.0


class Theatre:
    """The SimPy side of one replication."""

    def __init__(self, plan: Plan, closure: float, audit: bool = False) -> None:
        self.plan = plan
        self.audit = audit  # keep the queueing book-keeping of LinkStats (verification)
        self.env = simpy.Environment()
        self.closure = closure  # sim time the corridor links close (inf: never)
        self.closed_event = self.env.timeout(closure) if closure < INF else None
        self.res = [
            simpy.Resource(self.env, lk.channels) if lk.channels is not None else None
            for lk in plan.links
        ]
        self.stats = [LinkStats() for _ in plan.links]
        self.backlog = [0] * len(plan.links)  # loads waiting for a channel, per link
        self.congestion = plan.scenario.routing == "congestion"
        self.reception: dict[str, simpy.Resource | None] = {
            c: (
                simpy.Resource(self.env, spec.reception_capacity_units)
                if spec.reception_capacity_units
                else None
            )
            for c, spec in plan.scenario.countries.items()
        }
        self.sets = [
            (p, simpy.Container(self.env, capacity=max(p.sets, 1), init=p.sets))
            for p in plan.scenario.prepositioned
        ]
        self.ready: list[tuple[str, float, float]] = []  # (country, sim time, troops)
        self.rerouted = 0
        self.stranded = 0
        self.sets_drawn = 0

    # --- movement ---------------------------------------------------------------------

    def cross(
        self, idx: int, troops: float, items: float, rng: np.random.Generator
    ) -> Generator[simpy.Event, Any, tuple[int, int, float]]:
        """Dispatch a formation's loads over link ``idx``.

        Returns (loads dispatched, loads, arrival time of the dispatched ones) as soon as
        every load is dispatched or the corridor cut withdraws the rest; a load dispatched
        before the cut completes its crossing.
        """
        link: Link = self.plan.links[idx]
        env = self.env
        n = loads(link, troops, items)
        service = link.service_hours.draw(rng)
        transit = link.transit_hours.draw(rng)
        cutoff = self.closure if link.corridor else INF
        t0 = env.now
        if t0 >= cutoff:
            return 0, n, INF
        res = self.res[idx]
        if res is None:  # unlimited capacity: every load starts at once
            started, first, last_end = n, t0, t0 + service
        else:
            c = _Crossing(remaining=n, done=env.event(), t0=t0, n=n)
            self._queue(idx, n)
            for _ in range(min(n, int(res.capacity))):
                env.process(self._worker(res, c, service, cutoff, idx))
            if cutoff < INF and self.closed_event is not None:
                yield c.done | self.closed_event
            else:
                yield c.done
            started = n - c.remaining
            if c.remaining:  # the cut came first: withdraw the loads not yet dispatched
                if self.audit:
                    self.stats[idx].withdrawn_wait += c.remaining * (env.now - t0)
                self._queue(idx, -c.remaining)
                c.remaining = 0
            first, last_end = c.first_start, c.last_end
        if started:
            st = self.stats[idx]
            st.loads += started
            st.troops += troops * started / n
            st.waits.append(first - t0)
        return started, n, last_end + transit

    def _queue(self, idx: int, delta: int) -> None:
        """Change the number of loads waiting on link ``idx`` (integrated over time when
        auditing)."""
        if self.audit:
            st = self.stats[idx]
            st.backlog_area += self.backlog[idx] * (self.env.now - st.backlog_since)
            st.backlog_since = self.env.now
        self.backlog[idx] += delta

    def _worker(
        self, res: simpy.Resource, c: _Crossing, service: float, cutoff: float, idx: int
    ) -> Generator[simpy.Event, Any, None]:
        """Hold one channel and dispatch this formation's loads until none is left.

        Equivalent to one FIFO request per load: a formation's loads queue together, so a
        freed channel always goes to its next load before any later formation's.
        """
        env = self.env
        st, backlog = self.stats[idx], self.backlog
        with res.request() as req:
            if cutoff < INF and self.closed_event is not None:
                yield req | self.closed_event
            else:
                yield req
            # the hot loop: one pass per load
            audit, timeout = self.audit, env.timeout
            if c.remaining == c.n:  # the crossing's first channel
                c.first_start = env.now
            while c.remaining:
                now = env.now
                if now >= cutoff:
                    break
                c.remaining -= 1
                if audit:  # the book-keeping of _queue, written inline
                    st.backlog_area += backlog[idx] * (now - st.backlog_since)
                    st.backlog_since = now
                    st.load_wait += now - c.t0
                backlog[idx] -= 1
                c.last_end = now + service  # loads of a crossing end in dispatch order
                if not c.remaining:
                    c.done.succeed()
                yield timeout(service)

    def move(
        self,
        troops: float,
        items: float,
        node: str,
        dest: str,
        modes: frozenset[str],
        rng: np.random.Generator,
    ) -> Generator[simpy.Event, Any, float]:
        """Move a formation (or a detachment of it) to ``dest``; return its arrival time.

        When the corridor is cut while loads wait for a corridor link, the loads already
        dispatched go on and the rest re-plan at once from the same node as a detachment;
        the formation arrives when its last detachment does (inf if one is stranded).
        """
        detachments = []
        while node != dest:
            edge = self._choose(node, dest, modes, troops, items)
            if edge is None:
                self.stranded += 1
                return INF
            started, n, arrive = yield from self.cross(edge.index, troops, items, rng)
            if started < n:
                self.rerouted += 1
                if not started:
                    continue
                share = started / n
                detachments.append(
                    self.env.process(
                        self.move(troops * (1 - share), items * (1 - share), node, dest, modes, rng)
                    )
                )
                troops, items = troops * share, items * share
            yield self.env.timeout(arrive - self.env.now)
            node = edge.dst
        arrival = self.env.now
        for d in detachments:
            arrival = max(arrival, (yield d))
        return arrival

    def _choose(
        self, node: str, dest: str, modes: frozenset[str], troops: float, items: float
    ) -> Edge | None:
        """Next link by the scenario's routing rule (see :mod:`tripwire.network`)."""
        open_ = self.env.now < self.closure
        if not self.congestion:
            return self.plan.router.next_edge(node, dest, modes, open_)
        best: tuple[float, int] | None = None
        choice = None
        means = self.plan.link_means
        for e, rest in self.plan.router.candidates(node, dest, modes, open_):
            lk = self.plan.links[e.index]
            service, transit = means[e.index]
            if lk.channels is None:
                push = service
            else:
                n = loads(lk, troops, items)
                push = service * (self.backlog[e.index] + n) / lk.channels
            key = (transit + push + rest, e.index)
            if best is None or key < best:
                best, choice = key, e
        return choice

    def _claim_sets(self, f: Formation, dest: str) -> tuple[Any, str] | None:
        """Claim pre-positioned sets for a fly-in formation: the site at its destination
        first, then the others in scenario order. Returns (spec, site) or None."""
        router, open_ = self.plan.router, self.env.now < self.closure
        order = sorted(self.sets, key=lambda ps: ps[0].site != dest)
        for spec, cont in order:
            k = math.ceil(f.troops / spec.troops_per_set - 1e-9)
            if cont.level < k or router.path(f.origin, spec.site, ALL_MODES, open_) is None:
                continue
            if router.path(spec.site, dest, HEAVY_MODES, open_) is None:
                continue
            cont.get(k)  # level >= k: succeeds at once
            self.sets_drawn += k
            return spec, spec.site
        return None

    def formation(
        self, f: Formation, country: str, depart: float, rng: np.random.Generator
    ) -> Generator[simpy.Event, Any, None]:
        """Life of one formation: wait for readiness, move, draw equipment, be received."""
        env = self.env
        yield env.timeout(depart)
        dest = self.plan.country_nodes[country]
        claim = self._claim_sets(f, dest) if f.lift == "fly_in" and self.sets else None
        if claim is not None:
            spec, site = claim
            t = yield from self.move(f.troops, 0.0, f.origin, site, ALL_MODES, rng)
            if t == INF:
                return
            yield env.timeout(spec.draw_hours.draw(rng))
            t = yield from self.move(f.troops, f.items, site, dest, HEAVY_MODES, rng)
        else:
            t = yield from self.move(f.troops, f.items, f.origin, dest, HEAVY_MODES, rng)
        if t == INF:
            return
        spec_c = getattr(self.plan.scenario.countries, country)
        hours = spec_c.reception_hours.draw(rng)
        res = self.reception[country]
        if res is None:
            yield env.timeout(hours)
        else:
            with res.request() as req:
                yield req
                yield env.timeout(hours)
        self.ready.append((country, env.now, f.troops))


@dataclass
class Replication:
    """One replication as played: the theatre after the horizon and the draws behind it."""

    theatre: Theatre
    countries: dict[str, CountryDraw]
    steps: Any
    warning: float
    decision: float
    go: float
    closed: bool
    closure_rel: float


def play(plan: Plan, child: np.random.SeedSequence, audit: bool = False) -> Replication:
    """Draw one replication's clock, corridor, forces and readiness from its seed and run
    the theatre to the horizon (``audit``: keep the queueing book-keeping, for the
    verification checks; it does not change the replication)."""
    s = plan.scenario
    clock = stream(child, "clock")
    u = clock.random(3)
    w = float(s.warning.days.ppf(u[:1])[0]) * 24.0
    decision = float(s.warning.decision_delay_hours.ppf(u[1:2])[0])
    clearance = float(s.warning.peacetime_clearance_hours.ppf(u[2:3])[0])
    # before the attack, moves wait for clearance; the attack itself lifts that wait
    go = min(decision + clearance, max(decision, w))

    cor = stream(child, "corridor").random(2)
    closed = bool(cor[0] < s.suwalki.closure_probability)
    closure_rel = float(s.suwalki.closure_hours.ppf(cor[1:2])[0])
    closure = max(0.0, w + closure_rel) if closed else INF

    steps = in_place_steps(s, child, w)
    countries: dict[str, CountryDraw] = draw_countries(s, child)

    rngs = [stream(child, f.key) for f in plan.formations]
    ready_h = [f.readiness.draw(r) * f.readiness_scale for f, r in zip(plan.formations, rngs)]
    departs = [max(decision + rh, go) for rh in ready_h]
    eta = [d + plan.planning_hours[k] for k, d in enumerate(departs)]
    dests = allocate(plan.formations, eta, countries, steps, s.allocation_priority)

    th = Theatre(plan, closure, audit)
    for f, r, dest, dep in zip(plan.formations, rngs, dests, departs):
        th.env.process(th.formation(f, dest, dep, r))
    th.env.run(until=w + s.horizon_hours)
    return Replication(th, countries, steps, w, decision, go, closed, closure_rel)


def simulate(plan: Plan, child: np.random.SeedSequence, buildup: bool = False) -> dict[str, Any]:
    """Run one replication from its seed and return its flat record (with each country's
    strength on the build-up grid when ``buildup``; the other columns do not change)."""
    r = play(plan, child)
    return record(
        plan.scenario,
        plan,
        r.theatre,
        r.countries,
        r.steps,
        r.warning,
        r.decision,
        r.go,
        r.closed,
        r.closure_rel,
        buildup,
    )


__all__ = ["Replication", "Theatre", "play", "simulate"]
