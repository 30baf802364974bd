"""One replication of the theatre: SimPy where units contend for capacity, arithmetic elsewhere.

Simulation time starts when warning is received (t_sim = 0) and the attack starts at
t_sim = W, the sampled warning. Reported times are hours from attack start (t_sim - W).

Each transport link with finite capacity is a ``simpy.Resource`` with one slot per channel
(train path, berth, aircraft); a link that can be denied is a ``simpy.PriorityResource``,
so that the denial's blockers take channels ahead of waiting loads. A formation crossing a
link is split into loads; each load draws its own service and transit time, holds a
channel for its service time (FIFO), then travels. A formation regroups at every node: it
moves on once its last load has arrived. At its destination each load is delivered on
arrival, and the formation is married up once the stated shares of its troops and
equipment are there (``marry_up``). Reception in each country is a resource too, and
pre-positioned equipment sets are a ``simpy.Container`` per site.

Every random number a formation uses on a link comes from a sub-stream named by the
formation, the element (troops, equipment, a detachment) and the link, so a replication's
draws do not depend on the order in which SimPy interleaves events.

Everything that is not contention (the in-place forces, the adversary clock, strength at
checkpoints) is computed from timestamps, which keeps the event count low.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from tripwire.model.forces import (
    CountryDraw,
    DenialDraw,
    allocate,
    draw_countries,
    draw_denials,
    in_place_steps,
)
from tripwire.model.outcome import formation_rows, record
from tripwire.model.plan import Formation, Plan, stream
from tripwire.network import ALL_MODES, HEAVY_MODES, Edge
from tripwire.scenario import Link

INF = math.inf
CONTROL, QUEUE, SERVICE, TRANSIT, DRAW, WORST_WAIT, WORST_LINK = range(7)
"""Indices of a path's accumulators: the phase hours (movement control, waiting for a
channel, holding a channel (loading, transfer, offload), travelling, drawing a set), then
the longest wait for a channel on one link of the path (hours) and that link's index (-1:
no wait; ties: the earlier link on the path)."""
NEW_PATH = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def _waited(acc: Acc, hours: float, idx: int) -> None:
    """Add a wait of ``hours`` for a channel of link ``idx`` to the path ``acc``."""
    acc[QUEUE] += hours
    if hours > acc[WORST_WAIT]:
        acc[WORST_WAIT], acc[WORST_LINK] = hours, float(idx)


Acc = list[float]


def loads(link: Link, troops: float, items: float) -> int:
    """Loads a formation needs on ``link``: enough for its equipment and its people."""
    return max(
        math.ceil(items / link.items_per_load - 1e-9),
        math.ceil(troops / link.troops_per_load - 1e-9),
        1,
    )


def load_share(total: float, per_load: float, k: int) -> float:
    """What load ``k`` carries of ``total`` when loads are filled in order (full loads
    first, the remainder in the last non-empty one, later loads empty)."""
    return min(per_load, max(0.0, total - k * per_load))


@dataclass(slots=True)
class _Crossing:
    """Book-keeping of one formation crossing one capacity-limited link."""

    remaining: int  # loads not yet dispatched (the others have started: n - remaining)
    done: simpy.Event  # succeeds when the last load is dispatched
    t0: float  # when the loads joined the queue
    n: int  # loads in all
    service: list[float]  # per load
    starts: list[float]  # per load: when it got its channel (inf: not dispatched)
    on_dispatch: Callable[[int, float], None] | None


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


class Deliveries:
    """Loads of one formation (or one fly-in leg) arriving where they are going.

    A load is registered when it is dispatched on its last link, with its future arrival
    time, so at any simulation time every load that has arrived is known. ``met`` gives the
    first time the required troops and items are there, and the path of the load that
    completed them (the critical path). ``changed`` fires only when a registration makes
    that time earlier (or finite), so a waiting formation wakes rarely."""

    __slots__ = (
        "env",
        "need_troops",
        "need_items",
        "loads",
        "changed",
        "_met",
        "troops_in",
        "items_in",
    )

    def __init__(self, env: simpy.Environment, need_troops: float, need_items: float) -> None:
        self.env = env
        self.need_troops = need_troops
        self.need_items = need_items
        self.loads: list[tuple[float, int, float, float, tuple[float, ...]]] = []
        self.changed = env.event()
        self._met: tuple[float, tuple[float, ...]] | None = None
        self.troops_in = 0.0  # registered so far (arrived or under way)
        self.items_in = 0.0

    def add(self, t: float, troops: float, items: float, acc: tuple[float, ...]) -> None:
        self.loads.append((t, len(self.loads), troops, items, acc))
        self.troops_in += troops
        self.items_in += items
        before = self._met
        if before is not None and t >= before[0]:
            return  # arrives after the needs are met: cannot change when they are met
        if self.troops_in < self.need_troops - 1e-9 or self.items_in < self.need_items - 1e-9:
            return  # not enough registered yet
        self._met = self._first()
        if before is None or self._met[0] < before[0]:
            old, self.changed = self.changed, self.env.event()
            old.succeed()

    def _first(self) -> tuple[float, tuple[float, ...]]:
        """Loads in order of arrival (ties: order of registration); the first at which the
        troops and the items needed are both there."""
        ct = ci = 0.0
        hit_t = hit_i = None
        ordered = sorted(self.loads)
        for d in ordered:
            ct += d[2]
            ci += d[3]
            if hit_t is None and ct >= self.need_troops - 1e-9:
                hit_t = d
            if hit_i is None and ci >= self.need_items - 1e-9:
                hit_i = d
            if hit_t is not None and hit_i is not None:
                last = max(hit_t, hit_i)
                return last[0], last[4]
        return ordered[-1][0], ordered[-1][4]  # the totals sufficed: rounding in the sums

    def met(self) -> tuple[float, tuple[float, ...]] | None:
        """(time, path) at which both needs are first met among registered loads, or None."""
        return self._met

    def last(self) -> float:
        """Arrival of the last registered load (inf when none)."""
        return max((d[0] for d in self.loads), default=INF)


@dataclass(slots=True)
class FormationLog:
    """What happened to one formation (one row of formations.parquet)."""

    key: str
    troops: float
    items: float
    depart: float = INF
    deliveries: Deliveries | None = None
    path: tuple[float, ...] | None = None  # phases of the load that completed the marry-up
    marry: float = 0.0
    married: float = INF
    combat_ready: float = INF


class Theatre:
    """The SimPy side of one replication."""

    def __init__(
        self,
        plan: Plan,
        closure: float,
        attack: float,
        child: np.random.SeedSequence,
        denials: list[DenialDraw] | None = None,
        audit: bool = False,
    ) -> None:
        self.plan = plan
        s = plan.scenario
        self.audit = audit  # keep the queueing book-keeping of LinkStats (verification)
        self.env = simpy.Environment()
        self.attack = attack  # sim time of attack start (movement control applies after it)
        self.child = child
        self.closure = closure  # sim time the corridor links close (inf: never)
        self.closed_event = self.env.timeout(closure) if closure < INF else None
        deniable = {i for d in s.denial for i, lk in enumerate(plan.links) if lk.id in d.links}
        self.deniable = [i in deniable for i in range(len(plan.links))]
        self.res: list[simpy.Resource | None] = [
            None
            if lk.channels is None
            else (
                simpy.PriorityResource(self.env, lk.channels)
                if self.deniable[i]
                else simpy.Resource(self.env, lk.channels)
            )
            for i, lk in enumerate(plan.links)
        ]
        self.stats = [LinkStats() for _ in plan.links]
        self.backlog = [0] * len(plan.links)  # loads waiting for a channel, per link
        self.congestion = s.routing == "congestion"
        self.control = {name: cp.hours for name, cp in s.movement_control.items()}
        self.wartime = s.wartime_factor
        self.reception: dict[str, simpy.Resource | None] = {
            c: (
                simpy.Resource(self.env, spec.reception_capacity_units)
                if spec.reception_capacity_units
                else None
            )
            for c, spec in s.countries.items()
        }
        self.sets = [
            (p, simpy.Container(self.env, capacity=max(p.sets, 1), init=p.sets))
            for p in s.prepositioned
        ]
        # (country, sim time, troops, combat power)
        self.ready: list[tuple[str, float, float, float]] = []
        self.logs = [FormationLog(f.key, f.troops, f.items) for f in plan.formations]
        self.rerouted = 0
        self.stranded = 0
        self.sets_drawn = 0
        # per link: (start, end, channels left) of the denial in force, if any
        self.throttle: list[tuple[float, float, int] | None] = [None] * len(plan.links)
        for d in denials or ():
            if d.active:
                self._deny(d)

    # --- denial ------------------------------------------------------------------------

    def _deny(self, d: DenialDraw) -> None:
        """Throttle the denial's links from ``d.start`` to ``d.end``: blockers take
        ``channels - left`` channels ahead of any waiting load (a load already holding a
        channel finishes its service)."""
        for i, lk in enumerate(self.plan.links):
            if lk.id not in d.links or lk.channels is None:
                continue
            left = math.floor(lk.channels * d.share + 1e-9)
            self.throttle[i] = (d.start, d.end, left)
            res = self.res[i]
            assert res is not None
            for _ in range(lk.channels - left):
                self.env.process(self._blocker(res, d.start, d.end))

    def _blocker(
        self, res: simpy.Resource, start: float, end: float
    ) -> Generator[simpy.Event, Any, None]:
        env = self.env
        yield env.timeout(start)
        with res.request(priority=-1) as req:  # type: ignore[call-arg]
            yield req
            if env.now < end:
                yield env.timeout(end - env.now)

    # --- movement ---------------------------------------------------------------------

    def cross(
        self,
        idx: int,
        n: int,
        service: list[float],
        on_dispatch: Callable[[int, float], None] | None,
    ) -> Generator[simpy.Event, Any, tuple[int, list[float]]]:
        """Dispatch ``n`` loads over link ``idx``, load ``k`` holding a channel for
        ``service[k]`` hours; ``on_dispatch(k, t)`` is called when load ``k`` gets its
        channel at time ``t``.

        Returns (loads dispatched, start time of each load) as soon as every load is
        dispatched or the corridor cut withdraws the rest (inf for a withdrawn load); a load
        dispatched before the cut completes its crossing. Loads are dispatched in index
        order.
        """
        link: Link = self.plan.links[idx]
        env = self.env
        cutoff = self.closure if link.corridor else INF
        t0 = env.now
        starts = [INF] * n
        if t0 >= cutoff:
            return 0, starts
        res = self.res[idx]
        if res is None:  # unlimited capacity: every load starts at once
            for k in range(n):
                starts[k] = t0
                if on_dispatch is not None:
                    on_dispatch(k, t0)
            started = n
        else:
            c = _Crossing(n, env.event(), t0, n, service, starts, on_dispatch)
            self._queue(idx, n)
            if self.deniable[idx]:  # one request per load, so blockers can take channels
                for _ in range(n):
                    env.process(self._load(res, c, cutoff, idx))
            else:
                for _ in range(min(n, int(res.capacity))):
                    env.process(self._worker(res, c, cutoff, idx))
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
        if started:
            st = self.stats[idx]
            st.loads += started
            st.waits.append(starts[0] - t0)
        return started, starts

    def _queue(self, idx: int, delta: int) -> None:
        """Change the number of loads waiting on link ``idx`` (integrated over time when
        auditing)."""
        if self.audit:
            st = self.stats[idx]
            st.backlog_area += self.backlog[idx] * (self.env.now - st.backlog_since)
            st.backlog_since = self.env.now
        self.backlog[idx] += delta

    def _dispatch(self, c: _Crossing, idx: int, now: float) -> int:
        """Give the next load of crossing ``c`` its channel at ``now``; return its index."""
        k = c.n - c.remaining
        c.remaining -= 1
        if self.audit:  # the book-keeping of _queue, written inline
            st = self.stats[idx]
            st.backlog_area += self.backlog[idx] * (now - st.backlog_since)
            st.backlog_since = now
            st.load_wait += now - c.t0
        self.backlog[idx] -= 1
        c.starts[k] = now
        if c.on_dispatch is not None:
            c.on_dispatch(k, now)
        if not c.remaining:
            c.done.succeed()
        return k

    def _worker(
        self, res: simpy.Resource, c: _Crossing, cutoff: float, idx: int
    ) -> Generator[simpy.Event, Any, None]:
        """Hold one channel and dispatch this formation's loads until none is left.

        Equivalent to one FIFO request per load: a formation's loads queue together, so a
        freed channel always goes to its next load before any later formation's.
        """
        env = self.env
        with res.request() as req:
            if cutoff < INF and self.closed_event is not None:
                yield req | self.closed_event
            else:
                yield req
            # the hot loop, one pass per load: _dispatch written inline
            audit, timeout, backlog = self.audit, env.timeout, self.backlog
            st, service, starts, on_dispatch = self.stats[idx], c.service, c.starts, c.on_dispatch
            while c.remaining:
                now = env.now
                if now >= cutoff:
                    break
                k = c.n - c.remaining
                c.remaining -= 1
                if audit:
                    st.backlog_area += backlog[idx] * (now - st.backlog_since)
                    st.backlog_since = now
                    st.load_wait += now - c.t0
                backlog[idx] -= 1
                starts[k] = now
                if on_dispatch is not None:
                    on_dispatch(k, now)
                if not c.remaining:
                    c.done.succeed()
                yield timeout(service[k])

    def _load(
        self, res: simpy.Resource, c: _Crossing, cutoff: float, idx: int
    ) -> Generator[simpy.Event, Any, None]:
        """One load's own FIFO request (on a link that can be denied)."""
        env = self.env
        with res.request(priority=0) as req:  # type: ignore[call-arg]
            if cutoff < INF and self.closed_event is not None:
                yield req | self.closed_event
            else:
                yield req
            if not c.remaining or env.now >= cutoff:
                return
            k = self._dispatch(c, idx, env.now)
            yield env.timeout(c.service[k])

    def move(
        self,
        log: FormationLog,
        element: str,
        troops: float,
        items: float,
        node: str,
        dest: str,
        modes: frozenset[str],
        acc: Acc,
        sink: Deliveries,
    ) -> Generator[simpy.Event, Any, None]:
        """Move an element of a formation (all of it, its troops, its equipment, or a
        detachment) to ``dest``, delivering each load to ``sink`` as it is dispatched on the
        last link. ``acc`` holds the phase hours of the path so far (the critical load's
        at every regrouping).

        When the corridor is cut while loads wait for a corridor link, the loads already
        dispatched go on and the rest re-plan at once from the same node as a detachment
        (element ``<element>~``) with their own draws.
        """
        env = self.env
        links = self.plan.links
        while node != dest:
            edge = self._choose(node, dest, modes, troops, items)
            if edge is None:
                self.stranded += 1
                return
            idx = edge.index
            lk = links[idx]
            n = loads(lk, troops, items)
            # one sub-stream per (formation, element, link): u[0] movement control, then
            # (service, transit, offload rate) for load k at 1 + 3k, 2 + 3k, 3 + 3k
            u = stream(self.child, f"move:{log.key}:{element}:{lk.id}").random(1 + 3 * n)
            if lk.control is not None and env.now >= self.attack:
                wait = float(self.control[lk.control].ppf(u[:1])[0])
                if wait > 0:
                    yield env.timeout(wait)
                acc[CONTROL] += wait
            sv = lk.service_hours.ppf(u[1::3])
            if lk.offload_items_per_hour is not None:
                cargo = np.minimum(
                    lk.items_per_load, np.maximum(0.0, items - np.arange(n) * lk.items_per_load)
                )
                sv = sv + cargo / lk.offload_items_per_hour.ppf(u[3::3])
            tv = lk.transit_hours.ppf(u[2::3])
            if env.now >= self.attack and self.wartime != 1.0:  # wartime_factor (docs/model.md)
                sv, tv = sv * self.wartime, tv * self.wartime
            service: list[float] = sv.tolist()
            transit: list[float] = tv.tolist()
            t0 = env.now
            on_dispatch = None
            if edge.dst == dest:  # the last link: each load is delivered as it is dispatched
                on_dispatch = _deliver(
                    sink, lk, idx, troops, items, service, transit, tuple(acc), t0
                )
            started, starts = yield from self.cross(idx, n, service, on_dispatch)
            self.stats[idx].troops += min(troops, started * lk.troops_per_load)
            if started < n:
                self.rerouted += 1
                acc_left = acc.copy()
                _waited(acc_left, env.now - t0, idx)
                if not started:
                    acc = acc_left
                    continue
                left_t = max(0.0, troops - started * lk.troops_per_load)
                left_i = max(0.0, items - started * lk.items_per_load)
                env.process(
                    self.move(log, element + "~", left_t, left_i, node, dest, modes, acc_left, sink)
                )
                troops, items = troops - left_t, items - left_i
            # regroup: the element moves on when its last load has arrived
            arrive = [starts[k] + service[k] + transit[k] for k in range(started)]
            last = max(range(started), key=arrive.__getitem__)  # ties: lowest index
            _waited(acc, starts[last] - t0, idx)
            acc[SERVICE] += service[last]
            acc[TRANSIT] += transit[last]
            yield env.timeout(arrive[last] - env.now)
            node = edge.dst

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
        now = self.env.now
        for e, rest in self.plan.router.candidates(node, dest, modes, open_):
            lk = self.plan.links[e.index]
            service, transit = means[e.index]
            if lk.channels is None:
                push = service
            else:
                n = loads(lk, troops, items)
                work = service * (self.backlog[e.index] + n)
                th = self.throttle[e.index]
                if th is not None and th[0] <= now < th[1]:
                    push = (th[1] - now) + work / lk.channels if th[2] == 0 else work / th[2]
                else:
                    push = work / lk.channels
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

    def _wait(self, d: Deliveries) -> Generator[simpy.Event, Any, tuple[float, ...]]:
        """Wait until ``d``'s needs are met; return the critical path's phase hours."""
        env = self.env
        while True:
            met = d.met()
            if met is not None and met[0] <= env.now:
                return met[1]
            if met is None:
                yield d.changed
            else:
                yield d.changed | env.timeout(met[0] - env.now)

    def formation(
        self, i: int, f: Formation, country: str, depart: float, u: np.ndarray
    ) -> Generator[simpy.Event, Any, None]:
        """Life of one formation: wait for readiness, move (whole, or troops and equipment
        apart, or troops to a pre-positioned set), marry up, be received.

        ``u``: the formation's own uniforms, u[1] set draw, u[2] marry-up integration,
        u[3] reception (u[0] was its readiness)."""
        env = self.env
        s = self.plan.scenario
        log = self.logs[i]
        yield env.timeout(depart)
        log.depart = env.now
        dest = self.plan.country_nodes[country]
        mu = s.marry_up
        arrive = Deliveries(env, f.troops * mu.troops_share, f.items * mu.equipment_share)
        log.deliveries = arrive
        claim = self._claim_sets(f, dest) if f.lift == "fly_in" and self.sets else None
        if claim is not None:
            spec, site = claim
            at_site = Deliveries(env, f.troops, 0.0)
            env.process(
                self.move(
                    log, "troops", f.troops, 0.0, f.origin, site, ALL_MODES, list(NEW_PATH), at_site
                )
            )
            path = list((yield from self._wait(at_site)))
            draw = float(spec.draw_hours.ppf(u[1:2])[0])
            yield env.timeout(draw)
            path[DRAW] += draw
            if site == dest:
                arrive.add(env.now, f.troops, f.items, tuple(path))
            else:
                env.process(
                    self.move(log, "set", f.troops, f.items, site, dest, HEAVY_MODES, path, arrive)
                )
        elif f.troops_modes is not None:
            env.process(
                self.move(
                    log,
                    "troops",
                    f.troops,
                    0.0,
                    f.origin,
                    dest,
                    f.troops_modes,
                    list(NEW_PATH),
                    arrive,
                )
            )
            env.process(
                self.move(
                    log,
                    "equipment",
                    0.0,
                    f.items,
                    f.origin,
                    dest,
                    HEAVY_MODES,
                    list(NEW_PATH),
                    arrive,
                )
            )
        else:
            env.process(
                self.move(
                    log,
                    "all",
                    f.troops,
                    f.items,
                    f.origin,
                    dest,
                    HEAVY_MODES,
                    list(NEW_PATH),
                    arrive,
                )
            )
        log.path = yield from self._wait(arrive)
        if f.troops_modes is not None and claim is None:
            log.marry = float(mu.integration_hours.ppf(u[2:3])[0])
            yield env.timeout(log.marry)
        log.married = env.now
        spec_c = getattr(s.countries, country)
        hours = float(spec_c.reception_hours.ppf(u[3:4])[0])
        res = self.reception[country]
        if res is None:
            yield env.timeout(hours)
        else:
            with res.request() as req:
                yield req
                yield env.timeout(hours)
        log.combat_ready = env.now
        self.ready.append((country, env.now, f.troops, f.troops * f.weight))


