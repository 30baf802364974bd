"""Turn one replication's timestamps into its flat record (one row of the results table).

Time-to-reinforce of a country is the first time its combat-ready NATO strength (forces in
place plus received formations) reaches the required strength, in hours from attack start.
It is negative when reached before the attack, equal to minus the warning when the forces
in place suffice from the start, and NaN with ``censored_* = True`` when not reached within
the horizon: the table never invents a number for a censored case.

The fait accompli (see docs/model.md): with ``adversary: race`` the outcome of the combat
race on the country's axis (:mod:`tripwire.model.race`: the capital reached, NaN when not
within the horizon); with ``adversary: clock`` the previous rule,
``T_fa = T_unopposed * (1 + defence_delay_factor * D / threat)``, where ``D`` is the defence
in place at attack start (host nation counted with its effectiveness, NATO in place and
any formation received before the attack).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

import tripwire.columns as C
import tripwire.model.race as race_mod
from tripwire.model.forces import CountryDraw, Steps
from tripwire.model.plan import Plan
from tripwire.scenario import COUNTRIES, Scenario

if TYPE_CHECKING:
    from tripwire.model.forces import DenialDraw


class LinkUse(Protocol):
    """What the record reads of one link's use (theatre.LinkStats)."""

    @property
    def loads(self) -> int: ...
    @property
    def troops(self) -> float: ...
    @property
    def waits(self) -> Sequence[float]: ...


class Delivered(Protocol):
    """What the record reads of a formation's deliveries (theatre.Deliveries)."""

    @property
    def troops_in(self) -> float: ...
    @property
    def items_in(self) -> float: ...

    def last(self) -> float: ...


class FormationLog(Protocol):
    """What the record reads of one formation's log (theatre.FormationLog)."""

    @property
    def deliveries(self) -> Delivered | None: ...
    @property
    def depart(self) -> float: ...
    @property
    def path(self) -> tuple[float, ...] | None: ...
    @property
    def marry(self) -> float: ...
    @property
    def married(self) -> float: ...
    @property
    def combat_ready(self) -> float: ...


class Theatre(Protocol):
    """What the record reads of a played theatre (theatre.Theatre): this module turns
    timestamps into rows and never schedules an event."""

    @property
    def ready(self) -> Sequence[tuple[str, float, float, float]]: ...
    @property
    def rerouted(self) -> int: ...
    @property
    def stranded(self) -> int: ...
    @property
    def sets_drawn(self) -> int: ...
    @property
    def stats(self) -> Sequence[LinkUse]: ...


NAN = float("nan")


def buildup_grid(s: Scenario) -> np.ndarray:
    """Hours after attack start at which the build-up is recorded: 0, step, ..., horizon."""
    n = int(math.floor(s.horizon_hours / s.buildup_step_hours + 1e-9))
    return np.arange(n + 1) * s.buildup_step_hours


def first_passage(times: np.ndarray, cum: np.ndarray, required: float) -> float:
    """First time the step function ``cum`` (after the step at ``times[i]``) reaches
    ``required``; inf when never. ``times`` must be sorted."""
    hit = np.nonzero(cum >= required - 1e-9)[0]
    return float(times[hit[0]]) if hit.size else math.inf


