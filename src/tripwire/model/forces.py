"""Forces in place, the threat and requirement per country, and allocation of formations.

All of it is arithmetic on a replication's draws: no SimPy process is spent on forces that
do not move or on a clock that nothing contends for.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tripwire.model.plan import Formation, Plan, stream
from tripwire.scenario import COUNTRIES, InPlace, Scenario

NAN = float("nan")

Steps = dict[str, list[tuple[float, float]]]
"""Per country, (simulation time, troops added) for the forces in place."""


@dataclass(frozen=True)
class CountryDraw:
    """One replication's draws for one country."""

    required: float  # NATO troops (headcount) or combat power (combat_power) needed to hold
    threat: float  # adversary troops (nan when the requirement was given directly)
    host_effective: float  # host-nation troops counted against the threat
    fa_unopposed_h: float  # hours to fait accompli against a negligible defence (clock)
    threat_power: float = NAN  # adversary combat power (nan without a combat block)
    host_power: float = NAN  # host-nation combat power x effectiveness (nan likewise)
    km_per_hour: tuple[float, ...] = ()  # the race's advance rate per band (race only)


def fielded_share(ip: InPlace, date: dt.date, delay_days: float) -> float:
    """Share of the ramp from initial to full strength reached on ``date``."""
    f = ip.fielding
    assert f is not None
    start = f.start_date.toordinal()
    full = f.full_date.toordinal() + delay_days
    return float(np.clip((date.toordinal() - start) / (full - start), 0.0, 1.0))


def in_place_troops(ip: InPlace, date: dt.date, delay_days: float) -> float:
    """Troops of a forward force in place on ``date`` (before availability)."""
    f = ip.fielding
    assert f is not None
    return f.initial_troops + (ip.troops - f.initial_troops) * fielded_share(ip, date, delay_days)


def in_place_steps(
    s: Scenario, child: np.random.SeedSequence, w: float, power: bool = False
) -> Steps:
    """Combat-ready strength of the forces in place as steps in simulation time (troops, or
    combat power with ``power``: troops x the type's weight; the draws are the same).

    A rotational force caught in a handover at attack start (phase uniform over its cycle)
    has only ``handover_fraction`` ready until the handover ends; a handover due later is
    assumed postponed in a crisis, so strength never drops.
    """
    steps: Steps = {c: [] for c in COUNTRIES}
    for ip in s.in_place:
        u = stream(child, f"inplace:{ip.name}").random(3)
        base = float(ip.availability.ppf(u[:1])[0])
        if ip.kind == "forward":
            assert ip.fielding is not None
            delay = float(ip.fielding.delay_days.ppf(u[2:3])[0])
            base *= in_place_troops(ip, s.scenario_date, delay)
        else:
            base *= ip.troops
        if power:
            assert s.combat is not None and ip.type is not None
            base *= s.combat.weight(ip.type)
        rot = ip.rotation
        if rot is not None and u[1] * rot.cycle_days < rot.handover_days:
            left_h = (rot.handover_days - u[1] * rot.cycle_days) * 24.0
            steps[ip.country].append((0.0, base * rot.handover_fraction))
            steps[ip.country].append((w + left_h, base * (1 - rot.handover_fraction)))
        else:
            steps[ip.country].append((0.0, base))
    return steps