def _deliver(
    sink: Deliveries,
    lk: Link,
    idx: int,
    troops: float,
    items: float,
    service: list[float],
    transit: list[float],
    base: tuple[float, ...],
    t0: float,
) -> Callable[[int, float], None]:
    """The dispatch hook of an element's last link: load ``k``, dispatched at ``t``, is
    registered with ``sink`` to arrive at ``t + service[k] + transit[k]``, carrying its
    share of troops and items (fill rule), with its path (``base`` plus its wait, service
    and transit on this link)."""
    tpl, ipl = lk.troops_per_load, lk.items_per_load

    def on_dispatch(k: int, t: float) -> None:
        s_k, x_k = service[k], transit[k]
        acc = list(base)
        acc[QUEUE] = base[QUEUE] + t - t0  # this order of operations, as before (goldens)
        if t - t0 > acc[WORST_WAIT]:
            acc[WORST_WAIT], acc[WORST_LINK] = t - t0, float(idx)
        acc[SERVICE] = base[SERVICE] + s_k
        acc[TRANSIT] = base[TRANSIT] + x_k
        shares = load_share(troops, tpl, k), load_share(items, ipl, k)
        sink.add(t + s_k + x_k, *shares, tuple(acc))

    return on_dispatch


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
    ready: list[float]  # per formation: sim time its readiness is done
    dests: list[str]  # per formation: its country
    denials: list[DenialDraw]
    steps_power: Any = None  # forces in place as combat power (with a combat block)