def record(
    s: Scenario,
    plan: Plan,
    th: Theatre,
    countries: dict[str, CountryDraw],
    steps: Steps,
    w: float,
    decision: float,
    go: float,
    closed: bool,
    closure_rel: float,
    buildup: bool = False,
    denials: list[DenialDraw] | None = None,
    steps_power: Steps | None = None,
) -> dict[str, Any]:
    """Flat record of one replication (no seed or index: the runner adds those).

    With ``buildup``, ``buildup_<country>`` holds the combat-ready strength (float32) at
    each hour of :func:`buildup_grid` after attack start.
    """
    horizon = w + s.horizon_hours
    grid = buildup_grid(s) if buildup else None
    row: dict[str, Any] = {
        C.WARNING(): w,
        C.DECISION(): decision - w,
        C.MOVEMENT_START(): go - w,
        C.CORRIDOR_CLOSED(): closed,
        # the cut as it took effect (it cannot precede the start of the simulated window)
        C.CORRIDOR_CLOSURE(): max(closure_rel, -w) if closed else NAN,
    }
    for d in denials or ():
        row[C.DENIED(name=d.name)] = d.active
        row[C.DENIAL_START(name=d.name)] = d.start - w if d.active else NAN
        row[C.DENIAL_END(name=d.name)] = d.end - w if d.active else NAN
        row[C.DENIAL_SHARE(name=d.name)] = d.share if d.active else NAN
    power_unit = s.requirement == "combat_power"
    arrivals: dict[str, list[tuple[float, float]]] = {c: [] for c in COUNTRIES}
    arrivals_power: dict[str, list[tuple[float, float]]] = {c: [] for c in COUNTRIES}
    for c, t, troops, power in th.ready:
        arrivals[c].append((t, troops))
        arrivals_power[c].append((t, power))
    ttr_all: list[float] = []
    fa_all: list[float] = []
    beat_all = True
    hold_all = True
    for c in COUNTRIES:
        cd = countries[c]
        if power_unit:
            assert steps_power is not None
            ev = sorted([(0.0, 0.0), *steps_power[c], *arrivals_power[c]])
        else:
            ev = sorted([(0.0, 0.0), *steps[c], *arrivals[c]])
        times = np.array([t for t, _ in ev])
        cum = np.cumsum([x for _, x in ev])
        ttr = first_passage(times, cum, cd.required)
        at_attack = float(cum[np.searchsorted(times, w, side="right") - 1])
        censored = ttr > horizon
        rel = NAN if censored else ttr - w
        if s.adversary == "race":
            assert steps_power is not None and s.combat is not None
            fa, race_cols = _race(s, c, cd, steps_power[c], arrivals_power[c], w)
            row.update(race_cols)
        else:
            fa = _clock(s, c, cd, at_attack, power_unit)
        hold = not fa <= s.horizon_hours
        beat = (not censored) and (math.isinf(fa) or rel <= fa)
        beat_all = beat_all and beat
        hold_all = hold_all and hold
        fa_all.append(fa)
        ttr_all.append(math.inf if censored else rel)
        row[C.REQUIRED(country=c)] = cd.required
        row[C.IN_PLACE(country=c)] = at_attack
        row[C.TTR(area=c)] = rel
        row[C.CENSORED(area=c)] = censored
        row[C.FAIT_ACCOMPLI(area=c)] = fa if s.adversary == "clock" or hold is False else NAN
        row[C.BEAT_FA(area=c)] = beat
        row[C.HOLD(area=c)] = hold
        for cp in s.checkpoints_hours:
            k = np.searchsorted(times, w + cp, side="right")
            row[C.STRENGTH(country=c, t=cp)] = float(cum[k - 1]) if k else 0.0
        if grid is not None:  # times[0] == 0 <= w + grid, so every index is >= 0
            at = np.searchsorted(times, w + grid, side="right") - 1
            row[C.BUILDUP(country=c)] = cum[at].astype(np.float32)
    theatre = max(ttr_all)
    row[C.TTR(area="theatre")] = NAN if math.isinf(theatre) else theatre
    row[C.CENSORED(area="theatre")] = math.isinf(theatre)
    row[C.BEAT_FA(area="theatre")] = beat_all
    row[C.HOLD(area="theatre")] = hold_all
    first = min(fa_all)  # the first capital to fall (NaN: none within the horizon)
    row[C.FAIT_ACCOMPLI(area="theatre")] = first if first <= s.horizon_hours else NAN
    row[C.FORMATIONS()] = len(plan.formations)
    row[C.RECEIVED()] = len(th.ready)
    row[C.REROUTED()] = th.rerouted
    row[C.STRANDED()] = th.stranded
    row[C.SETS_DRAWN()] = th.sets_drawn
    for lk, st in zip(plan.links, th.stats):
        row[C.ROUTE_LOADS(link=lk.id)] = st.loads
        row[C.ROUTE_TROOPS(link=lk.id)] = st.troops
        row[C.ROUTE_WAIT_MEAN(link=lk.id)] = float(np.mean(st.waits)) if st.waits else NAN
        row[C.ROUTE_WAIT_MAX(link=lk.id)] = max(st.waits) if st.waits else NAN
    return row


