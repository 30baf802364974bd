"""Turn one replication's timestamps into its flat record (one row of the results table).

Time-to-reinforce of a country is the first time its combat-ready NATO strength (forces in
place plus received formations) reaches the required strength, in hours from attack start.
It is negative when reached before the attack, equal to minus the warning when the forces
in place suffice from the start, and NaN with ``censored_* = True`` when not reached within
the horizon: the table never invents a number for a censored case.

The adversary clock (see docs/model.md): time to fait accompli
``T_fa = T_unopposed * (1 + defence_delay_factor * D / threat)``, where ``D`` is the defence
in place at attack start (host nation counted with its effectiveness, NATO in place and
any formation received before the attack).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tripwire.model.forces import CountryDraw, Steps
from tripwire.model.plan import Plan
from tripwire.scenario import COUNTRIES, Scenario

if TYPE_CHECKING:
    from tripwire.model.theatre import Theatre

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
) -> dict[str, Any]:
    """Flat record of one replication (no seed or index: the runner adds those).

    With ``buildup``, ``buildup_<country>`` holds the combat-ready strength (float32) at
    each hour of :func:`buildup_grid` after attack start.
    """
    horizon = w + s.horizon_hours
    grid = buildup_grid(s) if buildup else None
    row: dict[str, Any] = {
        "warning_h": w,
        "decision_h": decision - w,
        "movement_start_h": go - w,
        "corridor_closed": closed,
        # the cut as it took effect (it cannot precede the start of the simulated window)
        "corridor_closure_h": max(closure_rel, -w) if closed else NAN,
    }
    arrivals: dict[str, list[tuple[float, float]]] = {c: [] for c in COUNTRIES}
    for c, t, troops in th.ready:
        arrivals[c].append((t, troops))
    ttr_all: list[float] = []
    beat_all = True
    for c in COUNTRIES:
        cd = countries[c]
        ev = sorted([(0.0, 0.0), *steps[c], *arrivals[c]])
        times = np.array([t for t, _ in ev])
        cum = np.cumsum([x for _, x in ev])
        ttr = first_passage(times, cum, cd.required)
        at_attack = float(cum[np.searchsorted(times, w, side="right") - 1])
        defence = at_attack + cd.host_effective
        if math.isnan(cd.threat):
            fa = cd.fa_unopposed_h
        elif cd.threat <= 0:
            fa = math.inf
        else:
            fa = cd.fa_unopposed_h * (
                1 + getattr(s.countries, c).defence_delay_factor * defence / cd.threat
            )
        censored = ttr > horizon
        rel = NAN if censored else ttr - w
        beat = (not censored) and rel <= fa
        beat_all = beat_all and beat
        ttr_all.append(math.inf if censored else rel)
        row[f"required_{c}"] = cd.required
        row[f"in_place_{c}"] = at_attack
        row[f"ttr_{c}_h"] = rel
        row[f"censored_{c}"] = censored
        row[f"fait_accompli_{c}_h"] = fa
        row[f"beat_fa_{c}"] = beat
        for cp in s.checkpoints_hours:
            k = np.searchsorted(times, w + cp, side="right")
            row[f"strength_{c}_{cp:g}h"] = float(cum[k - 1]) if k else 0.0
        if grid is not None:  # times[0] == 0 <= w + grid, so every index is >= 0
            at = np.searchsorted(times, w + grid, side="right") - 1
            row[f"buildup_{c}"] = cum[at].astype(np.float32)
    theatre = max(ttr_all)
    row["ttr_theatre_h"] = NAN if math.isinf(theatre) else theatre
    row["censored_theatre"] = math.isinf(theatre)
    row["beat_fa_theatre"] = beat_all
    row["formations"] = len(plan.formations)
    row["formations_received"] = len(th.ready)
    row["detachments_rerouted"] = th.rerouted
    row["detachments_stranded"] = th.stranded
    row["sets_drawn"] = th.sets_drawn
    for lk, st in zip(plan.links, th.stats):
        row[f"route_{lk.id}_loads"] = st.loads
        row[f"route_{lk.id}_troops"] = st.troops
        row[f"route_{lk.id}_wait_h_mean"] = float(np.mean(st.waits)) if st.waits else NAN
        row[f"route_{lk.id}_wait_h_max"] = max(st.waits) if st.waits else NAN
    return row