def play(plan: Plan, child: np.random.SeedSequence, audit: bool = False) -> Replication:
    """Draw one replication's clock, corridor, forces, readiness and denials from its seed
    and run the theatre to the horizon (``audit``: keep the queueing book-keeping, for the
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
    power = s.combat is not None and (s.requirement == "combat_power" or s.adversary == "race")
    steps_power = in_place_steps(s, child, w, power=True) if power else None
    countries: dict[str, CountryDraw] = draw_countries(s, child)
    denials = draw_denials(plan, child, w)

    # each formation's own stream: u[0] readiness, u[1] set draw, u[2] marry-up, u[3] reception
    us = [stream(child, f.key).random(4) for f in plan.formations]
    ready = [
        decision + float(f.readiness.ppf(x[:1])[0]) * f.readiness_scale
        for f, x in zip(plan.formations, us)
    ]
    departs = [max(r, go) for r in ready]
    eta = [d + plan.planning_hours[k] for k, d in enumerate(departs)]
    if s.requirement == "combat_power":
        assert steps_power is not None
        sizes = [f.troops * f.weight for f in plan.formations]
        dests = allocate(plan.formations, eta, countries, steps_power, s.allocation_priority, sizes)
    else:
        dests = allocate(plan.formations, eta, countries, steps, s.allocation_priority)

    th = Theatre(plan, closure, w, child, denials, audit)
    for i, (f, x, dest, dep) in enumerate(zip(plan.formations, us, dests, departs)):
        th.env.process(th.formation(i, f, dest, dep, x))
    th.env.run(until=w + s.horizon_hours)
    return Replication(
        th,
        countries,
        steps,
        w,
        decision,
        go,
        closed,
        closure_rel,
        ready,
        dests,
        denials,
        steps_power,
    )


def _record(plan: Plan, r: Replication, buildup: bool) -> dict[str, Any]:
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
        r.denials,
        r.steps_power,
    )


def simulate(plan: Plan, child: np.random.SeedSequence, buildup: bool = False) -> dict[str, Any]:
    """Run one replication from its seed and return its flat record (with each country's
    strength on the build-up grid when ``buildup``; the other columns do not change)."""
    return _record(plan, play(plan, child), buildup)


def simulate_with_formations(
    plan: Plan, child: np.random.SeedSequence, buildup: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """As :func:`simulate`, plus the closure table's rows (one per formation, see
    :func:`tripwire.model.outcome.formation_rows`)."""
    r = play(plan, child)
    rows = formation_rows(plan, r.theatre.logs, r.ready, r.go, r.dests, r.warning, plan.scenario)
    return _record(plan, r, buildup), rows


__all__ = [
    "DenialDraw",
    "Replication",
    "Theatre",
    "play",
    "simulate",
    "simulate_with_formations",
]