def _clock(s: Scenario, c: str, cd: CountryDraw, at_attack: float, power: bool) -> float:
    """The adversary clock: hours from attack start to the fait accompli (an input
    lengthened by the defence in place at attack start over the threat, both in troops,
    or both in combat power with ``power``)."""
    if math.isnan(cd.threat):
        return cd.fa_unopposed_h
    threat = cd.threat_power if power else cd.threat
    if threat <= 0:
        return math.inf
    defence = at_attack + (cd.host_power if power else cd.host_effective)
    spec = getattr(s.countries, c)
    return cd.fa_unopposed_h * (1 + spec.defence_delay_factor * defence / threat)


def _race(
    s: Scenario,
    c: str,
    cd: CountryDraw,
    steps_power: list[tuple[float, float]],
    arrivals_power: list[tuple[float, float]],
    w: float,
) -> tuple[float, dict[str, Any]]:
    """The combat race on country ``c``'s axis; returns the fait-accompli time (inf when
    the capital holds within the horizon) and the race's columns."""
    cb = s.combat
    assert cb is not None
    spec = getattr(s.countries, c)
    a, b = race_mod.coefficients(
        cb.attrition.attacker_loss_per_day,
        cb.attrition.defender_loss_per_day,
        cb.attrition.reference_ratio,
    )
    # the front: host nation at attack start, forces in place and formations as they
    # become combat-ready (hours from attack start; earlier ones are there at the start)
    front = [(0.0, cd.host_power)] + [(t - w, p) for t, p in (*steps_power, *arrivals_power)]
    res = race_mod.race(
        cd.threat_power,
        front,
        a,
        b,
        [band.from_ratio for band in cb.advance],
        cd.km_per_hour,
        float(spec.axis_km),
        s.horizon_hours,
    )
    cols = {
        C.STABILISED(country=c): res.stabilised_h,
        C.ADVANCE(country=c): res.advance_km,
        C.MIN_RATIO(country=c): res.min_force_ratio,
        C.ATTACKER_LOSS(country=c): res.attacker_loss,
        C.DEFENDER_LOSS(country=c): res.defender_loss,
    }
    return res.fait_accompli_h, cols


FORMATIONS_KEY = "formation_rows"
"""Key under which a replication's row carries its closure-table rows from a worker to the
part writer (never a column of replications.parquet)."""

FORMATION_COLUMNS: tuple[tuple[str, str], ...] = tuple((c.pattern, c.meaning) for c in C.FORMATION)
"""Columns of ``formations.parquet`` with their meaning (declared in
:data:`tripwire.columns.FORMATION`); times are hours from attack start, durations hours; NaN
where the phase did not happen within the horizon."""


_FORMATION_FIELDS = C.FORMATION_NAMES[1:]  # the runner adds the replication index


def formation_rows(
    plan: Plan,
    logs: Sequence[FormationLog],
    ready: list[float],
    go: float,
    dests: list[str],
    w: float,
    s: Scenario,
) -> list[dict[str, Any]]:
    """One row per formation (no replication index: the runner adds it), columns as
    :data:`FORMATION_COLUMNS`. The phase durations are those of the critical path: the
    load whose arrival completed the marry-up shares, back to the formation's departure,
    taking at every node the load that arrived last (the formation regroups there)."""
    horizon = w + s.horizon_hours

    def rel(t: float) -> float:
        return t - w if t <= horizon else NAN

    out = []
    for f, log, r, dest in zip(plan.formations, logs, ready, dests):
        d = log.deliveries
        arrived = NAN
        if (
            d is not None
            and d.troops_in >= f.troops - 1e-6 * max(1.0, f.troops)
            and d.items_in >= f.items - 1e-6 * max(1.0, f.items)
        ):
            arrived = rel(d.last())
        married = log.married <= horizon and log.path is not None
        path = log.path if married and log.path is not None else (NAN,) * 5 + (NAN, -1.0)
        worst = int(path[6])  # the link of the longest wait on the critical path (-1: none)
        ready_c = log.combat_ready <= horizon
        values = (
            f.name,
            dest,
            f.troops,
            f.items,
            f.troops_modes is not None and f.lift != "fly_in",
            not ready_c,
            r - w,
            go - w,
            rel(log.depart),
            *path[:5],  # control_h, queue_h, service_h, transit_h, draw_h
            arrived,
            log.marry if married else NAN,
            rel(log.married),
            log.combat_ready - log.married if ready_c else NAN,
            rel(log.combat_ready),
            path[5] if worst >= 0 else NAN,
            plan.links[worst].id if worst >= 0 else "",
        )
        out.append(dict(zip(_FORMATION_FIELDS, values, strict=True)))
    return out