def draw_countries(s: Scenario, child: np.random.SeedSequence) -> dict[str, CountryDraw]:
    """Threat, host nation, requirement and unopposed fait-accompli time per country.

    Required NATO troops = threat / force_ratio - host-nation troops x effectiveness
    (never below zero), unless ``required_troops`` is given directly. With ``requirement:
    combat_power`` the same rule on combat power (troops x the type's weight). With the
    race, each advance band's rate is drawn from the stream ``race:<country>`` (u[k] for
    band k).
    """
    out: dict[str, CountryDraw] = {}
    cb = s.combat
    for c, spec in s.countries.items():
        u = stream(child, f"country:{c}").random(4)
        host_troops = float(spec.host_nation_troops.ppf(u[1:2])[0])
        host = host_troops * spec.host_nation_effectiveness
        fa_spec = spec.fait_accompli_unopposed_hours
        fa = float(fa_spec.ppf(u[2:3])[0]) if fa_spec is not None else NAN
        threat_power = host_power = NAN
        if spec.required_troops is not None:
            threat = float("nan")
            required = float(spec.required_troops.ppf(u[3:4])[0])
        else:
            assert spec.threat_troops is not None
            threat = float(spec.threat_troops.ppf(u[:1])[0])
            required = max(0.0, threat / spec.force_ratio - host)
        if cb is not None and spec.threat_type is not None and not math.isnan(threat):
            threat_power = threat * cb.weight(spec.threat_type)
            host_w = cb.weight(spec.host_nation_type) if spec.host_nation_type else 0.0
            host_power = host * host_w
            if s.requirement == "combat_power":
                required = max(0.0, threat_power / spec.force_ratio - host_power)
        rates: tuple[float, ...] = ()
        if s.adversary == "race":
            assert cb is not None
            ur = stream(child, f"race:{c}").random(len(cb.advance))
            rates = tuple(
                float(b.km_per_day.ppf(ur[k : k + 1])[0]) / 24.0 for k, b in enumerate(cb.advance)
            )
        out[c] = CountryDraw(required, threat, host, fa, threat_power, host_power, rates)
    return out


def allocate(
    formations: Sequence[Formation],
    eta: Sequence[float],
    countries: dict[str, CountryDraw],
    steps: Steps,
    priority: Sequence[str],
    sizes: Sequence[float] | None = None,
) -> list[str]:
    """Destination of every formation ("priority fill").

    Formations are taken in order of ``eta``, their planned arrival (departure plus the
    static path time to the theatre). One with a fixed destination keeps it and
    closes that much of its country's gap (required minus forces in place at the start); one without
    goes to the first country in ``priority`` whose gap is still open, or, once every gap
    is covered, round-robin in priority order.

    Unlike "largest gap first", this rule is monotone in plan: more troops in place (or a
    smaller requirement) in one country can only free formations for the others. Realised
    arrivals can still come in another order than planned (random transit, queues), so the
    guarantee is statistical, not per replication (docs/model.md, tests/property).
    Farthest-first is the default priority, since onward movement to Estonia takes longest.
    Gaps, ``steps`` and ``sizes`` (default: each formation's troops) are in the
    requirement's unit: troops, or combat power.
    """
    # plan on the weakest moment: forces in place at the start, before any handover ends
    gap = {c: countries[c].required - sum(t for t0, t in steps[c] if t0 <= 0) for c in COUNTRIES}
    dest: list[str | None] = [f.destination for f in formations]
    spread = 0
    for _, i in sorted((r, i) for i, r in enumerate(eta)):
        c = dest[i]
        if c is None:
            open_ = [k for k in priority if gap[k] > 1e-9]
            if open_:
                c = open_[0]
            else:
                c = priority[spread % len(priority)]
                spread += 1
            dest[i] = c
        gap[c] -= formations[i].troops if sizes is None else sizes[i]
    return [d for d in dest if d is not None]


@dataclass(frozen=True)
class DenialDraw:
    """One replication's draw of one denial (sim times)."""

    name: str
    links: frozenset[str]
    active: bool
    start: float
    end: float
    share: float  # share of channels left


def draw_denials(plan: Plan, child: np.random.SeedSequence, w: float) -> list[DenialDraw]:
    """Each denial from its own stream ``denial:<name>``: u[0] whether (u < probability),
    u[1] start, u[2] duration, u[3] capacity share. Start = attack + start_hours, clamped to
    the warning (sim time 0)."""
    out = []
    for d in plan.scenario.denial:
        u = stream(child, f"denial:{d.name}").random(4)
        start = max(0.0, w + float(d.start_hours.ppf(u[1:2])[0]))
        end = start + float(d.duration_hours.ppf(u[2:3])[0])
        share = float(d.capacity_share.ppf(u[3:4])[0])
        out.append(
            DenialDraw(d.name, frozenset(d.links), bool(u[0] < d.probability), start, end, share)
        )
    return out
